"""`agentctl doctor -f pool.yaml`: why the pool's agents would not come online (read-only)."""

from __future__ import annotations

from typing import Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.cli.pool import FILE
from agentctl.errors import EXIT_NOT_FOUND
from agentctl.output import Result

STYLE = {"error": "red", "warning": "yellow", "info": "dim"}


@click.command()
@FILE
@click.option(
    "--probe",
    is_flag=True,
    help="Also probe from inside the subnet: through VM Run Command on one instance, resolve and "
    "open TLS to every host the agents need (runs a read-only script on the VM).",
)
@pass_app
def doctor(app: App, path: str, probe: bool) -> int:
    """Check, without writing anything, what keeps a pool's agents from coming online.

    Egress of the agents' subnet (NSGs, routes, NAT gateway, default outbound access), private DNS
    of the clusters and registries, subnet capacity, the caller's permissions in Azure and Azure
    DevOps, vCPU quota, the image, resource providers and the connection's federated credential.
    Each finding has a code, a severity, the resource, what was found and the fix. With --probe,
    one instance of the scale set resolves and connects to each host the agents need, the private
    clusters' API servers and the registries' endpoints, and reports what it met. Exit 0 with no
    error finding, 5 with one, 4 when authentication fails.
    """
    from agentctl import config
    from agentctl import doctor as core

    spec = config.load(path)
    findings = core.run(spec, app.target(spec))
    probed = None
    if probe:
        from agentctl.doctor import probe as prober

        found, probed = prober.run(spec, app.target(spec))
        findings = core.ordered([*findings, *found])
    data = core.report(findings)
    if probed is not None:
        data["probe"] = probed
    failed = data["summary"]["error"] > 0
    errors = [
        {"code": f.code, "message": f"{f.resource}: {f.found}", "hint": f.fix}
        for f in findings
        if f.severity == core.ERROR
    ]
    return app.finish(
        Result(
            "doctor",
            data,
            "error" if failed else "ok",
            EXIT_NOT_FOUND if failed else 0,
            view=_view,
            errors=errors,
        )
    )


def _short(resource: str) -> str:
    """``type/name`` of a resource id (the part a reader recognises); other resources as they are."""
    if "/providers/" not in resource:
        return resource
    segments = resource.rsplit("/providers/", 1)[1].split("/")[1:]
    return "/".join(segments[-4:]) if len(segments) > 4 else "/".join(segments)


def _view(console: Any, data: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False, pad_edge=False, show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("code / resource", overflow="fold", max_width=40)
    table.add_column("found / fix", overflow="fold", ratio=1)
    for f in data["findings"]:
        found = Text(f["found"])
        if f["fix"]:
            found.append("\nfix: ", style="bold").append(f["fix"])
        table.add_row(
            Text(f["severity"], style=STYLE[f["severity"]]),
            Text(f["code"], style="bold").append("\n" + _short(f["resource"]), style="dim"),
            found,
        )
    console.print(table)
    if "probe" in data:
        _probe_view(console, data["probe"])
    s = data["summary"]
    console.print(f"{s['error']} error(s), {s['warning']} warning(s), {s['info']} note(s)")


def _probe_view(console: Any, probe: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    if probe["instance"] is None:
        return  # the probe.no_instance finding says why and what to do
    table = Table(title=f"Probe from {probe['instance']}", title_justify="left", show_edge=False)
    for col in ("host", "addresses", "connect", "tls", "time"):
        table.add_column(col, overflow="fold")
    for h in probe["hosts"]:
        where = ", ".join(h["addresses"]) or "does not resolve"
        if h["addresses"]:
            where += " (private)" if h["private"] else " (public)"
        table.add_row(
            h["host"],
            where,
            Text(h["connect"], style="green" if h["connect"] == "ok" else "red"),
            Text(h["tls"], style="green" if h["tls"] == "ok" else "red"),
            f"{h['seconds']['total']:.2f} s",
        )
    console.print(table)
