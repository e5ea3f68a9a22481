"""Asking a run that writes to stop: the CLI's Ctrl-C handler sets it, the apply loop reads it.

Once asked, no new step starts; the steps running finish (a scale set operation in Azure would
go on without agentctl anyway), and the run reports which steps were done. ``writing`` tells the
handler whether steps are running, so a Ctrl-C before any write interrupts at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Stop:
    def __init__(self) -> None:
        self._asked = threading.Event()
        self._lock = threading.Lock()
        self._writers = 0

    def requested(self) -> bool:
        return self._asked.is_set()

    def request(self) -> None:
        self._asked.set()

    @property
    def writing(self) -> bool:
        with self._lock:
            return self._writers > 0

    @contextmanager
    def applying(self) -> Iterator[None]:
        """Mark a block in which steps run (one per pool applying)."""
        with self._lock:
            self._writers += 1
        try:
            yield
        finally:
            with self._lock:
                self._writers -= 1
