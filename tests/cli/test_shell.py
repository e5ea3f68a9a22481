"""The CLI shell: help everywhere, envelopes, exit codes, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from agentctl import __version__
from agentctl.cli import cli


def _all_commands() -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []

    def walk(prefix: str, cmd: click.Command) -> None:
        out.append((prefix, cmd))
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None:
                    walk(f"{prefix} {name}".strip(), sub)

    walk("", cli)
    return out


def test_every_command_has_help_text() -> None:
    missing = [name or "agentctl" for name, cmd in _all_commands() if not (cmd.help or "").strip()]
    assert not missing, f"commands without help text: {missing}"
    assert len(_all_commands()) >= 4


@pytest.mark.parametrize("name", [name for name, _ in _all_commands() if name])
def test_help_runs(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert __version__ in result.output


def test_unknown_command_is_usage_error() -> None:
    from agentctl.cli import run

    assert run(["no-such-command"]) == 2


def test_help_and_validate_do_not_import_azure(tmp_path) -> None:
    code = (
        "import sys\n"
        "from agentctl.cli import run\n"
        "rc = run(sys.argv[1:])\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('azure', 'msrest', 'cryptography')))\n"
        "print('LOADED', bad)\n"
    )
    for args in (["--help"], ["validate", "-f", "examples/pool.yaml"]):
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
        assert "LOADED []" in out.stdout, (args, out.stdout[-500:], out.stderr[-500:])


def test_json_envelope_shape(tmp_path) -> None:
    target = tmp_path / "pool.yaml"
    assert CliRunner().invoke(cli, ["init", str(target)]).exit_code == 0
    result = CliRunner().invoke(cli, ["-o", "json", "validate", "-f", str(target)])
    doc = json.loads(result.output)
    assert doc["schemaVersion"] == 1 and doc["command"] == "validate" and doc["status"] == "ok"
    assert doc["data"]["valid"] is True and doc["errors"] == []


def test_init_refuses_to_overwrite(tmp_path) -> None:
    target = tmp_path / "pool.yaml"
    target.write_text("keep me")
    result = CliRunner().invoke(cli, ["init", str(target)])
    assert result.exit_code == 2
    assert target.read_text() == "keep me"
    assert CliRunner().invoke(cli, ["init", "--force", str(target)]).exit_code == 0
    assert "azure:" in target.read_text()
