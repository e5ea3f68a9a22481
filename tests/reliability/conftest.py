"""Fixtures for the reliability suites. The fault matrix's summary table is printed by hooks in
tests/conftest.py (the only conftest the pytest-xdist controller loads)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from faultrig import Reference, Rig, references


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.stop()


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Reference]:
    return references(tmp_path_factory.mktemp("reference"))
