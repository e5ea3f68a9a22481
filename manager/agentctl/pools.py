"""The use cases behind the pool commands: plan, deploy, status, destroy.

Each takes a loaded spec and a ``Target`` and returns plain data for the renderer; the CLI
only parses options, calls one of these, and renders.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from agentctl import apply as applier
from agentctl import desired, lease, resources
from agentctl.azure import Arm
from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.devops import DevOps
from agentctl.errors import AgentctlError, Interrupted
from agentctl.observe import Clients, Facts, observe
from agentctl.plan import Plan, plan, plan_destroy
from agentctl.shared import SharedReads
from agentctl.stopping import Stop

log = logging.getLogger(__name__)

Confirm = Callable[[Plan], bool]
Note = Callable[[str], None]
Planner = Callable[[PoolSpec, Facts], Plan]
FLEET_WORKERS = 20  # pools whose status is read at once (each reads with its own threads)
APPLY_WORKERS = 10  # pools one command applies at once (each runs up to 4 steps at once)


def clients(spec: PoolSpec, target: Target) -> Clients:
    return Clients(Arm(target, spec.azure.subscription), DevOps(target, spec.devops.project))


def deploy(
    spec: PoolSpec,
    target: Target,
    confirm: Confirm,
    on_event: applier.Event | None = None,
    on_wait: Note | None = None,
    stop: Stop | None = None,
    c: Clients | None = None,
) -> dict[str, Any]:
    return _converge(spec, c or clients(spec, target), plan, confirm, on_event, on_wait, stop)


def destroy(
    spec: PoolSpec,
    target: Target,
    confirm: Confirm,
    on_event: applier.Event | None = None,
    on_wait: Note | None = None,
    stop: Stop | None = None,
    c: Clients | None = None,
) -> dict[str, Any]:
    return _converge(spec, c or clients(spec, target), plan_destroy, confirm, on_event, on_wait, stop)


def _converge(
    spec: PoolSpec,
    c: Clients,
    planner: Planner,
    confirm: Confirm,
    on_event: applier.Event | None,
    on_wait: Note | None,
    stop: Stop | None,
) -> dict[str, Any]:
    """Holding the pool's lease (``on_wait`` hears when another run has it): observe (once an
    operation an interrupted run left on the scale set has ended), plan with ``planner``, ask, apply
    (until ``stop`` is asked for)."""
    stop = stop or Stop()
    with lease.held(spec, c.arm.target, c.arm.lro_timeout, on_wait):
        facts = observe(spec, c)
        if facts.scale_set is not None:
            facts.scale_set = c.arm.settled_scale_set(spec.azure.resourceGroup, spec.scaleSet.name)
        the_plan = planner(spec, facts)
        result: dict[str, Any] = {"plan": the_plan.to_dict(), "applied": False, "outcomes": []}
        if not the_plan.changed:
            return result
        if not confirm(the_plan):
            result["cancelled"] = True
            return result
        if stop.requested():
            raise Interrupted("interrupted before any change", finished=[])
        with stop.applying():
            outcomes = applier.apply(the_plan, spec, facts, c, on_event, stop.requested)
    result["applied"] = True
    result["outcomes"] = [asdict(o) for o in outcomes]
    return result


@dataclass
class Outcome:
    """One pool's part of a command over several pools: its result, or the error it ended with."""

    data: Any = None
    error: AgentctlError | None = None


def each_pool(
    specs: list[PoolSpec],
    targets: list[Target],
    work: Callable[[PoolSpec, Clients], Any],
    workers: int = APPLY_WORKERS,
    shared: SharedReads | None = None,
) -> list[Outcome]:
    """``work`` on every pool, at most ``workers`` at once, in the order given; one pool's error
    does not stop the others. Pools are independent of each other (none relies on what another
    creates), so there is no order to keep between them. Pools of one subscription or project
    share a client (and its connections), built before the threads start (the SDKs' first imports
    must not race); with ``shared`` (read-only commands) they also share the reads they have in
    common. One pool runs in the calling thread, so Ctrl-C and questions behave as usual."""
    arms: dict[tuple[int, str], Arm] = {}
    devs: dict[tuple[int, str], DevOps] = {}
    cs = []
    for spec, target in zip(specs, targets, strict=True):
        sub, project = (id(target), spec.azure.subscription), (id(target), spec.devops.project)
        arm = arms.setdefault(sub, Arm(target, spec.azure.subscription, shared))
        dev = devs.setdefault(project, DevOps(target, spec.devops.project, shared))
        cs.append(Clients(arm, dev))
    for arm in arms.values():
        arm.connect()
    for dev in devs.values():
        dev.connect()

    def one(i: int) -> Outcome:
        try:
            return Outcome(work(specs[i], cs[i]))
        except AgentctlError as e:
            return Outcome(error=e)

    if len(specs) == 1:
        return [one(0)]
    pool = ThreadPoolExecutor(max_workers=min(len(specs), workers), thread_name_prefix="fleet")
    try:
        return list(pool.map(one, range(len(specs))))
    finally:  # Ctrl-C: pools not started never start; running ones stop after their running steps
        pool.shutdown(wait=True, cancel_futures=True)


def plan_many(specs: list[PoolSpec], targets: list[Target], planner: Planner = plan) -> list[Outcome]:
    """The plans of several pools (``Outcome.data``: a ``Plan``), observed concurrently."""
    return each_pool(specs, targets, lambda s, c: planner(s, observe(s, c)), FLEET_WORKERS, SharedReads())


def status_many(specs: list[PoolSpec], targets: list[Target], log_lines: int = 10) -> list[dict[str, Any]]:
    """``status`` of several pools, read concurrently, in the order given. Pools in one
    subscription or project share a client (and its connections) and the answers to the reads
    they have in common (agentctl.shared)."""
    shared = SharedReads()
    found = each_pool(specs, targets, lambda s, c: status(s, c, log_lines), FLEET_WORKERS, shared)
    log.debug("status of %d pool(s): %d reads sent, %d shared", len(specs), shared.asked, shared.shared)
    for one in found:
        if one.error is not None:
            raise one.error
    return [one.data for one in found]


def status(spec: PoolSpec, c: Clients, log_lines: int = 10) -> dict[str, Any]:
    facts = observe(spec, c)
    ss = facts.scale_set
    pool_id = (facts.agent_pool or {}).get("id")
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="status") as reads:
        vms = reads.submit(c.arm.list_instances, spec.azure.resourceGroup, spec.scaleSet.name) if ss else None
        node_doc = reads.submit(c.devops.read, "elastic.nodes", {"poolId": pool_id}) if pool_id else None
        log_doc = (
            reads.submit(c.devops.read, "elastic.logs", {"poolId": pool_id}, {"$top": log_lines})
            if pool_id
            else None
        )
        extra_jobs = {kind.NAME: reads.submit(kind.status, spec, c, facts) for kind in resources.kinds()}
    model_image = None
    instances: list[dict[str, Any]] = []
    if ss is not None and vms is not None:
        ref = ((ss.get("properties") or {}).get("virtualMachineProfile") or {}).get("storageProfile") or {}
        model_image = (ref.get("imageReference") or {}).get("id")
        for vm in vms.result():
            props = vm.get("properties") or {}
            instances.append(
                {
                    "instanceId": vm.get("instanceId"),
                    "name": vm.get("name"),
                    "provisioningState": props.get("provisioningState"),
                    "latestModel": props.get("latestModelApplied"),
                }
            )
    newest = facts.image_versions[-1] if facts.image_versions else None
    model_version = (
        str(model_image or "").rsplit("/versions/", 1)[1] if "/versions/" in str(model_image) else None
    )
    nodes = c.devops.values(node_doc.result()) if node_doc else []
    logs = c.devops.values(log_doc.result()) if log_doc else []
    elastic = facts.elastic_pool or {}
    extra = {name: job.result() for name, job in extra_jobs.items()}
    return extra | {
        "pool": {
            "name": spec.devops.pool.name,
            "exists": facts.agent_pool is not None,
            "id": (facts.agent_pool or {}).get("id"),
            "state": elastic.get("state"),
            "offlineSince": elastic.get("offlineSince"),
            "settings": {k: elastic.get(k) for k in desired.elastic_settings(spec, facts.now)}
            if elastic
            else None,
            "nodes": dict(Counter(str(n.get("state")) for n in nodes)),
        },
        "scaleSet": {
            "name": spec.scaleSet.name,
            "exists": ss is not None,
            "capacity": (ss or {}).get("sku", {}).get("capacity"),
            "provisioningState": ((ss or {}).get("properties") or {}).get("provisioningState"),
            "instances": instances,
        },
        "image": {
            "model": model_image,
            "modelVersion": model_version or ("latest" if model_image else None),
            "newest": newest,
            "drift": bool(model_version and newest and model_version != newest),
        },
        "connection": {
            "name": spec.devops.azureConnection.name,
            "exists": facts.azure_connection is not None,
            "isReady": (facts.azure_connection or {}).get("isReady"),
        },
        "logs": [
            {
                "timestamp": entry.get("timestamp"),
                "level": entry.get("level"),
                "message": entry.get("message"),
            }
            for entry in logs[-log_lines:]
        ],
    }
