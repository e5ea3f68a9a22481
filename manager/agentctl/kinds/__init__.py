"""Resource kinds: everything agentctl manages, one module (or package) per kind, each
implementing ``agentctl.kinds.base.Kind``. The engine (observe, plan, apply) knows them only
through ``ordered()``.

To add a kind: write its package here, add it to ``ALL``, and declare in ``NEEDS`` the kinds
whose facts it reads (docs/architecture.md, "Adding a resource kind").
"""

from __future__ import annotations

from agentctl.kinds import deploy_path, managed_pool, pool, registries
from agentctl.kinds.base import DELETE, Backend, Handler, Kind, Plan

# Both backend kinds are always registered: the one the file selects converges its resources and
# fills the facts every kind reads; the other removes what it left (a backend switch).
ALL: tuple[Kind, ...] = (managed_pool, pool, deploy_path, registries)
BACKENDS: tuple[Backend, ...] = (pool, managed_pool)


def backend_switch(backend: str, plan: Plan) -> list[str]:
    """What of the other backends ``plan`` deletes ("<resource> <name>"); empty: no switch."""
    others = {t for b in BACKENDS if backend != b.BACKEND for t in b.SWITCH_TYPES}
    return [f"{a.kind} {a.name}" for a in plan.actions if a.op == DELETE and a.key.split(":")[0] in others]


def ordered(kinds: tuple[Kind, ...] = ALL) -> list[Kind]:
    """``kinds`` with each after those it needs (in the order given where that leaves a choice)."""
    by_name = {k.NAME: k for k in kinds}
    out: list[Kind] = []
    visiting: set[str] = set()

    def visit(kind: Kind) -> None:
        if kind in out:
            return
        if kind.NAME in visiting:
            raise ValueError(f"resource kinds need each other: {' -> '.join(sorted(visiting))}")
        visiting.add(kind.NAME)
        for name in kind.NEEDS:
            if name not in by_name:
                raise ValueError(f"resource kind {kind.NAME} needs {name}, which is not registered")
            visit(by_name[name])
        visiting.discard(kind.NAME)
        out.append(kind)

    for kind in kinds:
        visit(kind)
    return out


def waves(kinds: tuple[Kind, ...] = ALL) -> list[list[Kind]]:
    """``ordered(kinds)`` in groups: each kind in the first group after every kind it needs, so
    the kinds of one group can be observed at the same time."""
    level: dict[str, int] = {}
    out: list[list[Kind]] = []
    for kind in ordered(kinds):
        level[kind.NAME] = 1 + max((level[n] for n in kind.NEEDS), default=-1)
        if level[kind.NAME] == len(out):
            out.append([])
        out[level[kind.NAME]].append(kind)
    return out


def handlers(kinds: tuple[Kind, ...] = ALL) -> dict[tuple[str, str], Handler]:
    """Every kind's handlers by (action type, op); two kinds never handle the same type."""
    out: dict[tuple[str, str], Handler] = {}
    for kind in kinds:
        taken = out.keys() & kind.HANDLERS.keys()
        if taken:
            raise ValueError(f"resource kind {kind.NAME} handles what another does: {sorted(taken)}")
        out |= kind.HANDLERS
    return out
