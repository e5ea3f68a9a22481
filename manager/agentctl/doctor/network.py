"""Network checks: the agents' egress path, the subnet's capacity and placement, and private DNS
for each Kubernetes connection and registry. Pure functions of the gathered facts."""

from __future__ import annotations

import ipaddress
import math
from typing import TYPE_CHECKING, Any

from agentctl import dnscheck, egress
from agentctl.config import PoolSpec
from agentctl.doctor import ERROR, INFO, WARNING, Finding
from agentctl.doctor.gather import cluster_zone, nic_nsg
from agentctl.kinds import registries as regs
from agentctl.kinds.pool import desired

if TYPE_CHECKING:
    from agentctl.doctor.gather import Facts

AZURE_RESERVED = 5  # addresses Azure keeps in every subnet
# Azure's default outbound rules, after every custom one
DEFAULT_OUTBOUND = (
    ("AllowVnetOutBound", 65000, "Allow", "VirtualNetwork"),
    ("AllowInternetOutBound", 65001, "Allow", "Internet"),
    ("DenyAllOutBound", 65500, "Deny", "*"),
)
ALLOW_TAGS = "AzureDevOps, AzureActiveDirectory, AzureResourceManager, Storage and AzureFrontDoor.Frontend"


def _props(doc: dict[str, Any] | None) -> dict[str, Any]:
    return (doc or {}).get("properties") or {}


def _short(rid: str) -> str:
    return rid.rsplit("/", 1)[-1]


def headroom(max_capacity: int) -> int:
    """Addresses beyond maxCapacity: Azure DevOps creates a VM before the one it replaces is gone."""
    return max(2, math.ceil(max_capacity * 0.1))


# --- egress ------------------------------------------------------------------------------


def _covers(prefix: str, host: egress.Host) -> bool:
    low = prefix.strip().lower()
    if low in ("*", "internet", "0.0.0.0/0", "any"):
        return True
    return any(low == t.lower() or low.startswith(t.lower() + ".") for t in host.tags)


def _port(props: dict[str, Any], port: int) -> bool:
    ranges = list(props.get("destinationPortRanges") or []) or [str(props.get("destinationPortRange") or "*")]
    for r in ranges:
        low, _, high = str(r).strip().partition("-")
        if low == "*" or (low.isdigit() and int(low) <= port <= int(high or low)):
            return True
    return False


def _outbound_rules(nsg: dict[str, Any]) -> list[tuple[str, int, str, list[str], dict[str, Any]]]:
    """(name, priority, access, destinations, properties) of the outbound rules, in the order Azure
    applies them; the default rules last."""
    rules = []
    for r in _props(nsg).get("securityRules") or []:
        p = r.get("properties") or {}
        if str(p.get("direction", "")).lower() != "outbound":
            continue
        if str(p.get("protocol", "*")).lower() not in ("*", "tcp"):
            continue
        dests = list(p.get("destinationAddressPrefixes") or []) or [
            str(p.get("destinationAddressPrefix") or "*")
        ]
        rules.append((str(r.get("name")), int(p.get("priority") or 0), str(p.get("access")), dests, p))
    rules.sort(key=lambda r: r[1])
    rules += [(n, prio, access, [dest], {}) for n, prio, access, dest in DEFAULT_OUTBOUND]
    return rules


def nsg_denies(nsg: dict[str, Any], host: egress.Host) -> tuple[str, int, str] | None:
    """(rule, priority, destination) of the first outbound rule that denies TCP 443 to ``host``."""
    for name, priority, access, dests, props in _outbound_rules(nsg):
        if props and not _port(props, egress.PORT):
            continue
        matched = next((d for d in dests if _covers(d, host)), None)
        if matched is None:
            continue
        return (name, priority, matched) if access.lower() == "deny" else None
    return None


def _default_route(table: dict[str, Any] | None, host: egress.Host) -> dict[str, Any] | None:
    """The user route that carries traffic to a public host: a route to one of its service tags
    beats 0.0.0.0/0."""
    best: tuple[int, dict[str, Any]] | None = None
    for r in _props(table).get("routes") or []:
        prefix = str(_props(r).get("addressPrefix", ""))
        rank = (
            0 if prefix == "0.0.0.0/0" else 1 if any(prefix.lower() == t.lower() for t in host.tags) else -1
        )
        if rank >= 0 and (best is None or rank > best[0]):
            best = (rank, r)
    return best[1] if best else None


def check_egress(spec: PoolSpec, facts: Facts) -> list[Finding]:
    subnet = facts.subnet
    if subnet is None:
        return []  # reported by check_subnet
    sid = spec.network.subnetId
    hosts = [h for h in egress.required_hosts(spec) if h.required]
    names = ", ".join(h.name for h in hosts)
    out: list[Finding] = []
    sprops = _props(subnet)
    nsg_ids = [
        str((sprops.get("networkSecurityGroup") or {}).get("id") or ""),
        nic_nsg(facts.scale_set) or "",
    ]
    for nsg_id in [i for i in nsg_ids if i]:
        nsg = facts.nsgs.get(nsg_id.lower())
        if nsg is None:
            out.append(
                Finding(
                    "egress.nsg_missing",
                    ERROR,
                    nsg_id,
                    "the network security group the subnet names does not exist",
                    "attach an existing network security group, or none",
                )
            )
            continue
        denied: dict[tuple[str, int, str], list[str]] = {}
        for host in hosts:
            verdict = nsg_denies(nsg, host)
            if verdict:
                denied.setdefault(verdict, []).append(host.name)
        for (rule, priority, dest), blocked in denied.items():
            out.append(
                Finding(
                    "egress.nsg_denies",
                    ERROR,
                    f"{nsg_id}/securityRules/{rule}",
                    f"outbound rule {rule} (priority {priority}) of network security group "
                    f"{_short(nsg_id)} denies "
                    f"TCP 443 to {dest}: the agents cannot reach {', '.join(blocked)}",
                    f"add an outbound Allow rule for TCP 443 to the service tags {ALLOW_TAGS} with "
                    "a priority "
                    f"number below {priority}, or remove rule {rule}",
                )
            )
    table = facts.route_table
    route_id = (sprops.get("routeTable") or {}).get("id")
    via_appliance = False
    if route_id and table is not None:
        routes = {id(r): r for h in hosts if (r := _default_route(table, h)) is not None}
        for r in routes.values():
            hop = str(_props(r).get("nextHopType"))
            where = (
                f"route {r.get('name')} ({_props(r).get('addressPrefix')}) of route table {_short(route_id)}"
            )
            if hop == "None":
                out.append(
                    Finding(
                        "egress.route_drops",
                        ERROR,
                        f"{route_id}/routes/{r.get('name')}",
                        f"{where} sends the agents' traffic to next hop None: it is dropped",
                        f"point {r.get('name')} at a firewall (VirtualAppliance) that allows "
                        f"{names}, or remove it and give the subnet a NAT gateway",
                    )
                )
            elif hop in ("VirtualAppliance", "VirtualNetworkGateway"):
                via_appliance = True
                target = _props(r).get("nextHopIpAddress") or "the virtual network gateway"
                out.append(
                    Finding(
                        "egress.via_appliance",
                        WARNING,
                        f"{route_id}/routes/{r.get('name')}",
                        f"{where} sends the agents' traffic to {target}: doctor cannot see its rules",
                        f"make sure the firewall at {target} allows TCP 443 to {names}",
                    )
                )
    if not via_appliance and not any(f.code == "egress.route_drops" for f in out):
        if facts.nat_gateway is not None:
            out.append(
                Finding(
                    "egress.nat_gateway",
                    INFO,
                    str(facts.nat_gateway.get("id")),
                    f"the agents leave through NAT gateway {facts.nat_gateway.get('name')}",
                )
            )
        elif sprops.get("defaultOutboundAccess") is False:
            out.append(
                Finding(
                    "egress.none",
                    ERROR,
                    sid,
                    f"subnet {_short(sid)} is private (defaultOutboundAccess false) with no NAT "
                    "gateway and no route "
                    f"to a firewall: the agents cannot reach {names}",
                    f"attach a NAT gateway to subnet {_short(sid)} (az network vnet subnet update "
                    "--nat-gateway ...), "
                    "or route 0.0.0.0/0 to a firewall that allows those hosts",
                )
            )
        else:
            out.append(
                Finding(
                    "egress.default_outbound",
                    WARNING,
                    sid,
                    "the agents rely on Azure's default outbound access, which Azure is retiring "
                    "for new virtual networks",
                    f"attach a NAT gateway to subnet {_short(sid)}",
                )
            )
    if not any(f.severity == ERROR for f in out):
        out.append(
            Finding("egress.hosts", INFO, sid, f"the agents must reach on TCP 443: {names} (docs/network.md)")
        )
    return out


# --- subnet ------------------------------------------------------------------------------


def check_subnet(spec: PoolSpec, facts: Facts) -> list[Finding]:
    sid = spec.network.subnetId
    if facts.subnet is None:
        return [
            Finding(
                "subnet.missing",
                ERROR,
                sid,
                "the subnet does not exist",
                "fix network.subnetId, or create the subnet",
            )
        ]
    out: list[Finding] = []
    props = _props(facts.subnet)
    prefix = props.get("addressPrefix") or (props.get("addressPrefixes") or [None])[0]
    if prefix:
        size = ipaddress.ip_network(str(prefix), strict=False).num_addresses
        own = desired.scale_set_id(spec).lower()
        used = [
            c
            for c in props.get("ipConfigurations") or []
            if not str(c.get("id", "")).lower().startswith(own + "/")
        ]
        free = size - AZURE_RESERVED - len(used)
        need = spec.devops.pool.maxCapacity + headroom(spec.devops.pool.maxCapacity)
        if free < need:
            out.append(
                Finding(
                    "subnet.too_small",
                    ERROR,
                    sid,
                    f"{prefix} has {free} free addresses ({size} minus {AZURE_RESERVED} reserved "
                    "by Azure minus "
                    f"{len(used)} in use); the pool needs {need} (maxCapacity "
                    f"{spec.devops.pool.maxCapacity} plus "
                    f"{need - spec.devops.pool.maxCapacity} while VMs are replaced)",
                    "use a larger subnet, or lower devops.pool.maxCapacity",
                )
            )
    for d in props.get("delegations") or []:
        service = _props(d).get("serviceName")
        out.append(
            Finding(
                "subnet.delegated",
                ERROR,
                sid,
                f"the subnet is delegated to {service}: a scale set cannot use it",
                "use a subnet without delegation",
            )
        )
    where = str((facts.vnet or {}).get("location") or "")
    if where and where.replace(" ", "").lower() != spec.azure.location.lower():
        out.append(
            Finding(
                "subnet.region",
                ERROR,
                sid,
                f"the virtual network is in {where}, the pool in {spec.azure.location}",
                f"set azure.location to {where}, or use a subnet in {spec.azure.location}",
            )
        )
    return out


# --- private DNS -------------------------------------------------------------------------


def _custom_dns(facts: Facts) -> list[str]:
    return list((_props(facts.vnet).get("dhcpOptions") or {}).get("dnsServers") or [])


def _zone_findings(
    facts: Facts, vnet_id: str, what: str, host: str, zone_name: str, records: list[str], code: str
) -> list[Finding]:
    found = dnscheck.lookup(facts.zones, vnet_id, zone_name, records)
    vnet = _short(vnet_id)
    if found.zone is None:
        others = ", ".join(z.id for z in found.unlinked) or f"no zone {zone_name} in the subscription"
        servers = _custom_dns(facts)
        if servers and found.unlinked:
            return [
                Finding(
                    f"dns.{code}_unverified",
                    WARNING,
                    found.unlinked[0].id,
                    f"zone {zone_name} is not linked to {vnet}, which uses the DNS servers "
                    f"{', '.join(servers)}",
                    f"verify that those servers resolve {host} to {what}'s private address (they forward to "
                    f"168.63.129.16 from a VNet linked to {zone_name}): nslookup {host} from an agent",
                )
            ]
        return [
            Finding(
                f"dns.{code}_not_linked",
                ERROR,
                found.unlinked[0].id if found.unlinked else zone_name,
                f"no private DNS zone {zone_name} is linked to the agents' virtual network {vnet} "
                f"({others}): "
                f"the agents cannot resolve {host}",
                f"link zone {zone_name} to {vnet_id} (az network private-dns link vnet create "
                f"--zone-name {zone_name} --virtual-network {vnet_id} ...)",
            )
        ]
    return [
        Finding(
            f"dns.{code}_record_missing",
            ERROR,
            f"{found.zone.id}/A/{r}",
            f"private DNS zone {zone_name} has no A record {r}: the agents cannot resolve {r}.{zone_name}",
            f"add the A record {r} with {what}'s private endpoint address (or attach the zone to the private "
            "endpoint through a DNS zone group)",
        )
        for r in found.missing
    ]


def check_dns(spec: PoolSpec, facts: Facts) -> list[Finding]:
    vnet_id = regs.vnet_id(spec)
    out: list[Finding] = []
    for k in spec.devops.kubernetes:
        cluster = facts.clusters.get(k.connection)
        name = f"{k.cluster.resourceGroup}/{k.cluster.name}"
        if cluster is None:
            out.append(
                Finding(
                    "cluster.missing",
                    ERROR,
                    name,
                    f"the cluster of connection {k.connection} does not exist",
                    "fix kubernetes[].cluster",
                )
            )
            continue
        props = _props(cluster)
        profile = props.get("apiServerAccessProfile") or {}
        cid = str(cluster.get("id"))
        if not profile.get("enablePrivateCluster"):
            out.append(
                Finding(
                    "dns.cluster_public",
                    INFO,
                    cid,
                    f"cluster {k.cluster.name} has a public API server ({props.get('fqdn')})",
                )
            )
            continue
        zone = cluster_zone(cluster)
        if zone is None:  # privateDNSZone none: the public FQDN resolves to the private address
            public = bool(profile.get("enablePrivateClusterPublicFQDN"))
            out.append(
                Finding(
                    "dns.cluster_no_private_zone",
                    INFO if public else ERROR,
                    cid,
                    f"cluster {k.cluster.name} has privateDNSZone none; the agents resolve its public FQDN"
                    + ("" if public else ", which is disabled"),
                    ""
                    if public
                    else "enable the public FQDN (az aks update --enable-public-fqdn), or use a private zone",
                )
            )
            continue
        zname, label = zone
        out += _zone_findings(
            facts,
            vnet_id,
            f"cluster {k.cluster.name}",
            str(props.get("privateFQDN")),
            zname,
            [label],
            "cluster",
        )
    for reg in spec.registries:
        registry = facts.registries.get(reg.id.lower())
        if registry is None:
            out.append(
                Finding(
                    "registry.missing",
                    ERROR,
                    reg.id,
                    "the container registry does not exist",
                    "fix registries[].id",
                )
            )
            continue
        out += _zone_findings(
            facts,
            vnet_id,
            f"registry {registry.get('name')}",
            regs.login_server(registry),
            regs.zone_name(registry),
            regs.expected_records(registry),
            "registry",
        )
    return out


def check(spec: PoolSpec, facts: Facts) -> list[Finding]:
    return [*check_subnet(spec, facts), *check_egress(spec, facts), *check_dns(spec, facts)]
