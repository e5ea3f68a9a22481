"""A Managed DevOps Pool from pool.yaml on the sandbox: deploy from an empty world, a second run and
plan without writes, one PATCH per drift, status, destroy of only what agentctl made, every request
valid against the specs, and a backend switch both ways."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml

from agentctl import config, standby
from agentctl.schemas import load as load_schema
from conformance.spec_check import load_for_tests
from testlib import REPO

MANAGED = REPO / "examples" / "managed-pool.yaml"
POOLS = "/providers/Microsoft.DevOpsInfrastructure/pools/"


def managed_writes(world: Any) -> list[str]:
    return world.writes(world.new_requests())


def test_deploy_rerun_drift_status_and_destroy(world: Any, capsys: Any) -> None:
    world.pool.write_text(MANAGED.read_text())
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    created = {a["key"].split(":")[0] for a in out["data"]["plan"]["actions"] if a["op"] == "create"}
    assert {"managedPool", "devCenter", "devCenterProject", "serviceRole", "environment"} <= created
    log = world.new_requests()
    puts = [e for e in log if e["method"] == "PUT" and POOLS in e["path"]]
    assert len(puts) == 1
    # the PUT carries the schedule as manual resource predictions, valid against the spec
    spec = config.loads(MANAGED.read_text(), "managed-pool.yaml")
    agent = puts[0]["request"]["properties"]["agentProfile"]
    assert agent["resourcePredictions"] == standby.resource_predictions(spec.standby_week())
    assert agent["resourcePredictions"]["timeZone"] == "W. Europe Standard Time"
    index = load_for_tests()
    assert [p for e in log for p in index.check_exchange(e)] == []

    # a second run writes nothing, and plan agrees
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    assert managed_writes(world) == []
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 0 and out["data"]["changed"] is False
    jsonschema.validate(out["data"], load_schema("plan"))
    world.new_requests()

    # maximum concurrency, then the schedule: one PATCH each, of the changed fields only
    for old, new, field in (
        ("maximumConcurrency: 4", "maximumConcurrency: 6", "maximumConcurrency"),
        ('start: "08:00", agents: 2', 'start: "07:30", agents: 2', "agentProfile"),
    ):
        world.edit(old, new)
        assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
        log = world.new_requests()
        writes = world.writes(log)
        assert len(writes) == 1 and writes[0].startswith("PATCH ") and POOLS in writes[0], writes
        patch = next(e for e in log if e["method"] == "PATCH")
        assert list(patch["request"]["properties"]) == [field]
        assert [p for p in index.check_exchange(patch)] == []

    code, out = world.json(capsys, "status", "-f", str(world.pool))
    assert code == 0, out
    jsonschema.validate(out["data"], load_schema("status"))
    mp = out["data"]["managedPool"]
    assert mp["exists"] and mp["provisioningState"] == "Succeeded" and mp["maximumConcurrency"] == 6
    assert mp["standby"]["now"] in (0, 2) and mp["standby"]["next"] is not None
    assert all(a["imageVersion"] == "2026.1129.1" for a in mp["agents"])

    # destroy removes what agentctl made, and nothing else; a second destroy finds nothing
    code, out = world.json(capsys, "destroy", "-f", str(world.pool), "--yes")
    assert code == 0, out
    deleted = {a["key"].split(":")[0] for a in out["data"]["plan"]["actions"]}
    assert {"managedPool", "devCenter", "devCenterProject", "subnetDelegation", "serviceRole"} <= deleted
    code, out = world.json(capsys, "destroy", "-f", str(world.pool), "--yes")
    assert code == 0 and out["data"]["plan"]["actions"] == []
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    fresh = {a["key"].split(":")[0] for a in out["data"]["actions"] if a["op"] in ("create", "update")}
    assert {"managedPool", "devCenter", "subnetDelegation", "serviceRole"} <= fresh  # all gone again
    deletes = [w for w in world.writes(world.log()) if w.startswith("DELETE")]
    assert not any(w.lower().endswith("resourcegroups/rg-agents") for w in deletes)
    # every exchange of the run, the deletes included, as the specs define it
    assert [p for e in world.log() for p in index.check_exchange(e)] == []


def to_managed(text: str) -> str:
    """examples/pool.yaml switched to the managed backend (its scale-set sections stay)."""
    doc = yaml.safe_load(MANAGED.read_text())
    section = yaml.safe_dump({"managedPool": doc["managedPool"]}, sort_keys=False)
    return "backend: managedPool\n" + text + section


def test_backend_switch_both_ways(world: Any, capsys: Any) -> None:
    scale_set = world.pool.read_text()
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    world.new_requests()

    world.pool.write_text(to_managed(scale_set))
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 2, out
    ops = {a["key"].split(":")[0]: (a["op"], a["needs"]) for a in out["data"]["actions"]}
    assert ops["scaleSet"][0] == "delete" and ops["pool"][0] == "delete"
    assert ops["managedPool"][0] == "create" and {"pool", "scaleSet"} <= set(ops["managedPool"][1])
    # --yes alone does not switch a backend
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 2 and "--allow-backend-switch" in out["errors"][0]["hint"]
    assert world.writes(world.new_requests()) == []
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes", "--allow-backend-switch") == 0
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    world.new_requests()
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    assert world.writes(world.new_requests()) == []

    # and back: the managed pool goes first, then the scale set and the elastic pool come
    world.edit("backend: managedPool", "backend: scaleSet")
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    ops = {a["key"].split(":")[0]: (a["op"], a["needs"]) for a in out["data"]["actions"]}
    assert ops["managedPool"][0] == "delete" and "managedPool" in ops["pool"][1]
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes", "--allow-backend-switch") == 0
    world.new_requests()
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 0, [a for a in out["data"]["actions"] if a["op"] != "noop"]
    assert world.writes(world.new_requests()) == []


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (("maximumConcurrency: 4", "maximumConcurrency: 1"), "devops.pool.standby.schedule[0].agents"),
        (("name: private-agents", "name: private agents"), "devops.pool.name"),
        (("kind: stateless", "kind: stateless, maxAgentLifetime: '1.00:00:00'"), None),
    ],
)
def test_invalid_managed_files_name_the_field(world: Any, capsys: Any, edit: Any, field: str | None) -> None:
    world.pool.write_text(MANAGED.read_text().replace(*edit))
    code, out = world.json(capsys, "validate", "-f", str(world.pool))
    assert code == 3, out
    fields = [e["field"] for e in out["errors"]]
    assert (field or "managedPool.agentProfile.maxAgentLifetime") in fields
    assert all(e.get("line") for e in out["errors"])


def test_status_view_and_the_standby_timer(world: Any, capsys: Any) -> None:
    world.pool.write_text(MANAGED.read_text())
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    capsys.readouterr()
    assert world.agentctl("status", "-f", str(world.pool)) == 0
    shown = capsys.readouterr().out
    assert "private-agents: Succeeded" in shown and "of 4 agents" in shown and "standby" in shown
    # the service keeps a managed pool's schedule: the timer has nothing to set, and writes nothing
    world.new_requests()
    code, out = world.json(capsys, "standby", "-f", str(world.pool))
    assert code == 2 and "managed pool" in out["errors"][0]["message"]
    assert world.writes(world.new_requests()) == []
    code, out = world.json(capsys, "standby", "show", "-f", str(world.pool))
    assert code == 0 and out["data"]["agentHoursPerWeek"]["maxCapacity"] == 4 * 168.0
    # the probe runs on a scale set's VM: it says so for a managed pool
    code, out = world.json(capsys, "doctor", "--probe", "-f", str(world.pool))
    assert code == 2 and "managed pool" in out["errors"][0]["message"], out


def _fixed_standby(count: int) -> str:
    """The managed example with a fixed standby count in place of its schedule."""
    text = MANAGED.read_text()
    start = text.index("    standby:\n")
    end = text.index("    authorizeAllPipelines")
    return text[:start] + f"    standby: {count}\n" + text[end:]


def test_wait_follows_a_managed_pools_machines(world: Any, capsys: Any) -> None:
    world.pool.write_text(_fixed_standby(2))
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes", "--wait", "--timeout", "1m")
    assert code == 0, out
    waited = out["data"]["wait"]
    assert waited["status"] == "online" and waited["desiredIdle"] == 2 and waited["backend"] == "managedPool"
    assert [n["state"] for n in waited["nodes"]] == ["Ready", "Ready"]
    assert all(n["imageVersion"] for n in waited["nodes"])
    # only the pool and its machines are read while waiting: ARM GETs, no write
    world.new_requests()
    code, out = world.json(capsys, "wait", "-f", str(world.pool))
    assert code == 0 and out["data"]["status"] == "online", out
    assert world.writes(world.new_requests()) == []
    # a count of 0 in force: nothing to wait for
    world.pool.write_text(_fixed_standby(0))
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    code, out = world.json(capsys, "wait", "-f", str(world.pool))
    assert code == 0 and out["data"]["status"] == "nothing" and "count is 0" in out["data"]["reason"], out


def test_init_writes_a_valid_managed_pool_file(tmp_path: Any, capsys: Any) -> None:
    from agentctl.cli import run

    target = tmp_path / "pool.yaml"
    assert run(["init", str(target), "--backend", "managedPool"]) == 0
    spec = config.load(target)
    assert spec.backend == "managedPool" and spec.managed is not None and not spec.has("scaleSet")


def test_image_roll_and_prune_know_managed_pools(world: Any, capsys: Any) -> None:
    world.pool.write_text(MANAGED.read_text())
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    world.new_requests()
    code, out = world.json(
        capsys, "image", "roll", "-f", str(world.pool), "--version", "2026.1115.1", "--write", "--yes"
    )
    assert code == 0, out
    log = world.new_requests()
    writes = world.writes(log)
    assert len(writes) == 1 and writes[0].startswith("PATCH ") and POOLS in writes[0], writes
    patch = next(e for e in log if e["method"] == "PATCH")
    (image,) = patch["request"]["properties"]["fabricProfile"]["images"]
    assert image["resourceId"].endswith("/images/ubuntu-24.04-agent/versions/2026.1115.1")
    assert load_for_tests().check_exchange(patch) == []
    assert config.load(world.pool).managedPool.images[0].version == "2026.1115.1"  # type: ignore[union-attr]
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 0, out  # the file and the pool agree
    # prune keeps the version the managed pool uses, beyond the newest one
    code, out = world.json(capsys, "image", "prune", "-f", str(world.pool), "--keep", "1", "--yes")
    assert code == 0, out
    assert [d["version"] for d in out["data"]["deleted"]] == ["2026.1101.1"]
    (versions,) = [i["versions"] for i in out["data"]["images"]]
    kept = {v["name"]: v["keptBecause"] for v in versions if not v["delete"]}
    assert any("managed pool" in reason for reason in kept["2026.1115.1"])
    code, out = world.json(capsys, "image", "roll", "-f", str(world.pool), "--recycle-idle", "--yes")
    assert code == 2 and "scale-set" in out["errors"][0]["message"]


SUB_ID = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups"
NETWORK_ONLY = "extends: default.yaml\nroleAssignments:\n" + "".join(
    f"  - {{ principal: alice@contoso.com, role: {role}, scope: {SUB_ID}/{group} }}\n"
    for group, role in (
        ("rg-agents", "Owner"),
        ("rg-images", "Owner"),
        ("rg-identity", "Owner"),
        ("rg-aks", "Owner"),
        ("rg-network", "Network Contributor"),  # may delegate the subnet, may not grant roles
    )
)
WORLDS = REPO / "manager" / "agentctl" / "sandbox" / "worlds"


@pytest.mark.parametrize(
    ("world_text", "field", "fix"),
    [
        ((WORLDS / "missing-role.yaml").read_text(), "network.subnetId", "az network vnet subnet update"),
        (NETWORK_ONLY, "managedPool.servicePrincipalObjectId", "az role assignment create"),
    ],
    ids=["undelegated-subnet", "missing-role"],
)
def test_what_agentctl_may_not_fix_is_refused_before_any_write(
    world: Any, capsys: Any, tmp_path: Any, world_text: str, field: str, fix: str
) -> None:
    from agentctl.cli import run

    (tmp_path / "default.yaml").write_text((WORLDS / "default.yaml").read_text())
    (tmp_path / "world.yaml").write_text(world_text)
    world.pool.write_text(MANAGED.read_text())
    sandbox = ["--sandbox", "--sandbox-dir", str(world.dir), "--world", str(tmp_path / "world.yaml")]
    for command in (["plan"], ["deploy-pool", "--yes"], ["doctor"]):
        capsys.readouterr()
        code = run([*sandbox, "-o", "json", *command, "-f", str(world.pool)])
        out = json.loads(capsys.readouterr().out)
        if command == ["doctor"]:  # an error there too, with its fix
            assert code == 5 and fix in json.dumps(
                [f for f in out["data"]["findings"] if f["severity"] == "error"]
            )
            continue
        assert code == 5, out
        assert out["errors"][0]["field"] == field and fix in out["errors"][0]["hint"]
    assert world.writes(world.log()) == []


def test_deploy_registers_the_providers(world: Any, capsys: Any, tmp_path: Any) -> None:
    from agentctl.cli import run

    (tmp_path / "default.yaml").write_text((WORLDS / "default.yaml").read_text())
    unregistered = "unregisteredProviders: [Microsoft.DevOpsInfrastructure, Microsoft.DevCenter]\n"
    (tmp_path / "world.yaml").write_text("extends: default.yaml\n" + unregistered)
    world.pool.write_text(MANAGED.read_text())
    sandbox = ["--sandbox", "--sandbox-dir", str(world.dir), "--world", str(tmp_path / "world.yaml")]
    assert run([*sandbox, "deploy-pool", "-f", str(world.pool), "--yes"]) == 0
    log = world.new_requests()
    registered = sorted(e["path"].split("/")[-2] for e in log if e["path"].endswith("/register"))
    assert registered == ["Microsoft.DevCenter", "Microsoft.DevOpsInfrastructure"]
    assert [p for e in log for p in load_for_tests().check_exchange(e)] == []
    assert run([*sandbox, "deploy-pool", "-f", str(world.pool), "--yes"]) == 0
    assert world.writes(world.new_requests()) == []


def test_a_failed_pool_is_finished_by_the_next_run(world: Any, capsys: Any, monkeypatch: Any) -> None:
    world.pool.write_text(MANAGED.read_text())
    monkeypatch.setenv("AGENTCTL_SANDBOX_FAULTS", "arm.mdp.put=lro-fail,count=1")
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 1 and out["errors"][0]["step"] == "managedPool", out
    monkeypatch.delenv("AGENTCTL_SANDBOX_FAULTS")
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    (again,) = [a for a in out["data"]["actions"] if a["op"] != "noop" and a["key"] == "managedPool"]
    assert again["op"] == "update" and again["changes"][-1]["field"] == "provisioningState"
    world.new_requests()
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    puts = [w for w in world.writes(world.new_requests()) if w.startswith("PUT ") and POOLS in w]
    assert len(puts) == 1  # the whole pool again
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 0, out


def test_a_pool_left_provisioning_is_waited_for(world: Any, capsys: Any, monkeypatch: Any) -> None:
    """A run that stopped waiting (its LRO timeout) leaves the pool Provisioning: the next run waits
    for it to end, then finds the queue the service made and sets its permissions."""
    world.pool.write_text(
        MANAGED.read_text().replace("authorizeAllPipelines: false", "authorizeAllPipelines: true")
    )
    monkeypatch.setenv("AGENTCTL_SANDBOX_FAULTS", "arm.mdp.put=lro-slow:8,count=1")
    monkeypatch.setenv("AGENTCTL_LRO_TIMEOUT", "3")
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 1 and out["errors"][0]["step"] == "managedPool", out
    monkeypatch.setenv("AGENTCTL_LRO_TIMEOUT", "60")
    world.new_requests()
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 0, out
    writes = world.writes(world.new_requests())
    assert not any(w.startswith("PUT ") and POOLS in w for w in writes), writes  # waited, not sent again
    assert any("permissions" in w.lower() for w in writes), writes
    code, out = world.json(capsys, "plan", "-f", str(world.pool))
    assert code == 0, out
