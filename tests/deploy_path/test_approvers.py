"""Approvers in pool.yaml (e-mails, accounts, group names) become identity ids, or a located error."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from agentctl import config
from agentctl.devops import DevOps
from agentctl.errors import InvalidInput, NotFound
from agentctl.kinds import deploy_path as dp
from agentctl.kinds.base import Clients

SPEC = config.load(Path(__file__).with_name("pool.yaml"))


def identity(iid: str, display: str, mail: str = "") -> dict[str, Any]:
    props = {"Mail": {"$type": "System.String", "$value": mail}, "Account": {"$value": mail or display}}
    return {"id": iid, "providerDisplayName": display, "properties": props}


class Directory:
    """Answers the identities search like Azure DevOps: every identity whose names contain the value."""

    org_url = "https://dev.azure.com/contoso"
    values = staticmethod(DevOps.values)

    def __init__(self, *identities: dict[str, Any]) -> None:
        self.identities = identities

    def call(self, route: str, route_values: Any = None, query: Any = None, body: Any = None) -> Any:
        assert route == "identity.read" and query["searchFilter"] == "General"
        value = query["filterValue"].lower()
        found = [
            i
            for i in self.identities
            if value in i["providerDisplayName"].lower() + i["properties"]["Mail"]["$value"]
        ]
        return {"count": len(found), "value": found}


DIRECTORY = Directory(
    identity("id-leads", "[platform]\\Platform Leads"),
    identity("id-leads-old", "[platform]\\Platform Leads (old)"),
    identity("id-alice", "Alice Martin", "alice@contoso.com"),
)


def resolve(approvers: list[str], directory: Directory = DIRECTORY) -> list[str]:
    env = dataclasses.replace(SPEC.devops.environments[1], approvers=approvers, minApprovers=1)
    return dp.facts._approver_ids(SPEC, 1, env, Clients(None, directory))  # type: ignore[arg-type]


def test_users_and_groups_resolve_in_file_order() -> None:
    assert resolve(["alice@contoso.com", "Platform Leads"]) == ["id-alice", "id-leads"]
    assert resolve(["[platform]\\Platform Leads"]) == ["id-leads"]


def test_unknown_approvers_are_all_named_with_field_and_line() -> None:
    with pytest.raises(NotFound) as err:
        resolve(["nobody@contoso.com", "alice@contoso.com", "ghost"])
    assert "nobody@contoso.com, ghost" in err.value.message
    path = "devops.environments[1].approvers"
    assert [(p.field, p.line, p.file) for p in err.value.problems] == [
        (path, SPEC.line(path), SPEC.source)
    ] * 2


def test_a_name_matching_several_identities_is_ambiguous() -> None:
    with pytest.raises(InvalidInput, match="more than one identity matches Leads"):
        resolve(["Leads"])


def test_the_approvers_diff_names_an_identity_alike_on_both_sides() -> None:
    env = dataclasses.replace(
        SPEC.devops.environments[1], approvers=["alice@contoso.com", "carol@contoso.com"], minApprovers=1
    )
    have = [{"id": "ID-ALICE", "displayName": "Alice Martin"}, {"id": "id-bob", "displayName": "Bob Stone"}]
    check = {"settings": {"approvers": have, "minRequiredApprovers": 1}}
    (change,) = [c for c in dp.check_drift(env, ["id-alice", "id-carol"], check) if c[0] == "approvers"]
    # Alice is the same identity on both sides, so she reads the same; only Bob -> Carol differs.
    assert change == ("approvers", ["Alice Martin", "Bob Stone"], ["Alice Martin", "carol@contoso.com"])
