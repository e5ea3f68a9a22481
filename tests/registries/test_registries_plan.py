"""Registries: the planner and the checks are pure functions, table-tested here."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentctl import config, dnscheck
from agentctl.errors import PreconditionFailed
from agentctl.kinds import common
from agentctl.kinds import registries as regs
from agentctl.kinds.base import Action, Facts
from testlib import EXAMPLE_POOL, facts_of

SUB = "11111111-2222-3333-4444-555555555555"
ACR_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/acrplatform"
)
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub"
ZONE_ID = f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/" + (
    "privatelink.azurecr.io"
)
PRINCIPAL = "pr-1"
PUSH = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{regs.ROLES['push']}"
PULL = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{regs.ROLES['pull']}"
PROJECT = {"id": "p1", "name": "platform"}


def spec_with(
    access: str = "push", authorize_all: bool = False, conn: str = "acr-private"
) -> config.PoolSpec:
    text = EXAMPLE_POOL.read_text() + (
        "registries:\n"
        f"  - id: {ACR_ID}\n"
        f"    connection: {conn}\n"
        f"    access: {access}\n"
        f"    authorizeAllPipelines: {str(authorize_all).lower()}\n"
    )
    return config.loads(text, "pool.yaml")


SPEC = spec_with()


def registry(sku: str = "Premium", data_hosts: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": ACR_ID,
        "name": "acrplatform",
        "location": "westeurope",
        "sku": {"name": sku},
        "properties": {
            "loginServer": "acrplatform.azurecr.io",
            "dataEndpointHostNames": ["acrplatform.westeurope.data.azurecr.io"]
            if data_hosts is None
            else data_hosts,
        },
    }


def assignment(
    name: str, role_id: str, scope: str = ACR_ID, ours: bool = True, description: str = ""
) -> dict[str, Any]:
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "properties": {
            "roleDefinitionId": role_id,
            "principalId": PRINCIPAL,
            "description": description or (common.marker(SPEC) if ours else "made by hand"),
        },
    }


def zone(
    records: tuple[str, ...] = ("acrplatform", "acrplatform.westeurope.data"), vnet: str = VNET
) -> regs.Zone:
    return dnscheck.Zone(ZONE_ID, "privatelink.azurecr.io", {vnet.lower()}, set(records))


def connection(spec: config.PoolSpec = SPEC, **overrides: Any) -> dict[str, Any]:
    body = regs.connection_body(spec, spec.registries[0], registry(), PROJECT, "t1")
    return {**body, "id": "e9", "isReady": True, **overrides}


def facts(
    reg: dict[str, Any] | None = None,
    assignments: list[dict[str, Any]] | None = None,
    conn: dict[str, Any] | None = None,
    perms: dict[str, Any] | None = None,
    zones: list[regs.Zone] | None = None,
    mine: list[dict[str, Any]] | None = None,
    conns: list[dict[str, Any]] | None = None,
) -> Facts:
    """``mine`` and ``conns``: the identity's assignments in the subscription, the project's
    dockerregistry connections (where leftovers are found)."""
    observed = regs.Observed(
        {ACR_ID.lower(): regs.RegistryFacts(reg, assignments or [], conn, perms or {})},
        [zone()] if zones is None else zones,
        mine or [],
        conns or [],
    )
    return facts_of(
        identity={"properties": {"principalId": PRINCIPAL, "clientId": "c1", "tenantId": "t1"}},
        project=PROJECT,
        kinds={regs.NAME: observed},
    )


def converged(spec: config.PoolSpec = SPEC) -> Facts:
    role = PUSH if spec.registries[0].access == "push" else PULL
    return facts(
        registry(),
        [assignment("a1", role)],
        connection(spec),
        {"allPipelines": {"authorized": spec.registries[0].authorizeAllPipelines}},
    )


def ops(actions: list[Action]) -> dict[str, str]:
    return {a.key: a.op for a in actions}


def test_new_push_registry_creates_one_assignment_and_one_connection() -> None:
    actions = regs.plan(SPEC, facts(registry()))
    assert ops(actions) == {
        "registryRole:acrplatform": "create",
        "registryConnection:acr-private": "create",
    }
    role = actions[0]
    assert role.data["roleId"] == PUSH and role.data["scope"] == ACR_ID
    assert role.data["name"] == common.role_assignment_name(ACR_ID, PRINCIPAL, PUSH)
    assert role.name == "AcrPush on acrplatform"


def test_connection_body_is_an_acr_connection_with_the_agents_identity_and_no_secret() -> None:
    body = regs.plan(SPEC, facts(registry()))[1].data["body"]
    assert body["type"] == "dockerregistry" and body["url"] == "https://acrplatform.azurecr.io"
    assert body["authorization"] == {
        "scheme": "ManagedServiceIdentity",
        "parameters": {"tenantid": "t1", "loginServer": "acrplatform.azurecr.io"},
    }
    assert body["data"]["registrytype"] == "ACR" and body["data"]["registryId"] == ACR_ID
    assert body["data"]["subscriptionId"] == SUB
    assert body["description"] == common.marker(SPEC)
    assert body["serviceEndpointProjectReferences"][0]["projectReference"] == PROJECT
    text = json.dumps(body).lower()
    assert "password" not in text and "serviceprincipalkey" not in text


def test_authorize_all_pipelines_adds_permissions_after_the_connection() -> None:
    spec = spec_with(authorize_all=True)
    actions = regs.plan(spec, facts(registry()))
    perm = next(a for a in actions if a.key == "registryPermissions:acr-private")
    assert perm.op == "create" and perm.needs == ("registryConnection:acr-private",)
    assert perm.data["authorizeAll"] is True and perm.data["id"] is None


def test_converged_world_plans_nothing_and_no_warning() -> None:
    for spec in (SPEC, spec_with("pull", True)):
        actions = regs.plan(spec, converged(spec))
        assert {a.op for a in actions} == {"noop"}, ops(actions)
        assert not any(a.key.startswith("registryCheck") for a in actions)


@pytest.mark.parametrize(
    "existing, op",
    [
        ([assignment("someone-elses", PUSH, ours=False)], "noop"),  # any equivalent assignment counts
        ([assignment("upper", PUSH, scope=ACR_ID.split("/providers/")[0])], "create"),  # not at the registry
        ([assignment("other-principal-role", PULL, ours=False)], "create"),
        ([], "create"),
    ],
)
def test_equivalent_assignment_is_judged_at_the_registry_scope(
    existing: list[dict[str, Any]], op: str
) -> None:
    actions = regs.plan(SPEC, facts(registry(), existing))
    assert ops(actions)["registryRole:acrplatform"] == op
    assert not any(a.op == "delete" for a in actions)


def test_push_to_pull_replaces_our_assignment_after_granting_the_new_one() -> None:
    spec = spec_with("pull")
    actions = regs.plan(spec, facts(registry(), [assignment("old", PUSH)], connection(spec)))
    create = next(a for a in actions if a.key == "registryRole:acrplatform")
    delete = next(a for a in actions if a.key == "registryRole:acrplatform/old")
    assert create.op == "create" and create.data["roleId"] == PULL
    assert [(c.field, c.old, c.new) for c in create.changes] == [("role", "AcrPush", "AcrPull")]
    assert delete.op == "delete" and delete.needs == ("registryRole:acrplatform",)
    assert delete.data == {"scope": ACR_ID, "name": "old"}


def test_push_to_pull_leaves_an_assignment_agentctl_did_not_make() -> None:
    spec = spec_with("pull")
    actions = regs.plan(spec, facts(registry(), [assignment("hand", PUSH, ours=False)], connection(spec)))
    assert ops(actions)["registryRole:acrplatform"] == "create"
    assert not any(a.op == "delete" for a in actions)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"url": "https://old.azurecr.io"}, "url"),
        ({"authorization": {"scheme": "UsernamePassword", "parameters": {}}}, "authorization.scheme"),
        ({"data": {"registrytype": "Others"}}, "data.registrytype"),
    ],
)
def test_connection_drift_is_an_update(overrides: dict[str, Any], field: str) -> None:
    actions = regs.plan(SPEC, facts(registry(), [assignment("a1", PUSH)], connection(**overrides)))
    conn = next(a for a in actions if a.key == "registryConnection:acr-private")
    assert conn.op == "update" and conn.data["id"] == "e9"
    assert field in [c.field for c in conn.changes]


def test_foreign_connection_with_the_same_name_stops_the_plan() -> None:
    with pytest.raises(PreconditionFailed) as err:
        regs.plan(SPEC, facts(registry(), [], connection(description="by hand")))
    assert err.value.message.startswith("pool.yaml:")
    assert "registries[0].connection" in err.value.message and "acr-private" in err.value.message


def test_missing_registry_stops_the_plan_naming_the_field() -> None:
    with pytest.raises(PreconditionFailed) as err:
        regs.plan(SPEC, facts(None))
    line = SPEC.line("registries[0].id")
    assert err.value.message.startswith(f"pool.yaml:{line}: registries[0].id: container registry")


def _warnings(f: Facts) -> list[str]:
    checks = [a for a in regs.plan(SPEC, f) if a.key == "registryCheck:acrplatform"]
    assert all(a.op == "noop" for a in checks)
    return [w for a in checks for w in a.data["warnings"]]


def test_checks_report_sku_zone_link_and_records() -> None:
    assert _warnings(facts(registry())) == []
    (sku,) = _warnings(facts(registry(sku="Standard")))
    assert "Standard" in sku and "Premium" in sku
    (link,) = _warnings(facts(registry(), zones=[zone(vnet=VNET + "-other")]))
    assert "privatelink.azurecr.io" in link and "vnet-hub" in link and ZONE_ID in link
    (nozone,) = _warnings(facts(registry(), zones=[]))
    assert "none in the subscription" in nozone
    (record,) = _warnings(facts(registry(), zones=[zone(records=("acrplatform",))]))
    assert "'acrplatform.westeurope.data'" in record and ZONE_ID in record


def test_data_endpoints_of_every_region_are_expected() -> None:
    two = registry(
        data_hosts=["acrplatform.westeurope.data.azurecr.io", "acrplatform.northeurope.data.azurecr.io"]
    )
    assert regs.expected_records(two) == [
        "acrplatform",
        "acrplatform.westeurope.data",
        "acrplatform.northeurope.data",
    ]
    # Without dedicated data endpoints the registry's own region is still expected.
    assert regs.expected_records(registry(data_hosts=[])) == ["acrplatform", "acrplatform.westeurope.data"]
    result = regs.check(two, [zone()], VNET)
    assert result["missingRecords"] == ["acrplatform.northeurope.data"]


def test_destroy_removes_only_what_agentctl_made() -> None:
    world = facts(
        registry(),
        [assignment("ours", PUSH), assignment("theirs", PULL, ours=False)],
        connection(),
    )
    actions = regs.plan_destroy(SPEC, world)
    assert ops(actions) == {
        "registryRole:acrplatform/ours": "delete",
        "registryConnection:acr-private": "delete",
    }
    assert all(a.needs == ("pool",) for a in actions)
    assert next(a for a in actions if a.op == "delete" and "Connection" in a.key).data == {"id": "e9"}
    foreign = facts(registry(), [assignment("theirs", PUSH, ours=False)], connection(description="by hand"))
    assert regs.plan_destroy(SPEC, foreign) == []
    assert regs.plan_destroy(SPEC, facts(None)) == []


def test_every_planned_change_has_a_handler() -> None:
    worlds = [
        (SPEC, facts(registry())),
        (spec_with(authorize_all=True), facts(registry())),
        (spec_with("pull", True), facts(registry(), [assignment("old", PUSH)], connection())),
        (
            spec_with(conn="acr-new"),
            facts(
                registry(),
                mine=[assignment("x", PULL, ACR_ID.replace("acrplatform", "acrold"))],
                conns=[connection()],
            ),
        ),
    ]
    actions = [a for spec, f in worlds for a in regs.plan(spec, f) + regs.plan_destroy(spec, f)]
    pending = {(a.key.split(":", 1)[0], a.op) for a in actions if a.op != "noop"}
    assert pending and pending <= set(regs.HANDLERS)


def test_status_names_the_missing_record() -> None:
    out = regs.status(SPEC, None, facts(registry(), zones=[zone(records=("acrplatform",))]), 0)[regs.NAME]  # type: ignore[arg-type]
    (item,) = out["items"]
    assert item["exists"] and item["sku"] == "Premium" and item["role"] == "AcrPush"
    assert item["roleAssigned"] is False and item["connection"]["exists"] is False
    assert item["dnsZone"] == ZONE_ID and item["missingRecords"] == ["acrplatform.westeurope.data"]
    assert out["warnings"] == item["warnings"] and "acrplatform.westeurope.data" in out["warnings"][0]


# --- leftovers: what the pool made for registries or connections the file no longer names ----

BARE = config.loads(EXAMPLE_POOL.read_text(), "pool.yaml")  # the same pool, no registries
OTHER_ACR = ACR_ID.replace("acrplatform", "acrold")
OTHER_POOL = "Managed by agentctl (pool other-agents)"
RG_SCOPE = ACR_ID.split("/providers/")[0]
CONTRIBUTOR = PUSH.replace(regs.ROLES["push"], "b24988ac-6180-42a0-ab88-20f7382dd24c")
ROLE_OLD = "registryRole:acrold/old"
CONN_OLD = "registryConnection:acr-old"


def old_connection(**overrides: Any) -> dict[str, Any]:
    return {**connection(), "id": "e7", "name": "acr-old", **overrides}


@pytest.mark.parametrize(
    "spec, mine, conns, expected",
    [
        # registries removed from the file: the assignment and the connection go
        (
            BARE,
            [assignment("old", PUSH, OTHER_ACR)],
            [old_connection()],
            {ROLE_OLD: "delete", CONN_OLD: "delete"},
        ),
        (BARE, [assignment("old", PULL, OTHER_ACR)], [], {ROLE_OLD: "delete"}),
        # never what lacks this pool's marker
        (BARE, [assignment("old", PUSH, OTHER_ACR, ours=False)], [old_connection(description="by hand")], {}),
        (
            BARE,
            [assignment("old", PUSH, OTHER_ACR, description=OTHER_POOL)],
            [old_connection(description=OTHER_POOL)],
            {},
        ),
        # not a registry assignment of agentctl's: another role, or not at a registry
        (
            BARE,
            [assignment("old", CONTRIBUTOR, OTHER_ACR)],
            [],
            {},
        ),
        (BARE, [assignment("old", PULL, RG_SCOPE)], [], {}),
        (BARE, [], [old_connection(type="kubernetes")], {}),
        # still listed: judged by the registry's own actions, not a leftover
        (SPEC, [assignment("a1", PUSH)], [connection()], {}),
        # one registry of two removed, the other still listed
        (
            SPEC,
            [assignment("a1", PUSH), assignment("old", PUSH, OTHER_ACR)],
            [connection(), old_connection()],
            {ROLE_OLD: "delete", CONN_OLD: "delete"},
        ),
    ],
)
def test_leftovers_of_the_pool_are_deleted(
    spec: config.PoolSpec,
    mine: list[dict[str, Any]],
    conns: list[dict[str, Any]],
    expected: dict[str, str],
) -> None:
    world = converged() if spec.registries else facts()
    world.kinds[regs.NAME].assignments, world.kinds[regs.NAME].connections = mine, conns
    actions = regs.plan(spec, world)
    assert {k: v for k, v in ops(actions).items() if v != "noop"} == expected
    for a in actions:
        if a.key == ROLE_OLD:
            assert a.data == {"scope": OTHER_ACR, "name": "old"} and a.needs == ()
            assert a.name.endswith(" on acrold") and a.kind == "role assignment"
        if a.key == CONN_OLD:
            assert a.data == {"id": "e7"} and a.needs == () and a.name == "acr-old"
    # destroy deletes the same leftovers, after the pool
    leftovers = [a for a in regs.plan_destroy(spec, world) if a.key in (ROLE_OLD, CONN_OLD)]
    assert {a.key: a.op for a in leftovers} == expected
    assert all(a.needs == ("pool",) for a in leftovers)


def test_renamed_connection_creates_the_new_one_and_deletes_the_old() -> None:
    spec = spec_with(conn="acr-new")
    world = facts(registry(), [assignment("a1", PUSH)], conns=[connection()])
    actions = regs.plan(spec, world)
    assert {k: v for k, v in ops(actions).items() if v != "noop"} == {
        "registryConnection:acr-new": "create",
        "registryConnection:acr-private": "delete",
    }
    assert next(a for a in actions if a.op == "delete").data == {"id": "e9"}


def test_after_the_leftovers_are_gone_nothing_is_planned() -> None:
    assert regs.plan(BARE, facts()) == []
    assert regs.plan_destroy(BARE, facts()) == []


IDENTITIES = f"/subscriptions/{SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity"
PUSHER = f"{IDENTITIES}/userAssignedIdentities/id-push"
PUSHER_IDENTITY = {
    "id": PUSHER,
    "properties": {"principalId": "pp-push", "clientId": "pc-push", "tenantId": "t1"},
}
SUBJECT = "sc://contoso/platform/acr-private"


def push_spec() -> config.PoolSpec:
    text = EXAMPLE_POOL.read_text() + (
        f"registries:\n  - id: {ACR_ID}\n    connection: acr-private\n    pushIdentity: {PUSHER}\n"
    )
    return config.loads(text, "pool.yaml")


def push_facts(
    conn: dict[str, Any] | None, credentials: list[dict[str, Any]], pushes: list[dict[str, Any]]
) -> Facts:
    f = facts(registry(), [assignment("a1", PULL)], conn, {"allPipelines": {"authorized": False}})
    found = f.kinds[regs.NAME].registries[ACR_ID.lower()]
    found.push_identity, found.push_credentials, found.push_assignments = PUSHER_IDENTITY, credentials, pushes
    return f


def test_a_push_identity_gets_its_own_federated_connection_and_acr_push() -> None:
    spec = push_spec()
    actions = regs.plan(spec, push_facts(None, [], []))
    assert ops(actions) == {
        "registryRole:acrplatform": "noop",  # the agents pull (granted already)
        "registryPushRole:acrplatform": "create",
        "registryConnection:acr-private": "create",
        "registryCredential:acr-private": "create",
    }
    by_key = {a.key: a for a in actions}
    assert by_key["registryRole:acrplatform"].data["roleId"] == PULL
    push = by_key["registryPushRole:acrplatform"].data
    assert (push["roleId"], push["principalId"], push["scope"]) == (PUSH, "pp-push", ACR_ID)
    auth = by_key["registryConnection:acr-private"].data["body"]["authorization"]
    assert auth["scheme"] == "WorkloadIdentityFederation"
    assert auth["parameters"]["serviceprincipalid"] == "pc-push"
    credential = by_key["registryCredential:acr-private"]
    assert credential.needs == ("registryConnection:acr-private",)
    assert credential.data["identity"] == ("rg-identity", "id-push")
    assert credential.name == common.federated_credential_name(spec, "acr-private")


def test_a_push_identity_converged_is_a_noop_and_destroy_takes_its_grant_and_credential() -> None:
    spec = push_spec()
    conn = {
        **regs.connection_body(spec, spec.registries[0], registry(), PROJECT, "t1", "pc-push"),
        "id": "e9",
    }
    conn["authorization"]["parameters"] |= {
        "workloadIdentityFederationIssuer": "https://vstoken/x",
        "workloadIdentityFederationSubject": SUBJECT,
    }
    trusted = {"name": "by-any-name", "properties": {"issuer": "https://vstoken/x", "subject": SUBJECT}}
    pushes = [assignment("p1", PUSH)]
    f = push_facts(conn, [trusted], pushes)
    assert {a.op for a in regs.plan(spec, f)} == {"noop"}
    gone = ops(regs.plan_destroy(spec, f))
    assert gone["registryPushRole:acrplatform/p1"] == "delete"
    assert gone["registryCredential:acr-private"] == "delete"


def test_a_push_identity_the_file_dropped_loses_what_the_pool_gave_it() -> None:
    spec = spec_with(access="push")
    conn = connection(spec)
    conn["authorization"] = {
        "scheme": "WorkloadIdentityFederation",
        "parameters": {"serviceprincipalid": "pc-push"},
    }
    f = facts(registry(), [], conn, {"allPipelines": {"authorized": False}}, conns=[conn])
    f.kinds[regs.NAME].stale_push = [
        regs.StalePush("acr-private", PUSHER, [{"name": "fic1"}], [assignment("p1", PUSH)])
    ]
    actions = {a.key: a for a in regs.plan(spec, f)}
    assert actions["registryConnection:acr-private"].op == "update"
    assert actions["registryCredential:id-push/fic1"].needs == ("registryConnection:acr-private",)
    assert actions["registryPushRole:acrplatform/p1"].op == "delete"
