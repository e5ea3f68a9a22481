"""`agentctl diagnose` (and `--wait` when a node fails): why a pool's agents did not come online.

``gather`` reads, for the failing nodes (else an idle one): the elastic pool's log lines, each
node's state and history, the scale set instance view (provisioning state, VM agent, the
pipelines agent extension ``TeamServicesAgentLinux``'s status and message) and, through VM Run
Command on one instance, the tails of the extension's and the agent's ``_diag`` logs
(``templates/collect-logs.sh``). Every text is redacted and cut. ``causes`` matches the evidence
against known patterns (a pure function, tested with tables); when nothing matches, the report
says so and the raw evidence is shown.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from agentctl import runshell, waiting
from agentctl.azure import Arm
from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.devops import DevOps
from agentctl.errors import AgentctlError
from agentctl.logs import REDACTED, redact

log = logging.getLogger(__name__)

LOG_LINES = 40  # pool log lines kept
TEXT_CAP = 1800  # characters kept of one piece of evidence (its end)
INSTANCE_VIEWS = 3  # failing instances whose instance view is read
_SECRETS = [
    re.compile(r"(?i)(--(?:token|password|secret)[ =])\S+"),
    re.compile(r"(?i)([?&]sig=)[^&\s]+"),
    re.compile(r"(?i)((?:pat|password|secret|token)\s*[:=]\s*)\S+"),
]


@dataclass(frozen=True)
class Pattern:
    code: str
    regex: re.Pattern[str]
    cause: str  # may name {host}
    fix: str


def _p(code: str, regex: str, cause: str, fix: str) -> Pattern:
    return Pattern(code, re.compile(regex, re.I), cause, fix)


_DOWNLOAD = r"download\.agent\.dev\.azure\.com|vstsagentpackage|vsts-agent-linux"
_TIMEOUT = "|".join(
    (
        "timed out",
        "timeout was reached",
        "Failed to connect",
        "Connection refused",
        "unreachable",
        "could not reach",
    )
)
# most specific first; each match is one likely cause
PATTERNS = [
    _p(
        "dns_failure",
        r"Could not resolve host:? (?P<host>[\w.-]+)|Name or service not known \((?P<host2>[\w.-]+)|"
        r"Temporary failure in name resolution",
        "DNS: the VM cannot resolve {host}",
        "the virtual network's DNS servers must resolve it: forward to Azure DNS (168.63.129.16), and "
        "link the private DNS zones the pool needs (`agentctl doctor --probe` shows what resolves)",
    ),
    _p(
        "tls_interception",
        r"SSL certificate problem|certificate verify failed|unable to get local issuer certificate|"
        r"self[- ]signed certificate|UntrustedRoot|PartialChain|RemoteCertificate",
        "TLS interception: a certificate the VM does not trust (a firewall or proxy inspects TLS)",
        "exempt dev.azure.com and download.agent.dev.azure.com from TLS inspection, or add the "
        "inspecting CA to the agent image",
    ),
    _p(
        "egress_download_blocked",
        rf"(?:(?:{_DOWNLOAD}).*(?:{_TIMEOUT})|(?:{_TIMEOUT}).*(?:{_DOWNLOAD})|could not download the agent)",
        "blocked egress to the agent download host download.agent.dev.azure.com",
        "allow outbound TCP 443 from the agents' subnet to download.agent.dev.azure.com (service tags "
        "AzureDevOps, AzureFrontDoor.Frontend): NSG rules, route table, firewall or NAT gateway; "
        "`agentctl doctor` names the rule",
    ),
    _p(
        "egress_organization_blocked",
        rf"(?:connectionData failed|could not connect to https://|(?<![\w.-])(?:dev\.azure\.com|"
        rf"[\w-]+\.visualstudio\.com)[^\n]*(?:{_TIMEOUT}))",
        "blocked egress to the Azure DevOps organization",
        "allow outbound TCP 443 from the agents' subnet to dev.azure.com (service tag AzureDevOps): NSG "
        "rules, route table, firewall or NAT gateway; `agentctl doctor` names the rule",
    ),
    _p(
        "registration_denied",
        r"\b(?:401|403) (?:Unauthorized|Forbidden)|HTTP Status: (?:401|403)|\bUnauthorized\b|\bForbidden\b|"
        r"VS30063|TF400813|Access denied",
        "401 / 403 at agent registration: the VM's agent was refused by Azure DevOps",
        "check the pool's service connection (agentctl status shows whether it is ready) and that its "
        "identity still has its role on the scale set; then recycle the failed VM",
    ),
    _p(
        "agent_folder_baked",
        r"/agent/\.agent\b|\.agent (?:file )?(?:already )?exists|agent is already configured",
        "a /agent/.agent file baked into the image: the extension reports success without registering",
        "remove /agent/.agent (and /agent/.credentials) from the image build, rebuild the image, roll it",
    ),
    _p(
        "disk_full",
        r"No space left on device|disk (?:is )?full",
        "the VM's disk is full",
        "give the scale set a larger OS disk (scaleSet.osDiskSizeGB) or clean the image",
    ),
    _p(
        "python_missing",
        r"python3?: (?:command )?not found|Python 3 (?:is )?(?:not found|required)|"
        r"No such file or directory:? '?/usr/bin/python3",
        "Python 3 is missing on the VM: the agent extension needs it",
        "install python3 in the agent image (agentctl's image has it), rebuild, roll",
    ),
    _p(
        "systemd_missing",
        r"systemctl: (?:command )?not found|System has not been booted with systemd|Failed to connect to bus",
        "systemd is missing or not running: the agent runs as a systemd service",
        "use an image that boots with systemd (agentctl's image does)",
    ),
    _p(
        "extension_download_failed",
        r"VMExtensionProvisioningError|Failed to download (?:the )?(?:extension|handler)|"
        r"extension package could not be downloaded",
        "the VM could not download the agent extension itself (from Azure storage)",
        "allow outbound TCP 443 to Storage (service tag Storage) and the WireServer 168.63.129.16",
    ),
]


def scrub(text: str, cap: int = TEXT_CAP) -> str:
    """Redacted (known secrets, tokens, keys, ``--token X``), then cut to its last ``cap`` characters."""
    text = redact(text)
    for pattern in _SECRETS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text if len(text) <= cap else "..." + text[-cap:]


def causes(evidence: list[dict[str, str]]) -> list[dict[str, str]]:
    """Each known pattern found in the evidence, once, with the first line that matched."""
    found: dict[str, dict[str, str]] = {}
    for piece in evidence:
        for line in piece["text"].splitlines():
            for p in PATTERNS:
                m = p.regex.search(line)
                if m is None or p.code in found:
                    continue
                host = next((g for g in m.groups() if g), "the hosts it needs") if m.groups() else ""
                found[p.code] = {
                    "code": p.code,
                    "cause": p.cause.format(host=host),
                    "fix": p.fix,
                    "evidence": f"{piece['source']}: {line.strip()[:300]}",
                }
    order = [p.code for p in PATTERNS]
    return sorted(found.values(), key=lambda c: order.index(c["code"]))


def _extension(view: dict[str, Any] | None) -> dict[str, Any]:
    for ext in (view or {}).get("extensions") or []:
        if str(ext.get("type", "")).endswith("TeamServicesAgentLinux"):
            status = (ext.get("statuses") or [{}])[0]
            return {
                "name": ext.get("name"),
                "code": status.get("code"),
                "message": scrub(str(status.get("message") or ""), 600),
            }
    return {}


def _instance_summary(view: dict[str, Any] | None) -> dict[str, Any]:
    statuses = [s.get("code") for s in (view or {}).get("statuses") or []]
    agent = ((view or {}).get("vmAgent") or {}).get("statuses") or [{}]
    return {
        "statuses": statuses,
        "vmAgent": agent[0].get("displayStatus"),
        "extension": _extension(view),
    }


def gather(
    spec: PoolSpec,
    target: Target,
    history: dict[str, list[dict[str, Any]]] | None = None,
    run_command: bool = True,
) -> dict[str, Any]:
    """The evidence and the likely causes (the data of ``agentctl diagnose``)."""
    dev = DevOps(target, spec.devops.project)
    arm = Arm(target, spec.azure.subscription)
    ep = waiting.elastic_pool(dev, spec)
    pool_id = int(ep["poolId"])
    nodes = waiting.nodes_reader(dev, pool_id)()
    entries = dev.values(dev.read("elastic.logs", {"poolId": pool_id}, {"$top": 200}))
    failing = [n for n in nodes if n.get("state") in waiting.FAILED]
    rg, vmss = spec.azure.resourceGroup, spec.scaleSet.name
    names = {str(n.get("name")) for n in failing}
    lines = [
        e
        for e in entries
        if str(e.get("level", "")).lower() in ("error", "warning")
        or any(n in str(e.get("message")) for n in names)
    ]
    data: dict[str, Any] = {
        "pool": spec.devops.pool.name,
        "maxSavedNodeCount": ep.get("maxSavedNodeCount"),
        "nodes": [],
        "poolLog": [
            {
                "timestamp": e.get("timestamp"),
                "level": e.get("level"),
                "message": scrub(str(e.get("message")), 500),
            }
            for e in lines[:LOG_LINES]
        ],
        "logs": None,
        "notes": [],
    }
    evidence = [{"source": "pool log", "text": e["message"]} for e in data["poolLog"]]
    for n in failing[:INSTANCE_VIEWS]:
        view = _read(arm.instance_view, rg, vmss, str(n.get("computeId")))
        summary = _instance_summary(view)
        data["nodes"].append(
            {
                "name": n.get("name"),
                "state": n.get("state"),
                "since": n.get("stateChangedOn"),
                "instanceId": n.get("computeId"),
                "history": (history or {}).get(str(n.get("name")), []),
                "instance": summary if view is not None else None,
            }
        )
        if summary["extension"]:
            evidence.append(
                {"source": f"extension status on {n.get('name')}", "text": summary["extension"]["message"]}
            )
    if not failing:
        saved = ep.get("maxSavedNodeCount") or 0
        data["notes"].append(
            "no failed machine is left to examine"
            + (
                "; set devops.pool.maxSavedNodeCount to 1 so Azure DevOps keeps one failed VM for diagnosis"
                if not saved
                else f" (maxSavedNodeCount {saved} keeps failed VMs; none is kept now)"
            )
        )
    subject = failing[0] if failing else next((n for n in nodes if n.get("state") in waiting.ONLINE), None)
    if run_command and subject is not None:
        data["logs"] = _collect(arm, rg, vmss, subject)
        if data["logs"].get("output"):
            evidence.append({"source": f"logs on {subject.get('name')}", "text": data["logs"]["output"]})
    data["causes"] = causes(evidence)
    if not data["causes"]:
        data["notes"].append("no known pattern matched: the evidence above is all there is")
    return data


def _read(fn: Any, *args: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] | None = fn(*args)
        return found
    except AgentctlError as e:
        log.info("could not read %s: %s", args, e.message)
        return None


def _collect(arm: Arm, rg: str, vmss: str, node: dict[str, Any]) -> dict[str, Any]:
    """The log tails of one instance through Run Command; a failure is evidence too."""
    iid = str(node.get("computeId"))
    try:
        out = runshell.output(
            arm.run_shell_script(
                rg, vmss, iid, runshell.script("collect-logs.sh", BYTES="1800"), runshell.TIMEOUT
            )
        )
    except AgentctlError as e:
        return {"node": node.get("name"), "instanceId": iid, "output": "", "error": scrub(e.message, 500)}
    return {"node": node.get("name"), "instanceId": iid, "output": scrub(out.stdout + out.stderr, 4000)}
