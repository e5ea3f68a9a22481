"""What people read: the text views of destroy, status and plan, and the confirmation prompt."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from agentctl.cli import run
from agentctl.cli.pool import _plan_table
from agentctl.errors import EXIT_DECLINED
from testlib import EXAMPLE_POOL

IMAGE = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-images/providers"
    "/Microsoft.Compute/galleries/agents/images/ubuntu-24.04-agent"
)


def _text(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = run(["--sandbox", "--sandbox-dir", str(tmp_path / "sandbox"), *argv, "-f", str(EXAMPLE_POOL)])
    assert code == 0
    return capsys.readouterr().out


def test_destroy_with_nothing_to_delete_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _text(tmp_path, capsys, "destroy", "--yes")
    assert "Nothing to delete: nothing agentctl created for this pool exists." in out


def test_status_of_a_pool_not_deployed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (image,) = [
        line for line in _text(tmp_path, capsys, "status").splitlines() if line.lstrip().startswith("image")
    ]
    assert "not deployed, newest 2026.1129.1" in image and "- in the model" not in image


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        (
            IMAGE,
            IMAGE + "/versions/2026.1115.1",
            ".../ubuntu-24.04-agent -> .../ubuntu-24.04-agent/versions/2026.1115.1",
        ),
        (
            IMAGE + "/versions/2026.1101.1",
            IMAGE + "/versions/2026.1115.1",
            ".../versions/2026.1101.1 -> .../versions/2026.1115.1",
        ),
    ],
    ids=["latest-to-pinned", "version-to-version"],
)
def test_plan_shows_where_two_resource_ids_differ(old: str, new: str, shown: str) -> None:
    change = {"field": "image", "old": old, "new": new}
    action = {"op": "update", "kind": "scale set", "name": "vmss-agents", "changes": [change]}
    plan = {"actions": [action], "summary": {"create": 0, "update": 1, "delete": 0, "noop": 0}}
    console = Console(width=200, record=True)
    _plan_table(console, plan)
    assert f"image: {shown}" in console.export_text()


def _on_a_terminal(argv: list[str], answer: bytes, deadline: float = 60) -> tuple[int, str]:
    """Run agentctl on a pseudo-terminal; answer once the question is on screen."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: agentctl with the terminal as stdin, stdout and stderr
        os.environ["COLUMNS"] = "120"
        os.execv(sys.executable, [sys.executable, "-m", "agentctl", *argv])
    screen, answered, stop = b"", False, time.monotonic() + deadline
    while time.monotonic() < stop:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child has exited
                break
            if not chunk:
                break
            screen += chunk
        if not answered and b"[y/N]: " in screen:
            os.write(fd, answer)
            answered = True
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), screen.decode(errors="replace")


def test_the_question_is_readable_under_the_progress_display(tmp_path: Path) -> None:
    argv = ["--sandbox", "--sandbox-dir", str(tmp_path), "deploy-pool", "-f", str(EXAMPLE_POOL)]
    code, screen = _on_a_terminal(argv, b"n\r")
    assert "Apply these changes? [y/N]: " in screen, screen[-2000:]
    assert code == EXIT_DECLINED and "Cancelled; nothing was changed." in screen


ZONE = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-network/providers"
    "/Microsoft.Network/privateDnsZones/privatelink.azurecr.io"
)


def _status(registry_warnings: list[str]) -> dict[str, object]:
    warning = f"private DNS zone privatelink.azurecr.io ({ZONE}) has no A record 'acrprivate.westeurope.data'"
    item = {
        "name": "acrprivate",
        "role": "AcrPush",
        "roleAssigned": True,
        "connection": {"name": "acr-private"},
        "warnings": registry_warnings and [warning],
    }
    return {
        "pool": {"name": "p", "exists": True, "state": "online", "nodes": {}},
        "scaleSet": {
            "name": "s",
            "exists": True,
            "capacity": 0,
            "provisioningState": "Succeeded",
            "instances": [],
        },
        "image": {"modelVersion": None, "newest": None, "drift": False},
        "connection": {"name": "c", "isReady": True},
        "registries": {"items": [item], "warnings": registry_warnings and [warning]},
        "logs": [{"timestamp": "t", "message": f"Elastic pool p created for {ZONE}."}],
    }


def test_status_prints_a_warning_once_with_short_ids_and_marks_its_row() -> None:
    from agentctl.cli.status import _status_view

    console = Console(width=100, record=True)
    _status_view(console, _status(["x"]))
    text = console.export_text()
    assert text.count("has no A record") == 1
    assert "(rg-network/privatelink.azurecr.io)" in text and "/subscriptions/" not in text
    assert "created for rg-network/privatelink.azurecr.io." in text
    (row,) = [line for line in text.splitlines() if "acrprivate" in line and "registry" in line]
    assert "problem" in row

    console = Console(width=100, record=True)
    _status_view(console, _status([]))
    (row,) = [line for line in console.export_text().splitlines() if "acrprivate" in line]
    assert "problem" not in row


def test_piped_tables_keep_every_value_whole_and_narrow_ones_fold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["--sandbox", "--sandbox-dir", str(tmp_path / "sandbox"), "image", "list", "-f", str(EXAMPLE_POOL)]
    monkeypatch.delenv("COLUMNS", raising=False)
    assert run(argv) == 0
    piped = capsys.readouterr().out
    assert IMAGE in piped.splitlines()  # the id on a line of its own, whole
    assert any(
        "Succeeded, replication Completed" in line and "pool private-agents" in line
        for line in piped.splitlines()
    )
    monkeypatch.setenv("COLUMNS", "40")  # a narrow terminal's width
    assert run(argv) == 0
    narrow = capsys.readouterr().out
    assert "…" not in narrow and "..." not in narrow  # folded onto more lines, never cut


def test_the_sandbox_folder_in_use_is_named_and_a_move_is_noticed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)
    monkeypatch.delenv("AGENTCTL_SANDBOX_DIR", raising=False)
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    monkeypatch.chdir(first)
    assert run(["--sandbox", "plan", "-f", str(EXAMPLE_POOL)]) == 2
    err = capsys.readouterr().err
    assert f"sandbox: {first}/.agentctl/sandbox (started in this process, a new world)" in err
    assert "the last run used" not in err
    monkeypatch.chdir(second)
    assert run(["--sandbox", "status", "-f", str(EXAMPLE_POOL)]) == 0
    err = capsys.readouterr().err
    assert f"the last run used the sandbox in {first}/.agentctl/sandbox" in err
    assert f"pass --sandbox-dir {first}/.agentctl/sandbox" in err
    assert run(["--sandbox", "plan", "-f", str(EXAMPLE_POOL)]) == 2  # the same folder again: quiet
    assert "the last run used" not in capsys.readouterr().err


def test_no_at_the_image_prune_question_exits_6(tmp_path: Path) -> None:
    argv = [
        "--sandbox",
        "--sandbox-dir",
        str(tmp_path),
        "image",
        "prune",
        "--keep",
        "1",
        "-f",
        str(EXAMPLE_POOL),
    ]
    code, screen = _on_a_terminal(argv, b"n\r")
    assert "Delete these image versions? [y/N]: " in screen, screen[-2000:]
    assert code == EXIT_DECLINED and "Cancelled; nothing was deleted." in screen
