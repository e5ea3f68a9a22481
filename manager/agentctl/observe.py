"""Observe: what exists now, read by every resource kind in the order they need each other.
Read-only. A kind may stop the run here when the file names what does not exist."""

from __future__ import annotations

import logging

from agentctl import kinds
from agentctl.config import PoolSpec
from agentctl.kinds.base import Clients, Facts

log = logging.getLogger(__name__)


def observe(spec: PoolSpec, clients: Clients) -> Facts:
    clients.connect()
    facts = Facts()
    for kind in kinds.ordered():
        facts.kinds[kind.NAME] = kind.observe(spec, clients, facts)
    return facts


def settle(spec: PoolSpec, clients: Clients, facts: Facts) -> None:
    """Before a write: let each kind wait for what an interrupted run left running."""
    for kind in kinds.ordered():
        kind.settle(spec, clients, facts)
