"""agentctl.shared: the answers the pools of a fleet `status` share."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from agentctl.errors import NotFound
from agentctl.shared import SharedReads


def test_concurrent_readers_of_one_key_send_one_read_and_get_their_own_copy() -> None:
    shared = SharedReads()
    calls = 0
    release = threading.Event()

    def read() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        release.wait(5)  # every other reader is now waiting for this answer
        return {"properties": {"principalId": "p"}, "tags": ["a"]}

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = [pool.submit(shared.get, ("identity", "id-agents"), read) for _ in range(8)]
        release.set()
        got = [a.result() for a in answers]
    assert calls == 1 and (shared.asked, shared.shared) == (1, 7)
    assert all(g == got[0] for g in got)
    got[0]["tags"].append("changed by one pool")
    assert got[1]["tags"] == ["a"] and shared.get(("identity", "id-agents"), read)["tags"] == ["a"]


def test_an_error_is_the_answer_for_every_reader() -> None:
    shared = SharedReads()
    calls = 0

    def read() -> None:
        nonlocal calls
        calls += 1
        raise NotFound("cluster aks-dev does not exist")

    for _ in range(3):
        with pytest.raises(NotFound, match="aks-dev"):
            shared.get("cluster", read)
    assert calls == 1


def test_different_keys_are_read_apart() -> None:
    shared = SharedReads()
    assert [shared.get(k, k.upper) for k in ("a", "b", "a")] == ["A", "B", "A"]
    assert (shared.asked, shared.shared) == (2, 1)
