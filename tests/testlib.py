"""Constants shared by the test suites (importable as `testlib`: pytest puts tests/ on the path)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_POOL = REPO / "examples" / "pool.yaml"
