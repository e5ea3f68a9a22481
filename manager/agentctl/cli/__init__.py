"""Command-line entry point.

Commands live in their own modules and are imported only when invoked (or listed by
``--help``), so ``agentctl --help`` and ``agentctl validate`` never import the Azure SDKs.
Commands are thin: parse options, call one core function, hand its ``Result`` to the renderer.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from typing import Any, NoReturn

import click

from agentctl import __version__
from agentctl.cli.app import App, command_name, current_app, set_app
from agentctl.errors import AgentctlError, InternalError, Interrupted, UsageError

# name -> "module:attribute"; the module is imported on first use.
COMMANDS: dict[str, str] = {
    "init": "agentctl.cli.pool:init",
    "validate": "agentctl.cli.pool:validate",
    "plan": "agentctl.cli.pool:plan",
    "deploy-pool": "agentctl.cli.pool:deploy_pool",
    "status": "agentctl.cli.status:status",
    "destroy": "agentctl.cli.pool:destroy",
    "standby": "agentctl.cli.standby:standby",
    "doctor": "agentctl.cli.doctor:doctor",
    "wait": "agentctl.cli.wait:wait",
    "diagnose": "agentctl.cli.wait:diagnose",
    "image": "agentctl.cli.image:image",
    "kubeconfig": "agentctl.cli.kubeconfig:kubeconfig",
    "sandbox": "agentctl.cli.sandbox:sandbox",
    "schema": "agentctl.cli.pool:schema",
}


class OutputMode(click.Choice[str]):
    """``table`` or ``json``; a bad value from AGENTCTL_OUTPUT names the variable."""

    def __init__(self) -> None:
        super().__init__(["table", "json"])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from click.core import ParameterSource

        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            if ctx and param and ctx.get_parameter_source(str(param.name)) is ParameterSource.ENVIRONMENT:
                self.fail(f"AGENTCTL_OUTPUT={value} is not one of 'table', 'json'", param, ctx)
            raise


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        for name, target in self.lazy.items():
            if _module_exists(target.partition(":")[0]):
                names.add(name)
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, _, attr = self.lazy[cmd_name].partition(":")
            if not _module_exists(module):
                return None
            cmd = getattr(importlib.import_module(module), attr, None)
            if not isinstance(cmd, click.Command):
                return None
            _prepare(cmd)
            return cmd
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            name = args[0] if args else ""
            names = self.list_commands(ctx)
            near = [n for n in names if n.startswith(name)] or difflib.get_close_matches(name, names, n=1)
            if not near or name.startswith("-"):
                raise
            raise click.UsageError(f"No such command '{name}'. Did you mean '{near[0]}'?", ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; map domain errors, Ctrl-C and non-zero results to exit codes."""
        try:
            rv = super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except (click.exceptions.Abort, KeyboardInterrupt):
            _fail(ctx, Interrupted("interrupted"))
        except AgentctlError as err:
            _fail(ctx, err)
        except Exception as bug:  # a bug: say so plainly, traceback only with --debug
            if current_app().debug:
                raise
            _fail(
                ctx,
                InternalError(
                    f"internal error: {type(bug).__name__}: {bug}",
                    hint="this is a bug in agentctl; run again with --debug for the traceback and report it",
                ),
            )
        if isinstance(rv, int) and rv:
            ctx.exit(rv)
        return rv


# The global options a command also takes after its name (`agentctl plan -o json`), as az and
# kubectl users expect; a command's own option of the same name wins (`sandbox serve --world`).
LATE_OPTIONS: list[tuple[list[str], dict[str, Any]]] = [
    (["--output", "-o"], {"type": OutputMode()}),
    (["--debug"], {"is_flag": True}),
    (["--sandbox"], {"is_flag": True}),
    (["--sandbox-dir", "sandbox_dir"], {"type": click.Path(file_okay=False)}),
    (["--world"], {"type": click.Path(dir_okay=False)}),
]


def _prepare(cmd: click.Command) -> None:
    """Give ``cmd`` (and the commands under it) the global options it does not define itself, and
    a summary for command lists that is its first sentence whole (click would cut it at 45 characters)."""
    if cmd.help and not cmd.short_help:
        first = " ".join(cmd.help.split("\n\n")[0].split())
        cmd.short_help = first[: first.find(". ") + 1] if ". " in first else first
    taken = {opt for param in cmd.params for opt in param.opts}
    for decls, extra in LATE_OPTIONS:
        flags = [d for d in decls if d.startswith("-")]
        if not taken.intersection(flags):
            cmd.params.append(
                click.Option(decls, expose_value=False, hidden=True, callback=_late_global, **extra)
            )
    for sub in getattr(cmd, "commands", {}).values():
        _prepare(sub)


def _late_global(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is None or value is False:  # not given after the command
        return
    current_app().set_global(str(param.name), value)


def _fail(ctx: click.Context, err: AgentctlError) -> NoReturn:
    """Report ``err`` (the one error line, or the JSON envelope) and exit with its code."""
    app = current_app()
    app.renderer.error(app.command, err)
    if app.debug:
        import traceback

        traceback.print_exc()
    ctx.exit(err.exit_code)


def _module_exists(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--output",
    "-o",
    type=OutputMode(),
    default="table",
    show_default=True,
    envvar="AGENTCTL_OUTPUT",
    help="Text for people, or a versioned JSON envelope for scripts.",
)
@click.option("--debug", is_flag=True, help="Log HTTP traffic (secrets redacted) and show tracebacks.")
@click.option(
    "--sandbox",
    is_flag=True,
    envvar="AGENTCTL_SANDBOX",
    help=(
        "Run against the emulator of Azure and Azure DevOps instead of the cloud: the one "
        "`agentctl sandbox serve` runs on --sandbox-dir, else one started in this process "
        "(faults and timing: AGENTCTL_SANDBOX_FAULTS, AGENTCTL_SANDBOX_TIMING)."
    ),
)
@click.option(
    "--sandbox-dir",
    type=click.Path(file_okay=False),
    envvar="AGENTCTL_SANDBOX_DIR",
    default=".agentctl/sandbox",
    show_default=True,
    help="Where the sandbox keeps its state and access log (a relative path is from the current folder).",
)
@click.option(
    "--world",
    type=click.Path(dir_okay=False),
    envvar="AGENTCTL_SANDBOX_WORLD",
    help="Seed world (YAML) for a new sandbox state; defaults to the built-in world.",
)
@click.version_option(__version__, prog_name="agentctl")
@click.pass_context
def cli(
    ctx: click.Context, output: str, debug: bool, sandbox: bool, sandbox_dir: str, world: str | None
) -> None:
    """Private Azure DevOps scale-set agents for private AKS clusters and registries.

    Exit codes: 0 ok, 1 failed while applying, 2 plan has changes or usage error,
    3 invalid input, 4 authentication or permission, 5 not found or precondition unmet,
    6 "no" at a confirmation, 130 interrupted (Ctrl-C).
    """
    from agentctl import logs

    app = App(output=output, debug=debug, sandbox=sandbox, sandbox_dir=sandbox_dir, world=world)
    set_app(app)
    ctx.obj = app
    ctx.call_on_close(app.close)
    logs.configure(debug)


def main() -> None:
    sys.exit(run(sys.argv[1:]))


def run(argv: list[str]) -> int:
    """Run the CLI in-process and return its exit code (``main``, tests and embedding)."""
    try:
        rv = cli.main(args=argv, prog_name="agentctl", standalone_mode=False)
    except click.exceptions.Abort:  # Ctrl-C before a command started
        return _report(Interrupted("interrupted"), None)
    except click.UsageError as err:
        if _output(err.ctx) == "json":
            return _report(UsageError(err.format_message()), err.ctx)
        err.show()  # usage line, "Try ... --help" and the message, as click prints them
        return err.exit_code
    except click.ClickException as err:
        err.show()
        return err.exit_code
    return rv if isinstance(rv, int) else 0


def _output(ctx: click.Context | None) -> str:
    """The output mode asked for, when parsing stopped before the App existed."""
    given = ctx.find_root().params.get("output") if ctx else None
    return str(given or os.environ.get("AGENTCTL_OUTPUT") or "table")


def _report(err: AgentctlError, ctx: click.Context | None) -> int:
    from agentctl.output import Renderer

    Renderer(_output(ctx)).error(command_name(ctx), err)
    return err.exit_code
