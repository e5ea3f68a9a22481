"""`agentctl kubeconfig check FILE [--fix [--out OUT]] [--context NAME]`: find and repair what breaks
a kubeconfig. Never prints a certificate, key or token; writes repaired files owner-only."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.errors import EXIT_INVALID, InvalidInput, UsageError
from agentctl.output import Result

if TYPE_CHECKING:
    from rich.console import Console


@click.group()
def kubeconfig() -> None:
    """Check, repair and minify kubeconfig files without printing their secrets."""


@kubeconfig.command()
@click.argument("file", type=click.Path(path_type=Path))  # _read: missing or unreadable exits 3
@click.option(
    "--fix",
    is_flag=True,
    help="Repair what is safe and keep only one context; rewrites FILE in place unless --out is given.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --fix: write the repaired kubeconfig here (mode 0600) and leave FILE alone; "
    "a symbolic link here is refused.",
)
@click.option(
    "--context", help="With --fix: the context to keep (default: current-context, or the only one)."
)
@pass_app
def check(app: App, file: Path, fix: bool, out: Path | None, context: str | None) -> int:
    """Report what is wrong with kubeconfig FILE (code, file:line and field, fixable).

    Finds base64 broken by copy-paste, CRLF, BOM, UTF-16, tabs, certificates and keys that are
    not PEM or have expired, missing or dangling contexts, clusters and users, interactive
    (device code) logins, missing or http:// servers and skipped TLS checks; names the exec and
    auth-provider plugins kubectl would run (as warnings; agentctl never runs them). Exit 0 when
    no error is left (also after a --fix), 3 when errors remain.
    """
    from agentctl import kubeconfig as kc

    if not fix and (out is not None or context is not None):
        raise UsageError("--out and --context only apply with --fix")
    if out is not None and str(out) == "-":
        raise UsageError(
            "a kubeconfig holds credentials: it is never written to stdout", hint="give --out a path"
        )
    if out is not None and out.is_symlink():
        raise InvalidInput(
            f"{out} is a symbolic link: agentctl does not write a kubeconfig through a link",
            hint="remove the link or give --out another path",
        )
    raw = _read(file, kc.MAX_BYTES + 1)
    findings = kc.check(raw, str(file))
    written: Path | None = None
    if fix and (context is not None or any(f.fixable for f in findings)):
        fixed, findings = kc.fix(raw, str(file), context)
        written = out if out is not None else file
        tightened = _write_private(written, fixed, in_place=out is None)
        if tightened:
            app.renderer.note(f"{written}: removed group and other access ({tightened})")
    data = {
        "file": str(file),
        "findings": [f.to_dict() for f in findings],
        "fixed": written is not None,
        "output": str(written) if written is not None else None,
    }
    errors = [f.to_error() for f in kc.blocking(findings)]
    status = "error" if errors else "changed" if written is not None else "ok"
    return app.finish(
        Result(app.command, data, status, EXIT_INVALID if errors else 0, view=_view, errors=errors)
    )


def _read(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(limit)
    except OSError as e:
        raise InvalidInput(f"cannot read {path}: {e.strerror}") from None


def _write_private(target: Path, text: str, in_place: bool) -> str:
    """Replace ``target`` atomically, readable by its owner only.

    In place, the file keeps its mode minus any group/other bits (returned as "0644 -> 0600"
    when that removed something); a symlink keeps pointing at the rewritten file. Otherwise
    (``--out``) the file gets 0600 and a link there is never followed: the rename replaces the
    directory entry itself, so a link put there after the caller's check is replaced, not written
    through.
    """
    mode, tightened = 0o600, ""
    target = target.resolve() if in_place else target.absolute()
    if in_place:
        old = stat.S_IMODE(target.stat().st_mode)
        mode = old & 0o700
        tightened = f"{old:04o} -> {mode:04o}" if old != mode else ""
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise InvalidInput(f"cannot write {target}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tightened


def _view(console: Console, data: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    findings = data["findings"]
    if findings:
        table = Table(show_edge=False, pad_edge=False)
        for column in ("code", "severity", "location", "problem", "fixable"):
            table.add_column(column, overflow="fold")
        for f in findings:
            table.add_row(
                Text(f["code"]),
                f["severity"],
                Text(f["location"]),
                Text(f["message"]),
                "yes" if f["fixable"] else "no",
            )
        console.print(table)
    errors = [f for f in findings if f["severity"] == "error"]
    warned = f", {len(findings) - len(errors)} warning(s)" if len(findings) > len(errors) else ""
    fixable = sum(1 for f in errors if f["fixable"])
    if data["fixed"]:
        left = f"; {len(errors)} problem(s) remain" if errors else "; clean"
        summary = f"wrote {data['output']}{left}{warned}"
    elif errors:
        summary = f"{data['file']}: {len(errors)} problem(s), {fixable} fixable with --fix{warned}"
    else:
        summary = f"{data['file']}: ok{warned}"
    console.print(Text(summary))
