"""Commands on a pool file: init, validate, schema, plan, deploy-pool, destroy."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.errors import (
    EXIT_CHANGES,
    EXIT_DECLINED,
    EXIT_FAILED,
    Interrupted,
    InvalidInput,
    PreconditionFailed,
    Problem,
    UsageError,
)
from agentctl.output import Renderer, Result, View
from agentctl.stopping import Stop

FILE = click.option(
    "-f", "--file", "path", default="pool.yaml", show_default=True, help="The pool definition."
)
FILES = click.option(
    "-f",
    "--file",
    "paths",
    multiple=True,
    default=["pool.yaml"],
    show_default=True,
    help="A pool file, or a folder (its *.yaml and *.yml files); repeat it for several pools.",
)


def pool_files(paths: tuple[str, ...]) -> list[str]:
    """The files ``-f`` names: a folder stands for its pool files (sorted); a file given twice counts once."""
    files: list[str] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            files.append(given)
            continue
        found = sorted(str(f) for f in path.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file())
        if not found:
            raise InvalidInput(f"{given}: a folder with no pool files (*.yaml, *.yml) in it")
        files += found
    unique: dict[str, str] = {}
    for f in files:
        unique.setdefault(os.path.realpath(f), f)
    return list(unique.values())


def load_pools(paths: tuple[str, ...]) -> tuple[list[str], list[Any]]:
    """The pool files and their specs; every invalid file is reported, before anything is read."""
    from agentctl import config

    files, specs, failed = pool_files(paths), [], []
    for f in files:
        try:
            specs.append(config.load(f))
        except InvalidInput as e:
            failed.append(e)
    if len(failed) == 1:
        raise failed[0]
    if failed:
        problems = [p for e in failed for p in (e.problems or [Problem(e.message)])]
        raise InvalidInput(f"{len(failed)} of {len(files)} pool files are invalid", problems=problems)
    return files, specs


@click.command()
@click.argument("path", type=click.Path(dir_okay=False), default="pool.yaml")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option(
    "--backend",
    type=click.Choice(["scaleSet", "managedPool"]),
    default="scaleSet",
    show_default=True,
    help="A scale-set (elastic) pool, or a Managed DevOps Pool.",
)
@pass_app
def init(app: App, path: str, force: bool, backend: str) -> int:
    """Write an annotated pool.yaml to start from (missing parent directories are created)."""
    target = Path(path)
    if target.exists() and not force:
        raise UsageError(f"{target} exists", hint="use --force to overwrite it")
    template = {"scaleSet": "pool.yaml", "managedPool": "managed-pool.yaml"}[backend]
    text = resources.files("agentctl").joinpath(f"templates/{template}").read_text()
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
@FILES
@pass_app
def validate(app: App, paths: tuple[str, ...]) -> int:
    """Check pool files offline: types, names, ids and cross-field rules."""
    files, specs = load_pools(paths)
    found = [
        {"path": f, "valid": True, "pool": s.devops.pool.name, "scaleSet": s.scaleSet.name}
        for f, s in zip(files, specs, strict=True)
    ]

    def view(console: Any, d: dict[str, Any]) -> None:
        for one in d.get("pools", [d]):
            console.print(f"{one['path']}: valid")

    return app.finish(Result("validate", found[0] if len(found) == 1 else {"pools": found}, view=view))


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


@contextmanager
def _progress(app: App) -> Iterator[Callable[[str], Any]]:
    """Progress of the steps being applied; yields ``events(prefix)``: the event callback of one pool."""
    with app.renderer.progress() as bar:
        tasks: dict[tuple[str, str], Any] = {}

        def events(prefix: str) -> Callable[[Any, str], None]:
            def on_event(action: Any, state: str) -> None:
                label, key = f"{prefix}{action.op} {action.kind} {action.name}", (prefix, action.key)
                if state == "start":
                    tasks[key] = bar.add_task(label, total=None)
                else:
                    bar.update(tasks[key], description=f"{label}: {state}")
                    bar.remove_task(tasks.pop(key))

            return on_event

        yield events


@contextmanager
def _ctrl_c(app: App, stop: Stop) -> Iterator[None]:
    """While steps run, the first Ctrl-C stops the run after them (no new step starts); the second
    leaves at once. Before any step runs, Ctrl-C interrupts at once (nothing was written)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    next_run = "the next run observes what exists and does only what is left"

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.requested():
            app.renderer.stop_progress()
            err = Interrupted("interrupted while steps were running", hint=f"they go on in Azure; {next_run}")
            # a renderer of its own: this handler may have stopped the other one mid-print
            Renderer(app.renderer.mode).error(app.command, err)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(err.exit_code)  # running steps' threads would otherwise be waited for
        stop.request()
        if not stop.writing:
            raise KeyboardInterrupt
        app.renderer.note(
            "Ctrl-C: stopping once the running steps finish (no new step starts); "
            f"Ctrl-C again leaves now; {next_run}.",
            always=True,
        )

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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

    def with_wait(console: Any, data: dict[str, Any]) -> None:
        view(console, data)
        if "wait" in data:
            from agentctl.cli.wait import wait_view

            wait_view(console, data["wait"])

    return with_wait


def _plan_status(the_plan: Any) -> tuple[str, int]:
    return ("changed", EXIT_CHANGES) if the_plan["changed"] else ("ok", 0)


def _applied_status(data: dict[str, Any]) -> tuple[str, int]:
    from agentctl.cli.wait import wait_failed

    if wait_failed(data.get("wait") or {}):
        return "error", EXIT_FAILED
    if data.get("cancelled"):
        return "ok", EXIT_DECLINED
    return ("changed", 0) if data["applied"] else ("ok", 0)


def _report(
    app: App,
    files: list[str],
    outcomes: list[Any],
    view: View,
    status_of: Callable[[dict[str, Any]], tuple[str, int]],
) -> int:
    """Render one pool's result as always; several pools' as one summary, exiting with the worst
    code: a failed pool's (the highest among failures) before any success code (``plan``'s 2)."""
    from agentctl.cli.wait import wait_errors

    if len(files) == 1:
        (one,) = outcomes
        if one.error is not None:
            raise one.error
        status, code = status_of(one.data)
        errors = wait_errors(one.data.get("wait") or {}) if isinstance(one.data, dict) else []
        return app.finish(Result(app.command, one.data, status, code, view=view, errors=errors))
    entries = []
    for file, one in zip(files, outcomes, strict=True):
        if one.error is not None:
            errors = [{**e, "file": e.get("file", file)} for e in one.error.to_dicts()]
            entries.append(
                {"file": file, "status": "error", "exitCode": one.error.exit_code, "errors": errors}
            )
        else:
            status, code = status_of(one.data)
            entries.append({"file": file, "status": status, "exitCode": code, "data": one.data})
    failed = [e["exitCode"] for e in entries if e["status"] == "error"]
    worst = max(failed) if failed else max(e["exitCode"] for e in entries)
    counts = {k: sum(e["status"] == k for e in entries) for k in ("changed", "ok", "error")}
    status = "error" if failed else ("changed" if counts["changed"] else "ok")

    def fleet_view(console: Any, d: dict[str, Any]) -> None:
        from rich.markup import escape

        from agentctl.cli.status import heading

        for e in d["pools"]:
            heading(console, e["file"])
            if e["status"] != "error":
                view(console, e["data"])
            for err in e.get("errors", []):
                where = f"{err['file']}:{err['line']}: " if err.get("line") else ""
                where += f"{err['field']}: " if err.get("field") else ""
                console.print(f"[bold red]error[/] ({err['code']}): {escape(where + err['message'])}")
                if err.get("hint"):
                    console.print(f"[dim]hint: {escape(err['hint'])}[/]")
        c = d["summary"]
        console.print(
            f"{len(d['pools'])} pools: {c['changed']} changed, {c['ok']} unchanged, {c['error']} failed"
        )

    data = {"pools": entries, "summary": counts}
    errors = [err for e in entries for err in e.get("errors", [])]
    return app.finish(Result(app.command, data, status, worst, view=fleet_view, errors=errors))


@click.command()
@FILES
@pass_app
def plan(app: App, paths: tuple[str, ...]) -> int:
    """Show what deploy-pool would change. Exit 0: nothing; 2: changes pending."""
    from agentctl import pools

    files, specs = load_pools(paths)
    found = pools.plan_many(specs, [app.target(s) for s in specs])
    for one in found:
        one.data = one.data.to_dict() if one.data is not None else None
    return _report(app, files, found, _plan_table, _plan_status)


@click.command("deploy-pool")
@FILES
@YES
@click.option(
    "--wait",
    "wait_online",
    is_flag=True,
    help="Then wait until the standby agents are online, showing node states (agentctl wait); "
    "exit 1 with a diagnosis when a node fails or the timeout passes.",
)
@click.option("--timeout", help="With --wait: how long to wait (90s, 15m, 1h; default 20m).")
@click.option(
    "--allow-backend-switch",
    is_flag=True,
    help="With --yes: apply a plan that switches a pool's backend (deletes the other backend's pool).",
)
@pass_app
def deploy_pool(
    app: App,
    paths: tuple[str, ...],
    yes: bool,
    wait_online: bool,
    timeout: str | None,
    allow_backend_switch: bool,
) -> int:
    """Create or converge the pool (scale set or managed pool), agent pool and connections of pool files."""
    import functools

    from agentctl import plan as planner
    from agentctl import pools
    from agentctl.cli import wait

    if timeout is not None and not wait_online:
        raise UsageError("--timeout goes with --wait")
    after = None
    if wait_online:
        seconds = wait.duration(timeout or "20m")

        def after(file: str, spec: Any, data: dict[str, Any]) -> None:
            data["wait"] = wait.wait_data(app, spec, seconds, f"{file}: " if len(paths) > 1 else "")

    nothing = "Nothing to change: everything matches the pool file."
    deploy = functools.partial(pools.deploy, allow_switch=allow_backend_switch or not yes)  # shown: confirmed
    return _converge(app, paths, yes, planner.plan, deploy, "Apply these changes?", nothing, after)


@click.command()
@FILES
@YES
@pass_app
def destroy(app: App, paths: tuple[str, ...], yes: bool) -> int:
    """Remove what agentctl created for pool files, in reverse order."""
    from agentctl import plan as planner
    from agentctl import pools

    nothing = "Nothing to delete: nothing agentctl created for this pool exists."
    return _converge(app, paths, yes, planner.plan_destroy, pools.destroy, "Delete these resources?", nothing)


def _converge(
    app: App,
    paths: tuple[str, ...],
    yes: bool,
    planner: Any,
    use_case: Any,
    question: str,
    nothing: str,
    after: Callable[[str, Any, dict[str, Any]], None] | None = None,
) -> int:
    """Without --yes: plan every pool, show the plans, ask once (refuse off a terminal), and apply
    only if each pool's plan, made again under its lease, is still the one shown. ``after`` runs
    on each applied pool's data once every pool is applied (``--wait``)."""
    from agentctl import pools

    files, specs = load_pools(paths)
    targets = [app.target(s) for s in specs]
    index = {id(s): i for i, s in enumerate(specs)}
    view = _applied_view(nothing)
    confirms: list[Callable[[Any], bool]] = [lambda p: True] * len(specs)
    if not yes:
        shown = pools.plan_many(specs, targets, planner)
        if any(o.error for o in shown) or not any(o.data.changed for o in shown):
            for o in shown:
                o.data = {"plan": o.data.to_dict(), "applied": False, "outcomes": []} if o.data else None
            return _report(app, files, shown, view, _applied_status)
        if not app.renderer.json:
            for file, o in zip(files, shown, strict=True):
                if o.data.changed:
                    _plan_table(
                        app.renderer.err, o.data.to_dict(), "Plan" if len(files) == 1 else f"Plan: {file}"
                    )
        if app.renderer.json or not app.renderer.err.is_terminal:
            raise UsageError(f"{app.command} needs confirmation", hint="pass --yes when not on a terminal")
        if not app.renderer.confirm(question):
            for o in shown:
                o.data = {"plan": o.data.to_dict(), "applied": False, "outcomes": [], "cancelled": True}
            return _report(app, files, shown, view, _applied_status)
        confirms = [_as_shown(f, o.data) for f, o in zip(files, shown, strict=True)]
    stop = Stop()
    with _progress(app) as events, _ctrl_c(app, stop):

        def one(spec: Any, c: Any) -> dict[str, Any]:
            i = index[id(spec)]
            prefix = f"{files[i]}: " if len(files) > 1 else ""
            data: dict[str, Any] = use_case(
                spec, c.arm.target, confirms[i], events(prefix), app.renderer.note, stop, c
            )
            return data

        outcomes = pools.each_pool(specs, targets, one)
    for file, spec, o in zip(files, specs, outcomes, strict=True):
        if after is not None and o.error is None:
            after(file, spec, o.data)
    return _report(app, files, outcomes, view, _applied_status)


def _as_shown(file: str, shown: Any) -> Callable[[Any], bool]:
    """A confirmation that holds while the plan is the one the user said yes to."""

    def confirm(the_plan: Any) -> bool:
        if the_plan.to_dict() != shown.to_dict():
            raise PreconditionFailed(
                f"{file}: what exists changed since its plan was shown; nothing was changed",
                hint="run the same command again to see the new plan",
            )
        return True

    return confirm
