"""`agentctl sandbox serve|reset`: run the Azure / Azure DevOps emulator standalone, or clear its state."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.errors import AgentctlError, PreconditionFailed, UsageError
from agentctl.output import Result

DIR = click.option(
    "--dir",
    "state_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="State directory (default: the global --sandbox-dir).",
)


@click.group()
def sandbox() -> None:
    """A local emulator of the Azure and Azure DevOps APIs agentctl uses."""


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _line_view(console: Any, data: dict[str, Any]) -> None:
    console.out(json.dumps(data), highlight=False)


@sandbox.command()
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port."
)
@DIR
@click.option(
    "--world", type=click.Path(dir_okay=False), default=None, help="Seed world (default: the global --world)."
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="RULE",
    help="OPERATION=KIND[:VALUE][,count=N][,p=P], repeatable; replaces AGENTCTL_SANDBOX_FAULTS "
    "(see docs/sandbox.md).",
)
@click.option(
    "--timing",
    default=None,
    help="lro=S,retry-after=S,token=S,scale=S,idle=S (replaces AGENTCTL_SANDBOX_TIMING).",
)
@pass_app
def serve(
    app: App, port: int, state_dir: str | None, world: str | None, faults: tuple[str, ...], timing: str | None
) -> int:
    """Serve the sandbox until interrupted; print its endpoints as one JSON line once listening."""
    from agentctl import sandbox as sb_api
    from agentctl.sandbox import endpoints
    from agentctl.sandbox.faults import parse, parse_timing
    from agentctl.sandbox.files import claim_serving
    from agentctl.sandbox.store import StateError

    root = Path(state_dir or app.sandbox_dir)
    plan = parse(faults, "--fault") if faults else None
    speed = parse_timing(timing, "--timing") if timing else None
    try:
        claim = claim_serving(root)  # held until this process ends: one `serve` per directory
    except OSError as e:
        raise AgentctlError(f"cannot use the sandbox directory {root}: {e.strerror or e}") from None
    if claim is None:
        running = sb_api.connect(root)
        where = f" at {running.arm_endpoint} (pid {running.pid})" if running else ""
        raise PreconditionFailed(
            f"a sandbox already serves {root}{where}", hint="stop it first, or pass another --dir"
        )
    # SIGINT and SIGTERM are blocked before the server's threads start (they inherit the mask) and
    # taken synchronously below: no handler runs at an arbitrary point of the main thread, so a
    # signal arriving mid-print or mid-lock cannot leave a lock held and hang the exit.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        try:
            sb = sb_api.start(
                root, world=world or app.world, port=port, faults=plan, timing=speed, record=False
            )
        except StateError as e:
            raise AgentctlError(str(e)) from None
        except OSError as e:
            raise UsageError(f"cannot listen on 127.0.0.1:{port}: {e.strerror}") from None
        try:
            endpoints.write(sb)
            line = {**sb.public(), "token": sb.token, "devopsToken": sb.devops_token}
            app.finish(Result(app.command, line, view=_line_view))
            signal.sigwait(STOP_SIGNALS)
        finally:
            sb.stop()
            endpoints.remove(sb.state_dir, sb.pid)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return 0


def _reset_view(console: Any, data: dict[str, Any]) -> None:
    from rich.markup import escape

    removed = ", ".join(data["removed"]) or "nothing"
    console.print(f"sandbox state in {escape(data['stateDir'])} cleared (removed {escape(removed)})")


@sandbox.command()
@DIR
@pass_app
def reset(app: App, state_dir: str | None) -> int:
    """Clear the sandbox's state and access log; the next use seeds the world again."""
    from agentctl.sandbox.accesslog import ACCESS_LOG
    from agentctl.sandbox.files import locked
    from agentctl.sandbox.store import STATE_FILE

    root = Path(state_dir or app.sandbox_dir)
    removed = []
    if root.is_dir():
        with locked(root):  # a server on this directory sees the state gone, not half written
            for name in (STATE_FILE, ACCESS_LOG, ACCESS_LOG + ".1"):  # the state and the access logs
                if (root / name).exists():
                    (root / name).unlink()
                    removed.append(name)
    return app.finish(Result(app.command, {"stateDir": str(root), "removed": removed}, view=_reset_view))
