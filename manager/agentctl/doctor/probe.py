"""`agentctl doctor --probe`: from one instance of the scale set, through VM Run Command, resolve
and open TLS to every host the agents need, the private clusters' API servers and the registries'
login and data endpoints (``templates/probe.sh``, which sends no credential).

``hosts`` (what to probe) and ``judge`` (findings from the script's lines) are pure; ``run``
reads the scale set, clusters and registries, runs the script and returns findings and rows.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

from agentctl import egress, runshell
from agentctl.azure import Arm
from agentctl.cloud import Target
from agentctl.config import PoolSpec, parse_id
from agentctl.doctor import ERROR, INFO, WARNING, Finding
from agentctl.doctor.gather import arm_for, cluster_zone
from agentctl.errors import UsageError

log = logging.getLogger(__name__)
PRIVATE = [
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
]
# curl exit statuses: the connection was made, TLS failed
TLS_UNTRUSTED = {51, 60, 77, 83, 90, 91}
TLS_FAILED = {35, 53, 54, 58, 59, 66, 80}


@dataclass(frozen=True)
class Host:
    name: str
    why: str
    zone: str | None = None  # the private DNS zone that must answer it; None: a public name
    required: bool = True


def hosts(spec: PoolSpec, clusters: list[dict[str, Any]], registries: list[dict[str, Any]]) -> list[Host]:
    """The egress hosts (wildcards cannot be probed), each private cluster's API server and each
    registry's login and data endpoints (private when the registry has a private endpoint)."""
    out = [Host(h.name, h.why, None, h.required) for h in egress.required_hosts(spec) if "*" not in h.name]
    for cluster in clusters:
        props = cluster.get("properties") or {}
        zone = cluster_zone(cluster)
        fqdn = str(props.get("privateFQDN") or props.get("fqdn") or "")
        if fqdn:
            out.append(
                Host(
                    fqdn.lower(),
                    f"the API server of cluster {cluster.get('name')}",
                    zone[0] if zone else None,
                )
            )
    for registry in registries:
        props = registry.get("properties") or {}
        login = str(props.get("loginServer") or "").lower()
        if not login:
            continue
        private = (
            bool(props.get("privateEndpointConnections")) or props.get("publicNetworkAccess") == "Disabled"
        )
        label, suffix = login.split(".", 1)
        reg_zone = f"privatelink.{suffix}" if private else None
        data = props.get("dataEndpointHostNames") or [f"{label}.{registry.get('location', '')}.data.{suffix}"]
        out.append(Host(login, f"the login server of registry {registry.get('name')}", reg_zone))
        out += [
            Host(str(d).lower(), f"a data endpoint of registry {registry.get('name')}", reg_zone)
            for d in data
        ]
    return list({h.name: h for h in out}.values())


def _is_private(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in PRIVATE)


def parse(stdout: str, wanted: list[Host]) -> list[dict[str, Any]]:
    """One row per host the script reported: host, why, addresses, private, connect, tls, seconds."""
    why = {h.name: h for h in wanted}
    rows = []
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 6 or fields[0] not in why:
            continue
        host, addresses, status_text, connect_s, tls_s, total_s = fields
        status = int(status_text) if status_text.isdigit() else -1
        found = [] if addresses in ("-", "") else addresses.split(",")
        connected = _seconds(connect_s) > 0
        if status == 0:
            connect, tls = "ok", "ok"
        elif not found or status == 6:
            connect, tls = "not tried", "not tried"
        elif status in TLS_UNTRUSTED:
            connect, tls = "ok", "untrusted"
        elif status in TLS_FAILED or (status == 28 and connected):
            connect, tls = "ok", "timeout" if status == 28 else "failed"
        else:
            connect = {7: "refused", 28: "timeout"}.get(status, f"failed (curl {status})")
            tls = "not tried"
        rows.append(
            {
                "host": host,
                "why": why[host].why,
                "privateZone": why[host].zone,
                "addresses": found,
                "private": bool(found) and all(_is_private(a) for a in found),
                "connect": connect,
                "tls": tls,
                "seconds": {
                    "connect": _seconds(connect_s),
                    "tls": _seconds(tls_s),
                    "total": _seconds(total_s),
                },
                "curlExit": status,
            }
        )
    return rows


def _seconds(text: str) -> float:
    try:
        return round(float(text), 3)
    except ValueError:
        return 0.0


def _verdict(h: Host, r: dict[str, Any] | None, vnet: str, at: str) -> tuple[str, str, str] | None:
    """(code, what was found, fix) for one host's row, or None when it is fine."""
    if r is None:
        return "probe.no_answer", f"the probe on {at} did not report {h.name}", "run doctor --probe again"
    link = (
        f"link the private DNS zone {h.zone} to the virtual network {vnet.rsplit('/', 1)[-1]} (a "
        f"virtual network link; or to the VNet of its custom DNS servers), with a record for {h.name}"
    )
    addresses = ", ".join(r["addresses"])
    if h.zone and not r["addresses"]:
        found = (
            f"{h.name} ({h.why}) does not resolve from {at}: the private DNS zone {h.zone} does not answer"
        )
        return "probe.private_unresolved", found, link
    if h.zone and not r["private"]:
        found = (
            f"{h.name} ({h.why}) resolves to the public address {addresses} from {at}, not to its private "
            f"endpoint: the private DNS zone {h.zone} is not linked to the agents' network"
        )
        return "probe.private_resolves_public", found, link
    if not r["addresses"]:
        fix = "the VNet's DNS servers must resolve public names (forward to Azure DNS, 168.63.129.16)"
        return "probe.unresolved", f"{h.name} ({h.why}) does not resolve from {at}", fix
    where = f"{h.name} ({addresses}) from {at}"
    if r["connect"] != "ok":
        fix = (
            "allow outbound TCP 443 to it: network security group rules, the route table, the firewall "
            "or NAT gateway (`agentctl doctor` names the rule when it can)"
        )
        return "probe.connect_failed", f"{where}: TCP 443 {r['connect']} ({h.why})", fix
    if r["tls"] == "untrusted":
        fix = "exempt the host from TLS inspection, or add the inspecting CA to the agent image"
        return "probe.tls_untrusted", f"{where}: TLS certificate not trusted: something intercepts TLS", fix
    if r["tls"] != "ok":
        fix = "a firewall or proxy breaks TLS to this host: let it through without inspection"
        return "probe.tls_failed", f"{where}: TLS handshake {r['tls']}", fix
    return None


def judge(wanted: list[Host], rows: list[dict[str, Any]], vnet: str, instance: str) -> list[Finding]:
    """Findings from the probe's rows (a host the script did not report is one too); a failure is an
    error for a required host and for a private endpoint's name, a warning otherwise."""
    by_host = {r["host"]: r for r in rows}
    out = []
    for h in wanted:
        verdict = _verdict(h, by_host.get(h.name), vnet, instance)
        if verdict is not None:
            code, found, fix = verdict
            out.append(Finding(code, ERROR if h.required or h.zone else WARNING, h.name, found, fix))
    if not out:
        out.append(
            Finding(
                "probe.ok", INFO, instance, f"{len(rows)} host(s) resolved and answered TLS from {instance}"
            )
        )
    return out


def no_instance(spec: PoolSpec) -> Finding:
    return Finding(
        "probe.no_instance",
        ERROR,
        spec.scaleSet.name,
        f"scale set {spec.scaleSet.name} has no running instance to probe from",
        f"keep an agent on standby ({spec.standby_field} of 1 or more) and run deploy-pool, or wait for a "
        "pipeline run to start one; then run doctor --probe again",
    )


def run(spec: PoolSpec, target: Target) -> tuple[list[Finding], dict[str, Any]]:
    """Probe from one instance: (findings, ``{"instance", "hosts": rows}``)."""
    if spec.managed is not None:
        raise UsageError(
            "--probe runs on a VM of the pool's scale set; a managed pool's VMs are the service's",
            hint="agentctl doctor without --probe checks a managed pool's prerequisites",
        )
    arm = Arm(target, spec.azure.subscription)
    rg, name = spec.azure.resourceGroup, spec.scaleSet.name
    running = [
        vm
        for vm in (arm.list_instances(rg, name) if arm.get_scale_set(rg, name) else [])
        if (vm.get("properties") or {}).get("provisioningState") == "Succeeded"
    ]
    if not running:
        return [no_instance(spec)], {"instance": None, "hosts": []}
    vm = running[0]
    clusters = [
        c
        for k in spec.devops.kubernetes
        if (c := arm_for(arm, k.cluster.subscription).get_cluster(k.cluster.resourceGroup, k.cluster.name))
    ]
    registries = []
    for reg in spec.registries:
        parts = parse_id("registry", reg.id) or {}
        found = arm_for(arm, parts.get("sub")).get_registry(parts["rg"], parts["name"])
        if found:
            registries.append(found)
    wanted = hosts(spec, clusters, registries)
    script = runshell.script("probe.sh", HOSTS=[h.name for h in wanted])
    instance = f"instance {vm.get('instanceId')} ({vm.get('name')})"
    log.info("probing %d hosts from %s", len(wanted), instance)
    result = runshell.output(
        arm.run_shell_script(rg, name, str(vm.get("instanceId")), script, runshell.TIMEOUT)
    )
    rows = parse(result.stdout, wanted)
    vnet = spec.network.subnetId.rsplit("/subnets/", 1)[0]
    return judge(wanted, rows, vnet, instance), {"instance": vm.get("name"), "hosts": rows}
