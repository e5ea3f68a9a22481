"""The planner is a pure function: tables of facts in, actions out."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from agentctl import config
from agentctl.errors import PreconditionFailed
from agentctl.kinds import common, pool
from agentctl.kinds.base import Facts
from agentctl.kinds.pool import desired
from agentctl.plan import plan, plan_destroy
from testlib import EXAMPLE_POOL, facts_of

SPEC = config.loads(EXAMPLE_POOL.read_text(), str(EXAMPLE_POOL))
ISSUER, SUBJECT = "https://vstoken.dev.azure.com/org-id", "sc://contoso/platform/arm-agents"
ROLE_ID = (
    "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
)


POOL_IDENTITY = {
    "name": "vmss-agents-pool",
    "tags": common.tags(SPEC),
    "properties": {"principalId": "pp1", "clientId": "pc1", "tenantId": "t1"},
}
ROLE = {  # Virtual Machine Contributor, as ARM returns it
    "id": ROLE_ID,
    "properties": {
        "roleName": "Virtual Machine Contributor",
        "permissions": [{"actions": ["Microsoft.Compute/virtualMachineScaleSets/*"], "notActions": []}],
    },
}


def converged(spec: config.PoolSpec = SPEC) -> Facts:
    """Facts as Azure would report them right after a successful deploy of ``spec``."""
    ss = desired.scale_set_body(spec, "ssh-rsa AAAA")
    ss["properties"]["provisioningState"] = "Succeeded"
    ss["sku"]["capacity"] = 3  # Azure DevOps scaled it; never a diff
    conn = desired.connection_body(
        spec, {"id": "p1", "name": "platform"}, "t1", "pc1", "AzureCloud", "https://arm/"
    )
    conn |= {"id": "e1", "isReady": True}
    conn["authorization"]["parameters"] |= {
        "workloadIdentityFederationIssuer": ISSUER,
        "workloadIdentityFederationSubject": SUBJECT,
    }
    elastic = desired.elastic_pool_body(spec, "e1", "p1", datetime.now(UTC)) | {"poolId": 7}
    return facts_of(
        resource_group={"name": spec.azure.resourceGroup, "tags": common.tags(spec)},
        scale_set=ss,
        identity={"properties": {"principalId": "pr1", "clientId": "c1", "tenantId": "t1"}},
        pool_identity=copy.deepcopy(POOL_IDENTITY),
        federated_credentials=[
            {
                "name": common.federated_credential_name(spec, spec.devops.azureConnection.name),
                "properties": {"issuer": ISSUER, "subject": SUBJECT},
            }
        ],
        role_definition_id=ROLE_ID,
        role_definitions={ROLE_ID.lower(): ROLE},
        pool_role_assignments=[
            {
                "name": "ra1",
                "properties": {
                    "roleDefinitionId": ROLE_ID,
                    "scope": desired.scale_set_id(spec),
                    "description": common.marker(spec),
                },
            }
        ],
        image_versions=["2026.1101.1", "2026.1129.1"],
        project={"id": "p1", "name": "platform"},
        azure_connection=conn,
        agent_pool={"id": 7, "name": spec.devops.pool.name},
        elastic_pool=elastic,
        queue={"id": 11, "name": spec.devops.pool.name},
        queue_permissions={"allPipelines": {"authorized": False}, "pipelines": []},
    )


def ops(p: Any) -> dict[str, str]:
    return {a.key: a.op for a in p.actions}


def with_spec(**changes: Any) -> config.PoolSpec:
    """A copy of the example spec with dotted-path overrides, e.g. devops__pool__desiredIdle=2."""
    spec = SPEC
    for path, value in changes.items():
        parts = path.split("__")
        objs = [spec]
        for p in parts[:-1]:
            objs.append(getattr(objs[-1], p))
        new = dataclasses.replace(objs[-1], **{parts[-1]: value})
        for obj, name in zip(reversed(objs[:-1]), reversed(parts[:-1]), strict=True):
            new = dataclasses.replace(obj, **{name: new})
        spec = new
    return spec


def test_empty_world_creates_everything_in_order() -> None:
    facts = facts_of(
        identity=converged().identity,
        role_definition_id=ROLE_ID,
        role_definitions={ROLE_ID.lower(): ROLE},
        project={"id": "p1", "name": "platform"},
    )
    p = plan(SPEC, facts)
    assert ops(p) == {
        "resourceGroup": "create",
        "poolIdentity": "create",
        "scaleSet": "create",
        "roleAssignment": "create",
        "azureConnection": "create",
        "federatedCredential": "create",
        "pool": "create",
    }
    needs = {a.key: set(a.needs) for a in p.actions}
    assert needs["scaleSet"] == {"resourceGroup"}
    assert needs["roleAssignment"] == {"scaleSet", "poolIdentity"}
    assert needs["azureConnection"] == {"poolIdentity"}
    assert needs["federatedCredential"] == {"azureConnection", "poolIdentity"}
    assert needs["pool"] == {"scaleSet", "azureConnection", "federatedCredential", "roleAssignment"}
    # the grant is on the scale set only, for the pool-management identity (never the agents')
    assert p.get("roleAssignment").data == {
        "scope": desired.scale_set_id(SPEC),
        "roleId": ROLE_ID,
        "principal": "pool",
    }


def test_converged_world_is_a_noop() -> None:
    p = plan(SPEC, converged())
    assert not p.changed, [a.to_dict() for a in p.pending]


# (case, spec overrides, facts mutation, expected key -> op, expected changed fields)
UPDATES: list[tuple[str, dict[str, Any], Any, dict[str, str], set[str]]] = [
    ("desiredIdle", {"devops__pool__desiredIdle": 2}, None, {"pool": "update"}, {"desiredIdle"}),
    ("maxCapacity", {"devops__pool__maxCapacity": 20}, None, {"pool": "update"}, {"maxCapacity"}),
    (
        "recycle",
        {"devops__pool__recycleAfterEachUse": True},
        None,
        {"pool": "update"},
        {"recycleAfterEachUse"},
    ),
    ("ttl", {"devops__pool__timeToLiveMinutes": 5}, None, {"pool": "update"}, {"timeToLiveMinutes"}),
    ("saved", {"devops__pool__maxSavedNodeCount": 3}, None, {"pool": "update"}, {"maxSavedNodeCount"}),
    ("image-version", {"image__version": "2026.1101.1"}, None, {"scaleSet": "update"}, {"image"}),
    ("sku", {"scaleSet__sku": "Standard_D8s_v5"}, None, {"scaleSet": "update"}, {"sku.name"}),
    ("disk", {"scaleSet__osDisk": config.OsDisk(True, 256)}, None, {"scaleSet": "update"}, {"osDisk.sizeGb"}),
    (
        "tags-lost",
        {},
        lambda f: pool.of(f).scale_set["tags"].pop(common.TAG_POOL),
        {"scaleSet": "update"},
        {"tags"},
    ),
    (
        "authorize-all",
        {"devops__pool__authorizeAllPipelines": True},
        None,
        {"poolPermissions": "update"},
        {"allPipelines"},
    ),
    ("pipelines", {"devops__pool__pipelines": [4, 5]}, None, {"poolPermissions": "update"}, {"pipelines"}),
    (
        "fic-subject",
        {},
        lambda f: pool.of(f).federated_credentials[0]["properties"].update(subject="sc://other"),
        {"federatedCredential": "update"},
        {"subject"},
    ),
    (
        "connection-client",
        {},
        lambda f: (
            pool.of(f).azure_connection["authorization"]["parameters"].update(serviceprincipalid="other")
        ),
        {"azureConnection": "update"},
        {"authorization.serviceprincipalid"},
    ),
    (
        "role-missing",
        {},
        lambda f: pool.of(f).pool_role_assignments.clear(),
        {"roleAssignment": "create"},
        set(),
    ),
    (  # a grant on the group is not the grant on the scale set
        "role-on-the-group",
        {},
        lambda f: (
            pool.of(f).pool_role_assignments[0]["properties"].update(scope=common.resource_group_scope(SPEC))
        ),
        {"roleAssignment": "create"},
        set(),
    ),
    (
        "pipelines-removed",
        {"devops__pool__pipelines": [4]},
        lambda f: pool.of(f).queue_permissions.update(
            pipelines=[{"id": 4, "authorized": True}, {"id": 7, "authorized": True}]
        ),
        {"poolPermissions": "update"},
        {"pipelines"},
    ),
    (
        "pool-on-another-connection",
        {},
        lambda f: pool.of(f).elastic_pool.update(serviceEndpointId="e-old"),
        {"pool": "update"},
        {"serviceConnection"},
    ),
    (
        "fic-missing",
        {},
        lambda f: pool.of(f).federated_credentials.clear(),
        {"federatedCredential": "create"},
        set(),
    ),
]


@pytest.mark.parametrize(
    ("overrides", "mutate", "want", "fields"), [u[1:] for u in UPDATES], ids=[u[0] for u in UPDATES]
)
def test_single_field_drift_is_one_action(
    overrides: dict[str, Any], mutate: Any, want: dict[str, str], fields: set[str]
) -> None:
    facts = copy.deepcopy(converged())
    if mutate:
        mutate(facts)
    p = plan(with_spec(**overrides), facts)
    assert {a.key: a.op for a in p.pending} == want
    (action,) = p.pending
    assert {c.field for c in action.changes} == fields


def test_a_changed_grant_takes_the_old_one_back() -> None:
    facts = copy.deepcopy(converged())
    contributor = ROLE_ID.replace("9980e02c", "b24988ac")  # the file now asks for another role
    pool.of(facts).role_definition_id = contributor
    pool.of(facts).role_definitions[contributor.lower()] = ROLE | {"id": contributor}
    assert {a.key: a.op for a in plan(SPEC, facts).pending} == {
        "roleAssignment": "create",
        "roleAssignment:ra1": "delete",
    }


def test_grant_removed_keeps_the_role_the_identity_holds() -> None:
    # grantRole: null: the identity's rights are someone else's to manage; this pool's grant goes
    spec = with_spec(devops__azureConnection=dataclasses.replace(SPEC.devops.azureConnection, grantRole=None))
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_role_assignments.append(
        {
            "name": "by-hand",
            "properties": {"roleDefinitionId": ROLE_ID, "scope": common.resource_group_scope(SPEC)},
        }
    )
    assert {a.key: a.op for a in plan(spec, facts).pending} == {"roleAssignment:ra1": "delete"}


@pytest.mark.parametrize(
    ("grant", "held", "field_says"),
    [
        (None, [], "is null, and the pool-management identity holds no role on scale set vmss-agents"),
        ("Reader", [], "role 'Reader' does not let Azure DevOps manage the scale set"),
        (None, ["Reader"], "holds no role on scale set"),
    ],
    ids=["no-grant-no-role", "grant-too-weak", "held-role-too-weak"],
)
def test_a_pool_identity_without_the_rights_the_pool_needs_stops_the_plan(
    grant: str | None, held: list[str], field_says: str
) -> None:
    reader_id = ROLE_ID.replace(
        "9980e02c-c2be-4d73-94e8-173b1dc7cf3c", "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    )
    reader = {"id": reader_id, "properties": {"permissions": [{"actions": ["*/read"], "notActions": []}]}}
    spec = with_spec(
        devops__azureConnection=dataclasses.replace(SPEC.devops.azureConnection, grantRole=grant)
    )
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_role_assignments = [
        {
            "name": "h",
            "properties": {"roleDefinitionId": reader_id, "scope": common.resource_group_scope(SPEC)},
        }
        for _ in held
    ]
    pool.of(facts).role_definition_id = reader_id if grant else None
    pool.of(facts).role_definitions = {reader_id.lower(): reader}
    with pytest.raises(PreconditionFailed, match=field_says) as e:
        plan(spec, facts)
    assert e.value.exit_code == 5
    (problem,) = e.value.problems
    assert problem.field == "devops.azureConnection.grantRole"
    assert "virtualMachineScaleSets/write" in problem.message
    assert "Virtual Machine Contributor" in e.value.hint


def test_a_role_held_above_the_scale_set_is_enough_without_grant() -> None:
    spec = with_spec(devops__azureConnection=dataclasses.replace(SPEC.devops.azureConnection, grantRole=None))
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_role_assignments[0]["properties"].update(
        scope=common.resource_group_scope(SPEC), description="by hand"
    )
    assert not plan(spec, facts).changed


def test_grants_below_the_group_are_not_the_pools_to_take_back() -> None:
    # A registry grant (resources/registries.py) carries the same marker, on a narrower scope.
    facts = copy.deepcopy(converged())
    acr = {
        "name": "ra-acr",
        "properties": {
            "roleDefinitionId": "/acrpull",
            "scope": common.resource_group_scope(SPEC)
            + "/providers/Microsoft.ContainerRegistry/registries/acr1",
            "description": common.marker(SPEC),
        },
    }
    facts.role_assignments.append(acr)
    assert not plan(SPEC, facts).changed
    assert "roleAssignment:ra-acr" not in ops(plan_destroy(SPEC, facts))


def test_with_no_pipelines_named_those_permitted_in_azure_devops_stay() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).queue_permissions["pipelines"] = [{"id": 7, "authorized": True}]  # "Permit" on a first run
    assert not plan(SPEC, facts).changed
    assert "pipelines" not in common.permissions_body(False, [], pool.of(facts).queue_permissions)


def test_removing_a_pipeline_takes_its_permission_back() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).queue_permissions["pipelines"] = [
        {"id": 4, "authorized": True},
        {"id": 7, "authorized": True},
    ]
    spec = with_spec(devops__pool__pipelines=[4])
    (action,) = plan(spec, facts).pending
    assert [(c.old, c.new) for c in action.changes] == [([4, 7], [4])]
    assert common.permissions_body(False, [4], pool.of(facts).queue_permissions)["pipelines"] == [
        {"id": 4, "authorized": True},
        {"id": 7, "authorized": False},
    ]


def test_an_identity_added_by_hand_next_to_the_files_stays() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).scale_set["identity"]["userAssignedIdentities"]["/subscriptions/s/other-id"] = {}
    assert not plan(SPEC, facts).changed


def test_an_identity_change_detaches_the_old_one() -> None:
    facts = copy.deepcopy(converged())
    new = SPEC.scaleSet.identity.userAssigned.replace("id-agents", "id-agents-2")
    spec = with_spec(scaleSet__identity=config.Identity(new))
    patch = plan(spec, facts).get("scaleSet").data["patch"]
    assert patch["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": {new: {}, SPEC.scaleSet.identity.userAssigned: None},
    }


def test_what_the_pool_left_on_an_old_identity_goes_and_nothing_else() -> None:
    from agentctl.kinds.pool.facts import OldIdentity

    facts = copy.deepcopy(converged())
    old_id = SPEC.scaleSet.identity.userAssigned.replace("id-agents", "id-old")
    group = common.resource_group_scope(SPEC)
    pool.of(facts).old_identities = {
        old_id: OldIdentity(
            federated_credentials=[
                {"name": "agentctl-arm-agents", "properties": {"issuer": ISSUER, "subject": SUBJECT}},
                # same name, another project's connection: not this pool's (matched by subject, not name)
                {
                    "name": "agentctl-x",
                    "properties": {"issuer": ISSUER, "subject": "sc://contoso/other/arm-agents"},
                },
            ],
            role_assignments=[
                {"name": "old-ra", "properties": {"scope": group, "description": common.marker(SPEC)}},
                {
                    "name": "theirs",
                    "properties": {"scope": group, "description": "Managed by agentctl (pool x)"},
                },
            ],
        )
    }
    p = plan(SPEC, facts)
    assert {a.key: a.op for a in p.pending} == {
        "federatedCredential:id-old/agentctl-arm-agents": "delete",
        "roleAssignment:old-ra": "delete",
    }
    assert p.get("federatedCredential:id-old/agentctl-arm-agents").data == {
        "identity": ("rg-identity", "id-old")
    }
    assert {"federatedCredential:id-old/agentctl-arm-agents", "roleAssignment:old-ra"} <= set(
        ops(plan_destroy(SPEC, facts))
    )


def previous_release(facts: Facts) -> Facts:
    """What the release before the identity split left: the connection signs in as the agents'
    identity, which trusts it and holds the grant on the resource group; no pool identity."""
    old = copy.deepcopy(facts)
    pool.of(old).azure_connection["authorization"]["parameters"]["serviceprincipalid"] = "c1"
    pool.of(old).pool_identity = None
    pool.of(old).federated_credentials = []
    pool.of(old).pool_role_assignments = []
    pool.of(old).agent_federated_credentials = [
        {"name": "agentctl-arm-agents", "properties": {"issuer": ISSUER, "subject": SUBJECT}}
    ]
    old.role_assignments = [
        {
            "name": "ra-group",
            "properties": {
                "roleDefinitionId": ROLE_ID,
                "scope": common.resource_group_scope(SPEC),
                "description": common.marker(SPEC),
            },
        }
    ]
    return old


def test_a_pool_of_the_previous_release_is_migrated_in_place() -> None:
    p = plan(SPEC, previous_release(converged()))
    assert {a.key: a.op for a in p.pending} == {
        "poolIdentity": "create",
        "roleAssignment": "create",
        "azureConnection": "update",
        "federatedCredential": "create",
        "federatedCredential:id-agents/agentctl-arm-agents": "delete",
        "roleAssignment:ra-group": "delete",
    }  # the scale set and the pool stay
    needs = {a.key: set(a.needs) for a in p.actions}
    assert needs["azureConnection"] == {"federatedCredential", "roleAssignment"}
    assert needs["federatedCredential"] == {"poolIdentity"}  # the connection's subject is known
    assert {"pool"} <= needs["federatedCredential:id-agents/agentctl-arm-agents"]
    assert {"pool"} <= needs["roleAssignment:ra-group"]
    (change,) = p.get("azureConnection").changes
    assert (change.field, change.old) == ("authorization.serviceprincipalid", "c1")
    assert "vmss-agents-pool" in change.new


def test_the_pool_identity_is_taken_off_the_scale_set() -> None:
    facts = copy.deepcopy(converged())
    pool_id = desired.pool_identity_id(SPEC)
    pool.of(facts).scale_set["identity"]["userAssignedIdentities"][pool_id] = {}
    patch = plan(SPEC, facts).get("scaleSet").data["patch"]
    assert patch["identity"]["userAssignedIdentities"] == {
        SPEC.scaleSet.identity.userAssigned: {},
        pool_id: None,
    }


def test_an_identity_of_that_name_not_made_for_this_pool_is_not_taken() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_identity["tags"] = {}
    with pytest.raises(PreconditionFailed, match="agentctl did not create it"):
        plan(SPEC, facts)


def test_a_named_pool_identity_is_used_as_is_and_never_destroyed() -> None:
    named = SPEC.scaleSet.identity.userAssigned.replace("id-agents", "id-pool")
    spec = with_spec(devops__azureConnection=dataclasses.replace(SPEC.devops.azureConnection, identity=named))
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_identity["tags"] = {}
    assert not plan(spec, facts).changed
    assert "poolIdentity" not in ops(plan_destroy(spec, facts))


def test_what_azure_cannot_change_in_place_is_a_warning_not_a_change() -> None:
    spec = with_spec(
        scaleSet__adminUsername="ops", scaleSet__zones=["1", "2"], scaleSet__osDisk=config.OsDisk(False, 128)
    )
    p = plan(spec, converged())
    assert not p.changed
    warnings = p.get("scaleSet").to_dict()["warnings"]
    assert [w.split(" is ")[0] for w in warnings] == [
        "scaleSet.adminUsername",
        "scaleSet.osDisk.ephemeral",
        "scaleSet.zones",
    ]
    assert all("destroy the pool and deploy it again" in w for w in warnings)


def test_a_renamed_connection_replaces_the_old_one() -> None:
    facts = copy.deepcopy(converged())
    old = pool.of(facts).azure_connection
    old_fic = pool.of(facts).federated_credentials[0]["name"]
    pool.of(facts).stale_connections = [old]
    pool.of(facts).azure_connection = None
    spec = with_spec(
        devops__azureConnection=dataclasses.replace(SPEC.devops.azureConnection, name="arm-agents-2")
    )
    p = plan(spec, facts)
    gone = f"federatedCredential:vmss-agents-pool/{old_fic}"
    assert {a.key: a.op for a in p.pending} == {
        "azureConnection": "create",
        "federatedCredential": "create",
        "pool": "update",
        "azureConnection:arm-agents": "delete",
        gone: "delete",
    }
    needs = {a.key: set(a.needs) for a in p.actions}
    assert "azureConnection" in needs["pool"] and needs["azureConnection:arm-agents"] == {"pool"}
    assert needs[gone] == {"azureConnection:arm-agents"}
    # destroy (before any deploy of the new name) takes both away
    assert {"azureConnection:arm-agents", gone} <= set(ops(plan_destroy(spec, facts)))


def test_a_scale_set_of_another_pool_is_neither_taken_nor_destroyed() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).scale_set["tags"][common.TAG_POOL] = "other-agents"
    with pytest.raises(PreconditionFailed, match="belongs to agentctl's pool 'other-agents'"):
        plan(SPEC, facts)
    assert "scaleSet" not in ops(plan_destroy(SPEC, facts))


def test_a_connection_of_another_pool_is_named_as_such() -> None:
    # the pool was renamed in the file: its old connection carries the old pool's marker
    spec = with_spec(devops__pool=dataclasses.replace(SPEC.devops.pool, name="private-agents-2"))
    facts = copy.deepcopy(converged())
    pool.of(facts).scale_set = None
    pool.of(facts).agent_pool = pool.of(facts).elastic_pool = None
    with pytest.raises(PreconditionFailed, match="belongs to agentctl's pool 'private-agents'") as e:
        plan(spec, facts)
    assert "destroy it with its old file" in e.value.hint


def test_scale_set_capacity_is_never_a_change() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).scale_set["sku"]["capacity"] = 9
    assert not plan(SPEC, facts).changed


def test_image_change_patches_only_the_image() -> None:
    p = plan(with_spec(image__version="2026.1101.1"), converged())
    patch = p.get("scaleSet").data["patch"]
    assert patch == {
        "properties": {
            "virtualMachineProfile": {
                "storageProfile": {
                    "imageReference": {"id": SPEC.image.galleryImageId + "/versions/2026.1101.1"}
                }
            }
        }
    }


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: pool.of(f).scale_set["tags"].clear(), "agentctl did not create it"),
        (
            lambda f: pool.of(f).azure_connection.update(description="made by hand"),
            "exists but agentctl did not create it",
        ),
        (
            lambda f: pool.of(f).elastic_pool.update(azureId="/subscriptions/x/other"),
            "not backed by scale set",
        ),
    ],
    ids=["foreign-scale-set", "foreign-connection", "foreign-pool"],
)
def test_refuses_to_take_over_foreign_resources(mutate: Any, message: str) -> None:
    facts = copy.deepcopy(converged())
    mutate(facts)
    with pytest.raises(PreconditionFailed, match=message):
        plan(SPEC, facts)


def test_existing_connection_is_used_as_is() -> None:
    spec = with_spec(devops__azureConnection=dataclasses.replace(SPEC.devops.azureConnection, existing=True))
    facts = copy.deepcopy(converged())
    pool.of(facts).azure_connection["description"] = "made by hand"
    p = plan(spec, facts)
    assert not p.changed and "federatedCredential" not in ops(p)
    pool.of(facts).azure_connection = None
    with pytest.raises(PreconditionFailed, match="does not exist"):
        plan(spec, facts)


def test_destroy_removes_only_what_agentctl_made_in_reverse_order() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).pool_role_assignments.append(
        {"name": "someone-elses", "properties": {"roleDefinitionId": ROLE_ID}}
    )
    fic = f"federatedCredential:vmss-agents-pool/{pool.of(facts).federated_credentials[0]['name']}"
    p = plan_destroy(SPEC, facts)
    assert ops(p) == {
        "pool": "delete",
        "azureConnection": "delete",
        fic: "delete",
        "roleAssignment:ra1": "delete",
        "scaleSet": "delete",
        "poolIdentity": "delete",
    }
    needs = {a.key: set(a.needs) for a in p.actions}
    assert needs["scaleSet"] == {"pool"} and needs[fic] == {"azureConnection"}
    assert needs["poolIdentity"] == {"pool", "azureConnection", fic, "roleAssignment:ra1"}
    assert "resourceGroup" not in ops(p)


def test_destroy_after_the_connection_went_finds_its_credential_by_subject() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).azure_connection = None
    name = pool.of(facts).federated_credentials[0]["name"]
    pool.of(facts).federated_credentials.append(  # same name, another subject: not this pool's
        {"name": name + "x", "properties": {"issuer": ISSUER, "subject": "sc://contoso/other/arm-agents"}}
    )
    assert f"federatedCredential:vmss-agents-pool/{name}" in ops(plan_destroy(SPEC, facts))
    assert f"federatedCredential:vmss-agents-pool/{name}x" not in ops(plan_destroy(SPEC, facts))


def test_destroy_leaves_foreign_resources() -> None:
    facts = copy.deepcopy(converged())
    pool.of(facts).scale_set["tags"].clear()
    pool.of(facts).azure_connection["description"] = "by hand"
    pool.of(facts).elastic_pool["azureId"] = "/other"
    pool.of(facts).pool_role_assignments[0]["properties"]["description"] = ""
    pool.of(facts).pool_identity["tags"] = {}
    assert plan_destroy(SPEC, facts).actions == []


def test_destroy_of_nothing_is_empty() -> None:
    assert not plan_destroy(SPEC, facts_of()).changed


def test_credential_names_are_unique_per_organization_project_and_connection() -> None:
    def name(org: str, project: str, conn: str) -> str:
        spec = with_spec(devops__organization=f"https://dev.azure.com/{org}", devops__project=project)
        return common.federated_credential_name(spec, conn)

    base = name("contoso", "platform", "arm-agents")
    assert base == name("Contoso", "PLATFORM", "ARM-agents")  # Azure DevOps names ignore case
    others = {
        name("fabrikam", "platform", "arm-agents"),
        name("contoso", "web", "arm-agents"),
        name("contoso", "platform", "arm agents"),  # differs only outside [A-Za-z0-9_-]
        name("contoso", "platform", "arm.agents"),
    }
    assert base not in others and len(others) == 4
    longest = name("contoso", "platform", "x" * 256)
    assert len(longest) <= 120
    assert all(c.isalnum() or c in "-_" for c in longest) and longest[0].isalnum()


def test_an_identity_the_file_names_is_never_deleted_even_if_agentctl_made_it() -> None:
    """A pool-management identity agentctl made, then named in the file (it is the user's now)."""
    made = desired.pool_identity_id(SPEC)
    facts = converged()
    assert any(a.key == "poolIdentity" for a in plan_destroy(SPEC, facts).actions)  # still ours
    named = with_spec(devops__azureConnection__identity=made)
    assert not any(a.key == "poolIdentity" for a in plan_destroy(named, converged(named)).actions)


def test_a_role_delete_is_named_by_the_last_part_of_its_scope() -> None:
    from agentctl.kinds.pool import roles

    scope = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmssX"
    assignment = {"name": "ra", "properties": {"roleDefinitionId": "/x/roleDefinitions/r1", "scope": scope}}
    action = roles.role_delete(SPEC, pool.of(converged()), assignment, scope, ())
    assert action.name == "role r1 on vmssX" and action.data == {"scope": scope, "name": "ra"}


def test_destroy_leaves_the_credential_behind_a_connection_that_is_not_agentctls() -> None:
    """With ``existing: true`` the connection is the user's: its credential stays, even when the
    connection is gone and a credential with agentctl's name and subject is found."""
    named = desired.pool_identity_id(SPEC)

    def deletes(existing: bool) -> list[str]:
        spec = with_spec(devops__azureConnection__existing=existing, devops__azureConnection__identity=named)
        facts = converged(spec)
        pool.of(facts).azure_connection = None
        return [a.key for a in plan_destroy(spec, facts).actions if a.key.startswith("federatedCredential")]

    assert deletes(existing=False)  # agentctl's connection, gone: its credential is found and goes
    assert deletes(existing=True) == []
