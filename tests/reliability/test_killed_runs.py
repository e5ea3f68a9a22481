"""A CLI process killed at each write of the apply graph: the next run finishes the job.

The child process is SIGKILLed when its request reaches the sandbox, before the sandbox handles
it: the write happens, the answer is never read (the worst moment: Azure did it, agentctl does
not know). The rerun must end in the clean run's state, with nothing made twice.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from faultrig import Killer, Reference, Rig, cell, converge, writes

# (operation, n-th request of it): every write a clean run sends, in the order it sends them.
DEPLOY_WRITES = [
    ("arm.resourcegroups.put", 1),
    ("arm.identities.put", 1),
    ("devops.endpoints.create", 1),
    ("devops.endpoints.create", 2),
    ("devops.environments.create", 1),
    ("arm.roleassignments.put", 1),
    ("devops.checks.create", 1),
    ("arm.fic.put", 1),
    ("arm.vmss.put", 1),
    ("devops.elasticpools.create", 1),
]
DESTROY_WRITES = [
    ("devops.pools.delete", 1),
    ("devops.checks.delete", 1),
    ("devops.endpoints.delete", 1),
    ("devops.endpoints.delete", 2),
    ("arm.vmss.delete", 1),
    ("arm.roleassignments.delete", 1),
    ("devops.environments.delete", 1),
    ("arm.fic.delete", 1),
    ("arm.identities.delete", 1),
]
KILLS = [("deploy-pool", op, n) for op, n in DEPLOY_WRITES] + [("destroy", op, n) for op, n in DESTROY_WRITES]


def test_every_write_of_a_clean_run_is_a_kill_point(reference: dict[str, Reference]) -> None:
    """If the apply graph grows a step, this names it so that it gets its kill test."""
    for command, points in (("deploy-pool", DEPLOY_WRITES), ("destroy", DESTROY_WRITES)):
        assert Counter(reference[command].writes) == Counter(op for op, _ in points), command


@pytest.mark.parametrize(("command", "operation", "nth"), KILLS, ids=[f"{c}-{o}-{n}" for c, o, n in KILLS])
def test_killed_run_is_finished_by_the_next(
    rig: Rig, reference: dict[str, Reference], command: str, operation: str, nth: int, record_property: Any
) -> None:
    if command == "destroy":
        assert rig.cli("deploy-pool", "--yes")[0] == 0
    killer = Killer(rig, operation, nth)
    assert killer.run(command, "--yes") == -9
    assert killer.fired.is_set()
    converge(rig, command, reference[command])
    label = f"killed at {operation}" + (f" #{nth}" if nth > 1 else "")
    record_property("matrix", cell(label, command))


def test_killed_status_wrote_nothing_and_reruns(
    rig: Rig, reference: dict[str, Reference], record_property: Any
) -> None:
    assert rig.cli("deploy-pool", "--yes")[0] == 0
    mark = rig.mark()
    killer = Killer(rig, "devops.elasticnodes.list")
    assert killer.run("status") == -9
    assert writes(rig.since(mark)) == []
    converge(rig, "status", reference["status"])
    record_property("matrix", cell("killed at a read", "status"))
