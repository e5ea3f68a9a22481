"""Shared test set-up, and the fault matrix's summary table.

Each fault-matrix test (tests/reliability) records a ``("matrix", {...})`` user property; the
reports carry it to the process that prints the terminal summary (the controller under
pytest-xdist, which loads only this conftest), which prints one table: fault x command ->
converged / retries used.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Any

import pytest

# Must be set before azure.devops is imported anywhere (every test directory's conftest and
# helpers load after this one). Made once per test process and removed when it exits.
if "AZURE_DEVOPS_CACHE_DIR" not in os.environ:
    os.environ["AZURE_DEVOPS_CACHE_DIR"] = tempfile.mkdtemp(prefix="agentctl-azdo-cache-")
    atexit.register(shutil.rmtree, os.environ["AZURE_DEVOPS_CACHE_DIR"], ignore_errors=True)

CELLS: dict[tuple[str, str], str] = {}


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
