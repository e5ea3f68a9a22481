"""Two deploy-pool runs on one pool at once end in one state.

The runs take the pool's lease (agentctl/lease.py): the second waits, then observes what the
first made and has nothing left to do. The runs are real processes against one running
`agentctl sandbox serve`, as two terminals or two pipeline jobs on one agent would be.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultrig import Reference, Rig, duplicates, snapshot, writes

from agentctl import lease
from agentctl.config import load
from agentctl.errors import PreconditionFailed
from agentctl.sandbox import connect
from testlib import EXAMPLE_POOL

AGENTCTL = [sys.executable, "-m", "agentctl"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Path]:
    """`agentctl sandbox serve` on a state dir, in its own process."""
    state = tmp_path / "sandbox"
    proc = subprocess.Popen(
        [*AGENTCTL, "sandbox", "serve", "--dir", str(state), "--timing", "lro=0.5,retry-after=0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        json.loads(proc.stdout.readline())  # one line once it listens
        yield state
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def test_two_deploys_at_once_end_in_one_state(
    served: Path, tmp_path: Path, reference: dict[str, Reference]
) -> None:
    pool = tmp_path / "pool.yaml"
    pool.write_text(EXAMPLE_POOL.read_text())
    argv = [*AGENTCTL, "--sandbox", "--sandbox-dir", str(served), "-o", "json", "deploy-pool", "--yes"]
    runs = [subprocess.Popen([*argv, "-f", str(pool)], stdout=subprocess.PIPE) for _ in "ab"]
    outcomes = [(json.loads(p.communicate(timeout=120)[0]), p.returncode) for p in runs]
    assert [code for _, code in outcomes] == [0, 0], outcomes
    assert sorted(doc["status"] for doc, _ in outcomes) == ["changed", "ok"]
    snap = snapshot(served)
    assert not duplicates(snap)
    assert snap == reference["deploy-pool"].snapshot, snap - reference["deploy-pool"].snapshot
    log = [json.loads(line) for line in (served / "access.jsonl").read_text().splitlines()]
    assert all(e["status"] != 409 for e in log), [e["path"] for e in log if e["status"] == 409]


def test_a_held_lease_makes_the_next_run_wait_then_stop_cleanly(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease is the pool's, whoever holds it; the waiting run gives up after the timeout
    with a message naming the holder, having written nothing."""
    monkeypatch.setenv("AGENTCTL_LRO_TIMEOUT", "0.5")
    sb = connect(rig.dir)
    assert sb is not None
    from agentctl.cloud import target_of

    with lease.held(load(rig.pool), target_of(sb, keep=False), timeout=1):
        mark = rig.mark()
        code, doc = rig.cli("deploy-pool", "--yes")
    assert code == 5, doc
    assert f"another agentctl run (pid {os.getpid()})" in doc["errors"][0]["message"]
    assert writes(rig.since(mark)) == []
    assert rig.cli("deploy-pool", "--yes")[0] == 0  # released when the holder is done


def test_the_lease_folder_must_be_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    folder = lease.lock_dir()
    assert folder.stat().st_mode & 0o777 == 0o700
    folder.chmod(0o755)
    with pytest.raises(PreconditionFailed, match="not a private folder"):
        lease.lock_dir()


def test_two_sandboxes_on_one_folder_share_the_lease(tmp_path: Path) -> None:
    """Two `--sandbox` runs without a server each start their own on the same state folder (other
    ports): the lease is the folder's, so they still take turns. Another folder: another lease."""
    from agentctl import sandbox
    from agentctl.cloud import target_of

    spec = load(EXAMPLE_POOL)
    servers = [sandbox.start(tmp_path / d) for d in ("one", "one", "two")]
    try:
        keys = [lease.key(spec, target_of(sb, keep=False)) for sb in servers]
        assert servers[0].port != servers[1].port
        assert keys[0] == keys[1] != keys[2]
    finally:
        for sb in servers:
            sb.stop()
