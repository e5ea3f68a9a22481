"""The sandbox's world state: one JSON document, in memory and in ``state.json``.

Every request runs in a transaction: the store takes a thread lock and the directory's
``fcntl`` lock (``files.locked``), reloads the file when another process replaced it, hands
the document to the handler, and writes it back (atomically, mode 0600) when it changed. A
handler that raises leaves the document as it was.

Writes are saved at once. A read changes the document only through the clock-driven tickers
(an LRO finishing, nodes coming online), which are a function of the state and the time; saving
after every read would serialise the whole world per request, so a read leaves the saving to a
timer that fires ``READ_SAVE_INTERVAL`` seconds later (``flush``, also called when the sandbox
stops): the file is at most that much behind what the server answers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentctl.sandbox.files import locked, write_private

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
READ_SAVE_INTERVAL = 0.25
RESET_HINT = "`agentctl sandbox reset` clears the state (the next use seeds the world again)"

State = dict[str, Any]


class StateError(Exception):
    """The state directory cannot be read or written: a corrupt ``state.json``, a read-only or
    full directory. The message says what and names ``agentctl sandbox reset``."""


class Store:
    def __init__(self, state_dir: Path, seed: Callable[[], State]) -> None:
        self.path = state_dir / STATE_FILE
        self._dir = state_dir
        self._seed = seed
        self._mutex = threading.RLock()
        self._data: State = {}
        self._text = ""
        self._stamp: tuple[int, int, int] | None = None
        self._timer: threading.Timer | None = None

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self) -> None:
        stamp = self._file_stamp()
        if stamp is not None and stamp == self._stamp:
            return
        if stamp is None:
            log.debug("no state in %s: seeding the world", self.path)
            self._data = self._seed()
            self._text = ""
        else:
            try:
                text = self.path.read_text(encoding="utf-8")
                data = json.loads(text)
            except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
                raise StateError(
                    f"the sandbox state {self.path} cannot be read ({e}); {RESET_HINT}"
                ) from None
            if not isinstance(data, dict) or not isinstance(data.get("meta"), dict):
                raise StateError(f"the sandbox state {self.path} is not a sandbox state; {RESET_HINT}")
            self._text, self._data, self._stamp = text, data, stamp

    def _save(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        text = json.dumps(self._data, sort_keys=True)
        if text != self._text:
            try:
                write_private(self.path, text)
            except OSError as e:
                raise StateError(
                    f"the sandbox state cannot be written to {self._dir} ({e.strerror or e}); make the "
                    f"directory writable and free space, or {RESET_HINT}"
                ) from None
            self._text = text
            self._stamp = self._file_stamp()

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[State]:
        with self._mutex, self._locked():
            self._load()
            try:
                yield self._data
                if write:
                    self._save()
            except BaseException:  # the handler failed, or the save: what is saved stays the truth
                self._data = json.loads(self._text) if self._text else self._seed()
                raise
            if not write and self._timer is None:
                self._timer = threading.Timer(READ_SAVE_INTERVAL, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Save what reads changed since the last save (a failure is logged: the next write
        reports it)."""
        try:
            with self._mutex, self._locked():
                if self._data:
                    self._save()
        except StateError as e:
            log.warning("%s", e)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(locked(self._dir))
            except OSError as e:
                raise StateError(
                    f"the sandbox state directory {self._dir} cannot be locked ({e.strerror or e}); "
                    f"{RESET_HINT}"
                ) from None
            yield
