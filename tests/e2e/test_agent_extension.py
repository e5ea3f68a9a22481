"""Azure DevOps adds its pipelines agent extension to the scale set of an elastic pool; agentctl
leaves it alone through deploy-pool, image roll and plan, and a full PUT that recovers a failed
scale set keeps it."""

from __future__ import annotations

import json
from typing import Any

import pytest

SCALE_SET = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/rg-agents/providers"
    "/microsoft.compute/virtualmachinescalesets/vmss-agents"
)


def _extensions(world: Any) -> list[dict[str, Any]]:
    state = json.loads((world.dir / "state.json").read_text())
    profile = state["arm"][SCALE_SET]["properties"]["virtualMachineProfile"]
    return list((profile.get("extensionProfile") or {}).get("extensions") or [])


def _agent_extension(world: Any) -> dict[str, Any]:
    [ext] = [e for e in _extensions(world) if e["properties"]["type"] == "TeamServicesAgentLinux"]
    assert ext["properties"]["publisher"] == "Microsoft.VisualStudio.Services"
    return ext


def test_the_agent_extension_survives_deploy_roll_and_plan(
    world: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    # The service takes the scale set: the next look at it finds the extension in the model.
    code, out = world.json(capsys, "status", "-f", str(world.pool))
    assert code == 0, out
    ext = _agent_extension(world)
    world.new_requests()

    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0 and out["status"] == "ok", out
    assert world.writes(world.new_requests()) == []
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 0 and out["data"]["changed"] is False, out

    code, out = world.json(
        capsys, "image", "roll", "-f", str(world.pool), "--version", "2026.1115.1", "--yes"
    )
    assert code == 0 and out["data"]["model"]["changed"], out
    writes = [e for e in world.new_requests() if e["method"] in ("PUT", "PATCH")]
    assert [e["method"] for e in writes] == ["PATCH"]
    assert "extensionProfile" not in json.dumps(writes[0]["request"])
    assert _agent_extension(world) == ext

    # A failed update leaves the scale set Failed; the next deploy PUTs the whole model again,
    # with the extension in it.
    monkeypatch.setenv("AGENTCTL_SANDBOX_FAULTS", "arm.vmss.patch=lro-fail,count=1")
    world.edit("images/ubuntu-24.04-agent\n", "images/ubuntu-24.04-agent\n  version: 2026.1129.1\n")
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") != 0
    monkeypatch.delenv("AGENTCTL_SANDBOX_FAULTS")
    world.new_requests()
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    [put] = [e for e in world.new_requests() if e["method"] == "PUT" and e["path"].lower() == SCALE_SET]
    assert _agent_extension(world) == ext
    sent = put["request"]["properties"]["virtualMachineProfile"]["extensionProfile"]["extensions"]
    assert [e["name"] for e in sent] == [ext["name"]]
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 0 and out["data"]["changed"] is False, out
