"""`agentctl wait` and `agentctl diagnose`, and what `deploy-pool --wait` shows while it waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.cli.pool import FILE
from agentctl.errors import EXIT_FAILED, UsageError
from agentctl.output import STILL_RUNNING_EVERY, Result, elapsed

_UNITS = {"s": 1, "m": 60, "h": 3600}


def duration(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``1h``, ``1h30m``: seconds."""
    import re

    parts = re.fullmatch(r"\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*", text.lower())
    if not text.strip() or parts is None or not any(parts.groups()):
        raise UsageError(f"--timeout: {text!r} is not a duration", hint="write it as 90s, 15m, 1h or 1h30m")
    h, m, s = (int(g or 0) for g in parts.groups())
    seconds = float(h * 3600 + m * 60 + s)
    if seconds <= 0:
        raise UsageError("--timeout must be longer than 0 s")
    return seconds


TIMEOUT = click.option(
    "--timeout",
    "timeout",
    default="20m",
    show_default=True,
    help="How long to wait for the standby agents (90s, 15m, 1h).",
)


@contextmanager
def shown(app: App, prefix: str = "") -> Iterator[Callable[[list[Any], list[dict[str, Any]]], None]]:
    """What a wait shows: on a terminal, a live table of the nodes; off it (a CI log), one line per
    state change and a "still waiting" line every 30 s without one; nothing in JSON mode."""
    if app.renderer.json:
        yield lambda changes, nodes: None
        return
    console = app.renderer.err
    start = time.monotonic()
    if console.is_terminal:
        from rich.live import Live

        with Live(_table([], start), console=console, refresh_per_second=4, transient=False) as live:
            yield lambda changes, nodes: live.update(_table(nodes, start))
        return
    last = [time.monotonic()]
    done = threading.Event()

    def on_change(changes: list[Any], nodes: list[dict[str, Any]]) -> None:
        for c in changes:
            was = f"{c.old} -> " if c.old else ""
            app.renderer.note(f"{prefix}node {c.node}: {was}{c.new} (after {elapsed(c.seconds)})")
            last[0] = time.monotonic()

    def still() -> None:
        while not done.wait(min(1.0, STILL_RUNNING_EVERY)):
            if time.monotonic() - last[0] >= STILL_RUNNING_EVERY:
                last[0] = time.monotonic()
                app.renderer.note(f"{prefix}still waiting for agents ({elapsed(time.monotonic() - start)})")

    ticker = threading.Thread(target=still, name="still-waiting", daemon=True)
    ticker.start()
    try:
        yield on_change
    finally:
        done.set()


def _table(nodes: list[dict[str, Any]], start: float) -> Any:
    from rich.table import Table

    table = Table(title=f"Waiting for agents ({elapsed(time.monotonic() - start)})", title_justify="left")
    for col in ("node", "state", "agent", "since"):
        table.add_column(col)
    for n in nodes:
        table.add_row(
            str(n.get("name")), str(n.get("state")), str(n.get("agentState")), str(n.get("stateChangedOn"))
        )
    return table


def wait_data(app: App, spec: Any, timeout: float, prefix: str = "") -> dict[str, Any]:
    """Wait for one pool; on failure or timeout, the diagnosis is in ``diagnosis``."""
    from agentctl import forensics, waiting

    target = app.target(spec)
    with shown(app, prefix) as on_change:
        data = waiting.run(spec, target, timeout, on_change, waiting.SANDBOX_POLL if app.sandbox else None)
    if data["status"] in ("failed", "timeout") and spec.managed is None:
        app.renderer.note(f"{prefix}{data['reason']}; gathering a diagnosis")
        data["diagnosis"] = forensics.gather(spec, target, data.get("history"))
    return data


def wait_failed(data: dict[str, Any]) -> bool:
    return data.get("status") in ("failed", "timeout")


def wait_errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The envelope's errors of a failed wait: the wait's own, then each likely cause."""
    if not wait_failed(data):
        return []
    code = "wait.node_failed" if data["status"] == "failed" else "wait.timeout"
    causes = (data.get("diagnosis") or {}).get("causes") or []
    out = [
        {
            "code": code,
            "message": f"{data['pool']}: {data['reason']}",
            "hint": causes[0]["fix"] if causes else "",
        }
    ]
    return out + [{"code": f"cause.{c['code']}", "message": c["cause"], "hint": c["fix"]} for c in causes]


def wait_view(console: Any, data: dict[str, Any]) -> None:
    from rich.markup import escape

    if data["status"] == "nothing":
        console.print(f"{escape(data['pool'])}: {escape(data['reason'])}; nothing to wait for.")
        return
    if data["status"] == "online":
        console.print(f"{escape(data['pool'])}: {escape(data['reason'])} after {elapsed(data['seconds'])}.")
        return
    console.print(f"[bold red]{escape(data['pool'])}: agents not online[/]: {escape(data['reason'])}")
    if data.get("diagnosis"):
        diagnosis_view(console, data["diagnosis"])


def diagnosis_view(console: Any, d: dict[str, Any]) -> None:
    from rich.markup import escape

    for n in d["nodes"]:
        seen = " -> ".join(f"{h['state']} ({h['after']:g} s)" for h in n.get("history") or [])
        history = f"seen {seen}" if seen else f"since {n.get('since')}"
        console.print(f"[bold]node {escape(str(n['name']))}[/]: {escape(str(n['state']))}; {escape(history)}")
        inst = n.get("instance") or {}
        ext = inst.get("extension") or {}
        if inst:
            statuses = escape(", ".join(inst["statuses"]))
            console.print(
                f"  instance {n['instanceId']}: {statuses}; VM agent {escape(str(inst['vmAgent']))}"
            )
        if ext:
            what = f"{ext['name']}: {ext['code']}: {ext['message']}"
            console.print(f"  extension {escape(what)}")
    if d["poolLog"]:
        console.print("[bold]pool log[/]:")
        for e in d["poolLog"][:10]:
            console.print(
                f"  {escape(str(e['timestamp']))} {escape(str(e['level']))}: {escape(e['message'])}"
            )
    logs = d.get("logs") or {}
    if logs:
        console.print(f"[bold]logs on {escape(str(logs['node']))}[/] (through Run Command):")
        console.print(escape(logs.get("output") or logs.get("error") or ""), highlight=False)
    for c in d["causes"]:
        console.print(f"[bold yellow]likely cause[/] ({c['code']}): {escape(c['cause'])}")
        console.print(f"  fix: {escape(c['fix'])}")
        console.print(f"  [dim]evidence: {escape(c['evidence'])}[/]")
    for note in d["notes"]:
        console.print(f"note: {escape(note)}")


@click.command()
@FILE
@TIMEOUT
@pass_app
def wait(app: App, path: str, timeout: str) -> int:
    """Wait until the pool's standby agents are online (nodes idle, agents online).

    Shows each node's state as it changes (new, startingAgent, idle, failedToStartPendingDelete,
    ...; a managed pool's machines: Provisioning, Ready, ...): a live table on a terminal, one line
    per change in a pipe. With no standby agent in force (desiredIdle 0, or a managed pool's
    schedule at 0 or automatic) it says so and waits for nothing. Exit 0 when online; 1 when a
    node fails or the timeout passes, with a diagnosis for a scale-set pool (agentctl diagnose).
    """
    from agentctl import config

    seconds = duration(timeout)
    spec = config.load(path)
    data = wait_data(app, spec, seconds)
    failed = wait_failed(data)
    return app.finish(
        Result(
            "wait",
            data,
            "error" if failed else "ok",
            EXIT_FAILED if failed else 0,
            view=wait_view,
            errors=wait_errors(data),
        )
    )


@click.command()
@FILE
@pass_app
def diagnose(app: App, path: str) -> int:
    """Why a pool's agents do not come online: forensics of its failing nodes.

    Reads the elastic pool's log, each failing node's state, the scale set instance view (VM agent,
    the pipelines agent extension's status), and through VM Run Command (a read-only script) the
    tails of the extension's and the agent's logs on one failing or idle instance; secrets are
    redacted. Names each likely cause and its fix (data.causes[].code), or says that no known
    pattern matched. Exit 0 once it has gathered the evidence.
    """
    from agentctl import config, forensics

    spec = config.load(path)
    data = forensics.gather(spec, app.target(spec))
    return app.finish(Result("diagnose", data, view=diagnosis_view))
