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


def test_init_creates_missing_parent_directories(tmp_path) -> None:
    target = tmp_path / "envs" / "prod" / "pool.yaml"
    result = CliRunner().invoke(cli, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert "azure:" in target.read_text()


def test_init_where_a_file_is_in_the_way_is_invalid_input(tmp_path) -> None:
    (tmp_path / "envs").write_text("a file, not a directory")
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "envs" / "pool.yaml")])
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert (
        f"cannot write {tmp_path / 'envs' / 'pool.yaml'}: {tmp_path / 'envs'}: not a directory"
        in result.output
    )


USAGE_ERRORS = [
    (["validate", "--bogus"], "validate", "No such option '--bogus'"),
    (["nosuchcmd"], "agentctl", "No such command 'nosuchcmd'"),
    (["status", "--logs", "999"], "status", "999 is not in the range"),
]


@pytest.mark.parametrize(("argv", "command", "message"), USAGE_ERRORS, ids=["option", "command", "value"])
def test_usage_errors_in_json_are_envelopes(argv: list[str], command: str, message: str, capsys) -> None:
    from agentctl.cli import run

    assert run(["-o", "json", *argv]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["schemaVersion"] == 1 and doc["command"] == command and doc["status"] == "error"
    (err,) = doc["errors"]
    assert err["code"] == "usage" and message in err["message"]


def test_usage_error_in_json_from_the_installed_command(monkeypatch) -> None:
    monkeypatch.setenv("AGENTCTL_OUTPUT", "json")  # main() too, and the mode from the environment
    out = subprocess.run(
        [sys.executable, "-m", "agentctl", "validate", "--bogus"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 2 and json.loads(out.stdout)["errors"][0]["code"] == "usage", out


def test_usage_errors_in_text_keep_the_usage_line(capsys) -> None:
    from agentctl.cli import run

    assert run(["validate", "--bogus"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Usage: agentctl validate" in captured.err and "--bogus" in captured.err


# Stands in for a command that is slow (Ctrl-C), or whose SDK logs while it fails.
SCRIPT = """
import logging, os, signal, sys, time
from agentctl import config
from agentctl.cli import main
from agentctl.errors import AuthError

def interrupted(path):
    # As typed at a prompt, whatever started pytest: a shell starts a background job with SIGINT
    # ignored, and Python then installs no KeyboardInterrupt handler of its own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)  # the signal arrives long before

def noisy(path):
    for _ in range(2):  # once per concurrent read, 13 lines each
        logging.getLogger("azure.identity").warning("DefaultAzureCredential failed\\n\\tCredential: ...")
    logging.getLogger("agentctl.images").warning("deleting version 1.0.0 failed")
    raise AuthError("read resource group rg-agents: authentication failed")

config.load = {"interrupted": interrupted, "noisy": noisy}[sys.argv.pop(1)]
main()
"""


def _script(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *argv],
        stdin=subprocess.DEVNULL,  # no controlling terminal needed
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("output", ["table", "json"])
def test_ctrl_c_is_exit_130_with_one_line(output: str) -> None:
    out = _script("interrupted", "-o", output, "validate")
    assert out.returncode == 130, out
    assert "Aborted" not in out.stderr and "Traceback" not in out.stderr
    if output == "json":
        doc = json.loads(out.stdout)
        assert doc["status"] == "error" and doc["errors"][0]["code"] == "interrupted"
    else:
        assert out.stderr.strip() == "error: interrupted"


def test_library_logs_are_shown_only_with_debug() -> None:
    quiet = _script("noisy", "validate")
    assert quiet.returncode == 4
    assert quiet.stderr.splitlines() == [
        "deleting version 1.0.0 failed",  # agentctl's own warnings still reach stderr
        "error: read resource group rg-agents: authentication failed",
    ]
    loud = _script("noisy", "--debug", "validate")
    assert (
        loud.returncode == 4
        and loud.stderr.count("azure.identity WARNING DefaultAzureCredential failed") == 2
    )


def test_global_options_are_accepted_after_the_command(tmp_path, capsys) -> None:
    from agentctl.cli import run
    from testlib import EXAMPLE_POOL

    assert run(["validate", "-f", str(EXAMPLE_POOL), "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["command"] == "validate"
    state = tmp_path / "state"
    assert (
        run(["plan", "-f", str(EXAMPLE_POOL), "--sandbox", "--sandbox-dir", str(state), "--output=json"]) == 2
    )
    assert json.loads(capsys.readouterr().out)["data"]["changed"] is True
    assert (state / "access.jsonl").exists()  # the sandbox named after the command was used
    assert (
        run(
            ["image", "list", "-f", str(EXAMPLE_POOL), "--sandbox", "--sandbox-dir", str(state), "-o", "json"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["command"] == "image list"


def test_a_commands_own_option_wins_over_the_global_one() -> None:
    from agentctl.cli.sandbox import sandbox

    serve = sandbox.get_command(click.Context(sandbox), "serve")
    cli.get_command(click.Context(cli), "sandbox")  # loading it adds the global options
    assert serve is not None
    assert sum("--world" in p.opts for p in serve.params) == 1


def test_a_near_miss_command_gets_a_suggestion(capsys) -> None:
    from agentctl.cli import run

    assert run(["deploy"]) == 2
    assert "Did you mean 'deploy-pool'?" in capsys.readouterr().err
    assert run(["stauts"]) == 2
    assert "Did you mean 'status'?" in capsys.readouterr().err


@pytest.mark.parametrize("group", [[], ["image"], ["kubeconfig"], ["sandbox"]])
def test_command_summaries_are_whole_sentences(group: list[str]) -> None:
    result = CliRunner().invoke(cli, [*group, "--help"], terminal_width=80)
    listed = result.output.split("Commands:", 1)[1]
    assert "..." not in listed, listed


def test_a_bad_output_mode_from_the_environment_names_the_variable(monkeypatch, capsys) -> None:
    from agentctl.cli import run

    monkeypatch.setenv("AGENTCTL_OUTPUT", "yaml")
    assert run(["schema"]) == 2
    assert "AGENTCTL_OUTPUT=yaml is not one of 'table', 'json'" in capsys.readouterr().err
