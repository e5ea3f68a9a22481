"""Several pool files in one command: `-f a -f b` or `-f folder/`, one summary, the worst exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from testlib import pool_files


def _fleet(world: Any, count: int) -> Path:
    folder = world.pool.parent / "pools"
    folder.mkdir()
    pool_files(folder, count)
    (folder / "README.md").write_text("not a pool file")  # only *.yaml and *.yml are read
    return folder


def test_a_folder_of_pools_converges_in_one_command(world: Any, capsys: Any) -> None:
    folder = _fleet(world, 3)
    code, out = world.json(capsys, "plan", "-f", str(folder))
    assert code == 2 and out["status"] == "changed", out
    assert [p["file"] for p in out["data"]["pools"]] == [str(f) for f in sorted(folder.glob("*.yaml"))]
    assert out["data"]["summary"] == {"changed": 3, "ok": 0, "error": 0}

    code, out = world.json(capsys, "deploy-pool", "-f", str(folder), "--yes")
    assert code == 0, out
    assert out["status"] == "changed" and out["data"]["summary"]["changed"] == 3
    for entry in out["data"]["pools"]:
        assert entry["data"]["applied"] and all(o["status"] == "done" for o in entry["data"]["outcomes"])
    pools_made = [w for w in world.writes(world.new_requests()) if "elasticpools" in w]
    assert len(pools_made) == 3

    # A second run writes nothing; -f given twice reads both files, a file given twice counts once.
    a, b = sorted(folder.glob("*.yaml"))[:2]
    code, out = world.json(capsys, "deploy-pool", "-f", str(a), "-f", str(b), "-f", str(a), "--yes")
    assert code == 0 and out["status"] == "ok"
    assert [p["file"] for p in out["data"]["pools"]] == [str(a), str(b)]
    assert world.writes(world.new_requests()) == []

    code, out = world.json(capsys, "destroy", "-f", str(folder), "--yes")
    assert code == 0 and out["data"]["summary"]["changed"] == 3
    code, out = world.json(capsys, "status", "-f", str(folder))
    assert code == 0 and not any(p["status"]["pool"]["exists"] for p in out["data"]["pools"])


def test_one_failing_pool_does_not_stop_the_others_and_sets_the_exit_code(world: Any, capsys: Any) -> None:
    good, bad = pool_files(world.pool.parent, 2)
    bad.write_text(bad.read_text().replace("/subnets/agents", "/subnets/nope"))
    code, out = world.json(capsys, "plan", "-f", str(good), "-f", str(bad))
    assert code == 5, out  # a failure outranks plan's "changes pending" (2)
    assert out["status"] == "error"
    (err,) = out["errors"]
    assert err["file"] == str(bad) and err["field"] == "network.subnetId" and err["line"]
    assert [p["status"] for p in out["data"]["pools"]] == ["changed", "error"]

    code, out = world.json(capsys, "deploy-pool", "-f", str(good), "-f", str(bad), "--yes")
    assert code == 5
    assert out["data"]["pools"][0]["data"]["applied"] is True
    assert out["data"]["summary"] == {"changed": 1, "ok": 0, "error": 1}


def test_text_summary_names_each_pool(world: Any, capsys: Any) -> None:
    good, bad = pool_files(world.pool.parent, 2)
    bad.write_text(bad.read_text().replace("/subnets/agents", "/subnets/nope"))
    capsys.readouterr()
    assert world.agentctl("plan", "-f", str(good), "-f", str(bad)) == 5
    out = capsys.readouterr().out
    assert str(good) in out and str(bad) in out
    assert "2 pools: 1 changed, 0 unchanged, 1 failed" in out
    assert "error (resource.not_found)" in out


def test_an_invalid_file_stops_every_pool_before_any_request(world: Any, capsys: Any) -> None:
    good, bad = pool_files(world.pool.parent, 2)
    bad.write_text(bad.read_text().replace("desiredIdle: 1", "desiredIdle: many"))
    code, out = world.json(capsys, "deploy-pool", "-f", str(good), "-f", str(bad), "--yes")
    assert code == 3, out
    assert out["errors"][0]["file"] == str(bad) and out["errors"][0]["field"].endswith("desiredIdle")
    assert world.log() == []


def test_a_folder_without_pool_files_is_invalid_input(world: Any, capsys: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = world.json(capsys, "plan", "-f", str(empty))
    assert code == 3 and "no pool files" in out["errors"][0]["message"]
