"""Observe: what exists now, read by every resource kind after the kinds it needs.
Read-only. A kind may stop the run here when the file names what does not exist."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from agentctl import kinds
from agentctl.config import PoolSpec
from agentctl.kinds.base import Clients, Facts

log = logging.getLogger(__name__)


def observe(spec: PoolSpec, clients: Clients) -> Facts:
    """Every kind's facts; kinds that need none of each other are read at the same time (an
    error is that of the first such kind in the registered order)."""
    clients.connect()
    facts = Facts()
    for wave in kinds.waves():
        if len(wave) == 1:
            facts.kinds[wave[0].NAME] = wave[0].observe(spec, clients, facts)
            continue
        with ThreadPoolExecutor(max_workers=len(wave), thread_name_prefix="observe-kinds") as workers:
            jobs = [(kind.NAME, workers.submit(kind.observe, spec, clients, facts)) for kind in wave]
            for name, job in jobs:
                facts.kinds[name] = job.result()
    return facts


def settle(spec: PoolSpec, clients: Clients, facts: Facts) -> None:
    """Before a write: let each kind wait for what an interrupted run left running."""
    for kind in kinds.ordered():
        kind.settle(spec, clients, facts)
