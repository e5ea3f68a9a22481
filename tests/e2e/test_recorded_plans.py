"""The plans of every example pool file, against recordings: a regression fixture for changes to
the engine that must not change what agentctl plans (restructuring observe, plan and apply).

For each file in examples/, on a fresh sandbox: the plan from an empty world, the plan once
deploy-pool converged (every action a no-op), and the plan after an edit that drifts two kinds (the
standby count and the scale set's VM size; a managed pool's maximum concurrency and schedule).
``AGENTCTL_RECORD_PLANS=1`` rewrites the recordings; review their diff like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from testlib import REPO

RECORDED = Path(__file__).parent / "recorded_plans"
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
DRIFT = (("desiredIdle: 1", "desiredIdle: 2"), ("sku: Standard_D4s_v5", "sku: Standard_D8s_v5"))
# A managed pool's two drifts (maximum concurrency, the standby schedule) are one resource's
MANAGED_DRIFT = (
    ("maximumConcurrency: 4", "maximumConcurrency: 6"),
    ('start: "08:00", agents: 2', 'start: "08:00", agents: 3'),
)


def plan_of(world: Any, capsys: Any) -> dict[str, Any]:
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code in (0, 2), out
    return {"exitCode": code, "plan": out["data"]}


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_plans_match_the_recordings(world: Any, capsys: Any, example: Path) -> None:
    world.pool.write_text(example.read_text())
    plans = {"fresh": plan_of(world, capsys)}
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    plans["converged"] = plan_of(world, capsys)
    managed = "backend: managedPool" in example.read_text()
    for old, new in MANAGED_DRIFT if managed else DRIFT:
        world.edit(old, new)
    plans["drifted"] = plan_of(world, capsys)
    recording = RECORDED / f"{example.stem}.json"
    if os.environ.get("AGENTCTL_RECORD_PLANS") == "1":
        recording.parent.mkdir(exist_ok=True)
        recording.write_text(json.dumps(plans, indent=2, sort_keys=True) + "\n")
    assert plans == json.loads(recording.read_text()), f"the plans of {example.name} changed"
    # the recordings say something: everything created, then nothing, then exactly the two drifts
    assert plans["fresh"]["exitCode"] == 2 and plans["converged"]["exitCode"] == 0
    changed = {a["key"] for a in plans["drifted"]["plan"]["actions"] if a["op"] != "noop"}
    assert changed == ({"managedPool"} if managed else {"pool", "scaleSet"})
