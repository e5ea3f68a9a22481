"""``DevOps.list_all`` reads every page of a paged list, on the sandbox.

Azure DevOps pages the environments list: at most ``$top`` items (50 by default), and the next
page's token in the ``X-MS-ContinuationToken`` header, sent back as ``continuationToken``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentctl.cloud import target_of
from agentctl.devops import DevOps
from agentctl.devops import api as devops_api
from agentctl.errors import CloudError
from agentctl.sandbox import Sandbox, start
from agentctl.shared import SharedReads
from conformance.spec_check import assert_conforms

PROJECT = {"project": "platform"}
COUNT = 60  # more than one default page


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = start(Path(tmp_path_factory.mktemp("paging")) / "sandbox")
    dev = DevOps(target_of(sandbox, keep=False), "platform")
    for i in range(COUNT):
        dev.call("environment.create", PROJECT, body={"name": f"env-{i:03d}"})
    yield sandbox
    sandbox.stop()
    assert_conforms(sandbox.exchanges)


def lists_sent(sb: Sandbox) -> list[dict[str, str]]:
    return [x["query"] for x in sb.exchanges if x["operation"] == "devops.environments.list"]


def test_every_page_is_read_once_nothing_missed_nothing_twice(sb: Sandbox) -> None:
    for top, pages in ((None, 2), (7, 9), (COUNT, 1)):
        dev = DevOps(target_of(sb, keep=False), "platform")
        sb.exchanges.clear()
        found = dev.list_all("environment.list", PROJECT, {"$top": top})
        assert [e["name"] for e in found] == [f"env-{i:03d}" for i in range(COUNT)]
        sent = lists_sent(sb)
        assert len(sent) == pages
        assert "continuationToken" not in sent[0]
        assert all(q["continuationToken"] and q.get("$top") == (str(top) if top else None) for q in sent[1:])


def test_a_filter_is_kept_on_every_page(sb: Sandbox) -> None:
    dev = DevOps(target_of(sb, keep=False), "platform")
    found = dev.list_all("environment.list", PROJECT, {"name": "env-01*", "$top": 3})
    assert [e["name"] for e in found] == [f"env-{i:03d}" for i in range(10, 20)]


def test_shared_reads_send_the_pages_once(sb: Sandbox) -> None:
    shared = SharedReads()
    a, b = (DevOps(target_of(sb, keep=False), "platform", shared) for _ in range(2))
    sb.exchanges.clear()
    first = a.list_all("environment.list", PROJECT)
    first.pop()  # each asker gets its own copy
    assert len(b.list_all("environment.list", PROJECT)) == COUNT
    assert len(lists_sent(sb)) == 2 and (shared.asked, shared.shared) == (1, 1)


def test_a_list_that_does_not_end_stops_with_an_error(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devops_api, "MAX_PAGES", 3)
    dev = DevOps(target_of(sb, keep=False), "platform")
    with pytest.raises(CloudError, match="still more after 3 pages"):
        dev.list_all("environment.list", PROJECT, {"$top": 5})


def test_a_paged_list_is_not_read_as_one_page(sb: Sandbox) -> None:
    dev = DevOps(target_of(sb, keep=False), "platform")
    with pytest.raises(AssertionError, match="list_all"):
        dev.call("environment.list", PROJECT)
