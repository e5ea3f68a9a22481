"""The use cases behind the pool commands: plan, deploy, status, destroy.

Each takes a loaded spec and a ``Target`` and returns plain data for the renderer; the CLI
only parses options, calls one of these, and renders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from agentctl import apply as applier
from agentctl import kinds, lease
from agentctl.azure import Arm
from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.devops import DevOps
from agentctl.errors import AgentctlError, Interrupted, UsageError
from agentctl.kinds.base import Clients, Facts, Plan
from agentctl.observe import observe, settle
from agentctl.plan import plan, plan_destroy
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
    allow_switch: bool = False,
) -> dict[str, Any]:
    """``allow_switch``: apply a plan that switches the file's backend (else refused)."""

    def switch_allowed(the_plan: Plan) -> bool:
        gone = kinds.backend_switch(spec.backend, the_plan)
        if gone and not allow_switch:
            raise UsageError(
                f"the plan switches the pool to backend {spec.backend} and deletes {', '.join(gone)}; "
                "nothing was changed",
                hint="confirm it: run without --yes, or pass --allow-backend-switch (docs/managed-pools.md)",
            )
        return confirm(the_plan)

    return _converge(spec, c or clients(spec, target), plan, switch_allowed, on_event, on_wait, stop)


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
    """Holding the pool's lease (``on_wait`` hears when another run has it): observe (once what an
    interrupted run left running has ended), plan with ``planner``, ask, apply
    (until ``stop`` is asked for)."""
    stop = stop or Stop()
    with lease.held(spec, c.arm.target, c.arm.lro_timeout, on_wait):
        facts = observe(spec, c)
        settle(spec, c, facts)
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
    """Every kind's sections of ``agentctl status``, read concurrently."""
    facts = observe(spec, c)
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="status") as reads:
        jobs = [reads.submit(kind.status, spec, c, facts, log_lines) for kind in kinds.ordered()]
    out: dict[str, Any] = {}
    for job in jobs:
        out |= job.result()
    return out
