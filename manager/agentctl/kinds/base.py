"""What the engine and the resource kinds share: actions and plans, facts, clients, the apply
context, and the protocol every kind implements.

This module is below both: the engine (``agentctl.observe``, ``agentctl.plan``, ``agentctl.apply``)
and every kind (``agentctl.kinds.*``) import it, and it imports neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from agentctl.azure import Arm
    from agentctl.config import PoolSpec
    from agentctl.devops import DevOps

CREATE, UPDATE, DELETE, NOOP = "create", "update", "delete", "noop"


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


def changes(items: list[tuple[str, Any, Any]]) -> list[Change]:
    return [Change(f, o, n) for f, o, n in items]


@dataclass
class Action:
    """One step of a plan. ``key`` is ``<type>`` or ``<type>:<instance>``; the type picks the
    handler. ``needs`` names the keys that must finish first (keys of other kinds too; a key not
    in the plan is already done)."""

    key: str
    op: str
    kind: str  # resource type for people, e.g. "scale set"
    name: str
    changes: list[Change] = field(default_factory=list)
    needs: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)  # what apply needs beyond the spec

    def to_dict(self) -> dict[str, Any]:
        out = {
            "key": self.key,
            "op": self.op,
            "kind": self.kind,
            "name": self.name,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes],
            "needs": list(self.needs),
        }
        if self.data.get("warnings"):
            out["warnings"] = [str(w) for w in self.data["warnings"]]
        return out


@dataclass
class Plan:
    actions: list[Action]

    @property
    def pending(self) -> list[Action]:
        return [a for a in self.actions if a.op != NOOP]

    @property
    def changed(self) -> bool:
        return bool(self.pending)

    def get(self, key: str) -> Action | None:
        return next((a for a in self.actions if a.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        counts = {op: sum(a.op == op for a in self.actions) for op in (CREATE, UPDATE, DELETE, NOOP)}
        return {"changed": self.changed, "summary": counts, "actions": [a.to_dict() for a in self.actions]}


@dataclass
class Clients:
    arm: Arm
    devops: DevOps

    def connect(self) -> None:
        """Sign in and find the subscription and the project (once; later calls reuse it)."""
        self.arm.connect()
        self.devops.connect()


@dataclass
class Facts:
    """What exists now. The backend kind fills the part every kind may read (the project, the
    agents' identity and its role assignments); each kind keeps its own facts under its name."""

    project: dict[str, Any] = field(default_factory=dict)  # the Azure DevOps project
    identity: dict[str, Any] | None = None  # the agents'; properties: principalId, clientId, tenantId
    role_assignments: list[dict[str, Any]] = field(default_factory=list)  # the agents', in the subscription
    # when the facts were read: the standby count in force then is the desired one
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    kinds: dict[str, Any] = field(default_factory=dict)  # kind name -> what its observe returned

    def _agents(self, key: str) -> str:
        return str(((self.identity or {}).get("properties") or {}).get(key) or "")

    @property
    def principal_id(self) -> str:
        return self._agents("principalId")

    @property
    def client_id(self) -> str:
        return self._agents("clientId")

    @property
    def tenant_id(self) -> str:
        return self._agents("tenantId")


@dataclass
class Context:
    """What a handler works with: the spec, the facts, the clients, and what earlier steps
    returned (by action key)."""

    spec: PoolSpec
    facts: Facts
    clients: Clients
    outputs: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Context, Action], None]


class Kind(Protocol):
    """A resource kind: a module in ``agentctl.kinds`` listed in ``agentctl.kinds.ALL``.

    - ``NAME``: its key in ``Facts.kinds`` (and in ``status``, unless it returns top-level sections);
    - ``NEEDS``: kinds whose facts it reads, observed (and planned) before it;
    - ``observe``: read-only; returns its facts (may read those of ``NEEDS``);
    - ``settle``: before a write, wait for what an interrupted run left running (often nothing);
    - ``plan`` / ``plan_destroy``: pure functions of spec and facts, returning actions whose keys'
      type is the kind's own (unique across kinds);
    - ``HANDLERS``: ``{(type, op): handler}`` for those actions;
    - ``status``: the sections it adds to ``agentctl status`` (``lines``: of a log, at most).
    """

    NAME: str
    NEEDS: tuple[str, ...]
    HANDLERS: dict[tuple[str, str], Handler]

    def observe(self, spec: PoolSpec, clients: Clients, facts: Facts) -> Any: ...

    def settle(self, spec: PoolSpec, clients: Clients, facts: Facts) -> None: ...

    def plan(self, spec: PoolSpec, facts: Facts) -> list[Action]: ...

    def plan_destroy(self, spec: PoolSpec, facts: Facts) -> list[Action]: ...

    def status(self, spec: PoolSpec, clients: Clients, facts: Facts, lines: int) -> dict[str, Any]: ...


class Backend(Kind, Protocol):
    """A kind that runs the agents (a scale-set pool, a managed pool): ``BACKEND`` is the value of
    the file's ``backend:`` that selects it; deleting an action of one of ``SWITCH_TYPES`` is
    leaving it (a backend switch, which needs the user's consent)."""

    BACKEND: str
    SWITCH_TYPES: tuple[str, ...]
