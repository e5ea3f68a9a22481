"""Fixtures for the pipeline checks: the official schema and the skip-or-fail rule for prerequisites."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema.protocols import Validator
from pipelinecheck import REPO, schema_validator


def _require(found: bool, what: str) -> None:
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing in CI")
        pytest.skip(f"{what} is missing")


@pytest.fixture(scope="session")
def require() -> Callable[[bool, str], None]:
    """Skip when a prerequisite is missing on a developer machine; fail in CI, where it must be there."""
    return _require


@pytest.fixture(scope="session")
def schema_file() -> Path:
    """``service-schema.json`` in the specs folder: $AGENTCTL_SPECS_DIR, else ../shared/specs."""
    specs = Path(os.environ.get("AGENTCTL_SPECS_DIR") or REPO.parent / "shared" / "specs")
    schema = specs / "azure-pipelines" / "service-schema.json"
    _require(schema.is_file(), f"{schema} (set AGENTCTL_SPECS_DIR to the shared specs folder)")
    return schema


@pytest.fixture(scope="session")
def validator(schema_file: Path) -> Validator:
    """The Azure Pipelines schema validator, built once per session (the schema is 1.6 MB)."""
    return schema_validator(schema_file)
