"""Registries end to end: the CLI against the sandbox, judged by its access log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import azure.core.exceptions  # noqa: F401  (see below)
import jsonschema
import pytest
import yaml

from agentctl.cli import run
from agentctl.kinds import registries as regs
from agentctl.schemas import load as load_schema
from conformance.spec_check import SpecIndex, specs_dir
from testlib import EXAMPLE_POOL, REPO

# azure.core imported for the first time from observe's worker threads can raise
# importlib's _DeadlockError (reported to the core owners); import it once here so these tests
# judge registries, not that race.
DEFAULT_WORLD = REPO / "manager" / "agentctl" / "sandbox" / "worlds" / "default.yaml"
SUB = "11111111-2222-3333-4444-555555555555"
ACR_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/acrprivate"
)
WRITES = ("POST", "PUT", "PATCH", "DELETE")
READ_ONLY_POSTS = ("/listClusterUserCredential", "/listClusterAdminCredential")


class Sandbox:
    def __init__(self, root: Path, world: dict[str, Any], access: str = "push") -> None:
        self.dir = root / "sandbox"
        self.world = root / "world.yaml"
        self.world.write_text(yaml.safe_dump(world))
        self.pool = root / "pool.yaml"
        self.pool.write_text(
            EXAMPLE_POOL.read_text()
            + f"registries:\n  - id: {ACR_ID}\n    connection: acr-private\n    access: {access}\n"
        )
        self._seen = 0

    def json(self, capsys: Any, *args: str) -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        argv = ["--sandbox", "--sandbox-dir", str(self.dir), "--world", str(self.world), "-o", "json"]
        code = run([*argv, *args, "-f", str(self.pool)])
        return code, json.loads(capsys.readouterr().out)

    def new_entries(self) -> list[dict[str, Any]]:
        path = self.dir / "access.jsonl"
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        new, self._seen = entries[self._seen :], len(entries)
        return new

    def new_writes(self) -> list[dict[str, Any]]:
        return [
            e
            for e in self.new_entries()
            if e["method"] in WRITES
            and e.get("service") in ("arm", "devops")
            and not e["path"].endswith(READ_ONLY_POSTS)
        ]


def default_world() -> dict[str, Any]:
    world: dict[str, Any] = yaml.safe_load(DEFAULT_WORLD.read_text())
    return world


def at_registry(writes: list[dict[str, Any]]) -> list[str]:
    return [
        f"{e['method']} {e['path']}" for e in writes if e["path"].lower().startswith(ACR_ID.lower() + "/")
    ]


def connection_writes(writes: list[dict[str, Any]], endpoint_id: str = "") -> list[dict[str, Any]]:
    """Writes of the registry's connection: its create (by name), or anything on its id."""
    return [
        e
        for e in writes
        if "/_apis/serviceendpoint/endpoints" in e["path"]
        and ((e["request"] or {}).get("name") == "acr-private" or (endpoint_id and endpoint_id in e["path"]))
    ]


@pytest.fixture
def spec_index() -> SpecIndex:
    return SpecIndex.load(specs_dir())


def destroy_removes_grant_and_connection(sb: Any, capsys: Any, endpoint_id: str) -> list[dict[str, Any]]:
    """Run destroy: it deletes the one grant at the registry and the registry connection."""
    code, out = sb.json(capsys, "destroy", "--yes")
    assert code == 0, out["errors"]
    writes: list[dict[str, Any]] = sb.new_writes()
    removed = at_registry(writes)
    assert len(removed) == 1 and removed[0].startswith("DELETE ") and "roleAssignments" in removed[0]
    assert [e["method"] for e in connection_writes(writes, endpoint_id)] == ["DELETE"]
    return writes


def test_push_registry_converges_switches_to_pull_and_is_destroyed(
    tmp_path: Path, capsys: Any, spec_index: SpecIndex
) -> None:
    sb = Sandbox(tmp_path, default_world())
    code, out = sb.json(capsys, "deploy-pool", "--yes")
    assert code == 0, out["errors"]
    writes = sb.new_writes()
    (role_put,) = at_registry(writes)
    assert role_put.startswith("PUT ") and "/providers/Microsoft.Authorization/roleAssignments/" in role_put
    (conn_post,) = connection_writes(writes)
    assert conn_post["method"] == "POST"
    body = conn_post["request"]
    assert body["type"] == "dockerregistry" and body["authorization"]["scheme"] == "ManagedServiceIdentity"
    assert body["authorization"]["parameters"]["loginServer"] == "acrprivate.azurecr.io"
    assert body["url"] == "https://acrprivate.azurecr.io" and body["data"]["registrytype"] == "ACR"
    role_exchange = next(e for e in writes if e["path"].lower().startswith(ACR_ID.lower() + "/"))
    assert role_exchange["request"]["properties"]["roleDefinitionId"].endswith(regs.ROLES["push"])
    for exchange in (conn_post, role_exchange):  # our request bodies; the replies are the sandbox's
        assert spec_index.check_exchange({**exchange, "status": None}) == [], exchange["path"]

    # The rerun writes nothing; the plan agrees and has no registry warning in this world.
    code, out = sb.json(capsys, "deploy-pool", "--yes")
    assert code == 0 and out["status"] == "ok", out
    assert sb.new_writes() == []
    code, out = sb.json(capsys, "plan")
    assert code == 0 and not any(a["key"].startswith("registryCheck") for a in out["data"]["actions"])
    sb.new_entries()

    # push -> pull: the AcrPull assignment is made, then agentctl's AcrPush one goes.
    sb.pool.write_text(sb.pool.read_text().replace("access: push", "access: pull"))
    code, out = sb.json(capsys, "deploy-pool", "--yes")
    assert code == 0, out["errors"]
    changed = at_registry(sb.new_writes())
    assert [w.split(" ")[0] for w in changed] == ["PUT", "DELETE"], changed
    assert changed[1].endswith(role_put.rsplit("/", 1)[1])  # the old one, by its name
    code, out = sb.json(capsys, "status")
    assert code == 0
    (item,) = out["data"]["registries"]["items"]
    assert item["role"] == "AcrPull" and item["roleAssigned"] and item["connection"]["exists"]
    sb.new_entries()

    # destroy removes the assignment and the connection, and nothing else of the registry's.
    writes = destroy_removes_grant_and_connection(sb, capsys, conn_post["response"]["id"])
    assert not any("privateDnsZones" in e["path"] for e in writes)
    code, out = sb.json(capsys, "destroy", "--yes")
    assert code == 0 and out["data"]["plan"]["actions"] == []


def test_status_names_the_missing_data_endpoint_record(tmp_path: Path, capsys: Any) -> None:
    world = default_world()
    zone = world["resourceGroups"]["rg-network"]["privateDnsZones"]["privatelink.azurecr.io"]
    del zone["aRecords"]["acrprivate.westeurope.data"]
    sb = Sandbox(tmp_path, world)
    code, out = sb.json(capsys, "status")
    assert code == 0, out["errors"]
    jsonschema.validate(out["data"], load_schema("status"))
    (item,) = out["data"]["registries"]["items"]
    assert item["missingRecords"] == ["acrprivate.westeurope.data"]
    assert any("'acrprivate.westeurope.data'" in w for w in out["data"]["registries"]["warnings"])
    code, out = sb.json(capsys, "plan")
    assert code == 2
    check = next(a for a in out["data"]["actions"] if a["key"] == "registryCheck:acrprivate")
    assert check["op"] == "noop"
    assert sb.new_writes() == []


def test_missing_registry_exits_5_naming_the_field_before_any_write(tmp_path: Path, capsys: Any) -> None:
    sb = Sandbox(tmp_path, default_world())
    sb.pool.write_text(sb.pool.read_text().replace("registries/acrprivate", "registries/acrnothere"))
    code, out = sb.json(capsys, "deploy-pool", "--yes")
    assert code == 5
    (error,) = out["errors"]
    assert "registries[0].id" in error["message"] and "acrnothere" in error["message"]
    assert sb.new_writes() == []


def test_removed_registry_is_cleaned_up_then_nothing_changes(tmp_path: Path, capsys: Any) -> None:
    sb = Sandbox(tmp_path, default_world())
    code, out = sb.json(capsys, "deploy-pool", "--yes")
    assert code == 0, out["errors"]
    writes = sb.new_writes()
    (role_put,) = at_registry(writes)
    endpoint_id = connection_writes(writes)[0]["response"]["id"]

    # The registries block goes: plan shows the two deletes, deploy makes them, and nothing else.
    sb.pool.write_text(EXAMPLE_POOL.read_text())
    code, out = sb.json(capsys, "plan")
    assert code == 2, out
    deletes = {a["key"] for a in out["data"]["actions"] if a["op"] == "delete"}
    assert deletes == {
        f"registryRole:acrprivate/{role_put.rsplit('/', 1)[1]}",
        "registryConnection:acr-private",
    }
    sb.new_entries()
    code, out = sb.json(capsys, "deploy-pool", "--yes")
    assert code == 0, out["errors"]
    writes = sb.new_writes()
    assert at_registry(writes) == ["DELETE " + role_put.split(" ", 1)[1]]
    assert [e["method"] for e in connection_writes(writes, endpoint_id)] == ["DELETE"]
    assert len(writes) == 2, [f"{e['method']} {e['path']}" for e in writes]

    # A second run changes nothing, and plan agrees.
    code, out = sb.json(capsys, "deploy-pool", "--yes")
    assert code == 0 and out["status"] == "ok", out
    assert sb.new_writes() == []
    code, out = sb.json(capsys, "plan")
    assert code == 0 and not any(a["op"] != "noop" for a in out["data"]["actions"]), out


def test_destroy_after_rename_and_removal_leaves_nothing_of_the_pools(tmp_path: Path, capsys: Any) -> None:
    sb = Sandbox(tmp_path, default_world())
    code, out = sb.json(capsys, "deploy-pool", "--yes")
    assert code == 0, out["errors"]
    first = connection_writes(sb.new_writes())[0]["response"]["id"]

    # A renamed connection: the new one is made, the old one deleted.
    sb.pool.write_text(sb.pool.read_text().replace("connection: acr-private", "connection: acr-renamed"))
    code, out = sb.json(capsys, "deploy-pool", "--yes")
    assert code == 0, out["errors"]
    writes = sb.new_writes()
    endpoint_writes = [e for e in writes if "/_apis/serviceendpoint/endpoints" in e["path"]]
    assert sorted(e["method"] for e in endpoint_writes) == ["DELETE", "POST"]
    created = next(e for e in endpoint_writes if e["method"] == "POST")
    assert created["request"]["name"] == "acr-renamed"
    assert first in next(e for e in endpoint_writes if e["method"] == "DELETE")["path"]
    assert at_registry(writes) == []

    # The registry leaves the file, then the pool is destroyed: its assignment and connection go too.
    sb.pool.write_text(EXAMPLE_POOL.read_text())
    writes = destroy_removes_grant_and_connection(sb, capsys, created["response"]["id"])
    code, out = sb.json(capsys, "destroy", "--yes")
    assert code == 0 and out["data"]["plan"]["actions"] == []
    # Nothing of the pool's is left at the registry or among the project's connections.
    sb.pool.write_text(sb.pool.read_text() + f"registries:\n  - id: {ACR_ID}\n    connection: acr-renamed\n")
    code, out = sb.json(capsys, "status")
    assert code == 0, out["errors"]
    (item,) = out["data"]["registries"]["items"]
    assert not item["roleAssigned"] and not item["connection"]["exists"]
