"""One pool, one lease, however pool.yaml spells its organization: runs take turns."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from agentctl import config, lease
from agentctl.cloud import CLOUDS, Target
from agentctl.errors import PreconditionFailed
from testlib import EXAMPLE_POOL

TEXT = EXAMPLE_POOL.read_text()
ORG_LINE = next(line for line in TEXT.splitlines() if "organization:" in line)
SPELLINGS = [
    "https://dev.azure.com/contoso",
    "https://dev.azure.com/Contoso/",
    "https://contoso.visualstudio.com",
    "https://CONTOSO.visualstudio.com/",
]
TARGET = Target(CLOUDS["public"], "https://dev.azure.com/contoso", credential=None)  # type: ignore[arg-type]


def _spec(org: str) -> config.PoolSpec:
    """The example pool with ``org`` as its organization, read (and validated) like any file."""
    return config.loads(TEXT.replace(ORG_LINE, f"  organization: {org}"), "pool.yaml")


@pytest.fixture(autouse=True)
def _lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))


def test_every_spelling_of_one_organization_names_one_lease() -> None:
    keys = {lease.key(_spec(org), TARGET) for org in SPELLINGS}
    assert len(keys) == 1
    assert lease.key(_spec("https://dev.azure.com/contoso2"), TARGET) not in keys


def test_two_spellings_take_turns() -> None:
    """A run holding the lease under one spelling makes a run under another wait until it is done."""
    inside, release = threading.Event(), threading.Event()
    events: list[tuple[str, float]] = []

    def first() -> None:
        with lease.held(_spec(SPELLINGS[0]), TARGET, timeout=5):
            events.append(("first in", time.monotonic()))
            inside.set()
            release.wait(5)
            events.append(("first out", time.monotonic()))

    def second(org: str) -> None:
        with lease.held(_spec(org), TARGET, timeout=5):
            events.append(("second in", time.monotonic()))

    holder = threading.Thread(target=first)
    holder.start()
    assert inside.wait(5)
    other_spelling = lease.held(_spec(SPELLINGS[3]), TARGET, timeout=0.3)
    with pytest.raises(PreconditionFailed, match="another agentctl run"), other_spelling:
        pass  # never entered: the run under the first spelling holds the lease
    waiter = threading.Thread(target=second, args=(SPELLINGS[2],))
    waiter.start()
    time.sleep(0.5)  # the waiter is polling now
    release.set()
    holder.join(5)
    waiter.join(5)
    assert [name for name, _ in events] == ["first in", "first out", "second in"]
