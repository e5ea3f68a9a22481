"""agentctl standby: set a scale-set pool's standby agents to the count in force; show the week."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.cli.pool import FILE
from agentctl.errors import UsageError, quoted
from agentctl.output import Result

BARS = " ▁▂▃▄▅▆▇█"


def _instant(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--at: {quoted(value)} is not an ISO 8601 time", hint="e.g. 2026-12-07T08:00+01:00"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _when(w: dict[str, Any]) -> str:
    local = datetime.fromisoformat(w["local"])
    utc = datetime.fromisoformat(w["utc"])
    return f"{local:%a %Y-%m-%d %H:%M} {w['zone']}" + ("" if w["zone"] == "UTC" else f" ({utc:%H:%M} UTC)")


def _set_view(console: Any, d: dict[str, Any]) -> None:
    what = f"set from {d['previous']} (desiredIdle updated)" if d["changed"] else "already set; nothing sent"
    console.print(f"pool {d['pool']}: {d['standby']} standby agent(s) in force at {_when(d['at'])}, {what}")
    nxt = d["next"]
    console.print(
        f"next change: {nxt['standby']} agent(s) at {_when(nxt)}"
        if nxt
        else "next change: none (a fixed count)"
    )


@click.group(invoke_without_command=True)
@FILE
@click.option(
    "--at", "at", metavar="TIMESTAMP", help="Act as if it were this time (ISO 8601; UTC when no offset)."
)
@click.pass_context
def standby(ctx: click.Context, path: str, at: str | None) -> int | None:
    """Set a scale-set pool's standby agents (desiredIdle) to the count the schedule has in force.

    Sends a write only when the count differs; run it on a timer (pipelines/standby.yml).
    """
    if ctx.invoked_subcommand is not None:
        return None
    code: int = ctx.invoke(_set, path=path, at=at)
    return code


@pass_app
def _set(app: App, path: str, at: str | None) -> int:
    from agentctl import config, timer

    spec = config.load(path)
    data = timer.set_standby(spec, app.target(spec), _instant(at))
    return app.finish(Result(app.command, data, "changed" if data["changed"] else "ok", view=_set_view))


def _chart(console: Any, d: dict[str, Any]) -> None:
    from rich.markup import escape

    peak = d["peak"]
    digits = peak <= 9
    console.print(f"standby agents per hour, {escape(d['zone'])} (Monday to Sunday):")
    console.print("      " + "".join(f"{h:<3d}" if h % 3 == 0 else "" for h in range(24)).rstrip())
    for name, row in zip(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), d["hourly"], strict=True):
        cells = (
            "".join("·" if n == 0 else str(n) for n in row)
            if digits
            else "".join(BARS[round(n / peak * (len(BARS) - 1))] if n else "·" for n in row)
        )
        console.print(f"  {name} {cells}")
    if not digits:
        console.print(f"  (█ = {peak} agents; each character is one hour)")


def _show_view(console: Any, d: dict[str, Any]) -> None:
    _chart(console, d)
    hours = d["agentHoursPerWeek"]
    cost = d["cost"]
    rows = [
        ("this schedule", "scheduled"),
        ("its peak all week", "fixedAtPeak"),
        ("every agent always on", "maxCapacity"),  # maxCapacity, or maximumConcurrency
    ]
    console.print("agent-hours per week:")
    for label, key in rows:
        money = f"  ~{cost['perMonth'][key]:,.2f} {cost['currency']}/month" if cost else ""
        console.print(f"  {label:<22} {hours[key]:>8,.0f}{money}")
    if cost:
        price = f"{cost['hourly']} {cost['currency']}/hour"
        console.print(f"at {price} for {cost['sku']} in {cost['region']}; {cost['note']}")
    else:
        console.print(f"no cost shown: {d['costUnavailable']}")


@standby.command()
@FILE
@click.option("--offline", is_flag=True, help="Do not ask the Azure Retail Prices API (hours only).")
@pass_app
def show(app: App, path: str, offline: bool) -> int:
    """The week of standby agents as a chart, its agent-hours and what it costs per month."""
    from agentctl import config, timer

    spec = config.load(path)
    data = timer.week_report(spec, None if offline else app.target(spec))
    return app.finish(Result(app.command, data, view=_show_view))
