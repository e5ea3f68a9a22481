"""`agentctl status`: pool state, nodes, scale set instances, image drift and recent pool logs."""

from __future__ import annotations

import re
from typing import Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.cli.pool import FILES, load_pools
from agentctl.output import Result


def _status_view(console: Any, d: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(show_header=False, show_edge=False)
    table.add_column(style="bold", overflow="fold")
    table.add_column(overflow="fold")
    if "managedPool" in d:
        from agentctl.cli.managed_view import managed_rows

        managed_rows(table, d["managedPool"])
    else:
        _scale_set_rows(table, d)
    _deploy_rows(console, table, d)


def _scale_set_rows(table: Any, d: dict[str, Any]) -> None:
    p, ss, img, conn = d["pool"], d["scaleSet"], d["image"], d["connection"]
    nodes = ", ".join(f"{k} {v}" for k, v in sorted(p["nodes"].items())) or "none"
    table.add_row(
        "pool",
        f"{p['name']}: " + (f"{p['state'] or 'unknown'}; nodes: {nodes}" if p["exists"] else "missing"),
    )
    table.add_row(
        "scale set",
        f"{ss['name']}: "
        + (f"capacity {ss['capacity']}, {ss['provisioningState']}" if ss["exists"] else "missing"),
    )
    for vm in ss["instances"]:
        table.add_row("", f"instance {vm['instanceId']}: {vm['provisioningState']}")
    drift = " [yellow](newer version available)[/]" if img["drift"] else ""
    if img["modelVersion"]:
        model = f"{img['modelVersion']} in the model"
    else:
        model = "no gallery image in the model" if ss["exists"] else "not deployed"
    table.add_row("image", f"{model}, newest {img['newest'] or 'none'}{drift}")
    table.add_row(
        "connection", f"{conn['name']}: " + ("ready" if conn["isReady"] else "missing or not ready")
    )


def _deploy_rows(console: Any, table: Any, d: dict[str, Any]) -> None:
    """The deploy path's and registries' rows (both backends), the warnings, the pool's log."""
    from rich.markup import escape

    deploy_path = d.get("deployPath") or {}
    for env in deploy_path.get("environments", []):
        check = "approval check current" if env.get("checkCurrent") else "approval check missing or stale"
        table.add_row("environment", f"{env['name']}: " + (check if env["exists"] else "missing"))
    for kc in deploy_path.get("connections", []):
        state = "ready" if kc.get("isReady") else "not ready"
        stale = "" if kc.get("kubeconfigCurrent") else ", [yellow]kubeconfig changed[/]"
        table.add_row(
            "kubernetes", f"{kc['name']} ({kc['cluster']}): " + (state + stale if kc["exists"] else "missing")
        )
    registries = d.get("registries") or {}
    for reg in registries.get("items", []):
        role = reg["role"] + (" assigned" if reg["roleAssigned"] else " [red]not assigned[/]")
        flag = " [yellow](problem: see the warnings)[/]" if reg.get("warnings") else ""
        table.add_row("registry", f"{reg['name']}: {role}; connection {reg['connection']['name']}{flag}")
    console.print(table)
    problems = [*deploy_path.get("problems", []), *registries.get("warnings", [])]
    problems += [w for reg in registries.get("items", []) for w in reg.get("warnings", [])]
    for problem in dict.fromkeys(str(p) for p in problems):  # each once, in order
        console.print(f"[yellow]warning[/]: {escape(short_ids(problem))}")
    if d.get("logs"):
        console.print("recent pool log:")
    for entry in d.get("logs", []):
        console.print(f"  {escape(str(entry['timestamp']))} {escape(short_ids(str(entry['message'])))}")


_ARM_ID = re.compile(r"/subscriptions/[^\s)'\"]+/resourceGroups/([^/\s)'\"]+)/providers/[^\s)'\"]+", re.I)


def short_ids(text: str) -> str:
    """Resource ids in a sentence for people, as ``resource-group/name`` (JSON keeps them whole)."""
    return _ARM_ID.sub(lambda m: f"{m.group(1)}/{m.group(0).rsplit('/', 1)[-1]}", text)


def heading(console: Any, file: str) -> None:
    """A pool's heading in a fleet view: the file name whole, however long (a rule would cut it)."""
    from rich.markup import escape

    console.print(f"[bold]== {escape(file)}[/]")


def _fleet_view(console: Any, d: dict[str, Any]) -> None:
    for entry in d["pools"]:
        heading(console, entry["file"])
        _status_view(console, entry["status"])


@click.command()
@FILES
@click.option(
    "--logs", "log_lines", type=click.IntRange(0, 200), default=10, show_default=True, help="Pool log lines."
)
@pass_app
def status(app: App, paths: tuple[str, ...], log_lines: int) -> int:
    """Pool state, nodes, scale set instances, image drift and recent pool logs."""
    from agentctl import pools

    files, specs = load_pools(paths)
    found = pools.status_many(specs, [app.target(s) for s in specs], log_lines)
    if len(found) == 1:
        return app.finish(Result("status", found[0], view=_status_view))
    data = {"pools": [{"file": p, "status": s} for p, s in zip(files, found, strict=True)]}
    return app.finish(Result("status", data, view=_fleet_view))
