"""`deploy-pool --wait` and `agentctl wait`: follow a pool until its standby agents are online, a
node fails, or the time is up.

A scale-set pool: only Azure DevOps is read while waiting, the elastic pool once (its
``desiredIdle``, the standby count in force), then its nodes every ``interval`` seconds (one GET
per poll). A managed pool: the pool once, then its machines (its ``resources``, one ARM GET per
poll) until the standby count in force is ``Ready`` or in use. ``changes`` and ``verdict`` are
pure; ``watch`` is the loop, with the clock and the sleep passed in.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.devops import DevOps
from agentctl.errors import NotFound, PreconditionFailed

log = logging.getLogger(__name__)

POLL = 10.0  # seconds between two reads of the nodes (6 GETs a minute; bench/wait.py)
SANDBOX_POLL = 0.25  # against the sandbox, whose VMs come up in a second
DEFAULT_TIMEOUT = 1200.0  # seconds: a new VM takes 5 to 10 minutes to bring its agent online
# Azure DevOps' ElasticNodeState values (distributedTask 7.1, ElasticNode.state)
FAILED = frozenset(
    {
        "failedToStartPendingDelete",
        "failedToRestartPendingDelete",
        "failedVMPendingDelete",
        "unhealthyVm",
        "unhealthyVmPendingDelete",
        "saved",
    }
)
ONLINE = frozenset({"idle", "assigned"})
# A managed pool's machines (Microsoft.DevOpsInfrastructure ResourceStatus) whose agent is up
MANAGED_ONLINE = frozenset({"Ready", "Allocated", "Leased"})
GONE = "removed"  # a node no longer listed


@dataclass(frozen=True)
class Change:
    node: str
    old: str | None  # None: first seen
    new: str
    seconds: float  # since the wait started


@dataclass
class Watch:
    """What a wait saw: the outcome, the nodes as last read and each node's history."""

    status: str = "waiting"  # online | failed | timeout | waiting
    reason: str = ""
    nodes: list[dict[str, Any]] = field(default_factory=list)
    history: dict[str, list[Change]] = field(default_factory=dict)
    seconds: float = 0.0
    polls: int = 0


def changes(seen: dict[str, str], nodes: list[dict[str, Any]], seconds: float) -> list[Change]:
    """The state changes from ``seen`` (node name -> state) to ``nodes``; a node no longer listed
    changes to ``removed``."""
    now = {str(n.get("name")): str(n.get("state")) for n in nodes}
    out = [
        Change(name, seen.get(name), state, seconds) for name, state in now.items() if seen.get(name) != state
    ]
    out += [
        Change(name, state, GONE, seconds)
        for name, state in seen.items()
        if name not in now and state != GONE
    ]
    return out


def online(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nodes whose agent is online and free or busy (``agentState`` may join flags: enabled, online)."""
    return [n for n in nodes if n.get("state") in ONLINE and "online" in str(n.get("agentState", "")).lower()]


def managed_online(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A managed pool's machines that are ready or in use."""
    return [n for n in nodes if n.get("state") in MANAGED_ONLINE]


Up = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def verdict(
    desired: int, nodes: list[dict[str, Any]], old_saved: set[str], up_of: Up = online
) -> tuple[str, str]:
    """(online | failed | waiting, why). A node in a failed state fails the wait, but for the
    nodes already ``saved`` (kept for investigation) when the wait began."""
    for n in nodes:
        if n.get("state") in FAILED and str(n.get("name")) not in old_saved:
            return "failed", f"node {n.get('name')} is {n.get('state')}"
    up = len(up_of(nodes))
    if up >= desired:
        return "online", f"{up} of {desired} standby agent(s) online"
    return "waiting", f"{up} of {desired} standby agent(s) online"


def watch(
    read_nodes: Callable[[], list[dict[str, Any]]],
    desired: int,
    timeout: float,
    on_change: Callable[[list[Change], list[dict[str, Any]]], None],
    interval: float = POLL,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    up_of: Up = online,
) -> Watch:
    """Read the nodes until the verdict is online or failed, or ``timeout`` seconds pass."""
    start = clock()
    w = Watch()
    seen: dict[str, str] = {}
    old_saved: set[str] | None = None
    while True:
        nodes = read_nodes()
        w.polls += 1
        w.seconds = clock() - start
        if old_saved is None:
            old_saved = {str(n.get("name")) for n in nodes if n.get("state") == "saved"}
        found = changes(seen, nodes, w.seconds)
        for c in found:
            w.history.setdefault(c.node, []).append(c)
            seen[c.node] = c.new
        w.nodes = nodes
        w.status, w.reason = verdict(desired, nodes, old_saved, up_of)
        on_change(found, nodes)
        if w.status != "waiting":
            return w
        if w.seconds >= timeout:
            w.status = "timeout"
            w.reason = f"{w.reason} after {w.seconds:.0f} s (timeout {timeout:g} s)"
            return w
        sleep(min(interval, timeout - w.seconds))  # the last read at the timeout


def elastic_pool(dev: DevOps, spec: PoolSpec) -> dict[str, Any]:
    """The pool's elastic settings, as Azure DevOps has them (``poolId``, ``desiredIdle``, ...)."""
    name = spec.devops.pool.name
    pool = dev.pool_by_name(name)
    if pool is None:
        raise NotFound(
            f"agent pool {name} (devops.pool.name) does not exist", hint="run agentctl deploy-pool first"
        )
    found: dict[str, Any] | None = dev.read("elastic.get", {"poolId": pool["id"]})
    if found is None:
        raise PreconditionFailed(
            f"agent pool {name} is not a scale set (elastic) pool",
            hint="agentctl deploy-pool makes it one; another tool may have made this pool",
        )
    return found


def nodes_reader(dev: DevOps, pool_id: int) -> Callable[[], list[dict[str, Any]]]:
    return lambda: dev.values(dev.read("elastic.nodes", {"poolId": pool_id}))


def run(
    spec: PoolSpec,
    target: Target,
    timeout: float,
    on_change: Callable[[list[Change], list[dict[str, Any]]], None],
    interval: float | None = None,
) -> dict[str, Any]:
    """Wait for the pool's standby agents; the command's data (``status``: ``online``,
    ``nothing`` (no standby agent in force), ``failed`` or ``timeout``)."""
    if spec.managed is not None:
        return _managed(spec, target, timeout, on_change, interval or POLL)
    dev = DevOps(target, spec.devops.project)
    ep = elastic_pool(dev, spec)
    desired = int(ep.get("desiredIdle") or 0)
    base = {"pool": spec.devops.pool.name, "poolId": ep.get("poolId"), "desiredIdle": desired}
    if desired == 0:
        return {**base, "status": "nothing", "reason": "no standby agent is in force (desiredIdle 0)"}
    w = watch(nodes_reader(dev, int(ep["poolId"])), desired, timeout, on_change, interval or POLL)
    log.info("waited %.1f s for %s: %s (%d polls)", w.seconds, spec.devops.pool.name, w.status, w.polls)
    return {
        **base,
        "status": w.status,
        "reason": w.reason,
        "seconds": round(w.seconds, 1),
        "polls": w.polls,
        "maxSavedNodeCount": ep.get("maxSavedNodeCount"),
        "nodes": [
            {k: n.get(k) for k in ("name", "state", "agentState", "computeId", "stateChangedOn")}
            for n in w.nodes
        ],
        "history": _history(w),
    }


def _history(w: Watch) -> dict[str, list[dict[str, Any]]]:
    return {
        node: [{"state": c.new, "after": round(c.seconds, 1)} for c in found]
        for node, found in w.history.items()
    }


def _managed(
    spec: PoolSpec,
    target: Target,
    timeout: float,
    on_change: Callable[[list[Change], list[dict[str, Any]]], None],
    interval: float,
) -> dict[str, Any]:
    """Wait for a managed pool's standby agents: the count the file's schedule has in force now
    (at most maximumConcurrency), ``Ready`` or in use."""
    from agentctl import standby
    from agentctl.azure import Arm

    assert spec.managed is not None
    arm, name = Arm(target, spec.azure.subscription), spec.devops.pool.name
    pool = arm.managed.get_pool(spec.azure.resourceGroup, name)
    if pool is None:
        raise NotFound(
            f"managed pool {name} (devops.pool.name) does not exist", hint="run agentctl deploy-pool first"
        )
    base = {"pool": name, "backend": "managedPool", "poolId": pool.get("id")}
    setting = spec.devops.pool.standby
    if setting is not None and not isinstance(setting, int) and setting.automatic:
        return {
            **base,
            "status": "nothing",
            "reason": "standby is automatic: the service decides when agents wait",
        }
    desired = min(standby.count_at(spec.standby_week(), datetime.now(UTC)), spec.managed.maximumConcurrency)
    base["desiredIdle"] = desired
    if desired == 0:
        return {
            **base,
            "status": "nothing",
            "reason": "no standby agent is in force now (the schedule's count is 0)",
        }

    def read() -> list[dict[str, Any]]:
        machines = arm.managed.agents(str(pool["id"]))
        return [{"name": m.get("name"), **(m.get("properties") or {}), "state": _status(m)} for m in machines]

    w = watch(read, desired, timeout, on_change, interval, up_of=managed_online)
    log.info("waited %.1f s for %s: %s (%d polls)", w.seconds, name, w.status, w.polls)
    nodes = [{k: n.get(k) for k in ("name", "state", "image", "imageVersion")} for n in w.nodes]
    data = {**base, "status": w.status, "reason": w.reason, "seconds": round(w.seconds, 1), "polls": w.polls}
    return data | {"nodes": nodes, "history": _history(w)}


def _status(machine: dict[str, Any]) -> str:
    return str((machine.get("properties") or {}).get("status") or "")
