"""Output piped into a CI log: every step says when it starts, that it is still running, and when
it ends, each with the time it took; on a terminal the live display does that instead."""

from __future__ import annotations

import re
from typing import Any

from agentctl import output


def test_piped_output_shows_start_still_running_and_end(world: Any, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(output, "STILL_RUNNING_EVERY", 0.5)
    monkeypatch.setenv("AGENTCTL_SANDBOX_TIMING", "lro=3")
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    lines = capsys.readouterr().err.splitlines()
    step = "create scale set vmss-agents"
    started = lines.index(f"{step}: started")
    still = [i for i, line in enumerate(lines) if re.fullmatch(rf"{step}: still running \(\d+ s\)", line)]
    (done,) = [i for i, line in enumerate(lines) if re.fullmatch(rf"{step}: done \(after \d+ s\)", line)]
    assert still and started < still[0] and still[-1] < done, lines


def test_json_mode_keeps_stderr_quiet(world: Any, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(output, "STILL_RUNNING_EVERY", 0.5)
    monkeypatch.setenv("AGENTCTL_SANDBOX_TIMING", "lro=2")
    assert world.agentctl("-o", "json", "deploy-pool", "-f", str(world.pool), "--yes") == 0
    captured = capsys.readouterr()
    assert '"status": "changed"' in captured.out and captured.err == ""


def test_elapsed_reads_as_minutes_past_a_minute() -> None:
    assert output.elapsed(4.4) == "4 s" and output.elapsed(125) == "2 min 5 s"
