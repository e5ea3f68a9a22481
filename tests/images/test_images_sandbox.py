"""image list, roll and prune end to end: the CLI against the sandbox, judged by its access log.

The world has versions 1..5 of the 24.04 image; pool A is pinned to version 3, pool B (its own
resource group, scale set, agent pool and connection) to version 5.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentctl.cli import run
from agentctl.errors import EXIT_DECLINED
from agentctl.output import Renderer
from testlib import EXAMPLE_POOL, REPO, is_write

DEFAULT_WORLD = REPO / "manager" / "agentctl" / "sandbox" / "worlds" / "default.yaml"
V = ["2026.1101.1", "2026.1108.1", "2026.1115.1", "2026.1122.1", "2026.1129.1"]


def pool_text(version: str, suffix: str = "", desired_idle: int = 1) -> str:
    """examples/pool.yaml without its deploy path, pinned, and renamed by ``suffix``."""
    text = EXAMPLE_POOL.read_text().split("  environments:\n", 1)[0]
    text = text.replace(
        "images/ubuntu-24.04-agent\n",
        f"images/ubuntu-24.04-agent\n  # pinned by the platform team\n  version: {version}\n",
    )
    text = text.replace("desiredIdle: 1", f"desiredIdle: {desired_idle}")
    for name in ("rg-agents", "vmss-agents", "private-agents", "arm-agents"):
        text = text.replace(f"{name}\n", f"{name}{suffix}\n")
    return text


class Lab:
    def __init__(self, root: Path, desired_idle: int = 1) -> None:
        self.dir = root / "sandbox"
        world: dict[str, Any] = yaml.safe_load(DEFAULT_WORLD.read_text())
        image = world["resourceGroups"]["rg-images"]["galleries"]["agents"]["images"]["ubuntu-24.04-agent"]
        image["versions"] = {v: {"publishedDate": f"2026-{v[5:7]}-{v[7:9]}T02:00:00Z"} for v in V}
        self.world = root / "world.yaml"
        self.world.write_text(yaml.safe_dump(world))
        self.a, self.b = root / "a.yaml", root / "b.yaml"
        self.a.write_text(pool_text(V[2], desired_idle=desired_idle))
        self.b.write_text(pool_text(V[4], "-b"))
        self._seen = 0

    def run(self, *args: str) -> int:
        return run(["--sandbox", "--sandbox-dir", str(self.dir), "--world", str(self.world), *args])

    def json(self, capsys: Any, *args: str) -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        code = self.run("-o", "json", *args)
        return code, json.loads(capsys.readouterr().out)

    def deploy(self, capsys: Any, *pools: Path) -> None:
        for pool in pools:
            code, out = self.json(capsys, "deploy-pool", "-f", str(pool), "--yes")
            assert code == 0, out
        self.new_writes()

    def new_writes(self) -> list[dict[str, Any]]:
        path = self.dir / "access.jsonl"
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        new, self._seen = entries[self._seen :], len(entries)
        return [e for e in new if e.get("service") in ("arm", "devops") and is_write(e)]


def version_deletes(writes: list[dict[str, Any]]) -> list[str]:
    return sorted(
        e["path"].rsplit("/", 1)[1] for e in writes if e["method"] == "DELETE" and "/versions/" in e["path"]
    )


def test_prune_keeps_the_newest_and_what_pools_use_and_needs_yes(tmp_path: Path, capsys: Any) -> None:
    lab = Lab(tmp_path)
    lab.deploy(capsys, lab.a, lab.b)
    argv = ["image", "prune", "--keep", "2", "-f", str(lab.a), "-f", str(lab.b)]

    # Off a terminal, without --yes: refused, nothing deleted.
    code, out = lab.json(capsys, *argv)
    assert code == 2 and out["errors"][0]["code"] == "usage", out
    assert lab.new_writes() == []

    code, out = lab.json(capsys, *argv, "--yes")
    assert code == 0 and out["status"] == "changed", out
    assert sorted(d["version"] for d in out["data"]["deleted"]) == V[:2]
    assert version_deletes(lab.new_writes()) == V[:2]
    [image] = out["data"]["images"]
    why = {v["name"]: v["keptBecause"] for v in image["versions"]}
    assert why[V[0]] == why[V[1]] == []
    assert "pool private-agents: scale set" in why[V[2]]
    assert "one of the newest 2" in why[V[3]] and "pool private-agents-b: scale set" in why[V[4]]

    # What is left, and who uses it; a second prune has nothing to do.
    code, out = lab.json(capsys, "image", "list", "-f", str(lab.a), "-f", str(lab.b))
    assert code == 0
    [image] = out["data"]["images"]
    assert [v["name"] for v in image["versions"]] == V[2:]
    used = {v["name"]: {u["pool"] for u in v["usedBy"]} for v in image["versions"]}
    assert used == {V[2]: {"private-agents"}, V[3]: set(), V[4]: {"private-agents-b"}}
    assert image["latest"] == V[4] and all(v["provisioningState"] == "Succeeded" for v in image["versions"])
    assert all(v["replication"] == "Completed" for v in image["versions"])  # GET ?$expand=ReplicationStatus
    code, out = lab.json(capsys, *argv)
    assert code == 0 and out["data"]["deleted"] == [] and lab.new_writes() == []


@pytest.mark.parametrize("answer", [False, True])
def test_prune_on_a_terminal_asks_first(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, answer: bool
) -> None:
    from rich.console import Console

    lab = Lab(tmp_path)  # not deployed: the pool files alone keep 3 and 5
    shown = io.StringIO()
    asked: list[str] = []
    monkeypatch.setattr(
        Renderer,
        "err",
        property(lambda self: Console(file=shown, force_terminal=True, color_system=None, width=200)),
    )
    monkeypatch.setattr(Renderer, "confirm", lambda self, question: asked.append(question) or answer)
    code = lab.run("image", "prune", "--keep", "2", "-f", str(lab.a), "-f", str(lab.b))
    assert code == (0 if answer else EXIT_DECLINED) and asked == ["Delete these image versions?"]
    plan = shown.getvalue()
    assert V[0] in plan and V[1] in plan and "2 version(s) to delete" in plan
    assert version_deletes(lab.new_writes() if lab.dir.joinpath("access.jsonl").exists() else []) == (
        V[:2] if answer else []
    )


def test_a_failed_delete_does_not_stop_the_others(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = Lab(tmp_path)  # not deployed: the pool files alone keep 3 and 5
    argv = ["image", "prune", "--keep", "2", "-f", str(lab.a), "-f", str(lab.b), "--yes"]
    monkeypatch.setenv("AGENTCTL_SANDBOX_FAULTS", "arm.galleryimageversions.delete=lro-fail,count=1")
    code, out = lab.json(capsys, *argv)
    assert code == 1 and out["status"] == "error", out
    [failed] = out["data"]["failed"]
    assert [d["version"] for d in out["data"]["deleted"]] == [V[1]] and failed["version"] == V[0]
    assert out["errors"][0]["code"] == "apply.failed" and V[0] in out["errors"][0]["message"]
    # The next run deletes what is left of it.
    monkeypatch.delenv("AGENTCTL_SANDBOX_FAULTS")
    code, out = lab.json(capsys, *argv)
    assert code == 0 and [d["version"] for d in out["data"]["deleted"]] == [V[0]], out


def test_roll_moves_only_the_pool_that_is_behind(tmp_path: Path, capsys: Any) -> None:
    lab = Lab(tmp_path)
    lab.deploy(capsys, lab.a, lab.b)

    # Refused before any write: an unknown version, no --yes off a terminal, a malformed version.
    code, out = lab.json(capsys, "image", "roll", "-f", str(lab.a), "--version", "2026.1201.1", "--yes")
    assert code == 5 and "2026.1201.1 does not exist" in out["errors"][0]["message"]
    code, out = lab.json(capsys, "image", "roll", "-f", str(lab.a))
    assert code == 2 and out["errors"][0]["code"] == "usage"
    assert lab.run("image", "roll", "-f", str(lab.a), "--version", "v1") == 2
    assert lab.new_writes() == []

    # --latest: pool A (on 3) moves to 5, pool B (on 5) is left alone: one scale set PATCH in all.
    code, out = lab.json(capsys, "image", "roll", "-f", str(lab.a), "--latest", "--yes")
    assert code == 0 and out["status"] == "changed", out
    d = out["data"]
    assert d["version"] == V[4] and d["model"]["changed"] and d["model"]["new"].endswith(f"/versions/{V[4]}")
    line = lab.a.read_text().splitlines().index(f"  version: {V[2]}") + 1
    assert d["poolFile"]["instruction"] == f"{lab.a}:{line}: change image.version from {V[2]} to {V[4]}"
    assert d["poolFile"]["written"] is False and f"version: {V[2]}" in lab.a.read_text()
    code, out = lab.json(capsys, "image", "roll", "-f", str(lab.b), "--latest", "--yes")
    assert code == 0 and out["status"] == "ok" and not out["data"]["model"]["changed"]
    writes = lab.new_writes()
    assert [(e["method"], e["path"].rsplit("/", 1)[1]) for e in writes] == [("PATCH", "vmss-agents")], writes
    image_ref = {"imageReference": {"id": d["model"]["new"]}}
    assert writes[0]["request"] == {"properties": {"virtualMachineProfile": {"storageProfile": image_ref}}}
    code, out = lab.json(capsys, "status", "-f", str(lab.a))
    assert out["data"]["image"]["modelVersion"] == V[4]

    # --write: the pinned line changes in place (comment kept), and deploy-pool agrees afterwards.
    before = lab.a.read_text()
    code, out = lab.json(capsys, "image", "roll", "-f", str(lab.a), "--version", V[3], "--write", "--yes")
    assert code == 0 and out["data"]["poolFile"]["written"] is True, out
    assert lab.a.read_text() == before.replace(f"version: {V[2]}", f"version: {V[3]}")
    assert "# pinned by the platform team" in lab.a.read_text()
    assert len(lab.new_writes()) == 1
    code, out = lab.json(capsys, "plan", "-f", str(lab.a))
    assert code == 0 and out["data"]["changed"] is False


def nodes_of(lab: Lab, capsys: Any, want: dict[str, int], timeout: float = 20.0) -> dict[str, Any]:
    """status of pool A once its nodes are ``want`` (the sandbox plays Azure DevOps on a clock)."""
    deadline = time.monotonic() + timeout
    while True:
        _, out = lab.json(capsys, "status", "-f", str(lab.a))
        if out["data"]["pool"]["nodes"] == want or time.monotonic() > deadline:
            assert out["data"]["pool"]["nodes"] == want, out["data"]["pool"]
            return dict(out["data"])
        time.sleep(0.3)


def test_recycle_idle_deletes_idle_agents_only(tmp_path: Path, capsys: Any) -> None:
    from agentctl.sandbox.store import Store

    lab = Lab(tmp_path, desired_idle=3)
    lab.deploy(capsys, lab.a)
    status = nodes_of(lab, capsys, {"idle": 3})
    pool_id = str(status["pool"]["id"])
    # The sandbox runs no pipelines: give one agent a job by hand.
    with Store(lab.dir, dict).transaction() as st:
        busy = st["devops"]["elasticNodes"][pool_id][0]
        busy.update(state="assigned", agentState="enabled, online, assigned", requestId=7)
    lab.new_writes()

    code, out = lab.json(capsys, "image", "roll", "-f", str(lab.a), "--latest", "--recycle-idle", "--yes")
    assert code == 0, out
    recycle = out["data"]["recycle"]
    idle = sorted(n["instanceId"] for n in recycle["nodes"])
    assert recycle["done"] and len(idle) == 2 and busy["computeId"] not in idle
    assert [(n["instanceId"], n["reason"]) for n in recycle["kept"]] == [(busy["computeId"], "running a job")]
    writes = lab.new_writes()
    assert [e["method"] for e in writes] == ["PATCH", "POST"], writes
    assert writes[1]["path"].endswith("/virtualMachineScaleSets/vmss-agents/delete")
    assert sorted(writes[1]["request"]["instanceIds"]) == idle

    # Azure DevOps replaces them from the new model; the busy agent's VM is untouched.
    status = nodes_of(lab, capsys, {"assigned": 1, "idle": 2})
    instances = {vm["instanceId"] for vm in status["scaleSet"]["instances"]}
    assert busy["computeId"] in instances and not instances & set(idle)
    code, out = lab.json(capsys, "image", "list", "-f", str(lab.a))
    counts = {
        v["name"]: [u["instances"] for u in v["usedBy"] if u["source"] == "instances"]
        for v in out["data"]["images"][0]["versions"]
    }
    assert counts[V[4]] == [2] and counts[V[2]] == [1]
