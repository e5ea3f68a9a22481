"""Fixtures for the kubeconfig tests: real test credentials and the broken-kubeconfig corpus."""

from __future__ import annotations

import pytest
from kubeconfig_corpus import Material, material


@pytest.fixture(scope="session")
def m() -> Material:
    return material()


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rich wraps table cells at the terminal width; a wide one keeps every output line whole, so
    # a leaked secret cannot hide by being split across lines.
    monkeypatch.setenv("COLUMNS", "400")
