"""deploy-pool, plan, status and destroy from an empty world, on the sandbox."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from agentctl.schemas import load as load_schema


def test_converge_rerun_drift_and_destroy(world: Any, capsys: Any) -> None:
    # From nothing: everything is created.
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    assert out["status"] == "changed"
    created = {a["key"] for a in out["data"]["plan"]["actions"] if a["op"] == "create"}
    assert {"resourceGroup", "scaleSet", "azureConnection", "federatedCredential", "pool"} <= created
    assert all(o["status"] == "done" for o in out["data"]["outcomes"])
    world.new_requests()

    # A second run writes nothing, and plan agrees.
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0 and out["status"] == "ok"
    assert world.writes(world.new_requests()) == []
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 0 and out["data"]["changed"] is False
    jsonschema.validate(out["data"], load_schema("plan"))
    world.new_requests()

    # desiredIdle drift: exactly one PATCH of the elastic pool.
    world.edit("desiredIdle: 1", "desiredIdle: 2")
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 2 and [a["key"] for a in out["data"]["actions"] if a["op"] != "noop"] == ["pool"]
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    writes = world.writes(world.new_requests())
    assert len(writes) == 1 and writes[0].startswith("PATCH ") and "elasticpools" in writes[0], writes

    # A new image: one scale set update.
    world.edit("images/ubuntu-24.04-agent\n", "images/ubuntu-24.04-agent\n  version: 2026.1115.1\n")
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    writes = world.writes(world.new_requests())
    assert len(writes) == 1 and "virtualMachineScaleSets/vmss-agents" in writes[0], writes

    # status reports what is there, in a documented shape.
    code, out = world.json(capsys, "status", "-f", str(world.pool))
    assert code == 0
    jsonschema.validate(out["data"], load_schema("status"))
    assert out["data"]["pool"]["exists"] and out["data"]["scaleSet"]["exists"]
    assert out["data"]["image"]["modelVersion"] == "2026.1115.1"
    assert out["data"]["image"]["newest"] == "2026.1129.1" and out["data"]["image"]["drift"] is True

    # destroy removes what agentctl made, and nothing else.
    code, out = world.json(capsys, "destroy", "-f", str(world.pool), "--yes")
    assert code == 0, out
    deleted = {a["key"].split(":")[0] for a in out["data"]["plan"]["actions"]}
    assert {"pool", "azureConnection", "federatedCredential", "scaleSet"} <= deleted
    code, out = world.json(capsys, "destroy", "-f", str(world.pool), "--yes")
    assert code == 0 and out["data"]["plan"]["actions"] == []
    deletes = [w for w in world.writes(world.log()) if w.startswith("DELETE")]
    assert not any(w.lower().split("/", 3)[-1] == "resourcegroups/rg-agents" for w in deletes)
    assert not any("userAssignedIdentities/id-agents" in w and "federated" not in w for w in deletes)


def test_plan_needs_no_confirmation_and_deploy_refuses_without_yes(world: Any, capsys: Any) -> None:
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 2 and out["status"] == "changed"
    assert world.writes(world.new_requests()) == []
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool))
    assert code == 2 and out["errors"][0]["code"] == "usage"
    assert world.writes(world.new_requests()) == []


def test_missing_reference_stops_before_any_write(world: Any, capsys: Any) -> None:
    world.edit("/subnets/agents", "/subnets/nope")
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 5
    assert "subnet" in out["errors"][0]["message"] and out["errors"][0]["field"] == "network.subnetId"
    assert world.writes(world.new_requests()) == []


def test_a_pool_in_another_region_than_its_subnet_stops_before_any_write(world: Any, capsys: Any) -> None:
    world.edit("location: westeurope", "location: northeurope")
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 5, out
    [error] = out["errors"]
    assert "northeurope" in error["message"] and "westeurope" in error["message"]
    assert error["field"] == "azure.location" and error["line"] == 5, error
    assert world.writes(world.new_requests()) == []


def test_text_output_has_no_traceback(world: Any, capsys: Any) -> None:
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert world.agentctl("status", "-f", str(world.pool)) == 0
    assert "vmss-agents" in capsys.readouterr().out
    json.dumps(world.log())  # the access log is valid JSON lines


def _state(world: Any) -> dict[str, Any]:
    return dict(json.loads((world.dir / "state.json").read_text()))


def _grants(state: dict[str, Any]) -> dict[str, Any]:
    """Role assignments agentctl made (they carry its marker), not the world's own (the caller's)."""
    return {k: a for k, a in state["roleAssignments"].items() if a["properties"].get("description")}


def test_renamed_connection_and_dropped_grant_leave_nothing_behind(world: Any, capsys: Any) -> None:
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    world.edit("name: arm-agents", "name: arm-agents-2")
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    pending = {a["key"]: a["op"] for a in out["data"]["plan"]["actions"] if a["op"] != "noop"}
    old_fic = "agentctl-arm-agents-1901baae95b660cc"
    assert pending == {
        "azureConnection": "create",
        "federatedCredential": "create",
        "pool": "update",
        "azureConnection:arm-agents": "delete",
        f"federatedCredential:vmss-agents-pool/{old_fic}": "delete",
    }
    # The pool runs on the new connection; the old one and its credential are gone.
    state = _state(world)
    endpoints = {e["name"]: e["id"] for e in state["devops"]["endpoints"].values()}
    [elastic] = state["devops"]["elasticPools"].values()
    assert "arm-agents" not in endpoints and elastic["serviceEndpointId"] == endpoints["arm-agents-2"]
    fics = [k.rsplit("/", 1)[1] for k in state["arm"] if "/federatedidentitycredentials/" in k]
    assert len(fics) == 1 and fics[0].startswith("agentctl-arm-agents-2-")

    # grantRole: null with an identity that holds no role on the scale set: stopped before any
    # write, naming the field and the fix.
    world.edit("    grantRole: Virtual Machine Contributor\n", "    grantRole: null\n")
    world.new_requests()
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 5, out
    [error] = out["errors"]
    assert error["field"] == "devops.azureConnection.grantRole" and error["line"], error
    assert "virtualMachineScaleSets/write" in error["message"]
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 5 and world.writes(world.new_requests()) == []
    world.edit("    grantRole: null\n", "")  # the default grants the least role again
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0 and out["status"] == "ok" and world.writes(world.new_requests()) == []

    # destroy leaves none of the pool's connections, credentials or identities
    assert world.agentctl("destroy", "-f", str(world.pool), "--yes") == 0
    state = _state(world)
    assert not [e for e in state["devops"]["endpoints"].values() if e["name"].startswith("arm-agents")]
    assert not [k for k in state["arm"] if "/federatedidentitycredentials/" in k]
    assert not [k for k in state["arm"] if k.endswith("/userassignedidentities/vmss-agents-pool")]
    assert not _grants(state)


def test_a_new_identity_leaves_nothing_on_the_old_one(world: Any, capsys: Any, tmp_path: Any) -> None:
    from importlib import resources

    default = resources.files("agentctl.sandbox.worlds").joinpath("default.yaml").read_text()
    second = (
        "      id-agents-2:\n"
        "        principalId: 0c2d4e6f-8a1b-4c3d-9e5f-7a9b1c3d5e7f\n"
        "        clientId: 1d3f5a7c-9b2d-4e6f-8a1c-3e5a7c9b1d3f\n"
    )
    world_file = tmp_path / "world.yaml"
    world_file.write_text(default.replace("  rg-aks:\n", second + "\n  rg-aks:\n", 1))

    def agentctl(*args: str) -> tuple[int, dict[str, Any]]:
        return world.json(capsys, "--world", str(world_file), *args)  # type: ignore[no-any-return]

    assert agentctl("deploy-pool", "-f", str(world.pool), "--yes")[0] == 0
    world.edit("userAssignedIdentities/id-agents\n", "userAssignedIdentities/id-agents-2\n")
    code, out = agentctl("deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    state = _state(world)
    [vmss] = [r for k, r in state["arm"].items() if k.endswith("/virtualmachinescalesets/vmss-agents")]
    assert [i.rsplit("/", 1)[1] for i in vmss["identity"]["userAssignedIdentities"]] == ["id-agents-2"]
    fics = sorted(
        k.split("/userassignedidentities/")[1] for k in state["arm"] if "/federatedidentitycredentials/" in k
    )
    assert fics == ["vmss-agents-pool/federatedidentitycredentials/agentctl-arm-agents-1901baae95b660cc"]
    [manager] = [r for k, r in state["arm"].items() if k.endswith("/userassignedidentities/vmss-agents-pool")]
    principals = {a["properties"]["principalId"] for a in _grants(state).values()}
    assert principals == {manager["properties"]["principalId"]}
    world.new_requests()
    code, out = agentctl("deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0 and out["status"] == "ok" and world.writes(world.new_requests()) == []


def test_destroy_names_a_role_assignment_as_plan_does(world: Any, capsys: Any) -> None:
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    (made,) = [a["name"] for a in out["data"]["plan"]["actions"] if a["kind"] == "role assignment"]
    assert made == "Virtual Machine Contributor on vmss-agents"  # on the scale set only
    code, out = world.json(capsys, "destroy", "-f", str(world.pool), "--yes")
    assert code == 0, out
    assert [a["name"] for a in out["data"]["plan"]["actions"] if a["kind"] == "role assignment"] == [made]
