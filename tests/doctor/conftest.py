"""Fixtures: a served sandbox per call of ``served(world)``; every exchange must conform to the specs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from doctor_helpers import FAST, Served

from agentctl.sandbox import Timing
from conformance.spec_check import assert_conforms


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[[str | None], Served]]:
    """``served(world)`` starts one; every exchange of the test must conform to the specs."""
    made: list[Served] = []

    def make(world: str | None = None, timing: Timing = FAST) -> Served:
        made.append(Served(tmp_path / str(len(made)), world, timing))
        return made[-1]

    yield make
    for s in made:
        s.stop()
    for s in made:
        assert_conforms(s.sb.exchanges)
