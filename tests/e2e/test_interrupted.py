"""Runs that fail or are cut short are finished by the next run, without duplicates."""

from __future__ import annotations

from typing import Any

import pytest


def _inventory(world: Any, capsys: Any) -> dict[str, Any]:
    code, out = world.json(capsys, "status", "-f", str(world.pool))
    assert code == 0, out
    d = out["data"]
    return {
        "pool": d["pool"]["exists"],
        "scaleSet": d["scaleSet"]["exists"],
        "connection": d["connection"]["exists"],
    }


def _creates(world: Any, marker: str, name: str = "") -> int:
    """Successful creates whose path holds ``marker`` (and whose body names ``name``)."""
    return sum(
        1
        for e in world.log()
        if e["method"] in ("PUT", "POST")
        and marker in e["path"]
        and e["status"] < 300
        and (not name or (e.get("request") or {}).get("name") == name)
    )


def test_scale_set_lro_failure_is_finished_by_the_next_run(world: Any, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AGENTCTL_SANDBOX_FAULTS", "arm.vmss.put=lro-fail,count=1")
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 1
    (err,) = out["errors"]
    assert err["code"] == "apply.failed" and err["step"] == "scaleSet"
    assert "vmss-agents" in err["message"] and "run the same command again" in err["hint"]
    assert err["message"].count("create scale set vmss-agents") == 1  # the step is named once
    # The pool needs the scale set, so it was not created; independent steps were.
    assert _creates(world, "distributedtask/elasticpools") == 0

    monkeypatch.delenv("AGENTCTL_SANDBOX_FAULTS")
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    done = {a["key"] for a in out["data"]["plan"]["actions"] if a["op"] != "noop"}
    assert "scaleSet" in done and "azureConnection" not in done  # made by the first run, kept
    assert _inventory(world, capsys) == {"pool": True, "scaleSet": True, "connection": True}
    assert _creates(world, "serviceendpoint/endpoints", "arm-agents") == 1
    assert _creates(world, "distributedtask/elasticpools") == 1
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 0


@pytest.mark.parametrize("fault", ["429:1", "503:1", "500", "drop"])
def test_transient_faults_are_retried(world: Any, capsys: Any, monkeypatch: Any, fault: str) -> None:
    rules = f"arm.vmss.get={fault},count=1;devops.elasticpools.create={fault},count=1"
    if fault in ("500", "drop"):  # not retried for a POST: the create could have happened
        rules = f"arm.vmss.get={fault},count=1;devops.projects.get={fault},count=1"
    monkeypatch.setenv("AGENTCTL_SANDBOX_FAULTS", rules)
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    statuses = [e["status"] for e in world.log()]
    if fault != "drop":
        assert int(fault.split(":")[0]) in statuses  # the fault did reach the client
    monkeypatch.delenv("AGENTCTL_SANDBOX_FAULTS")
    assert world.json(capsys, "plan", "-f", str(world.pool))[0] == 0


def test_token_expiring_mid_run_is_replaced(world: Any, capsys: Any, monkeypatch: Any) -> None:
    # Tokens live 3 s and the scale set takes 4 s: the run spans several tokens.
    monkeypatch.setenv("AGENTCTL_SANDBOX_TIMING", "token=3,lro=4")
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    log = world.log()
    assert len([e for e in log if e["operation"] == "entra.token"]) >= 3
    for i, e in enumerate(log):  # an expired token may be refused once; the same call then succeeds
        if e["status"] == 401:
            assert any(later["path"] == e["path"] and later["status"] < 400 for later in log[i + 1 :])
