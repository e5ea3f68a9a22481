"""The managed pool's planner and doctor checks: tables of facts in, actions (or findings) out."""

from __future__ import annotations

from typing import Any

import pytest

from agentctl import config
from agentctl.doctor import managed as doctor
from agentctl.errors import PreconditionFailed
from agentctl.kinds import backend_switch, managed_pool, pool
from agentctl.kinds.base import Facts, Plan
from agentctl.kinds.common import marker
from agentctl.kinds.managed_pool import desired
from agentctl.kinds.managed_pool.facts import ManagedFacts
from testlib import REPO

TEXT = (REPO / "examples" / "managed-pool.yaml").read_text()
SPEC = config.loads(TEXT, "managed-pool.yaml")
TAGS = {"managed-by": "agentctl", "agentctl-pool": "private-agents"}
DELEGATED = {
    "properties": {"delegations": [{"properties": {"serviceName": "Microsoft.DevOpsInfrastructure/pools"}}]}
}
READS = [{"actions": ["*/read"], "notActions": []}]  # a Reader's permissions
SP = SPEC.managedPool.servicePrincipalObjectId if SPEC.managedPool else ""


def role(scope: str, role_id: str, description: str = "") -> dict[str, Any]:
    rid = f"/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/{role_id}"
    return {"name": "a1", "properties": {"scope": scope, "roleDefinitionId": rid, "description": description}}


def all_roles() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for scope, role_id in desired.service_roles(SPEC):
        out.setdefault(scope, []).append(role(scope, role_id, marker(SPEC)))
    return out


def converged(**changes: Any) -> ManagedFacts:
    made = {"name": "x", "id": "/x", "tags": TAGS}
    body = desired.pool_body(SPEC, delegated=True)
    pool_now = {**body, "name": "private-agents", "id": desired.pool_id(SPEC)}
    pool_now["properties"] = {**body["properties"], "provisioningState": "Succeeded"}
    facts = ManagedFacts(
        pool=pool_now,
        dev_center=made,
        project=made,
        resource_group={"name": "rg-agents"},
        subnet=DELEGATED,
        service_roles=all_roles(),
        providers={"Microsoft.DevOpsInfrastructure": "Registered", "Microsoft.DevCenter": "Registered"},
        agent_pool={"id": 7},
        queue={"id": 9},
        queue_permissions={"allPipelines": {"authorized": False}},
    )
    for key, value in changes.items():
        setattr(facts, key, value)
    return facts


def planned(spec: Any, mine: ManagedFacts) -> dict[str, tuple[str, tuple[str, ...]]]:
    facts = Facts(kinds={managed_pool.NAME: mine})
    return {
        a.key.split(":")[0] + ("" if ":" not in a.key else ":*"): (a.op, a.needs)
        for a in managed_pool.plan(spec, facts)
    }


def ops(spec: Any, mine: ManagedFacts) -> set[tuple[str, str]]:
    return {(key, op) for key, (op, _) in planned(spec, mine).items() if op != "noop"}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, set()),
        (
            {"pool": None, "dev_center": None, "project": None, "resource_group": None, "agent_pool": None},
            {
                ("resourceGroup", "create"),
                ("devCenter", "create"),
                ("devCenterProject", "create"),
                ("managedPool", "create"),
            },
        ),
        ({"subnet": {"properties": {"delegations": []}}}, {("subnetDelegation", "update")}),
        ({"providers": {"Microsoft.DevOpsInfrastructure": "NotRegistered"}}, {("provider:*", "update")}),
        ({"service_roles": {}}, {("serviceRole:*", "create")}),
        (
            {"queue_permissions": {"allPipelines": {"authorized": True}}},
            {("managedPoolPermissions", "update")},
        ),
    ],
)
def test_plan_from_facts(changes: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert ops(SPEC, converged(**changes)) == expected


@pytest.mark.parametrize(
    ("old", "new", "fields"),
    [
        ("maximumConcurrency: 4", "maximumConcurrency: 5", ["maximumConcurrency"]),
        ('start: "18:00", agents: 0', 'start: "19:00", agents: 0', ["agentProfile"]),
        ("sku: Standard_D4ads_v5", "sku: Standard_D2ads_v5", ["fabricProfile"]),
        ("kind: creatorOnly", "kind: inherit", ["organizationProfile"]),
    ],
)
def test_drift_is_a_patch_of_the_changed_field(old: str, new: str, fields: list[str]) -> None:
    spec = config.loads(TEXT.replace(old, new), "managed-pool.yaml")
    (action,) = [
        a for a in managed_pool.plan(spec, Facts(kinds={managed_pool.NAME: converged()})) if a.op != "noop"
    ]
    assert action.key == "managedPool" and action.op == "update"
    assert list(action.data["patch"]["properties"]) == fields
    assert [c.field for c in action.changes] == fields


def test_automatic_standby_is_the_prediction_profile() -> None:
    text = TEXT.split("    standby:")[0] + "    standby: { automatic: MostCostEffective }\n"
    spec = config.loads(
        text
        + TEXT.split("    authorizeAllPipelines: false\n")[1].join(
            ["    authorizeAllPipelines: false\n", ""]
        ),
        "m.yaml",
    )
    profile = desired.agent_profile(spec)
    assert profile["resourcePredictionsProfile"] == {
        "kind": "Automatic",
        "predictionPreference": "MostCostEffective",
    }
    assert "resourcePredictions" not in profile


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        (
            {
                "subnet": {
                    "properties": {
                        "delegations": [{"properties": {"serviceName": "Microsoft.Web/serverFarms"}}]
                    }
                }
            },
            "delegated to Microsoft.Web",
        ),
        ({"pool": {"name": "private-agents", "tags": {}, "location": "westeurope"}}, "did not create it"),
        (
            {
                "subnet": {"properties": {"delegations": []}},
                "caller_permissions": {desired.vnet_id(SPEC): READS},
            },
            "az network vnet subnet update",
        ),
        (
            {"service_roles": {}, "caller_permissions": {desired.vnet_id(SPEC): READS}},
            "az role assignment create",
        ),
        (
            {
                "usage": {"limit": 10, "currentValue": 8, "name": {"value": "standardDADSv5Family"}},
                "sku_cores": 4,
                "pool": None,
                "agent_pool": None,
            },
            "quota",
        ),
    ],
)
def test_refusals_before_any_write(changes: dict[str, Any], refused: str) -> None:
    with pytest.raises(PreconditionFailed) as err:
        managed_pool.plan(SPEC, Facts(kinds={managed_pool.NAME: converged(**changes)}))
    said = [err.value.message, err.value.hint, *(p.message for p in err.value.problems)]
    assert refused in " ".join(said)


def test_destroy_removes_only_what_agentctl_made() -> None:
    mine = converged(dev_center={"name": "dc", "id": "/dc", "tags": {}})  # a dev center not ours
    keys = {
        a.key.split(":")[0] for a in managed_pool.plan_destroy(SPEC, Facts(kinds={managed_pool.NAME: mine}))
    }
    assert keys == {"managedPool", "subnetDelegation", "serviceRole", "devCenterProject"}


def test_switch_from_a_scale_set_waits_for_its_pool() -> None:
    mine = converged(pool=None)  # the Azure DevOps pool of the name is the elastic one
    section = TEXT[TEXT.index("managedPool:") : TEXT.index("devops:")]
    switched = "backend: managedPool\n" + (REPO / "examples" / "pool.yaml").read_text() + section
    needs = planned(config.loads(switched, "m.yaml"), mine)["managedPool"][1]
    assert {"pool", "scaleSet"} <= set(needs)
    assert not SPEC.has("scaleSet")  # without it nothing would remove the elastic pool: refused
    with pytest.raises(PreconditionFailed):
        managed_pool.plan(SPEC, Facts(kinds={managed_pool.NAME: mine}))


def test_backend_switch_is_named_by_the_deletes() -> None:
    scale_set = config.loads((REPO / "examples" / "pool.yaml").read_text(), "pool.yaml")
    facts = Facts(kinds={managed_pool.NAME: converged(), pool.NAME: pool.PoolFacts()})
    the_plan = Plan(managed_pool.plan(scale_set, facts))
    assert backend_switch("scaleSet", the_plan) == ["managed pool private-agents"]
    assert backend_switch("managedPool", the_plan) == []


@pytest.mark.parametrize(
    ("changes", "codes"),
    [
        ({}, []),
        ({"subnet": {"properties": {"delegations": []}}}, ["subnet.not_delegated"]),
        ({"service_roles": {}}, ["managed.service_role_missing"] * 3),
        ({"providers": {"Microsoft.DevCenter": "NotRegistered"}}, ["provider.not_registered"]),
    ],
)
def test_doctor_findings(changes: dict[str, Any], codes: list[str]) -> None:
    assert [f.code for f in doctor.findings(SPEC, converged(**changes))] == codes


def _scale_set_world() -> tuple[Any, Any, str]:
    """The example scale-set pool, converged (tests/plan/worlds.py), its text, and a leftover on
    the agents' identity: the pool's previous release federated the connection there."""
    import json

    from plan.worlds import OBSERVED, recorded

    spec, facts = recorded()
    text = json.loads((OBSERVED / "sandbox-converged.json").read_text())["pool"]
    mine = pool.of(facts)
    conn = mine.azure_connection or {}
    params = (conn.get("authorization") or {}).get("parameters") or {}
    trust = {
        "issuer": params.get("workloadIdentityFederationIssuer"),
        "subject": params.get("workloadIdentityFederationSubject"),
    }
    mine.agent_federated_credentials = [{"name": "old", "properties": trust}]
    return spec, facts, text


def test_switching_to_managed_removes_the_scale_set_pool_but_not_what_it_cannot_know() -> None:
    spec, facts, text = _scale_set_world()
    section = TEXT[TEXT.index("managedPool:") : TEXT.index("devops:")]
    switched = config.loads("backend: managedPool\n" + text + section, "m.yaml")
    deletes = pool.plan(switched, facts)
    assert {"pool", "azureConnection", "scaleSet", "roleAssignment"} <= {a.key.split(":")[0] for a in deletes}
    assert all(a.op == "delete" for a in deletes)
    # the agents' identity is the managed pool's now: what the old release left there is not
    # this kind's to take back (the scale-set backend alone knows it)
    assert not any(a.key.endswith("/old") for a in deletes)
    own = pool.plan(spec, facts)  # with the scale-set backend the same leftover goes
    assert any(a.key.endswith("/old") and a.op == "delete" for a in own)


def test_switching_back_waits_for_the_managed_pool_and_its_delegation() -> None:
    spec, facts, _ = _scale_set_world()
    facts.kinds[managed_pool.NAME] = converged()
    facts.kinds[pool.NAME] = pool.PoolFacts(role_definition_id=pool.of(facts).role_definition_id)
    steps = {a.key: a for a in pool.plan(spec, facts)}
    assert {"managedPool", "subnetDelegation"} <= set(steps["scaleSet"].needs)
    assert "managedPool" in steps["pool"].needs
    facts.kinds[managed_pool.NAME] = converged(pool=None)  # gone already: nothing to wait for
    steps = {a.key: a for a in pool.plan(spec, facts)}
    assert "managedPool" not in steps["scaleSet"].needs + steps["pool"].needs
