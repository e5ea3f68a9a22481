"""Fixtures for the reliability suites, and the fault matrix's summary table.

Each matrix test records a ``("matrix", {...})`` user property; the reports carry it to the
process that prints the terminal summary (the controller under pytest-xdist), which prints one
table: fault x command -> converged / retries used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faultrig import Reference, Rig, references

CELLS: dict[tuple[str, str], str] = {}


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.stop()


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Reference]:
    return references(tmp_path_factory.mktemp("reference"))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "matrix":
            cell: dict[str, Any] = dict(value)
            text = "converged" if report.passed else "NOT CONVERGED"
            if report.passed and cell["retries"] is not None:
                text += f", {cell['retries']} retries"
            if report.passed and cell["failed_step"]:
                text += f" (run 1 stopped at {cell['failed_step']})"
            CELLS[(cell["fault"], cell["command"])] = text


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CELLS:
        return
    faults = sorted({f for f, _ in CELLS}, key=_order)
    commands = ["deploy-pool", "status", "destroy"]
    width = max(len(f) for f in faults)
    cols = {c: max([len(c)] + [len(v) for (_, cc), v in CELLS.items() if cc == c]) for c in commands}
    tr = terminalreporter
    tr.section("fault matrix (fault x command: a rerun converged to the clean run's end state)")
    tr.write_line(f"{'fault':<{width}}  " + "  ".join(f"{c:<{cols[c]}}" for c in commands))
    for f in faults:
        cells = [f"{CELLS.get((f, c), '-'):<{cols[c]}}" for c in commands]
        tr.write_line(f"{f:<{width}}  " + "  ".join(cells))


def _order(fault: str) -> tuple[int, str]:
    head = ["429", "500", "503", "drop", "lro-failed", "lro-timeout"]
    return (head.index(fault), "") if fault in head else (len(head), fault)
