"""The only module that prints.

Commands return a ``Result``; ``Renderer`` prints it as Rich text on a terminal (tables to
stdout, progress and messages to stderr) or as one versioned JSON envelope with
``--output json``::

    {"schemaVersion": 1, "agentctlVersion": "0.1.0", "command": "plan",
     "status": "ok" | "changed" | "error", "data": {...}, "errors": [{"code", "message", ...}]}
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentctl import __version__
from agentctl.errors import AgentctlError

if TYPE_CHECKING:
    from rich.console import Console

ENVELOPE_VERSION = 1

View = Callable[["Console", Any], None]


@dataclass
class Result:
    command: str
    data: Any = None
    status: str = "ok"  # ok | changed | error
    exit_code: int = 0
    view: View | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def envelope(result: Result) -> dict[str, Any]:
    return {
        "schemaVersion": ENVELOPE_VERSION,
        "agentctlVersion": __version__,
        "command": result.command,
        "status": result.status,
        "data": result.data,
        "errors": result.errors,
    }


class Renderer:
    def __init__(self, mode: str = "table", debug: bool = False) -> None:
        self.mode = mode
        self.debug = debug
        self._out: Console | None = None
        self._err: Console | None = None
        self._live: Any = None  # the running progress display, paused while a question is asked

    @property
    def out(self) -> Console:
        if self._out is None:
            self._out = _console(stderr=False)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            self._err = _console(stderr=True)
        return self._err

    @property
    def json(self) -> bool:
        return self.mode == "json"

    def emit(self, result: Result) -> None:
        if self.json:
            sys.stdout.write(json.dumps(envelope(result), indent=2, sort_keys=False, default=str) + "\n")
            sys.stdout.flush()
        elif result.view is not None:
            result.view(self.out, result.data)
        elif result.data is not None:
            self.out.print(result.data)

    def error(self, command: str, err: AgentctlError) -> None:
        if self.json:
            self.emit(Result(command, None, "error", err.exit_code, errors=err.to_dicts()))
            return
        from rich.markup import escape

        self.err.print(f"[bold red]error[/]: {escape(err.message)}")
        for p in err.problems:
            self.err.print(f"  {escape(str(p))}")
        if err.hint:
            self.err.print(f"[dim]hint: {escape(err.hint)}[/]")

    def note(self, message: str, always: bool = False) -> None:
        """A human message on stderr; in JSON mode only when ``always`` (it must be seen at once)."""
        if always or not self.json:
            self.err.print(message)

    def stop_progress(self) -> None:
        """Take the progress display off the terminal (before leaving at once)."""
        if self._live is not None:
            self._live.stop()

    def confirm(self, question: str) -> bool:
        import click

        if not sys.stdin.isatty():
            return False
        live = self._live
        if live is not None:  # it redraws its line and holds back output without a newline
            live.stop()
        try:
            return click.confirm(question, default=False, err=True)
        finally:
            if live is not None:
                live.start()

    @contextmanager
    def progress(self) -> Iterator[Any]:
        """A Rich progress display on stderr; off a terminal, lines a CI log can show (none in JSON mode)."""
        if self.json or not self.err.is_terminal:
            quiet = _QuietProgress(self)
            try:
                yield quiet
            finally:
                quiet.close()
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=self.err
        ) as bar:
            self._live = bar
            try:
                yield bar
            finally:
                self._live = None


PIPED_WIDTH = 400  # columns of tables written to a file or pipe: wide enough for whole ids


def _console(stderr: bool) -> Console:
    """A Rich console; off a terminal (a pipe, a CI log) its tables get ``PIPED_WIDTH`` columns,
    unless COLUMNS says otherwise, so that no id, name or code is folded. Tables fold long values
    (never cut them) on a narrow terminal."""
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPED_WIDTH
    return console


STILL_RUNNING_EVERY = 30.0  # seconds between "still running" lines off a terminal


def elapsed(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{seconds:.0f} s"


class _QuietProgress:
    """Stands in for rich.progress.Progress off a terminal: a line when a step starts, a "still
    running" line every ``STILL_RUNNING_EVERY`` seconds while it runs, and a line when it ends,
    each with the time the step has taken."""

    def __init__(self, renderer: Renderer) -> None:
        self._r = renderer
        self._lock = threading.Lock()
        self._tasks: dict[int, tuple[str, float]] = {}
        self._count = 0
        self._closed = threading.Event()
        self._ticker: threading.Thread | None = None

    def add_task(self, description: str, total: float | None = None, **_: Any) -> int:
        with self._lock:
            tid, self._count = self._count, self._count + 1
            self._tasks[tid] = (description, time.monotonic())
            if self._ticker is None:
                self._ticker = threading.Thread(target=self._tick, name="still-running", daemon=True)
                self._ticker.start()
        self._r.note(f"{description}: started")
        return tid

    def update(self, task_id: int, *, description: str | None = None, **_: Any) -> None:
        with self._lock:
            if description is not None and task_id in self._tasks:
                self._tasks[task_id] = (description, self._tasks[task_id][1])

    def remove_task(self, task_id: int) -> None:
        with self._lock:
            description, since = self._tasks.pop(task_id, ("", time.monotonic()))
        self._r.note(f"{description} (after {elapsed(time.monotonic() - since)})")

    def _tick(self) -> None:
        while not self._closed.wait(STILL_RUNNING_EVERY):
            with self._lock:
                running = list(self._tasks.values())
            for description, since in running:
                self._r.note(f"{description}: still running ({elapsed(time.monotonic() - since)})")

    def close(self) -> None:
        self._closed.set()
