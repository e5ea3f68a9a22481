"""The pool-management identity's part of the plan: its grant on the scale set, the rights check,
the federated credentials it holds and those the pool left elsewhere. Tables of facts in, actions
out; every expected action and body is written out here, not built by the planner's helpers."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from typing import Any

import pytest
from test_plan import ISSUER, ROLE, ROLE_ID, SPEC, SUBJECT, converged, ops, with_spec

from agentctl import config
from agentctl.errors import PreconditionFailed
from agentctl.kinds import common, pool
from agentctl.kinds.base import Action, Facts
from agentctl.kinds.pool import desired
from agentctl.kinds.pool.facts import OldIdentity
from agentctl.plan import plan, plan_destroy
from testlib import EXAMPLE_POOL

SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"
SCALE_SET_ID = (
    f"{SUB}/resourceGroups/rg-agents/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-agents"
)
IDENTITIES = "providers/Microsoft.ManagedIdentity/userAssignedIdentities"
POOL_IDENTITY_ID = f"{SUB}/resourceGroups/rg-agents/{IDENTITIES}/vmss-agents-pool"
AGENTS_IDENTITY_ID = f"{SUB}/resourceGroups/rg-identity/{IDENTITIES}/id-agents"
READER_ID = ROLE_ID.replace("9980e02c-c2be-4d73-94e8-173b1dc7cf3c", "acdd72a7-3385-48ef-bd42-f606fba81ae7")
READER = {"id": READER_ID, "properties": {"permissions": [{"actions": ["*/read"], "notActions": []}]}}
READER_LACKS = (
    "Microsoft.Compute/virtualMachineScaleSets/write, "
    "Microsoft.Compute/virtualMachineScaleSets/delete/action, "
    "Microsoft.Compute/virtualMachineScaleSets/reimage/action, "
    "Microsoft.Compute/virtualMachineScaleSets/extensions/write"
)
RIGHTS_HINT = (
    "set devops.azureConnection.grantRole: Virtual Machine Contributor (agentctl grants it on the scale set "
    "only), or grant the pool-management identity that role on the scale set yourself"
)


def described(action: Action | None) -> tuple[Any, ...]:
    assert action is not None
    return (action.op, action.kind, action.name, action.needs, action.data)


def connection_spec(**changes: Any) -> config.PoolSpec:
    return with_spec(devops__azureConnection=dataclasses.replace(SPEC.devops.azureConnection, **changes))


def arm_connection(name: str, endpoint_id: str) -> dict[str, Any]:
    """A connection of this pool's as Azure DevOps lists it, with the subject it gives the name."""
    subject = f"sc://contoso/platform/{name}"
    return {
        "name": name,
        "id": endpoint_id,
        "description": common.marker(SPEC),
        "authorization": {
            "scheme": "WorkloadIdentityFederation",
            "parameters": {
                "workloadIdentityFederationIssuer": ISSUER,
                "workloadIdentityFederationSubject": subject,
            },
        },
    }


# --- the grant on the scale set


def test_the_grant_is_created_on_the_scale_set_after_the_identity() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_identity = None
    pool.of(facts).federated_credentials = []
    pool.of(facts).pool_role_assignments = []
    assert described(plan(SPEC, facts).get("roleAssignment")) == (
        "create",
        "role assignment",
        "Virtual Machine Contributor on vmss-agents",
        ("scaleSet", "poolIdentity"),
        {"scope": SCALE_SET_ID, "roleId": ROLE_ID, "principal": "pool"},
    )


def test_the_grant_of_a_known_identity_has_its_name_from_scope_principal_and_role() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_role_assignments = []
    name = uuid.uuid5(uuid.NAMESPACE_URL, f"agentctl|{SCALE_SET_ID.lower()}|pp1|{ROLE_ID.lower()}")
    assert described(plan(SPEC, facts).get("roleAssignment")) == (
        "create",
        "role assignment",
        "Virtual Machine Contributor on vmss-agents",
        ("scaleSet",),
        {"scope": SCALE_SET_ID, "roleId": ROLE_ID, "principal": "pool", "name": str(name)},
    )


def test_a_changed_grant_deletes_the_old_one_by_its_role_id() -> None:
    facts = copy.deepcopy(converged())
    contributor = ROLE_ID.replace("9980e02c", "b24988ac")
    pool.of(facts).role_definition_id = contributor
    pool.of(facts).role_definitions[contributor.lower()] = ROLE | {"id": contributor}
    assert described(plan(SPEC, facts).get("roleAssignment:ra1")) == (
        "delete",
        "role assignment",
        "role 9980e02c-c2be-4d73-94e8-173b1dc7cf3c on vmss-agents",
        (),
        {"scope": SCALE_SET_ID, "name": "ra1"},
    )


@pytest.mark.parametrize(
    ("existing", "identity", "grant_op"),
    [
        (False, None, "noop"),  # agentctl's identity
        (False, AGENTS_IDENTITY_ID.replace("id-agents", "id-pool"), "noop"),  # the file's identity
        (
            True,
            AGENTS_IDENTITY_ID.replace("id-agents", "id-pool"),
            "noop",
        ),  # another's connection, known identity
        (True, None, None),  # another's connection and identity: nothing of agentctl's to grant
    ],
    ids=["made", "named", "existing-named", "existing-unknown"],
)
def test_the_grant_follows_whose_identity_the_connection_uses(
    existing: bool, identity: str | None, grant_op: str | None
) -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_identity["tags"] = {} if identity else pool.of(facts).pool_identity["tags"]
    assert (
        ops(plan(connection_spec(existing=existing, identity=identity), facts)).get("roleAssignment")
        == grant_op
    )


# --- the rights Azure DevOps needs on the scale set


@pytest.mark.parametrize(
    ("scope", "enough"),
    [
        (SCALE_SET_ID, True),
        (SCALE_SET_ID.upper() + "/", True),
        (f"{SUB}/resourceGroups/rg-agents", True),
        (SUB, True),
        (SCALE_SET_ID + "-2", False),  # a sibling scale set
        (f"{SUB}/resourceGroups/rg-agents-2", False),  # another group whose name starts the same
        (f"{SUB}/resourceGroups/rg-other", False),
    ],
)
def test_without_grant_a_role_held_by_hand_counts_on_the_scale_set_and_above(
    scope: str, enough: bool
) -> None:
    spec = connection_spec(grantRole=None)
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_role_assignments[0]["properties"].update(scope=scope, description="by hand")
    if enough:
        assert not plan(spec, facts).changed
    else:
        with pytest.raises(PreconditionFailed, match="holds no role on scale set vmss-agents"):
            plan(spec, facts)


def rights_failure(spec: config.PoolSpec, facts: Facts) -> PreconditionFailed:
    with pytest.raises(PreconditionFailed) as e:
        plan(spec, facts)
    return e.value


def test_a_grant_without_the_rights_is_refused_with_what_it_lacks_and_where() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).role_definition_id = READER_ID
    pool.of(facts).role_definitions = {READER_ID.lower(): READER}
    error = rights_failure(connection_spec(grantRole="Reader"), facts)
    message = f"role 'Reader' does not let Azure DevOps manage the scale set (it lacks {READER_LACKS})"
    assert str(error) == f"devops.azureConnection.grantRole: {message}"
    assert error.hint == RIGHTS_HINT
    (problem,) = error.problems
    assert (problem.message, problem.field, problem.line, problem.file) == (
        message,
        "devops.azureConnection.grantRole",
        30,  # grantRole's line in the file
        str(EXAMPLE_POOL),
    )


def test_no_grant_and_no_role_held_is_refused_with_what_is_missing_and_where() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_role_assignments[0]["properties"].update(
        roleDefinitionId=READER_ID, description="by hand"
    )
    pool.of(facts).role_definition_id = None
    pool.of(facts).role_definitions = {READER_ID.lower(): READER}
    error = rights_failure(connection_spec(grantRole=None), facts)
    message = (
        "is null, and the pool-management identity holds no role on scale set vmss-agents that lets "
        f"Azure DevOps manage it (it lacks {READER_LACKS})"
    )
    assert str(error) == f"devops.azureConnection.grantRole {message}"
    assert error.hint == RIGHTS_HINT
    assert [(p.message, p.line) for p in error.problems] == [(message, 30)]


def test_a_default_grant_without_the_rights_points_at_the_connection() -> None:
    # grantRole not in the file (its default applies): the problem is on the connection's line
    text = EXAMPLE_POOL.read_text().replace("    grantRole: Virtual Machine Contributor\n", "")
    spec = config.loads(text, "pool.yaml")
    assert spec.devops.azureConnection.grantRole == "Virtual Machine Contributor"
    facts = copy.deepcopy(converged(spec))
    pool.of(facts).role_definitions = {ROLE_ID.lower(): READER}
    (problem,) = rights_failure(spec, facts).problems
    assert (problem.field, problem.line, problem.file) == (
        "devops.azureConnection.grantRole",
        28,
        "pool.yaml",
    )


# --- whose the pool-management identity is


@pytest.mark.parametrize(
    ("tags", "message", "hint"),
    [
        (
            {},
            "identity vmss-agents-pool in rg-agents exists but agentctl did not create it",
            "name it in devops.azureConnection.identity to use it as it is, or choose another scaleSet.name",
        ),
        (
            {"agentctl-pool": "private-agents"},  # without managed-by, the pool tag is anyone's
            "identity vmss-agents-pool in rg-agents exists but agentctl did not create it",
            "name it in devops.azureConnection.identity to use it as it is, or choose another scaleSet.name",
        ),
        (
            {"managed-by": "agentctl", "agentctl-pool": "other"},
            "identity vmss-agents-pool in rg-agents belongs to agentctl's pool 'other'",
            "to rename a pool, destroy it with its old file first; else choose another scaleSet.name",
        ),
    ],
    ids=["untagged", "pool-tag-only", "another-pool"],
)
def test_an_identity_of_that_name_not_this_pools_is_refused(
    tags: dict[str, str], message: str, hint: str
) -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_identity["tags"] = tags
    with pytest.raises(PreconditionFailed) as e:
        plan(SPEC, facts)
    assert (str(e.value), e.value.hint) == (message, hint)
    assert "poolIdentity" not in ops(plan_destroy(SPEC, facts))


# --- federated credentials


def test_a_connection_made_before_the_scale_set_waits_only_for_what_it_needs() -> None:
    facts = copy.deepcopy(converged())  # the identity is there; scale set, connection and pool are not
    pool.of(facts).scale_set = pool.of(facts).azure_connection = pool.of(facts).agent_pool = pool.of(
        facts
    ).elastic_pool = pool.of(facts).queue = None
    p = plan(SPEC, facts)
    assert described(p.get("azureConnection")) == ("create", "service connection", "arm-agents", (), {})
    assert p.get("federatedCredential").needs == ("azureConnection",)


def test_a_credential_trusting_the_connection_under_another_name_is_kept_as_it_is() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).federated_credentials[0]["name"] = "made-by-hand"
    assert described(plan(SPEC, facts).get("federatedCredential")) == (
        "noop",
        "federated credential",
        "made-by-hand",
        (),
        {},
    )


def test_credentials_on_every_identity_the_pool_left_go_after_the_scale_set_and_pool() -> None:
    facts = copy.deepcopy(converged())
    trusting = {"issuer": ISSUER, "subject": SUBJECT}
    pool.of(facts).agent_federated_credentials = [{"name": "on-agents", "properties": trusting}]
    old_id = AGENTS_IDENTITY_ID.replace("id-agents", "id-old")
    pool.of(facts).old_identities = {old_id: OldIdentity([{"name": "on-old", "properties": trusting}], [])}
    p = plan(SPEC, facts)
    assert [a.key for a in p.pending] == [
        "federatedCredential:id-agents/on-agents",
        "federatedCredential:id-old/on-old",
    ]
    assert [described(a) for a in p.pending] == [
        (
            "delete",
            "federated credential",
            "on-agents",
            ("scaleSet", "pool"),
            {"identity": ("rg-identity", "id-agents")},
        ),
        (
            "delete",
            "federated credential",
            "on-old",
            ("scaleSet", "pool"),
            {"identity": ("rg-identity", "id-old")},
        ),
    ]
    assert {a.key: a.needs for a in plan_destroy(SPEC, facts).actions if "/on-" in a.key} == {
        "federatedCredential:id-agents/on-agents": ("pool",),
        "federatedCredential:id-old/on-old": ("pool",),
    }


def test_a_stale_connection_goes_with_the_credential_trusting_it() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).stale_connections = [arm_connection("arm-old", "e0")]
    pool.of(facts).federated_credentials.append(
        {"name": "fic-old", "properties": {"issuer": ISSUER, "subject": "sc://contoso/platform/arm-old"}}
    )
    p = plan(SPEC, facts)
    expected = {
        "azureConnection:arm-old": ("delete", "service connection", "arm-old", ("pool",), {"id": "e0"}),
        "federatedCredential:vmss-agents-pool/fic-old": (
            "delete",
            "federated credential",
            "fic-old",
            ("azureConnection:arm-old",),
            {"identity": ("rg-agents", "vmss-agents-pool")},
        ),
    }
    assert {a.key: described(a) for a in p.pending} == expected
    destroyed = {a.key: described(a) for a in plan_destroy(SPEC, facts).actions}
    assert {k: destroyed[k] for k in expected} == expected


def test_destroy_after_the_connection_went_needs_both_its_name_and_subject() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).azure_connection = None
    ours = pool.of(facts).federated_credentials[0]["name"]
    pool.of(facts).federated_credentials.append(  # the connection's subject, another name: made by hand
        {"name": "made-by-hand", "properties": {"issuer": ISSUER, "subject": SUBJECT}}
    )
    fics = [a.key for a in plan_destroy(SPEC, facts).actions if a.key.startswith("federatedCredential")]
    assert fics == [f"federatedCredential:vmss-agents-pool/{ours}"]


def test_destroy_leaves_an_identity_tagged_with_the_pool_but_not_by_agentctl() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_identity["tags"] = {"agentctl-pool": "private-agents"}
    assert "poolIdentity" not in ops(plan_destroy(SPEC, facts))


# --- the scale set's identities


def test_the_pool_identity_leaves_the_scale_set_and_the_files_stays() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).scale_set["identity"]["userAssignedIdentities"] = {
        AGENTS_IDENTITY_ID: {},
        POOL_IDENTITY_ID: {},
    }
    (change,) = plan(SPEC, facts).get("scaleSet").changes
    assert (change.field, change.old, change.new) == (
        "identity",
        [AGENTS_IDENTITY_ID, POOL_IDENTITY_ID],
        [AGENTS_IDENTITY_ID],
    )


# --- the builders the planner and apply share


@pytest.mark.parametrize(
    ("observed", "kept"),
    [
        (
            {
                "properties": {
                    "virtualMachineProfile": {"extensionProfile": {"extensions": [{"name": "agent"}]}}
                }
            },
            {"extensions": [{"name": "agent"}]},
        ),
        ({"properties": {"virtualMachineProfile": {"extensionProfile": {}}}}, None),
        ({"properties": {"virtualMachineProfile": {}}}, None),
        ({}, None),
    ],
    ids=["extensions", "empty-profile", "no-profile", "nothing"],
)
def test_a_full_put_keeps_the_scale_sets_extensions(observed: dict[str, Any], kept: Any) -> None:
    body: dict[str, Any] = {"properties": {"virtualMachineProfile": {"osProfile": {"adminUsername": "a"}}}}
    desired.keep_extensions(body, observed)
    profile: dict[str, Any] = {"osProfile": {"adminUsername": "a"}}
    if kept is not None:
        profile["extensionProfile"] = kept
    assert body == {"properties": {"virtualMachineProfile": profile}}


def test_the_pool_identity_body_is_its_location_and_tags() -> None:
    assert desired.identity_body(SPEC) == {
        "location": "westeurope",
        "tags": {"managed-by": "agentctl", "agentctl-pool": "private-agents"},
    }


@pytest.mark.parametrize(
    ("name", "identity"),
    [
        ("vmss-agents", "vmss-agents-pool"),
        ("vmss.agents_1", "vmss-agents_1-pool"),
        ("v" * 130, "v" * 123 + "-pool"),
    ],
)
def test_the_pool_identity_is_named_after_the_scale_set(name: str, identity: str) -> None:
    spec = with_spec(scaleSet__name=name)
    assert desired.pool_identity_id(spec) == POOL_IDENTITY_ID.replace("vmss-agents-pool", identity)


def test_a_long_connection_name_makes_a_credential_name_of_the_longest_allowed() -> None:
    name = common.federated_credential_name(SPEC, "A" * 200)
    assert len(name) == 120
    assert name.startswith("agentctl-" + "a" * 94 + "-")


@pytest.mark.parametrize(
    ("issuer", "subject", "found"),
    [
        (ISSUER, SUBJECT, "ours"),
        (ISSUER, "sc://contoso/platform/other", None),
        ("https://other", SUBJECT, None),
        ("", SUBJECT, None),  # a connection not ready yet has no issuer: nothing trusts it
        (ISSUER, "", None),
    ],
)
def test_a_credential_trusts_a_connection_by_issuer_and_subject_together(
    issuer: str, subject: str, found: str | None
) -> None:
    credentials = [
        {"name": "no-issuer", "properties": {"issuer": "", "subject": SUBJECT}},
        {"name": "no-subject", "properties": {"issuer": ISSUER, "subject": ""}},
        {"name": "ours", "properties": {"issuer": ISSUER, "subject": SUBJECT}},
    ]
    trusted = common.credential_for(credentials, issuer, subject)
    assert (trusted or {}).get("name") == found


@pytest.mark.parametrize(
    ("permissions", "missing"),
    [
        ([], list(desired.POOL_ACTIONS)),
        ([{"actions": ["Microsoft.Compute/virtualMachineScaleSets/*"]}], []),
        ([{"actions": ["microsoft.compute/VIRTUALMACHINESCALESETS/*"], "notActions": []}], []),
        (
            [{"actions": ["*"], "notActions": ["Microsoft.Compute/virtualMachineScaleSets/delete/action"]}],
            ["Microsoft.Compute/virtualMachineScaleSets/delete/action"],
        ),
        (
            [{"actions": ["Microsoft.Compute/*/read"], "notActions": None}],
            [a for a in desired.POOL_ACTIONS if not a.endswith("/read")],
        ),
    ],
    ids=["none", "wildcard", "any-case", "not-action", "reads"],
)
def test_the_actions_a_role_lacks_for_the_pool(permissions: list[dict[str, Any]], missing: list[str]) -> None:
    assert desired.missing_actions([{"properties": {"permissions": permissions}}]) == missing


def test_a_scope_is_compared_in_lower_case_without_its_trailing_slash() -> None:
    assert common.scope_of({"properties": {"scope": f"{SUB}/resourceGroups/RG-X/"}}) == (
        f"{SUB}/resourcegroups/rg-x"
    )
