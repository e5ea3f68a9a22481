"""Commands on a pool file: init, validate, schema, plan, deploy-pool, status, destroy."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import click

from agentctl.cli.app import App, pass_app
from agentctl.errors import UsageError
from agentctl.output import Result

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
    """Write an annotated pool.yaml to start from."""
    target = Path(path)
    if target.exists() and not force:
        raise UsageError(f"{target} exists", hint="use --force to overwrite it")
    text = resources.files("agentctl").joinpath("templates/pool.yaml").read_text()
    target.write_text(text)
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
