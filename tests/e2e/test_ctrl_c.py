"""Ctrl-C during deploy-pool, as a user presses it: the first stops after the running steps (and
says so at once), the second leaves now; the next run finishes the job. Piped and JSON output."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from testlib import EXAMPLE_POOL

SCALE_SET_STARTED = "create scale set vmss-agents: started"


class Run:
    """agentctl deploy-pool in a child process on the sandbox; its stderr read line by line."""

    def __init__(self, state: Path, *args: str) -> None:
        env = {**os.environ, "AGENTCTL_SANDBOX_TIMING": "lro=6"}
        argv = [sys.executable, "-m", "agentctl", "--sandbox", "--sandbox-dir", str(state), *args]
        argv += ["deploy-pool", "-f", str(EXAMPLE_POOL), "--yes"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.proc.stderr is not None
        stderr = self.proc.stderr
        self.reader = threading.Thread(target=lambda: [self.lines.put(line) for line in stderr], daemon=True)
        self.reader.start()

    def wait_for(self, text: str, deadline: float = 60) -> None:
        stop = time.monotonic() + deadline
        while not any(text in line for line in self.seen):
            assert time.monotonic() < stop, f"{text!r} never came: {self.seen}"
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.lines.get(timeout=0.5))

    def finish(self) -> tuple[int, str, str]:
        code = self.proc.wait(timeout=120)
        self.reader.join(timeout=30)
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, out, "".join(self.seen)


def _scale_set_put(state: Path, deadline: float = 60) -> None:
    """Wait until the sandbox has accepted the scale set's PUT (the step is running)."""
    log, stop = state / "access.jsonl", time.monotonic() + deadline
    while not log.exists() or not any(
        e["method"] == "PUT" and e["path"].endswith("virtualMachineScaleSets/vmss-agents")
        for e in map(json.loads, log.read_text().splitlines())
    ):
        assert time.monotonic() < stop, "the scale set was never created"
        time.sleep(0.1)


def _next_run_converges(state: Path) -> None:
    from agentctl.cli import run

    assert (
        run(["--sandbox", "--sandbox-dir", str(state), "deploy-pool", "-f", str(EXAMPLE_POOL), "--yes"]) == 0
    )
    assert run(["--sandbox", "--sandbox-dir", str(state), "plan", "-f", str(EXAMPLE_POOL)]) == 0


def test_first_ctrl_c_says_so_at_once_and_stops_after_the_running_step(tmp_path: Path, capsys: Any) -> None:
    state = tmp_path / "sandbox"
    r = Run(state)
    r.wait_for(SCALE_SET_STARTED)
    r.proc.send_signal(signal.SIGINT)
    r.wait_for("Ctrl-C: stopping once the running steps finish")
    code, _, err = r.finish()
    assert code == 130, err
    # Said before the running step ended; that step still finished; then the run stopped.
    said = err.index("Ctrl-C: stopping")
    assert said < err.index("create scale set vmss-agents: done"), err
    assert "Ctrl-C again leaves now" in err and "the next run observes what exists" in err
    assert "interrupted:" in err and "not started" in err
    _next_run_converges(state)


def test_interrupted_json_envelope_lists_the_finished_steps(tmp_path: Path, capsys: Any) -> None:
    state = tmp_path / "sandbox"
    r = Run(state, "-o", "json")
    _scale_set_put(state)
    r.proc.send_signal(signal.SIGINT)
    r.wait_for("Ctrl-C: stopping")  # on stderr, JSON mode included
    code, out, _ = r.finish()
    assert code == 130
    doc = json.loads(out)
    (error,) = doc["errors"]
    assert doc["status"] == "error" and error["code"] == "interrupted"
    assert "scaleSet" in error["finished"] and "pool" not in error["finished"]  # the pool needs the scale set
    _next_run_converges(state)


def test_second_ctrl_c_leaves_now(tmp_path: Path, capsys: Any) -> None:
    state = tmp_path / "sandbox"
    r = Run(state)
    r.wait_for(SCALE_SET_STARTED)
    r.proc.send_signal(signal.SIGINT)
    r.wait_for("Ctrl-C: stopping")
    r.proc.send_signal(signal.SIGINT)
    code, _, err = r.finish()
    assert code == 130
    assert "create scale set vmss-agents: done" not in err  # it did not wait for the step
    assert "interrupted while steps were running" in err
    _next_run_converges(state)
