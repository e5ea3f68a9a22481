"""`agentctl doctor`: why a pool's agents would not come online, found without writing anything.

``run`` reads what the checks need (``gather``: GETs, lists and Azure DevOps' permission
evaluation, which is a POST that only reads), then the checks, pure functions of those facts,
return ``Finding``s: a stable code, a severity, the resource concerned, what was found and the
fix. Any error-level finding makes the command exit 5.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from agentctl.cloud import Target
from agentctl.config import PoolSpec

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True)
class Finding:
    code: str  # stable: <area>.<what>, e.g. egress.nsg_denies
    severity: str  # error | warning | info
    resource: str  # the resource concerned (an id, a host, a scope)
    found: str  # what was found
    fix: str = ""  # what to do about it ("" for info)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run(spec: PoolSpec, target: Target) -> list[Finding]:
    """Every finding for ``spec``: errors first, then warnings, then information."""
    from agentctl.doctor import access, gather, managed, network, platform

    if spec.managed is not None:  # the service runs the agents: its prerequisites
        return sorted(managed.check(spec, target), key=lambda f: SEVERITIES.index(f.severity))
    facts = gather.gather(spec, target)
    findings = [
        *network.check(spec, facts),
        *access.check(spec, facts),
        *platform.check(spec, facts),
    ]
    return ordered(findings)


def ordered(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then information."""
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def report(findings: list[Finding]) -> dict[str, Any]:
    """The command's data: the findings and a count per severity."""
    return {
        "findings": [f.to_dict() for f in findings],
        "summary": {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES},
    }
