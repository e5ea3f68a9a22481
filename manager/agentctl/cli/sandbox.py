"""`agentctl sandbox serve|reset`: run the Azure / Azure DevOps emulator standalone, or clear its state."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.errors import PreconditionFailed, UsageError
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


def _interrupted(signum: int, frame: Any) -> None:
    """SIGTERM stops `serve` as Ctrl-C does (a handler must not take locks the main thread may hold)."""
    raise KeyboardInterrupt


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

    root = Path(state_dir or app.sandbox_dir)
    running = sb_api.connect(root)
    if running is not None:
        raise PreconditionFailed(
            f"a sandbox already serves {root} at {running.arm_endpoint} (pid {running.pid})",
            hint="stop it first, or pass another --dir",
        )
    plan = parse(faults, "--fault") if faults else None
    speed = parse_timing(timing, "--timing") if timing else None
    try:
        sb = sb_api.start(root, world=world or app.world, port=port, faults=plan, timing=speed)
    except OSError as e:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {e.strerror}") from None
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        endpoints.write(sb)
        app.finish(Result(app.command, {**sb.public(), "token": sb.token}, view=_line_view))
        while True:  # until SIGINT or SIGTERM
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sb.stop()
        endpoints.remove(sb.state_dir, sb.pid)
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
    from agentctl.sandbox import RESET_FILES
    from agentctl.sandbox.files import locked

    root = Path(state_dir or app.sandbox_dir)
    removed = []
    if root.is_dir():
        with locked(root):  # a server on this directory sees the state gone, not half written
            for name in RESET_FILES:
                if (root / name).exists():
                    (root / name).unlink()
                    removed.append(name)
    return app.finish(Result(app.command, {"stateDir": str(root), "removed": removed}, view=_reset_view))
