"""World files for network failures: `extends` lays a file on a built-in world; bad values are named
with their line."""

from __future__ import annotations

import pytest

from agentctl.errors import InvalidInput
from agentctl.sandbox import world


def test_extends_merges_and_null_removes() -> None:
    w = world.parse(
        """
extends: default.yaml
quota: {westeurope: {standardDSv5Family: 8}}
resourceGroups:
  rg-network:
    virtualNetworks:
      vnet-hub:
        subnets:
          agents: {natGateway: null, routeTable: rt-agents}
    routeTables:
      rt-agents: {routes: {default: {addressPrefix: 0.0.0.0/0, nextHopType: None}}}
""",
        "w.yaml",
    )
    [net] = [g for g in w["resourceGroups"] if g["name"] == "rg-network"]
    agents = net["virtualNetworks"][0]["subnets"]["agents"]
    assert "natGateway" not in agents and agents["routeTable"] == "rt-agents"
    assert agents["addressPrefix"] == "10.10.1.0/24"  # kept from the built-in world
    assert net["routeTables"][0]["routes"]["default"]["nextHopType"] == "None"
    assert w["quota"] == {"westeurope": {"standardDSv5Family": 8}}
    assert {g["name"] for g in w["resourceGroups"]} >= {"rg-images", "rg-aks"}  # the rest stays


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("extends: nowhere.yaml\n", 1, "not a built-in world"),
        (
            "extends: default.yaml\nroleAssignments:\n  - {principal: alice@contoso.com, role: Janitor}\n",
            3,
            "role 'Janitor'",
        ),
        (
            "extends: default.yaml\nroleAssignments:\n  - {principal: eve@contoso.com, role: Owner}\n",
            3,
            "principal 'eve@contoso.com'",
        ),
        ("extends: default.yaml\nquota: {westeurope: {cores: lots}}\n", 2, "whole number"),
    ],
)
def test_bad_values_name_their_line(text: str, line: int, says: str) -> None:
    with pytest.raises(InvalidInput) as e:
        world.parse(text, "w.yaml")
    assert any(p.line == line and says in p.message for p in e.value.problems), e.value.problems
