"""Fixtures: a fresh sandbox per test, and the real SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import FAST, Arm

from agentctl.sandbox import Sandbox, start
from agentctl.sandbox.testing import devops_connection
from conformance.spec_check import assert_conforms


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox on the built-in world; every exchange the test caused must conform to the specs."""
    sandbox = start(tmp_path / "sandbox", timing=FAST)
    yield sandbox
    sandbox.stop()
    assert_conforms(sandbox.exchanges)


@pytest.fixture
def arm(sb: Sandbox) -> Arm:
    return Arm(sb)


@pytest.fixture
def devops(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``connection.clients_v7_1`` of an azure-devops Connection on the sandbox."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sb.ca_bundle)
    return devops_connection(sb).clients_v7_1
