"""The worlds recorded by record_observed.py (tests/plan/observed): a pool file and the facts
agentctl observed once it had been deployed. Never built by the builders under test."""

from __future__ import annotations

import json
from pathlib import Path

from agentctl import config
from agentctl.kinds.base import Facts
from agentctl.kinds.pool.facts import OldIdentity
from testlib import facts_of

OBSERVED = Path(__file__).resolve().parent / "observed"
WORLDS = ["sandbox-converged", "sandbox-managed-disk-zoned", "azure-example-converged"]


def recorded(variant: str = "sandbox-converged") -> tuple[config.PoolSpec, Facts]:
    """The world's pool file and a fresh copy of its facts."""
    doc = json.loads((OBSERVED / f"{variant}.json").read_text())
    facts = doc["facts"]
    del facts["extra"]  # the other kinds' facts have their own tests
    olds = {k: OldIdentity(**v) for k, v in facts.pop("old_identities").items()}
    return config.loads(doc["pool"], f"{variant}.yaml"), facts_of(**facts, old_identities=olds)
