"""Per-invocation state shared by the commands: output mode, debug, sandbox, and clean-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from agentctl.output import Renderer, Result


@dataclass
class App:
    output: str = "table"
    debug: bool = False
    sandbox: bool = False
    sandbox_dir: str = ".agentctl/sandbox"
    world: str | None = None
    command: str = "agentctl"
    renderer: Renderer = field(init=False)
    _closers: list[Callable[[], None]] = field(default_factory=list)
    _targets: dict[tuple[str, ...], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.renderer = Renderer(self.output, self.debug)

    def set_global(self, name: str, value: Any) -> None:
        """A global option given after the command's name: it counts as if given before."""
        from agentctl import logs

        setattr(self, name, value)
        self.renderer = Renderer(self.output, self.debug)
        logs.configure(self.debug)

    def finish(self, result: Result) -> int:
        """Render a command's result; return its exit code (the CLI's return value)."""
        self.renderer.emit(result)
        return result.exit_code

    def target(self, spec: Any) -> Any:
        """Where this run talks to: the sandbox (in-process or already serving) or Azure; one
        target per cloud, credential and organization, made once per run."""
        org = spec.devops.organization
        key = (org,) if self.sandbox else (spec.azure.cloud, spec.azure.credential, org)
        if key not in self._targets:
            self._targets[key] = self._sandbox_target(org) if self.sandbox else self._new_target(spec)
        return self._targets[key]

    def _sandbox_target(self, organization: str) -> Any:
        """The sandbox, addressed with the pool file's organization (the world's one answers;
        another is unknown there, as it would be in Azure DevOps)."""
        from dataclasses import replace
        from urllib.parse import urlsplit

        if () not in self._targets:
            self._targets[()] = self._new_target(None)
        base = self._targets[()]
        parts = urlsplit(organization)
        name = parts.path.strip("/").rsplit("/", 1)[-1] or (parts.hostname or "").split(".")[0]
        return replace(base, devops_url=f"{base.devops_url.rsplit('/', 1)[0]}/{name}", sandbox=None)

    def _new_target(self, spec: Any) -> Any:
        from agentctl import cloud

        if self.sandbox:
            from agentctl.sandbox.store import STATE_FILE

            if self.world and (Path(self.sandbox_dir) / STATE_FILE).exists():
                self.renderer.note(
                    f"note: --world is not used: the sandbox in {self.sandbox_dir} has its state already "
                    "(`agentctl sandbox reset` clears it, and the next run seeds the world)"
                )
            state = Path(self.sandbox_dir).resolve()
            fresh = not (state / STATE_FILE).exists()
            target = cloud.sandbox_target(self.sandbox_dir, self.world)
            if target.sandbox is not None:
                self.on_close(target.sandbox.stop)
            how = (
                "started in this process"
                if target.sandbox is not None
                else "served by `agentctl sandbox serve`"
            )
            self.renderer.note(f"sandbox: {state} ({how}{', a new world' if fresh else ''})")
            if not Path(self.sandbox_dir).is_absolute():
                self._compare_with_last(state, fresh)
            return target
        return cloud.cloud_target(
            spec.azure.cloud, spec.azure.credential, spec.devops.organization, spec.org_name
        )

    def _compare_with_last(self, state: Path, fresh: bool) -> None:
        """A relative sandbox folder depends on where agentctl runs: say so when a run makes a new,
        empty world in another folder than the last run used (which looks like everything vanished)."""
        from agentctl.lease import lock_dir

        memo = lock_dir() / "last-sandbox-dir"
        last = memo.read_text().strip() if memo.exists() else ""
        if fresh and last and last != str(state) and Path(last).is_dir():
            self.renderer.note(
                f"note: the last run used the sandbox in {last}; this one starts a new, empty one in "
                f"{state}, since --sandbox-dir {self.sandbox_dir} is relative to the current folder "
                f"(run from the last folder, or pass --sandbox-dir {last})"
            )
        memo.write_text(f"{state}\n")

    def on_close(self, fn: Callable[[], None]) -> None:
        self._closers.append(fn)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()


_APP = App()


def set_app(app: App) -> None:
    global _APP
    _APP = app


def current_app() -> App:
    return _APP


def command_name(ctx: click.Context | None) -> str:
    """The command's name in envelopes: ``kubeconfig check``; ``agentctl`` for the group itself."""
    return (ctx.command_path.removeprefix("agentctl ").strip() if ctx else "") or "agentctl"


def pass_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command the App, and remember the command's full name for error envelopes."""

    @click.pass_context
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        app = ctx.find_object(App) or current_app()
        app.command = command_name(ctx)
        return fn(app, *args, **kwargs)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper
