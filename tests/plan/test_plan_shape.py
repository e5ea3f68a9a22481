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
from agentctl.observe import Facts, OldIdentity
from agentctl.plan import Action, plan, plan_destroy

SPEC, _CONVERGED = recorded()
GROUP = f"{req.RG_ID}/rg-agents"
ROLE_ID = (
    f"/subscriptions/{req.SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
    "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
)
GRANT = "6c6f81b0-f2a2-5f60-905e-46d6895b5322"  # the name the pool's grant on the group has
ROLE_ON_GROUP = "Virtual Machine Contributor on rg-agents"  # how plan and destroy show that grant


def action(key: str, op: str, kind: str, name: str, needs: list[str], **extra: Any) -> dict[str, Any]:
    return {"key": key, "op": op, "kind": kind, "name": name, "changes": [], "needs": needs, **extra}


def shown(actions: list[Action]) -> list[dict[str, Any]]:
    return [a.to_dict() | ({"data": a.data} if a.data else {}) for a in actions]


def test_the_first_deploy_in_full() -> None:
    _, converged = recorded()
    facts = Facts(identity=converged.identity, role_definition_id=ROLE_ID, project=converged.project)
    p = plan(SPEC, facts)
    assert shown(p.actions) == [
        action("resourceGroup", "create", "resource group", "rg-agents", []),
        action("scaleSet", "create", "scale set", "vmss-agents", ["resourceGroup"]),
        action(
            "roleAssignment",
            "create",
            "role assignment",
            "Virtual Machine Contributor on rg-agents",
            ["resourceGroup"],
            data={"scope": GROUP, "roleId": ROLE_ID, "name": GRANT},
        ),
        action("azureConnection", "create", "service connection", "arm-agents", []),
        action("federatedCredential", "create", "federated credential", req.FIC_NAME, ["azureConnection"]),
        action(
            "pool",
            "create",
            "agent pool",
            "private-agents",
            ["scaleSet", "azureConnection", "federatedCredential", "roleAssignment"],
        ),
    ]
    assert p.to_dict()["summary"] == {"create": 6, "update": 0, "delete": 0, "noop": 0}
    assert p.to_dict()["changed"] is True


def test_a_converged_world_in_full() -> None:
    _, facts = recorded()
    p = plan(SPEC, facts)
    assert shown(p.actions) == [
        action("resourceGroup", "noop", "resource group", "rg-agents", []),
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
            "Virtual Machine Contributor on rg-agents",
            ["resourceGroup"],
            data={"scope": GROUP, "roleId": ROLE_ID, "name": GRANT},
        ),
        action("azureConnection", "noop", "service connection", "arm-agents", []),
        action("federatedCredential", "noop", "federated credential", req.FIC_NAME, ["azureConnection"]),
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
        "summary": {"create": 0, "update": 0, "delete": 0, "noop": 7},
        "actions": [a.to_dict() for a in p.actions],
    }
    assert p.get("nothing") is None


def test_drift_everywhere_in_full() -> None:
    _, facts = recorded()
    assert facts.scale_set is not None and facts.azure_connection is not None
    assert facts.elastic_pool is not None
    facts.scale_set["sku"]["name"] = "Standard_D2s_v5"
    params = facts.azure_connection["authorization"]["parameters"]
    params["serviceprincipalid"] = "0000"
    facts.federated_credentials[0]["properties"]["subject"] = "sc://contoso/platform/old"
    facts.elastic_pool["desiredIdle"] = 0
    facts.elastic_pool["serviceEndpointId"] = "another-connection"
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
            **action("azureConnection", "update", "service connection", "arm-agents", []),
            "changes": [
                {"field": "authorization.serviceprincipalid", "old": "0000", "new": req.CONNECTION_CLIENT_ID}
            ],
        },
        {
            **action(
                "federatedCredential", "update", "federated credential", req.FIC_NAME, ["azureConnection"]
            ),
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
    assert p.to_dict()["summary"] == {"create": 0, "update": 5, "delete": 0, "noop": 2}


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
    doc = facts.azure_connection
    for key in field[:-1]:
        doc = doc[key]  # type: ignore[index]
    want = doc[field[-1]]  # type: ignore[index]
    doc[field[-1]] = value  # type: ignore[index]
    (a,) = plan(SPEC, facts).pending
    label = ".".join(field[::2] if field[0] == "authorization" and len(field) == 3 else field)
    assert [(c.field, c.old, c.new) for c in a.changes] == [(label, value, want)]


def test_connection_fields_compare_without_case() -> None:
    _, facts = recorded()
    assert facts.azure_connection is not None
    facts.azure_connection["authorization"]["scheme"] = "workloadidentityfederation"
    facts.azure_connection["data"]["subscriptionId"] = req.SUBSCRIPTION.upper()
    assert not plan(SPEC, facts).changed


def test_a_new_queue_gets_its_permissions_created_and_none_when_there_is_nothing_to_grant() -> None:
    _, facts = recorded()
    facts.queue, facts.queue_permissions = None, {}
    assert "poolPermissions" not in {a.key for a in plan(SPEC, facts).actions}
    spec = dataclasses.replace(
        SPEC,
        devops=dataclasses.replace(SPEC.devops, pool=dataclasses.replace(SPEC.devops.pool, pipelines=[4])),
    )
    assert plan(spec, facts).get("poolPermissions").op == "create"  # type: ignore[union-attr]


def test_a_grant_taken_back_in_full() -> None:
    _, facts = recorded()
    spec = dataclasses.replace(
        SPEC,
        devops=dataclasses.replace(
            SPEC.devops, azureConnection=dataclasses.replace(SPEC.devops.azureConnection, grantRole=None)
        ),
    )
    assert shown(plan(spec, facts).pending) == [
        action(
            f"roleAssignment:{GRANT}",
            "delete",
            "role assignment",
            "role 9980e02c-c2be-4d73-94e8-173b1dc7cf3c on rg-agents",  # the file names no role now
            [],
            data={"scope": GROUP, "name": GRANT},
        )
    ]
    destroy = plan_destroy(SPEC, facts)
    assert destroy.get(f"roleAssignment:{GRANT}").needs == ("pool",)  # type: ignore[union-attr]


def test_a_grant_on_the_group_written_with_a_trailing_slash_is_the_grant() -> None:
    _, facts = recorded()
    facts.role_assignments[0]["properties"]["scope"] = GROUP.upper() + "/"
    assert not plan(SPEC, facts).changed


def test_a_failed_scale_set_is_shown_as_such() -> None:
    _, facts = recorded()
    assert facts.scale_set is not None
    facts.scale_set["properties"]["provisioningState"] = "Failed"
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
        facts.scale_set["tags"] = {"owner": "someone"}  # type: ignore[index]
    elif what == "scale-set-of-another-pool":
        facts.scale_set["tags"]["agentctl-pool"] = "other"  # type: ignore[index]
    elif what == "missing-existing-connection":
        facts.azure_connection = None
        conn = dataclasses.replace(SPEC.devops.azureConnection, existing=True)
        spec = dataclasses.replace(SPEC, devops=dataclasses.replace(SPEC.devops, azureConnection=conn))
    elif what == "foreign-connection":
        facts.azure_connection["description"] = "made by hand"  # type: ignore[index]
    elif what == "connection-of-another-pool":
        facts.azure_connection["description"] = "Managed by agentctl (pool other)"  # type: ignore[index]
    elif what == "pool-on-another-scale-set":
        facts.elastic_pool["azureId"] = GROUP + "/providers/Microsoft.Compute/virtualMachineScaleSets/x"  # type: ignore[index]
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


OLD_IDENTITY = f"{req.RG_ID}/rg-identity/{req.MSI}/id-old"


def _with_leftovers(facts: Facts) -> None:
    """A renamed connection (its old one stale, with its credential) and an old identity that
    still holds the pool's credential and grant."""
    assert facts.azure_connection is not None
    old = {**facts.azure_connection, "name": "arm-old", "id": "old-endpoint"}
    old["authorization"] = {
        "parameters": {"workloadIdentityFederationSubject": "sc://contoso/platform/arm-old"}
    }
    facts.stale_connections = [old]
    facts.federated_credentials.append({"name": "agentctl-arm-old", "properties": {}})
    grant = {
        "name": "old-grant",
        "properties": {"scope": GROUP, "description": req.MARKER, "roleDefinitionId": ROLE_ID},
    }
    fic = {"name": req.FIC_NAME, "properties": {"issuer": req.ISSUER, "subject": req.SUBJECT}}
    facts.old_identities = {OLD_IDENTITY: OldIdentity(federated_credentials=[fic], role_assignments=[grant])}


LEFTOVERS = [
    action(
        "azureConnection:arm-old",
        "delete",
        "service connection",
        "arm-old",
        ["pool"],
        data={"id": "old-endpoint"},
    ),
    action(
        "federatedCredential:agentctl-arm-old",
        "delete",
        "federated credential",
        "agentctl-arm-old",
        ["azureConnection:arm-old"],
    ),
]


def _old_identity_actions(needs: list[str]) -> list[dict[str, Any]]:
    return [
        action(
            f"federatedCredential:id-old/{req.FIC_NAME}",
            "delete",
            "federated credential",
            req.FIC_NAME,
            needs,
            data={"identity": ("rg-identity", "id-old")},
        ),
        action(
            "roleAssignment:old-grant",
            "delete",
            "role assignment",
            ROLE_ON_GROUP,
            needs,
            data={"scope": GROUP, "name": "old-grant"},
        ),
    ]


def test_leftovers_of_a_renamed_connection_and_an_old_identity_in_full() -> None:
    _, facts = recorded()
    _with_leftovers(facts)
    assert shown(plan(SPEC, facts).pending) == LEFTOVERS + _old_identity_actions(["scaleSet"])


def test_destroy_in_full() -> None:
    _, facts = recorded()
    _with_leftovers(facts)
    assert facts.azure_connection is not None and facts.agent_pool is not None
    assert shown(plan_destroy(SPEC, facts).actions) == [
        action("pool", "delete", "agent pool", "private-agents", [], data={"id": facts.agent_pool["id"]}),
        action(
            "azureConnection",
            "delete",
            "service connection",
            "arm-agents",
            ["pool"],
            data={"id": facts.azure_connection["id"]},
        ),
        action("federatedCredential", "delete", "federated credential", req.FIC_NAME, ["azureConnection"]),
        *LEFTOVERS,
        *_old_identity_actions(["pool"]),
        action(
            f"roleAssignment:{GRANT}",
            "delete",
            "role assignment",
            ROLE_ON_GROUP,
            ["pool"],
            data={"scope": GROUP, "name": GRANT},
        ),
        action("scaleSet", "delete", "scale set", "vmss-agents", ["pool"]),
    ]


def test_destroy_after_a_run_stopped_between_the_two_deletes() -> None:
    """The pool and the connection are gone, the credential behind it is not."""
    _, facts = recorded()
    facts.agent_pool = facts.elastic_pool = facts.azure_connection = None
    assert shown(plan_destroy(SPEC, facts).actions) == [
        action("federatedCredential", "delete", "federated credential", req.FIC_NAME, []),
        action(
            f"roleAssignment:{GRANT}",
            "delete",
            "role assignment",
            ROLE_ON_GROUP,
            [],
            data={"scope": GROUP, "name": GRANT},
        ),
        action("scaleSet", "delete", "scale set", "vmss-agents", []),
    ]
    # a connection the file says exists already is not agentctl's, nor is its credential
    conn = dataclasses.replace(SPEC.devops.azureConnection, existing=True)
    spec = dataclasses.replace(SPEC, devops=dataclasses.replace(SPEC.devops, azureConnection=conn))
    assert "federatedCredential" not in {a.key for a in plan_destroy(spec, facts).actions}


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


def test_a_group_name_ending_in_an_x_is_still_the_group() -> None:
    _, facts = recorded()
    azure = dataclasses.replace(SPEC.azure, resourceGroup="rg-agentsX")
    spec = dataclasses.replace(SPEC, azure=azure)
    facts.role_assignments[0]["properties"]["scope"] = GROUP + "X/"
    facts.elastic_pool["azureId"] = req.SCALE_SET_ID.replace("/rg-agents/", "/rg-agentsX/")  # type: ignore[index]
    assert plan(spec, facts).get("roleAssignment").op == "noop"  # type: ignore[union-attr]


def test_a_changed_grant_is_shown_by_the_role_it_takes_back() -> None:
    _, facts = recorded()
    facts.role_definition_id = ROLE_ID.replace("9980e02c", "b24988ac")  # the file now names another role
    p = plan(SPEC, facts)
    assert p.get(f"roleAssignment:{GRANT}").name == "role 9980e02c-c2be-4d73-94e8-173b1dc7cf3c on rg-agents"  # type: ignore[union-attr]
    assert p.get("roleAssignment").op == "create"  # type: ignore[union-attr]


def test_a_grant_on_a_group_ending_in_an_x_is_named_by_it() -> None:
    _, facts = recorded()
    spec = dataclasses.replace(SPEC, azure=dataclasses.replace(SPEC.azure, resourceGroup="rg-agentsX"))
    facts.role_assignments[0]["properties"]["scope"] = GROUP + "X"
    facts.elastic_pool["azureId"] = req.SCALE_SET_ID.replace("/rg-agents/", "/rg-agentsX/")  # type: ignore[index]
    names = {a.key: a.name for a in plan_destroy(spec, facts).actions}
    assert names[f"roleAssignment:{GRANT}"] == "Virtual Machine Contributor on rg-agentsX"
