"""A missing permission, in Azure or in Azure DevOps, exits 4 and says what to grant, wherever it
is met: while observing or while applying."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("fault", "step", "grant"),
    [
        ("arm.vmss.put", "scaleSet", "Microsoft.Compute/virtualMachineScaleSets/write on /subscriptions/"),
        ("arm.roleassignments.put", "roleAssignment", "Microsoft.Authorization/roleAssignments/write"),
        ("devops.elasticpools.create", "pool", "Administrator role on agent pools"),
        # the pool's ARM connection and the Kubernetes one are created at once: either meets it first
        (
            "devops.endpoints.create",
            ("azureConnection", "kubernetesConnection"),
            "Administrator role on service connections",
        ),
    ],
)
def test_a_denied_write_exits_4_and_names_what_to_grant(
    world: Any, capsys: Any, monkeypatch: Any, fault: str, step: str | tuple[str, ...], grant: str
) -> None:
    monkeypatch.setenv("AGENTCTL_SANDBOX_FAULTS", f"{fault}=403")
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 4, out
    (err,) = out["errors"]
    assert err["code"] == "apply.failed" and err["cause"] == "auth.failed" and err["step"].startswith(step)
    assert grant in err["hint"] and "run the same command again" in err["hint"]
    assert err["message"].count(" failed: ") == 1  # the step is named once


def test_a_denied_read_exits_4(world: Any, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AGENTCTL_SANDBOX_FAULTS", "devops.projects.get=403")
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 4, out
    assert (
        out["errors"][0]["code"] == "auth.failed" and "read access to the project" in out["errors"][0]["hint"]
    )
