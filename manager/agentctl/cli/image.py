"""`agentctl image list|roll|prune|diff`: gallery versions, moving a pool onto one, deleting old ones,
and what changed between two images' software reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.cli.pool import FILE, YES
from agentctl.errors import EXIT_DECLINED, ApplyFailed, UsageError, quoted
from agentctl.output import Result

FILES = click.option(
    "-f",
    "--file",
    "paths",
    multiple=True,
    type=click.Path(dir_okay=False),
    default=["pool.yaml"],
    show_default=True,
    help="A pool definition; repeat it for every pool that uses the gallery.",
)

View = Callable[[Any, dict[str, Any]], None]


@click.group()
def image() -> None:
    """Gallery image versions: list them, roll a pool onto one, prune old ones, diff their software."""


def _confirm(app: App, yes: bool, question: str, view: View) -> Callable[[dict[str, Any]], bool]:
    """Ask on a terminal (after showing the plan); refuse off a terminal unless --yes."""

    def confirm(data: dict[str, Any]) -> bool:
        if yes:
            return True
        if not app.renderer.json:
            view(app.renderer.err, data)
        if app.renderer.json or not app.renderer.err.is_terminal:
            raise UsageError(f"{app.command} needs confirmation", hint="pass --yes when not on a terminal")
        return app.renderer.confirm(question)

    return confirm


def _declined(data: dict[str, Any]) -> int:
    """The exit code of a run that asked: 6 when the answer was no (nothing was changed)."""
    return EXIT_DECLINED if data.get("cancelled") else 0


def _label(image_id: str | None) -> str:
    from agentctl.images import split_reference

    if not image_id:
        return "none"
    return split_reference(image_id)[1] or "latest"


# --- list ------------------------------------------------------------------------------------


def _list_view(console: Any, d: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from agentctl.images import Use

    for img in d["images"]:
        table = Table(title=escape(img["id"]), title_justify="left", show_edge=False)
        for col in ("version", "published", "state", "latest", "end of life", "used by"):
            table.add_column(col, overflow="fold")
        for v in reversed(img["versions"]):
            state = v["provisioningState"] + (f", replication {v['replication']}" if v["replication"] else "")
            latest = "latest" if v["latest"] else ("excluded" if v["excludeFromLatest"] else "")
            used = "\n".join(Use(**u).describe() for u in v["usedBy"])
            published, eol = (v["publishedDate"] or "-")[:10], (v["endOfLifeDate"] or "-")[:10]
            table.add_row(v["name"], published, state, latest, eol, escape(used))
        console.print(table)
    for p in d["pools"]:
        pinned = f"pinned to {p['pinned']}" if p["pinned"] else "latest"
        model = f"scale set model {p['modelVersion']}" if p["modelVersion"] else "not deployed"
        console.print(f"pool {escape(p['pool'])} ({escape(p['file'])}): file {pinned}, {model}")


@image.command("list")
@FILES
@pass_app
def list_(app: App, paths: tuple[str, ...]) -> int:
    """Versions of the pools' images: date, replication, latest, and which pools use each."""
    from agentctl import images

    specs = images.load_pools(list(paths))
    data = images.list_images(specs, app.target(specs[0]))
    return app.finish(Result(app.command, data, view=_list_view))


# --- roll ------------------------------------------------------------------------------------


def _roll_view(console: Any, d: dict[str, Any]) -> None:
    from rich.markup import escape

    if d.get("cancelled"):
        console.print("Cancelled; nothing was changed.")
        return
    done = d["applied"]
    m, version = d["model"], d["version"]
    old, new = _label(m["old"]), _label(m["new"])
    what = f"managed pool {d['pool']}" if d.get("backend") == "managedPool" else f"scale set {d['scaleSet']}"
    if not m["changed"]:
        console.print(f"{what}: already on image {new} ({version})")
    else:
        console.print(f"{what}: image {old} -> {new}" + ("" if done else " (planned)"))
    pool_file = d["poolFile"]
    if pool_file and pool_file["written"]:
        console.print(f"{escape(d['file'])}:{pool_file['line']}: image.version set to {pool_file['new']}")
    elif pool_file:
        console.print(
            f"[yellow]update the pool file[/]: {escape(pool_file['instruction'])} (or rerun with --write); "
            f"until then deploy-pool moves the pool back to {pool_file['old'] or 'latest'}"
        )
    recycle = d["recycle"]
    recycled = {n["instanceId"] for n in recycle["nodes"]} if recycle["done"] else set()
    outdated = ", ".join(
        f"{i['instanceId']} ({i['version'] or 'unknown'})"
        for i in d["outdatedInstances"]
        if i["instanceId"] not in recycled
    )
    if outdated:
        console.print(f"Running agents keep their image: instance(s) {outdated}.")
    console.print(f"New agents start from {version}; busy agents are never touched.")
    if recycle["requested"]:
        names = ", ".join(f"{n['node']} (instance {n['instanceId']})" for n in recycle["nodes"]) or "none"
        console.print(("Recycled idle agents: " if recycle["done"] else "Idle agents to recycle: ") + names)
        for n in recycle["kept"]:
            console.print(f"  kept {n['node']} (instance {n['instanceId']}): {n['reason']}")
    elif outdated:
        console.print("Pass --recycle-idle to replace the idle ones now.")


def _check_version(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    import re

    from agentctl.config import IMAGE_VERSION

    if value is not None and not re.match(IMAGE_VERSION, value):
        raise click.BadParameter(f"{quoted(value)} is not Major.Minor.Patch, e.g. 2026.1129.1")
    return value


@image.command()
@FILE
@click.option(
    "--version", "version", callback=_check_version, help="Roll to this version (Major.Minor.Patch)."
)
@click.option(
    "--latest",
    is_flag=True,
    help="Roll to the newest version that succeeded and is not excluded from latest (the default).",
)
@click.option(
    "--recycle-idle",
    is_flag=True,
    help="Delete the VMs of idle agents on an older image, so Azure DevOps recreates them from the new one.",
)
@click.option("--write", is_flag=True, help="Update image.version in the pool file in place (comments kept).")
@YES
@pass_app
def roll(
    app: App, path: str, version: str | None, latest: bool, recycle_idle: bool, write: bool, yes: bool
) -> int:
    """Point a pool's scale set at an image version. Running agents keep their image."""
    from agentctl import config, images

    if version and latest:
        raise UsageError("--version and --latest exclude each other")
    spec = config.load(path)
    confirm = _confirm(app, yes, "Roll the pool onto this image?", _roll_view)
    data = images.roll(spec, app.target(spec), version, recycle_idle, write, confirm, app.renderer.note)
    status = "changed" if data["applied"] else "ok"
    return app.finish(Result(app.command, data, status, _declined(data), view=_roll_view))


# --- prune -----------------------------------------------------------------------------------


def _prune_view(console: Any, d: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    for img in d["images"]:
        table = Table(title=escape(img["id"]), title_justify="left", show_edge=False)
        for col in ("", "version", "published", "state", "kept because"):
            table.add_column(col, overflow="fold")
        for v in reversed(img["versions"]):
            mark = "[red]-[/]" if v["delete"] else "[dim]=[/]"
            published = (v["publishedDate"] or "-")[:10]
            why = escape("; ".join(v["keptBecause"]))
            table.add_row(mark, v["name"], published, v["provisioningState"], why)
        console.print(table)
    planned = sum(v["delete"] for img in d["images"] for v in img["versions"])
    if d.get("cancelled"):
        console.print("Cancelled; nothing was deleted.")
    elif d["applied"]:
        console.print(f"{len(d['deleted'])} version(s) deleted, {len(d['failed'])} failed.")
        for f in d["failed"]:
            console.print(f"[red]failed[/] {f['version']}: {escape(f['error'])}")
    else:
        console.print(f"{planned} version(s) to delete (keeping the newest {d['keep']} and those in use).")


@image.command()
@click.option(
    "--keep", type=click.IntRange(min=1), required=True, help="How many of the newest versions to keep."
)
@FILES
@YES
@pass_app
def prune(app: App, keep: int, paths: tuple[str, ...], yes: bool) -> int:
    """Delete image versions beyond the newest N, never one that a given pool uses."""
    from agentctl import images

    specs = images.load_pools(list(paths))
    confirm = _confirm(app, yes, "Delete these image versions?", _prune_view)
    data = images.prune(specs, app.target(specs[0]), keep, confirm, app.renderer.note)
    errors = [
        {"code": ApplyFailed.code, "message": f"delete {f['image']}/versions/{f['version']}: {f['error']}"}
        for f in data["failed"]
    ]
    status = "error" if errors else ("changed" if data["applied"] else "ok")
    code = 1 if errors else _declined(data)
    return app.finish(Result(app.command, data, status, code, view=_prune_view, errors=errors))


# --- diff ------------------------------------------------------------------------------------

SECTION_TITLES = {
    "tools": "tools",
    "apt_packages": "apt packages of the tools",
    "ubuntu_packages": "Ubuntu packages",
    "container_images": "container images",
}
MARKS = {"added": "+", "removed": "-", "changed": "~"}


def _diff_view(console: Any, d: dict[str, Any]) -> None:
    from rich.markup import escape

    def label(image: dict[str, Any]) -> str:
        return escape(
            " ".join(filter(None, [image["name"], image["version"], image["os"] and f"({image['os']})"]))
        )

    console.print(f"{label(d['old'])} -> {label(d['new'])}")
    for section, title in SECTION_TITLES.items():
        changes = [c for c in d["changes"] if c["section"] == section]
        if changes:
            console.print(f"{title}:")
        for c in changes:
            versions = {"added": c["new"], "removed": c["old"], "changed": f"{c['old']} -> {c['new']}"}
            console.print(f"  {MARKS[c['change']]} {escape(c['name'])} {escape(versions[c['change']])}")
    t = d["totals"]
    console.print(
        f"{t['added']} added, {t['removed']} removed, {t['changed']} changed, {t['unchanged']} unchanged"
    )


@image.command()
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@pass_app
def diff(app: App, old: str, new: str) -> int:
    """What changed from the OLD image to the NEW one: tools, packages and container images added,
    removed or changed, with versions. OLD and NEW are software reports (software-report.json), or
    folders holding one, such as the nightly's software-report-<os> artifacts."""
    from agentctl import reportdiff

    data = reportdiff.compare(reportdiff.load_report(old), reportdiff.load_report(new))
    return app.finish(Result(app.command, data, view=_diff_view))
