"""Exit codes follow the README's table for the inputs a new user gets wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentctl.cli import run
from testlib import EXAMPLE_POOL


@pytest.mark.parametrize("command", ["validate", "plan", "deploy-pool", "destroy", "status"])
def test_a_pool_file_that_cannot_be_read_is_invalid_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    a_file = tmp_path / "pool.yaml"
    a_file.write_text(EXAMPLE_POOL.read_text())
    sandbox = ["--sandbox", "--sandbox-dir", str(tmp_path / "sandbox")]
    assert run([*sandbox, command, "-f", str(a_file / "inner.yaml")]) == 3  # a file on the way
    assert "cannot read" in capsys.readouterr().err
    assert run([*sandbox, command, "-f", str(tmp_path / "missing.yaml")]) == 3
    assert "no such file" in capsys.readouterr().err


def test_an_unreadable_pool_file_is_invalid_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(EXAMPLE_POOL.read_text())
    path.chmod(0)
    if os.geteuid() == 0:  # root reads any file: refuse this one as the kernel would for a user
        read_bytes = Path.read_bytes

        def refuse(p: Path) -> bytes:
            if p == path:
                raise PermissionError(13, "Permission denied")
            return read_bytes(p)

        monkeypatch.setattr(Path, "read_bytes", refuse)
    assert run(["validate", "-f", str(path)]) == 3
    assert "cannot read (Permission denied)" in capsys.readouterr().err


def test_deploy_without_yes_off_a_terminal_shows_the_plan_then_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["--sandbox", "--sandbox-dir", str(tmp_path), "deploy-pool", "-f", str(EXAMPLE_POOL)])
    assert code == 2
    err = capsys.readouterr().err
    assert "scale set" in err and "vmss-agents" in err and "to create" in err  # the plan
    assert err.index("to create") < err.index("error: deploy-pool needs confirmation")
    assert "pass --yes" in err
    assert not (tmp_path / "access.jsonl").exists() or '"PUT"' not in (tmp_path / "access.jsonl").read_text()
