"""Whole plans, as `plan -o json` shows them and apply reads them: every action's key, kind, name,
changes, needs and data, written out by hand for the recorded worlds. And the errors the planner
stops on, with their hints."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from worlds import recorded

import pool_requirements as req
from agentctl import config
from agentctl.errors import PreconditionFailed
from agentctl.kinds import pool
from agentctl.kinds.base import Action, Facts
from agentctl.plan import plan, plan_destroy
from testlib import facts_of

SPEC, _CONVERGED = recorded()
GROUP = f"{req.RG_ID}/rg-agents"
ROLE_ID = (
    f"/subscriptions/{req.SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
    "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
)
GRANT = "9a17bbf0-fd8c-5be8-b90a-b6412422d029"  # the name of the pool's grant on its scale set
ROLE_ON_SCALE_SET = "Virtual Machine Contributor on vmss-agents"  # how plan and destroy show that grant
FIC_KEY = f"federatedCredential:vmss-agents-pool/{req.FIC_NAME}"
GRANT_DATA = {"scope": req.SCALE_SET_ID, "roleId": ROLE_ID, "principal": "pool"}


def action(key: str, op: str, kind: str, name: str, needs: list[str], **extra: Any) -> dict[str, Any]:
    return {"key": key, "op": op, "kind": kind, "name": name, "changes": [], "needs": needs, **extra}


def shown(actions: list[Action]) -> list[dict[str, Any]]:
    return [a.to_dict() | ({"data": a.data} if a.data else {}) for a in actions]


def test_the_first_deploy_in_full() -> None:
    _, converged = recorded()
    facts = facts_of(
        identity=converged.identity,
        role_definition_id=ROLE_ID,
        role_definitions=pool.of(converged).role_definitions,
        project=converged.project,
    )
    p = plan(SPEC, facts)
    assert shown(p.actions) == [
        action("resourceGroup", "create", "resource group", "rg-agents", []),
        action("poolIdentity", "create", "identity", "vmss-agents-pool", ["resourceGroup"]),
        action("scaleSet", "create", "scale set", "vmss-agents", ["resourceGroup"]),
        action(
            "roleAssignment",
            "create",
            "role assignment",
            ROLE_ON_SCALE_SET,
            ["scaleSet", "poolIdentity"],
            data=GRANT_DATA,
        ),
        action("azureConnection", "create", "service connection", "arm-agents", ["poolIdentity"]),
        action(
            "federatedCredential",
            "create",
            "federated credential",
            req.FIC_NAME,
            ["azureConnection", "poolIdentity"],
        ),
        action(
            "pool",
            "create",
            "agent pool",
            "private-agents",
            ["scaleSet", "azureConnection", "federatedCredential", "roleAssignment"],
        ),
    ]
    assert p.to_dict()["summary"] == {"create": 7, "update": 0, "delete": 0, "noop": 0}
    assert p.to_dict()["changed"] is True


def test_a_converged_world_in_full() -> None:
    _, facts = recorded()
    p = plan(SPEC, facts)
    assert shown(p.actions) == [
        action("resourceGroup", "noop", "resource group", "rg-agents", []),
        action("poolIdentity", "noop", "identity", "vmss-agents-pool", ["resourceGroup"]),
        action(
            "scaleSet",
            "noop",
            "scale set",
            "vmss-agents",
            ["resourceGroup"],
            data={"patch": {}, "warnings": []},
        ),
        action(
            "roleAssignment",
            "noop",
            "role assignment",
            ROLE_ON_SCALE_SET,
            ["scaleSet"],
            data=GRANT_DATA | {"name": GRANT},
        ),
        action("azureConnection", "noop", "service connection", "arm-agents", []),
        action("federatedCredential", "noop", "federated credential", req.FIC_NAME, []),
        action(
            "pool",
            "noop",
            "agent pool",
            "private-agents",
            ["scaleSet", "azureConnection", "federatedCredential", "roleAssignment"],
        ),
        action("poolPermissions", "noop", "pipeline permissions", "queue private-agents", ["pool"]),
    ]
    assert p.to_dict() == {
        "changed": False,
        "summary": {"create": 0, "update": 0, "delete": 0, "noop": 8},
        "actions": [a.to_dict() for a in p.actions],
    }
    assert p.get("nothing") is None


def test_drift_everywhere_in_full() -> None:
    _, facts = recorded()
    assert pool.of(facts).scale_set is not None and pool.of(facts).azure_connection is not None
    assert pool.of(facts).elastic_pool is not None
    pool.of(facts).scale_set["sku"]["name"] = "Standard_D2s_v5"
    params = pool.of(facts).azure_connection["authorization"]["parameters"]
    params["serviceprincipalid"] = "0000"
    pool.of(facts).federated_credentials[0]["properties"]["subject"] = "sc://contoso/platform/old"
    pool.of(facts).elastic_pool["desiredIdle"] = 0
    pool.of(facts).elastic_pool["serviceEndpointId"] = "another-connection"
    spec = dataclasses.replace(
        SPEC,
        devops=dataclasses.replace(SPEC.devops, pool=dataclasses.replace(SPEC.devops.pool, pipelines=[4])),
    )
    p = plan(spec, facts)
    assert [a.to_dict() for a in p.pending] == [
        {
            **action("scaleSet", "update", "scale set", "vmss-agents", ["resourceGroup"]),
            "changes": [{"field": "sku.name", "old": "Standard_D2s_v5", "new": "Standard_D4s_v5"}],
        },
        {
            **action(
                "azureConnection",
                "update",
                "service connection",
                "arm-agents",
                ["federatedCredential", "roleAssignment"],
            ),
            "changes": [
                {"field": "authorization.serviceprincipalid", "old": "0000", "new": req.CONNECTION_CLIENT_ID}
            ],
        },
        {
            **action("federatedCredential", "update", "federated credential", req.FIC_NAME, []),
            "changes": [{"field": "subject", "old": "sc://contoso/platform/old", "new": req.SUBJECT}],
        },
        {
            **action(
                "pool",
                "update",
                "agent pool",
                "private-agents",
                ["scaleSet", "azureConnection", "federatedCredential", "roleAssignment"],
            ),
            "changes": [
                {"field": "desiredIdle", "old": 0, "new": 1},
                {"field": "serviceConnection", "old": "another-connection", "new": "arm-agents"},
            ],
        },
        {
            **action("poolPermissions", "update", "pipeline permissions", "queue private-agents", ["pool"]),
            "changes": [{"field": "pipelines", "old": [], "new": [4]}],
        },
    ]
    assert p.to_dict()["summary"] == {"create": 0, "update": 5, "delete": 0, "noop": 3}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (("authorization", "parameters", "tenantid"), "another-tenant"),
        (("data", "subscriptionId"), "00000000-0000-0000-0000-000000000000"),
        (("authorization", "scheme"), "ServicePrincipal"),
        (("authorization", "parameters", "serviceprincipalid"), None),
    ],
)
def test_each_connection_field_agentctl_corrects(field: tuple[str, ...], value: Any) -> None:
    _, facts = recorded()
    doc = pool.of(facts).azure_connection
    for key in field[:-1]:
        doc = doc[key]  # type: ignore[index]
    want = doc[field[-1]]  # type: ignore[index]
    doc[field[-1]] = value  # type: ignore[index]
    (a,) = plan(SPEC, facts).pending
    label = ".".join(field[::2] if field[0] == "authorization" and len(field) == 3 else field)
    assert [(c.field, c.old, c.new) for c in a.changes] == [(label, value, want)]


def test_connection_fields_compare_without_case() -> None:
    _, facts = recorded()
    assert pool.of(facts).azure_connection is not None
    pool.of(facts).azure_connection["authorization"]["scheme"] = "workloadidentityfederation"
    pool.of(facts).azure_connection["data"]["subscriptionId"] = req.SUBSCRIPTION.upper()
    assert not plan(SPEC, facts).changed


def test_a_new_queue_gets_its_permissions_created_and_none_when_there_is_nothing_to_grant() -> None:
    _, facts = recorded()
    pool.of(facts).queue, pool.of(facts).queue_permissions = None, {}
    assert "poolPermissions" not in {a.key for a in plan(SPEC, facts).actions}
    spec = dataclasses.replace(
        SPEC,
        devops=dataclasses.replace(SPEC.devops, pool=dataclasses.replace(SPEC.devops.pool, pipelines=[4])),
    )
    assert plan(spec, facts).get("poolPermissions").op == "create"  # type: ignore[union-attr]


def test_a_grant_on_the_scale_set_written_with_a_trailing_slash_is_the_grant() -> None:
    _, facts = recorded()
    pool.of(facts).pool_role_assignments[0]["properties"]["scope"] = req.SCALE_SET_ID.upper() + "/"
    assert not plan(SPEC, facts).changed


def test_a_failed_scale_set_is_shown_as_such() -> None:
    _, facts = recorded()
    assert pool.of(facts).scale_set is not None
    pool.of(facts).scale_set["properties"]["provisioningState"] = "Failed"
    (a,) = plan(SPEC, facts).pending
    assert a.to_dict()["changes"] == [{"field": "provisioningState", "old": "Failed", "new": "Succeeded"}]
    assert "warnings" not in a.to_dict()


def test_warnings_are_shown_with_the_action() -> None:
    _, facts = recorded()
    spec = dataclasses.replace(SPEC, scaleSet=dataclasses.replace(SPEC.scaleSet, adminUsername="ops"))
    shown_ = plan(spec, facts).get("scaleSet").to_dict()  # type: ignore[union-attr]
    assert shown_["warnings"] == [
        "scaleSet.adminUsername is 'azureuser' on the scale set and 'ops' in the file: Azure cannot change "
        "it on an existing scale set; destroy the pool and deploy it again to apply it"
    ]


def _edit(facts: Facts, what: str) -> config.PoolSpec:
    """Each way a world can hold something agentctl must not take over."""
    spec = SPEC
    if what == "foreign-scale-set":
        pool.of(facts).scale_set["tags"] = {"owner": "someone"}  # type: ignore[index]
    elif what == "scale-set-of-another-pool":
        pool.of(facts).scale_set["tags"]["agentctl-pool"] = "other"  # type: ignore[index]
    elif what == "missing-existing-connection":
        pool.of(facts).azure_connection = None
        conn = dataclasses.replace(SPEC.devops.azureConnection, existing=True)
        spec = dataclasses.replace(SPEC, devops=dataclasses.replace(SPEC.devops, azureConnection=conn))
    elif what == "foreign-connection":
        pool.of(facts).azure_connection["description"] = "made by hand"  # type: ignore[index]
    elif what == "connection-of-another-pool":
        pool.of(facts).azure_connection["description"] = "Managed by agentctl (pool other)"  # type: ignore[index]
    elif what == "pool-on-another-scale-set":
        pool.of(facts).elastic_pool["azureId"] = (
            GROUP + "/providers/Microsoft.Compute/virtualMachineScaleSets/x"
        )  # type: ignore[index]
    return spec


@pytest.mark.parametrize(
    ("what", "message", "hint"),
    [
        (
            "foreign-scale-set",
            "scale set vmss-agents exists in rg-agents but agentctl did not create it",
            "choose another scaleSet.name, or tag it managed-by=agentctl to adopt it",
        ),
        (
            "scale-set-of-another-pool",
            "scale set vmss-agents belongs to agentctl's pool 'other', not 'private-agents'",
            "choose another scaleSet.name; to rename the pool, destroy it with its old file first",
        ),
        (
            "missing-existing-connection",
            "service connection 'arm-agents' does not exist",
            "create it, or set devops.azureConnection.existing: false to let agentctl make it",
        ),
        (
            "foreign-connection",
            "service connection 'arm-agents' exists but agentctl did not create it",
            "set devops.azureConnection.existing: true to use it as it is",
        ),
        (
            "connection-of-another-pool",
            "service connection 'arm-agents' belongs to agentctl's pool 'other'",
            "to rename a pool, destroy it with its old file first; else choose another name",
        ),
        (
            "pool-on-another-scale-set",
            "agent pool 'private-agents' exists and is not backed by scale set vmss-agents",
            "choose another devops.pool.name",
        ),
    ],
)
def test_what_the_planner_stops_on(what: str, message: str, hint: str) -> None:
    _, facts = recorded()
    spec = _edit(facts, what)
    with pytest.raises(PreconditionFailed) as e:
        plan(spec, facts)
    assert (str(e.value), e.value.hint) == (message, hint)


def test_destroy_in_full() -> None:
    _, facts = recorded()
    assert pool.of(facts).azure_connection is not None and pool.of(facts).agent_pool is not None
    fic_needs = ["azureConnection"]
    assert shown(plan_destroy(SPEC, facts).actions) == [
        action(
            "pool", "delete", "agent pool", "private-agents", [], data={"id": pool.of(facts).agent_pool["id"]}
        ),
        action(
            "azureConnection",
            "delete",
            "service connection",
            "arm-agents",
            ["pool"],
            data={"id": pool.of(facts).azure_connection["id"]},
        ),
        action(
            FIC_KEY,
            "delete",
            "federated credential",
            req.FIC_NAME,
            fic_needs,
            data={"identity": ("rg-agents", "vmss-agents-pool")},
        ),
        action(
            f"roleAssignment:{GRANT}",
            "delete",
            "role assignment",
            ROLE_ON_SCALE_SET,
            ["pool"],
            data={"scope": req.SCALE_SET_ID, "name": GRANT},
        ),
        action("scaleSet", "delete", "scale set", "vmss-agents", ["pool"]),
        action(
            "poolIdentity",
            "delete",
            "identity",
            "vmss-agents-pool",
            ["pool", "azureConnection", FIC_KEY, f"roleAssignment:{GRANT}"],
        ),
    ]


def test_destroy_after_a_run_stopped_between_the_two_deletes() -> None:
    """The pool and the connection are gone, the credential behind it is not."""
    _, facts = recorded()
    pool.of(facts).agent_pool = pool.of(facts).elastic_pool = pool.of(facts).azure_connection = None
    assert shown(plan_destroy(SPEC, facts).actions) == [
        action(
            FIC_KEY,
            "delete",
            "federated credential",
            req.FIC_NAME,
            [],
            data={"identity": ("rg-agents", "vmss-agents-pool")},
        ),
        action(
            f"roleAssignment:{GRANT}",
            "delete",
            "role assignment",
            ROLE_ON_SCALE_SET,
            [],
            data={"scope": req.SCALE_SET_ID, "name": GRANT},
        ),
        action("scaleSet", "delete", "scale set", "vmss-agents", []),
        action(
            "poolIdentity", "delete", "identity", "vmss-agents-pool", [FIC_KEY, f"roleAssignment:{GRANT}"]
        ),
    ]


def test_an_existing_connection_without_a_grant_in_full() -> None:
    _, facts = recorded()
    conn = dataclasses.replace(SPEC.devops.azureConnection, existing=True, grantRole=None)
    spec = dataclasses.replace(SPEC, devops=dataclasses.replace(SPEC.devops, azureConnection=conn))
    facts.role_assignments = []
    p = plan(spec, facts)
    assert p.get("azureConnection").to_dict() == action(  # type: ignore[union-attr]
        "azureConnection", "noop", "service connection", "arm-agents", []
    )
    # only what the plan has is waited for
    assert p.get("pool").needs == ("scaleSet", "azureConnection")  # type: ignore[union-attr]
