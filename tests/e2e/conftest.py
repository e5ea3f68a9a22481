"""End-to-end fixtures: the CLI against a sandbox in its own state directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentctl.cli import run
from testlib import EXAMPLE_POOL, is_write

READ_ONLY_POSTS = ("/listClusterUserCredential", "/listClusterAdminCredential")


class World:
    """A sandbox state dir plus helpers to run agentctl against it and read its access log."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "sandbox"
        self.pool = root / "pool.yaml"
        self.pool.write_text(EXAMPLE_POOL.read_text())
        self._seen = 0

    def agentctl(self, *args: str) -> int:
        return run(["--sandbox", "--sandbox-dir", str(self.dir), *args])

    def json(self, capsys: Any, *args: str) -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        code = self.agentctl("-o", "json", *args)
        return code, json.loads(capsys.readouterr().out)

    def edit(self, old: str, new: str) -> None:
        text = self.pool.read_text()
        assert old in text, old
        self.pool.write_text(text.replace(old, new, 1))

    def log(self) -> list[dict[str, Any]]:
        path = self.dir / "access.jsonl"
        return (
            [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            if path.exists()
            else []
        )

    def new_requests(self) -> list[dict[str, Any]]:
        """Requests logged since the last call."""
        entries = self.log()
        new, self._seen = entries[self._seen :], len(entries)
        return new

    @staticmethod
    def writes(entries: list[dict[str, Any]]) -> list[str]:
        return [f"{e['method']} {e['path']}" for e in entries if is_write(e)]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield World(tmp_path)
