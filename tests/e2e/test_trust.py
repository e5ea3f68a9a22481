"""Trust boundaries on the sandbox: the pool-management identity, the migration from one
identity, federated credentials of pools that share an identity, and init's file."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from agentctl.cli import run

SUB = "11111111-2222-3333-4444-555555555555"
IDENTITIES = f"/subscriptions/{SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity"
AGENTS = f"{IDENTITIES}/userAssignedIdentities/id-agents"
SHARED = AGENTS.replace("id-agents", "id-pool-shared")


def _state(world: Any) -> dict[str, Any]:
    return dict(json.loads((world.dir / "state.json").read_text()))


def _grants(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Role assignments agentctl made (they carry its marker), not the world's own."""
    return [a for a in state["roleAssignments"].values() if a["properties"].get("description")]


def _save(world: Any, state: dict[str, Any]) -> None:
    (world.dir / "state.json").write_text(json.dumps(state))


def _fics(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in state["arm"].items() if "/federatedidentitycredentials/" in k}


def test_the_pool_identity_manages_the_scale_set_and_is_on_no_vm(world: Any, capsys: Any) -> None:
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    state = _state(world)
    [conn] = [e for e in state["devops"]["endpoints"].values() if e["name"] == "arm-agents"]
    client = conn["authorization"]["parameters"]["serviceprincipalid"]
    [manager] = [
        r
        for r in state["arm"].values()
        if r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"
        and r["properties"]["clientId"] == client
    ]
    assert manager["tags"] == {"managed-by": "agentctl", "agentctl-pool": "private-agents"}
    [vmss] = [r for k, r in state["arm"].items() if k.endswith("/virtualmachinescalesets/vmss-agents")]
    assert [i.lower() for i in vmss["identity"]["userAssignedIdentities"]] == [AGENTS.lower()]
    held = [a["properties"] for a in _grants(state)]
    mine = [a for a in held if a["principalId"] == manager["properties"]["principalId"]]
    assert [a["scope"].lower() for a in mine] == [vmss["id"].lower()]
    assert mine[0]["roleDefinitionId"].endswith("9980e02c-c2be-4d73-94e8-173b1dc7cf3c")  # VM Contributor
    # the agents' identity holds nothing of the pool's and trusts no connection
    agents = next(r for k, r in state["arm"].items() if k == AGENTS.lower())
    assert not [a for a in held if a["principalId"] == agents["properties"]["principalId"]]
    assert not [k for k in _fics(state) if k.startswith(AGENTS.lower() + "/")]


def _as_previous_release(world: Any) -> dict[str, str]:
    """Turn a deployed pool into what the release before the identity split made: one identity (the
    agents') behind the connection, trusting it under the old credential name and holding the grant
    on the resource group; no pool-management identity. Returns the ids that must survive."""
    state = _state(world)
    agents = state["arm"][AGENTS.lower()]
    [conn] = [e for e in state["devops"]["endpoints"].values() if e["name"] == "arm-agents"]
    conn["authorization"]["parameters"]["serviceprincipalid"] = agents["properties"]["clientId"]
    [(key, fic)] = _fics(state).items()
    manager_id = key.split("/federatedidentitycredentials/")[0]
    for k in [k for k in state["arm"] if k == manager_id or k.startswith(manager_id + "/")]:
        del state["arm"][k]
    old_fic = dict(
        fic, id=f"{AGENTS}/federatedIdentityCredentials/agentctl-arm-agents", name="agentctl-arm-agents"
    )
    state["arm"][old_fic["id"].lower()] = old_fic
    [(key, grant)] = [
        (k, a) for k, a in state["roleAssignments"].items() if a["properties"].get("description")
    ]
    del state["roleAssignments"][key]
    group = f"/subscriptions/{SUB}/resourceGroups/rg-agents"
    grant["id"] = f"{group}/providers/Microsoft.Authorization/roleAssignments/{grant['name']}"
    grant["properties"] |= {"scope": group, "principalId": agents["properties"]["principalId"]}
    state["roleAssignments"][grant["id"].lower()] = grant
    _save(world, state)
    [pool] = state["devops"]["elasticPools"].values()
    [vmss] = [r for k, r in state["arm"].items() if k.endswith("/virtualmachinescalesets/vmss-agents")]
    return {
        "pool": str(pool["poolId"]),
        "connection": conn["id"],
        "vmss": json.dumps(vmss["properties"].get("uniqueId")),
    }


def test_a_pool_of_the_previous_release_is_migrated_by_one_deploy(world: Any, capsys: Any) -> None:
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    before = _as_previous_release(world)
    world.new_requests()

    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 2, out
    pending = {a["key"]: a["op"] for a in out["data"]["actions"] if a["op"] != "noop"}
    assert pending == {
        "poolIdentity": "create",
        "roleAssignment": "create",
        "azureConnection": "update",
        "federatedCredential": "create",
        "federatedCredential:id-agents/agentctl-arm-agents": "delete",
        f"roleAssignment:{_grants(_state(world))[0]['name']}": "delete",
    }

    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    writes = world.writes(world.new_requests())
    # neither the scale set nor the pool is made again
    assert not [
        w for w in writes if "virtualMachineScaleSets/vmss-agents" in w and "roleAssignments" not in w
    ]
    assert not [w for w in writes if "elasticpools" in w.lower() and not w.startswith("PATCH")]
    state = _state(world)
    [pool] = state["devops"]["elasticPools"].values()
    [conn] = [e for e in state["devops"]["endpoints"].values() if e["name"] == "arm-agents"]
    [vmss] = [r for k, r in state["arm"].items() if k.endswith("/virtualmachinescalesets/vmss-agents")]
    assert (str(pool["poolId"]), conn["id"], json.dumps(vmss["properties"].get("uniqueId"))) == (
        before["pool"],
        before["connection"],
        before["vmss"],
    )
    assert not [k for k in _fics(state) if k.startswith(AGENTS.lower() + "/")]
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 0, out


def _two_projects_world(tmp_path: Path) -> Path:
    default = resources.files("agentctl.sandbox.worlds").joinpath("default.yaml").read_text()
    text = default.replace(
        "  rg-aks:\n",
        "      id-pool-shared:\n"
        "        principalId: 4a6c8e0f-2b3d-4f5a-8c7e-9d1b3f5a7c9e\n"
        "        clientId: 6b8d0f2a-4c5e-4a7b-9d1f-3b5d7f9a1c3e\n\n  rg-aks:\n",
        1,
    ).replace(
        "      description: Platform engineering\n",
        "      description: Platform engineering\n"
        "    apps:\n      id: 9d2b4f6a-8c1e-4a3b-b5d7-1f3a5c7e9b2d\n",
        1,
    )
    path = tmp_path / "world.yaml"
    path.write_text(text)
    return path


def _pool_file(world: Any, tmp_path: Path, project: str, suffix: str) -> Path:
    text = world.pool.read_text()
    text = text.replace("project: platform", f"project: {project}")
    text = text.replace("resourceGroup: rg-agents", f"resourceGroup: rg-agents-{suffix}")
    text = text.replace("name: private-agents", f"name: private-agents-{suffix}")
    text = text.replace("    name: arm-agents\n", f"    name: arm-agents\n    identity: {SHARED}\n")
    text = re.sub(r"  environments:.*", "", text, flags=re.S)  # the deploy path is not the point here
    path = tmp_path / f"pool-{suffix}.yaml"
    path.write_text(text)
    return path


def test_pools_of_two_projects_sharing_an_identity_and_a_connection_name(
    world: Any, capsys: Any, tmp_path: Path
) -> None:
    world_file = _two_projects_world(tmp_path)
    a, b = _pool_file(world, tmp_path, "platform", "a"), _pool_file(world, tmp_path, "apps", "b")

    def agentctl(*args: str) -> int:
        return run(["--sandbox", "--sandbox-dir", str(world.dir), "--world", str(world_file), *args])

    assert agentctl("deploy-pool", "-f", str(a), "--yes") == 0
    assert agentctl("deploy-pool", "-f", str(b), "--yes") == 0
    assert agentctl("plan", "-f", str(a)) == 0
    assert agentctl("plan", "-f", str(b)) == 0
    shared = {k: r for k, r in _fics(_state(world)).items() if k.startswith(SHARED.lower() + "/")}
    subjects = sorted(r["properties"]["subject"] for r in shared.values())
    assert subjects == ["sc://contoso/apps/arm-agents", "sc://contoso/platform/arm-agents"]

    assert agentctl("destroy", "-f", str(a), "--yes") == 0
    left = [
        r["properties"]["subject"] for k, r in _fics(_state(world)).items() if k.startswith(SHARED.lower())
    ]
    assert left == ["sc://contoso/apps/arm-agents"]
    assert agentctl("plan", "-f", str(b)) == 0
    capsys.readouterr()


def test_the_file_init_writes_deploys_once_its_ids_are_filled_in(
    world: Any, capsys: Any, tmp_path: Path
) -> None:
    path = tmp_path / "init.yaml"
    assert run(["init", str(path)]) == 0
    # The user fills in their ids: here, the sandbox world's subscription.
    path.write_text(path.read_text().replace("00000000-0000-0000-0000-000000000000", SUB))
    code, out = world.json(capsys, "deploy-pool", "-f", str(path), "--yes")
    assert code == 0, out
    code, out = world.json(capsys, "plan", "-f", str(path))
    assert code == 0, out


REGISTRY = (
    f"/subscriptions/{SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/acrprivate"
)
PUSHER = f"{IDENTITIES}/userAssignedIdentities/id-acr-push"


def _push_world(tmp_path: Path) -> Path:
    default = resources.files("agentctl.sandbox.worlds").joinpath("default.yaml").read_text()
    path = tmp_path / "world.yaml"
    path.write_text(
        default.replace(
            "  rg-aks:\n",
            "      id-acr-push:\n"
            "        principalId: 2e4a6c8e-0f1b-4d3a-9c5e-7b9d1f3a5c7e\n"
            "        clientId: 3f5b7d9f-1a2c-4e4b-8d6f-8c0e2a4b6d8f\n\n  rg-aks:\n",
            1,
        )
    )
    return path


def test_the_registry_push_path_follows_the_files_choice(world: Any, capsys: Any, tmp_path: Path) -> None:
    world_file = _push_world(tmp_path)

    def agentctl(*args: str) -> int:
        return run(["--sandbox", "--sandbox-dir", str(world.dir), "--world", str(world_file), *args])

    def roles_at_registry(state: dict[str, Any]) -> set[tuple[str, str]]:
        names = {
            "7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull",
            "8311e382-0749-4cb8-b61a-304f252e45ec": "AcrPush",
        }
        return {
            (a["properties"]["principalId"], names[a["properties"]["roleDefinitionId"].rsplit("/", 1)[1]])
            for a in _grants(state)
            if a["properties"]["scope"].lower() == REGISTRY.lower()
        }

    agents, pusher = "3b9f6c1e-8d2a-4f5b-9c7e-2a1d4e6f8b0c", "2e4a6c8e-0f1b-4d3a-9c5e-7b9d1f3a5c7e"
    world.pool.write_text(
        world.pool.read_text()
        + f"registries:\n  - id: {REGISTRY}\n    connection: acr-push\n    pushIdentity: {PUSHER}\n"
    )
    # A connection of its own: it signs in as pushIdentity (AcrPush); the agents only pull.
    assert agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    assert agentctl("plan", "-f", str(world.pool)) == 0
    state = _state(world)
    [conn] = [e for e in state["devops"]["endpoints"].values() if e["name"] == "acr-push"]
    assert conn["authorization"]["scheme"] == "WorkloadIdentityFederation"
    assert conn["authorization"]["parameters"]["serviceprincipalid"] == "3f5b7d9f-1a2c-4e4b-8d6f-8c0e2a4b6d8f"
    trusting = [r for k, r in _fics(state).items() if k.startswith(PUSHER.lower() + "/")]
    assert [r["properties"]["subject"] for r in trusting] == ["sc://contoso/platform/acr-push"]
    assert roles_at_registry(state) == {(agents, "AcrPull"), (pusher, "AcrPush")}

    # The agents' identity pushes only when the file opts in: access: push, no pushIdentity.
    world.edit(f"    pushIdentity: {PUSHER}\n", "    access: push\n")
    assert agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    state = _state(world)
    [conn] = [e for e in state["devops"]["endpoints"].values() if e["name"] == "acr-push"]
    assert conn["authorization"]["scheme"] == "ManagedServiceIdentity"
    # what the pool gave the push identity for that connection went with it
    assert roles_at_registry(state) == {(agents, "AcrPush")}
    assert not [k for k in _fics(state) if k.startswith(PUSHER.lower() + "/")]
    assert agentctl("plan", "-f", str(world.pool)) == 0

    # destroy with the push identity named again leaves nothing of the pool's on it
    world.edit("    access: push\n", f"    pushIdentity: {PUSHER}\n")
    assert agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    assert agentctl("destroy", "-f", str(world.pool), "--yes") == 0
    state = _state(world)
    assert not [k for k in _fics(state) if k.startswith(PUSHER.lower() + "/")]
    assert roles_at_registry(state) == set()
    capsys.readouterr()
