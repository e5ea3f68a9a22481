"""Commands on a pool file: init, validate, schema, plan, deploy-pool, status, destroy."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.errors import InvalidInput, UsageError
from agentctl.output import Result, View

FILE = click.option(
    "-f",
    "--file",
    "path",
    type=click.Path(dir_okay=False),
    default="pool.yaml",
    show_default=True,
    help="The pool definition.",
)


@click.command()
@click.argument("path", type=click.Path(dir_okay=False), default="pool.yaml")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_app
def init(app: App, path: str, force: bool) -> int:
    """Write an annotated pool.yaml to start from (missing parent directories are created)."""
    target = Path(path)
    if target.exists() and not force:
        raise UsageError(f"{target} exists", hint="use --force to overwrite it")
    text = resources.files("agentctl").joinpath("templates/pool.yaml").read_text()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except OSError as e:  # mkdir meets a file on the way: FileExistsError
        reason = "not a directory" if isinstance(e, FileExistsError) else e.strerror
        raise InvalidInput(f"cannot write {target}: {e.filename}: {reason}") from None
    return app.finish(
        Result(
            "init",
            {"path": str(target)},
            view=lambda c, d: c.print(
                f"wrote {d['path']}; edit it, then run `agentctl validate -f {d['path']}`"
            ),
        )
    )


@click.command()
@FILE
@pass_app
def validate(app: App, path: str) -> int:
    """Check a pool file offline: types, names, ids and cross-field rules."""
    from agentctl import config

    spec = config.load(path)
    data = {"path": path, "valid": True, "pool": spec.devops.pool.name, "scaleSet": spec.scaleSet.name}
    return app.finish(Result("validate", data, view=lambda c, d: c.print(f"{d['path']}: valid")))


@click.command()
@pass_app
def schema(app: App) -> int:
    """Print the JSON Schema of pool.yaml (for editors and CI)."""
    from agentctl import config

    doc: dict[str, Any] = config.json_schema()
    return app.finish(
        Result("schema", doc, view=lambda c, d: c.out(json.dumps(d, indent=2), highlight=False))
    )


YES = click.option(
    "--yes", "-y", is_flag=True, help="Apply without asking (required when not on a terminal)."
)

OP_STYLE = {"create": ("+", "green"), "update": ("~", "yellow"), "delete": ("-", "red"), "noop": ("=", "dim")}


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 70 else text[:67] + "..."


def _change(c: dict[str, Any]) -> str:
    """``field: old -> new``; two resource ids are shown from the last segment they share, so an
    image pinned to a version reads ``.../ubuntu-agent -> .../ubuntu-agent/versions/1.2.3``."""
    old, new = c["old"], c["new"]
    if isinstance(old, str) and isinstance(new, str) and old.startswith("/") and new.startswith("/"):
        cut = os.path.commonpath([old, new]).rfind("/")
        if cut > 0:
            old, new = "..." + old[cut:], "..." + new[cut:]
    return f"{c['field']}: {_short(old)} -> {_short(new)}"


def _plan_table(console: Any, plan: dict[str, Any], title: str = "Plan") -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False)
    for col in ("", "resource", "name", "changes"):
        table.add_column(col, overflow="fold")  # wrap long values, never cut them off
    for a in plan["actions"]:
        sym, style = OP_STYLE[a["op"]]
        changes = "\n".join(_change(c) for c in a["changes"])
        table.add_row(f"[{style}]{sym}[/]", a["kind"], escape(a["name"]), escape(changes))
    console.print(table)
    for a in plan["actions"]:
        for warning in a.get("warnings", []):
            console.print(f"[yellow]warning[/]: {escape(a['kind'])} {escape(a['name'])}: {escape(warning)}")
    s = plan["summary"]
    console.print(
        f"{s['create']} to create, {s['update']} to update, {s['delete']} to delete, {s['noop']} unchanged"
    )


def _confirm(app: App, yes: bool, question: str) -> Any:
    def confirm(plan: Any) -> bool:
        if yes:
            return True
        if app.renderer.json or not app.renderer.err.is_terminal:
            raise UsageError(f"{app.command} needs confirmation", hint="pass --yes when not on a terminal")
        _plan_table(app.renderer.err, plan.to_dict())
        return app.renderer.confirm(question)

    return confirm


def _run_with_progress(app: App, fn: Any, *args: Any) -> Any:
    with app.renderer.progress() as bar:
        tasks: dict[str, Any] = {}

        def on_event(action: Any, state: str) -> None:
            label = f"{action.op} {action.kind} {action.name}"
            if state == "start":
                tasks[action.key] = bar.add_task(label, total=None)
            else:
                bar.update(tasks[action.key], description=f"{label}: {state}")
                bar.remove_task(tasks[action.key])

        return fn(*args, on_event, app.renderer.note)


def _applied_view(nothing: str) -> View:
    """The view of deploy-pool or destroy; ``nothing`` is what it says when there is nothing to do."""

    def view(console: Any, data: dict[str, Any]) -> None:
        if not data["plan"]["changed"]:
            console.print(nothing)
            return
        if data.get("cancelled"):
            console.print("Cancelled; nothing was changed.")
            return
        _plan_table(console, data["plan"], "Applied")
        total = sum(o["seconds"] for o in data["outcomes"])
        console.print(f"{len(data['outcomes'])} change(s) applied ({total:.1f} s of work).")

    return view


@click.command()
@FILE
@pass_app
def plan(app: App, path: str) -> int:
    """Show what deploy-pool would change. Exit 0: nothing; 2: changes pending."""
    from agentctl import config, pools

    spec = config.load(path)
    the_plan, _, _ = pools.make_plan(spec, app.target(spec))
    data = the_plan.to_dict()
    status = "changed" if the_plan.changed else "ok"
    return app.finish(Result("plan", data, status, 2 if the_plan.changed else 0, view=_plan_table))


@click.command("deploy-pool")
@FILE
@YES
@pass_app
def deploy_pool(app: App, path: str, yes: bool) -> int:
    """Create or converge the scale set, agent pool and connections of a pool file."""
    from agentctl import pools

    nothing = "Nothing to change: everything matches the pool file."
    return _converge(app, path, yes, pools.deploy, "Apply these changes?", nothing)


@click.command()
@FILE
@YES
@pass_app
def destroy(app: App, path: str, yes: bool) -> int:
    """Remove what agentctl created for a pool file, in reverse order."""
    from agentctl import pools

    nothing = "Nothing to delete: nothing agentctl created for this pool exists."
    return _converge(app, path, yes, pools.destroy, "Delete these resources?", nothing)


def _converge(app: App, path: str, yes: bool, use_case: Any, question: str, nothing: str) -> int:
    from agentctl import config

    spec = config.load(path)
    data = _run_with_progress(app, use_case, spec, app.target(spec), _confirm(app, yes, question))
    status = "changed" if data["applied"] else "ok"
    return app.finish(Result(app.command, data, status, view=_applied_view(nothing)))


def _status_view(console: Any, d: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    p, ss, img, conn = d["pool"], d["scaleSet"], d["image"], d["connection"]
    table = Table(show_header=False, show_edge=False)
    table.add_column(style="bold")
    table.add_column()
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
        table.add_row("registry", f"{reg['name']}: {role}; connection {reg['connection']['name']}")
    console.print(table)
    problems = [*deploy_path.get("problems", []), *registries.get("warnings", [])]
    problems += [w for reg in registries.get("items", []) for w in reg.get("warnings", [])]
    for problem in problems:
        console.print(f"[yellow]warning[/]: {escape(str(problem))}")
    if d["logs"]:
        console.print("recent pool log:")
    for entry in d["logs"]:
        console.print(f"  {escape(str(entry['timestamp']))} {escape(str(entry['message']))}")


def _fleet_view(console: Any, d: dict[str, Any]) -> None:
    for entry in d["pools"]:
        console.rule(entry["file"], align="left")
        _status_view(console, entry["status"])


@click.command()
@click.option(
    "-f",
    "--file",
    "paths",
    type=click.Path(dir_okay=False),
    multiple=True,
    default=["pool.yaml"],
    show_default=True,
    help="A pool definition; repeat it to see several pools at once (read concurrently).",
)
@click.option(
    "--logs", "log_lines", type=click.IntRange(0, 200), default=10, show_default=True, help="Pool log lines."
)
@pass_app
def status(app: App, paths: tuple[str, ...], log_lines: int) -> int:
    """Pool state, nodes, scale set instances, image drift and recent pool logs."""
    from agentctl import config, pools

    specs = [config.load(p) for p in paths]
    found = pools.status_many(specs, app.target(specs[0]), log_lines)
    if len(found) == 1:
        return app.finish(Result("status", found[0], view=_status_view))
    data = {"pools": [{"file": p, "status": s} for p, s in zip(paths, found, strict=True)]}
    return app.finish(Result("status", data, view=_fleet_view))
