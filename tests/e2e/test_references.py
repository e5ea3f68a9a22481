"""A pool file naming what does not exist stops before any write, with the field, its line and
the fix: the error the missing subnet gets, for every reference."""

from __future__ import annotations

from typing import Any

import pytest

SUB = "11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(
    ("old", "new", "field", "says"),
    [
        (
            "/subnets/agents",
            "/subnets/agentz",
            "network.subnetId",
            "subnet agentz does not exist in virtual network vnet-hub (its subnets: agents",
        ),
        (
            "userAssignedIdentities/id-agents",
            "userAssignedIdentities/id-agent",
            "scaleSet.identity.userAssigned",
            "identity id-agent does not exist in resource group rg-identity",
        ),
        (
            "grantRole: Virtual Machine Contributor",
            "grantRole: Virtual Machine Contributer",
            "devops.azureConnection.grantRole",
            "did you mean 'Virtual Machine Contributor'?",
        ),
        ("project: platform", "project: platfrm", "devops.project", "project platfrm does not exist"),
        (
            "dev.azure.com/contoso",
            "dev.azure.com/contosso",
            "devops.organization",
            "organization 'contosso' does not exist",
        ),
        (SUB, "99999999-2222-3333-4444-555555555555", "azure.subscription", "could not be found"),
    ],
    ids=["subnet", "identity", "role", "project", "organization", "subscription"],
)
def test_a_missing_reference_is_located(
    world: Any, capsys: Any, old: str, new: str, field: str, says: str
) -> None:
    text = world.pool.read_text()
    world.pool.write_text(text.replace(old, new))
    line = next(i for i, row in enumerate(world.pool.read_text().splitlines(), 1) if new in row)
    code, out = world.json(capsys, "deploy-pool", "-f", str(world.pool), "--yes")
    assert code == 5, out
    (err,) = out["errors"]
    assert err["field"] == field and err["file"] == str(world.pool) and says in err["message"]
    assert err["line"] == line and "fix the ids in the pool file" in err["hint"]
    assert world.writes(world.new_requests()) == []

    capsys.readouterr()
    assert world.agentctl("plan", "-f", str(world.pool)) == 5
    assert f"{world.pool}:{line}: {field}: " in capsys.readouterr().err
