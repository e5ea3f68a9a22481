"""Answers to reads, shared by the pools of one read-only command.

The pools of a fleet usually rely on the same things (identity, subnet, gallery image, cluster,
project, approvers): a ``status`` of twenty pools asks for each of them once, not twenty times,
which is twenty times fewer requests against the subscription's and organization's read limits.
Only for commands that write nothing: an answer is kept for the whole command, never refreshed.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class SharedReads:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[Hashable, Future[Any]] = {}
        self.asked = 0  # reads actually sent
        self.shared = 0  # reads answered from another pool's

    def get(self, key: Hashable, read: Callable[[], T]) -> T:
        """``read()``'s answer (or its error), computed once per key; concurrent callers wait for it.
        Each caller gets its own copy, so no pool's code can change another's facts."""
        with self._lock:
            answer = self._answers.get(key)
            mine = answer is None
            if answer is None:
                answer = self._answers[key] = Future()
                self.asked += 1
            else:
                self.shared += 1
        if mine:
            try:
                answer.set_result(read())
            except BaseException as e:
                answer.set_exception(e)
        result: T = copy.deepcopy(answer.result())
        return result
