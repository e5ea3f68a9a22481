"""Apply: run a plan's actions as a dependency graph, independent ones concurrently.

The only code that writes, through the handlers the kinds register for their actions; a handler
builds its payload from the spec and from what earlier actions returned (``Context.outputs``).
A failure stops new actions from starting, lets running ones finish, and names the failed step;
every step is idempotent, so the next run continues where this one stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from agentctl import kinds
from agentctl.config import PoolSpec
from agentctl.errors import AgentctlError, ApplyFailed, CloudError, Interrupted
from agentctl.kinds.base import Action, Clients, Context, Facts, Plan

log = logging.getLogger(__name__)

Event = Callable[[Action, str], None]  # (action, "start" | "done" | "failed")


@dataclass
class Outcome:
    key: str
    op: str
    kind: str
    name: str
    status: str  # done | failed | not started
    seconds: float = 0.0
    error: str = ""


def apply(
    plan: Plan,
    spec: PoolSpec,
    facts: Facts,
    clients: Clients,
    on_event: Event | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[Outcome]:
    """Run the plan; once ``stop()`` is true no step starts, running ones finish, and
    ``Interrupted`` lists the steps done."""
    stopping = stop or (lambda: False)
    ctx = Context(spec, facts, clients)
    notify = on_event or (lambda a, s: None)
    in_plan = {a.key for a in plan.pending}
    pending = {a.key: a for a in plan.pending}
    done: set[str] = set()
    outcomes = {a.key: Outcome(a.key, a.op, a.kind, a.name, "not started") for a in plan.pending}
    failure: tuple[Action, Exception] | None = None
    started: dict[str, float] = {}

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="apply") as workers:
        running: dict[Future[None], Action] = {}
        while pending or running:
            if failure is None and not stopping():
                for key, action in list(pending.items()):
                    if all(n in done or n not in in_plan for n in action.needs):
                        del pending[key]
                        started[key] = time.monotonic()
                        notify(action, "start")
                        running[workers.submit(_execute, ctx, action)] = action
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                action = running.pop(fut)
                error = _record(fut, outcomes[action.key], started[action.key])
                notify(action, "failed" if error else "done")
                if error is None:
                    done.add(action.key)
                failure = failure or ((action, error) if error else None)
    if failure is not None:
        action, err = failure
        if not isinstance(err, AgentctlError):
            raise err
        label = f"{action.op} {action.kind} {action.name}"
        raise ApplyFailed(
            f"{label} failed: {err.message.removeprefix(label + ': ')}",
            step=action.key,
            hint=err.hint
            or "fix the cause, then run the same command again: it continues where this run stopped",
            cause=err,
        )
    if pending and stopping():
        raise Interrupted(
            f"interrupted: {len(done)} of {len(in_plan)} step(s) finished, {len(pending)} not started",
            hint="run the same command again: it observes what exists and does only what is left",
            finished=sorted(done),
        )
    return list(outcomes.values())


def _record(fut: Future[None], out: Outcome, start: float) -> Exception | None:
    """The step's outcome from its future; its error, if any, is raised after running steps finish."""
    out.seconds = round(time.monotonic() - start, 2)
    try:
        fut.result()
    except Exception as e:
        out.status, out.error = "failed", getattr(e, "message", str(e))
        return e
    out.status = "done"
    return None


def _execute(ctx: Context, action: Action) -> None:
    kind = action.key.split(":", 1)[0]
    handler = kinds.handlers().get((kind, action.op))
    if handler is None:
        raise CloudError(f"no handler for {action.op} {kind}")
    log.info("%s %s %s", action.op, action.kind, action.name)
    handler(ctx, action)
