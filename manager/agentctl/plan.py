"""Planning: a pure function from (spec, facts) to the actions that converge them.

No I/O happens here. Each kind plans its own resources; an ``Action`` names its resource, what
changes (field, old, new), and which actions it needs first; ``apply`` runs them as a graph.
"""

from __future__ import annotations

from agentctl import kinds
from agentctl.config import PoolSpec
from agentctl.kinds.base import Facts, Plan


def plan(spec: PoolSpec, facts: Facts) -> Plan:
    """The actions that make what exists match the spec."""
    return Plan([a for kind in kinds.ordered() for a in kind.plan(spec, facts)])


def plan_destroy(spec: PoolSpec, facts: Facts) -> Plan:
    """Delete only what agentctl created; each kind orders its own deletes."""
    return Plan([a for kind in kinds.ordered() for a in kind.plan_destroy(spec, facts)])
