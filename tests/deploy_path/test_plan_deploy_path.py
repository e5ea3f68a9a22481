"""The deploy-path planner is pure: tables of facts in, actions out."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from agentctl import config
from agentctl.errors import NotFound, PreconditionFailed
from agentctl.kinds import common
from agentctl.kinds import deploy_path as dp
from agentctl.kinds.base import Change, Facts
from agentctl.kinds.deploy_path import DeployPathFacts, Prepared
from testlib import facts_of

POOL = Path(__file__).with_name("pool.yaml")
SPEC = config.load(POOL)
PROJECT = {"id": "p1", "name": "platform"}
IDS = {"private-aks-dev": ["id-leads"], "private-aks-prod": ["id-leads", "id-release"]}
SECRET = "client-key-data: c2VjcmV0LWtleS1tYXRlcmlhbA=="
KUBE = {
    "aks-dev": Prepared("https://aks-dev.privatelink:443", "aks-dev", "a" * 64, f"kubeconfig dev {SECRET}"),
    "aks-prod": Prepared(
        "https://aks-prod.privatelink:443", "aks-prod", "b" * 64, f"kubeconfig prod {SECRET}"
    ),
}


def env_spec(name: str, spec: config.PoolSpec = SPEC) -> config.Environment:
    return next(e for e in spec.devops.environments if e.name == name)


def converged(spec: config.PoolSpec = SPEC) -> DeployPathFacts:
    """What Azure DevOps reports right after a successful deploy of ``spec``."""
    out = DeployPathFacts(approvers=copy.deepcopy(IDS), kubeconfigs=dict(KUBE))
    for n, env in enumerate(spec.devops.environments, start=1):
        out.environments.append(
            {"id": n, "name": env.name, "description": dp.environment_description(spec, env)}
        )
        check = dp.check_body(env, n, IDS[env.name]) | {"id": 10 + n}
        for a in check["settings"]["approvers"]:
            a["displayName"] = f"name of {a['id']}"
        out.checks[str(n)] = [check]
    for k in spec.devops.kubernetes:
        body = dp.connection_body(spec, k, KUBE[k.connection], PROJECT)
        body["authorization"]["parameters"]["kubeconfig"] = None  # never returned
        out.connections.append(body | {"id": f"e-{k.connection}", "isReady": True})
        out.permissions[f"e-{k.connection}"] = {"allPipelines": {"authorized": k.authorizeAllPipelines}}
    return out


def facts(deploy: DeployPathFacts | None) -> Facts:
    f = facts_of(project=PROJECT)
    if deploy is not None:
        f.kinds[dp.NAME] = deploy
    return f


def ops(actions: list[Any]) -> dict[str, str]:
    return {a.key: a.op for a in actions}


def pending(actions: list[Any]) -> dict[str, str]:
    return {a.key: a.op for a in actions if a.op != "noop"}


def replace_env(name: str, **changes: Any) -> config.PoolSpec:
    envs = [dataclasses.replace(e, **changes) if e.name == name else e for e in SPEC.devops.environments]
    return dataclasses.replace(SPEC, devops=dataclasses.replace(SPEC.devops, environments=envs))


def test_empty_project_creates_everything_without_waiting_for_the_scale_set() -> None:
    actions = dp.plan(SPEC, facts(DeployPathFacts(approvers=IDS, kubeconfigs=KUBE)))
    assert ops(actions) == {
        "environment:private-aks-dev": "create",
        "approvalCheck:private-aks-dev": "create",
        "environment:private-aks-prod": "create",
        "approvalCheck:private-aks-prod": "create",
        "kubernetesConnection:aks-dev": "create",
        "kubernetesConnection:aks-prod": "create",
        "kubernetesPermissions:aks-prod": "create",  # only aks-prod authorizes all pipelines
    }
    needs = {a.key: set(a.needs) for a in actions}
    assert needs["approvalCheck:private-aks-prod"] == {"environment:private-aks-prod"}
    assert needs["kubernetesPermissions:aks-prod"] == {"kubernetesConnection:aks-prod"}
    assert needs["environment:private-aks-dev"] == set() and needs["kubernetesConnection:aks-dev"] == set()
    assert not any({"scaleSet", "pool"} & set(a.needs) for a in actions)


def test_converged_project_is_all_noop() -> None:
    actions = dp.plan(SPEC, facts(converged()))
    assert actions and pending(actions) == {}


def test_not_observed_plans_nothing() -> None:
    assert dp.plan(SPEC, facts(None)) == [] and dp.plan_destroy(SPEC, facts(None)) == []


PROD = "private-aks-prod"
# (case, spec, facts mutation, expected pending key -> op, changed fields)
DRIFT: list[tuple[str, config.PoolSpec, Any, dict[str, str], set[str]]] = [
    (
        "approver-replaced",
        SPEC,
        lambda d: d.approvers.update({PROD: ["id-leads", "id-other"]}),
        {f"approvalCheck:{PROD}": "update"},
        {"approvers"},
    ),
    (
        "approver-added",
        replace_env(PROD, approvers=["a@contoso.com", "b@contoso.com", "c@contoso.com"]),
        lambda d: d.approvers.update({PROD: ["id-leads", "id-release", "id-c"]}),
        {f"approvalCheck:{PROD}": "update"},
        {"approvers"},
    ),
    (
        "min-approvers",
        replace_env(PROD, minApprovers=1),
        None,
        {f"approvalCheck:{PROD}": "update"},
        {"minApprovers"},
    ),
    (
        "instructions",
        replace_env(PROD, instructions="Ask on #platform."),
        None,
        {f"approvalCheck:{PROD}": "update"},
        {"instructions"},
    ),
    (
        "timeout",
        replace_env(PROD, timeoutMinutes=60),
        None,
        {f"approvalCheck:{PROD}": "update"},
        {"timeoutMinutes"},
    ),
    (
        "requester",
        replace_env(PROD, requesterCannotBeApprover=False),
        None,
        {f"approvalCheck:{PROD}": "update"},
        {"requesterCannotBeApprover"},
    ),
    (
        "description",
        replace_env(PROD, description="Prod"),
        None,
        {f"environment:{PROD}": "update"},
        {"description"},
    ),
    (
        "kubeconfig-rotated",
        SPEC,
        lambda d: d.kubeconfigs.update(
            {"aks-dev": dataclasses.replace(KUBE["aks-dev"], fingerprint="c" * 64)}
        ),
        {"kubernetesConnection:aks-dev": "update"},
        {"kubeconfig"},
    ),
    (
        "server-moved",
        SPEC,
        lambda d: d.kubeconfigs.update(
            {"aks-dev": dataclasses.replace(KUBE["aks-dev"], server="https://new:443")}
        ),
        {"kubernetesConnection:aks-dev": "update"},
        {"url"},
    ),
    (
        "fingerprint-lost",
        SPEC,
        lambda d: d.connections[1]["data"].pop(dp.FINGERPRINT_KEY),
        {"kubernetesConnection:aks-prod": "update"},
        {"kubeconfig"},
    ),
    (
        "permissions-revoked",
        SPEC,
        lambda d: d.permissions.update({"e-aks-prod": {"allPipelines": {"authorized": False}}}),
        {"kubernetesPermissions:aks-prod": "update"},
        {"allPipelines"},
    ),
]


@pytest.mark.parametrize(
    ("spec", "mutate", "want", "fields"), [d[1:] for d in DRIFT], ids=[d[0] for d in DRIFT]
)
def test_single_drift_is_one_in_place_update(
    spec: config.PoolSpec, mutate: Any, want: dict[str, str], fields: set[str]
) -> None:
    deploy = converged()
    if mutate:
        mutate(deploy)
    actions = dp.plan(spec, facts(deploy))
    assert pending(actions) == want
    (action,) = [a for a in actions if a.op != "noop"]
    assert {c.field for c in action.changes} == fields


def test_check_update_targets_the_existing_check() -> None:
    deploy = converged()
    deploy.approvers[PROD] = ["id-leads", "id-other"]
    (action,) = [a for a in dp.plan(SPEC, facts(deploy)) if a.op == "update"]
    assert action.data == {"id": 12}
    (change,) = action.changes
    assert change.old == ["name of id-leads", "name of id-release"]
    # id-leads is on both sides, so it reads the same; the other is shown as the file names it
    assert change.new == ["name of id-leads", env_spec(PROD).approvers[1]]


def test_approver_order_is_not_drift() -> None:
    deploy = converged()
    deploy.approvers[PROD] = ["ID-RELEASE", "id-leads"]
    assert pending(dp.plan(SPEC, facts(deploy))) == {}


def test_missing_check_is_created_and_dropped_approvers_delete_it() -> None:
    deploy = converged()
    del deploy.checks["2"]
    assert pending(dp.plan(SPEC, facts(deploy))) == {f"approvalCheck:{PROD}": "create"}
    actions = dp.plan(replace_env(PROD, approvers=[], minApprovers=1), facts(converged()))
    assert pending(actions) == {f"approvalCheck:{PROD}": "delete"}


def _copy_of(check: dict[str, Any], new_id: int, **settings: Any) -> dict[str, Any]:
    other = copy.deepcopy(check) | {"id": new_id}
    other["settings"].update(settings)
    return other


def test_checks_made_twice_by_runs_on_two_machines_are_cut_to_one() -> None:
    # Two runs that share no lease each created the check: the newer copy goes.
    deploy = converged()
    [first] = deploy.checks["2"]
    deploy.checks["2"] = [first, _copy_of(first, 99)]
    actions = dp.plan(SPEC, facts(deploy))
    assert pending(actions) == {f"approvalCheck:{PROD}#99": "delete"}
    assert {a.key: a.data for a in actions}[f"approvalCheck:{PROD}#99"] == {"id": 99}
    # The oldest check that matches the file stands; an older one that differs was added by hand
    # and stays.
    by_hand = _copy_of(first, 5, minRequiredApprovers=9)
    deploy.checks["2"] = [by_hand, first, _copy_of(first, 99)]
    assert pending(dp.plan(SPEC, facts(deploy))) == {f"approvalCheck:{PROD}#99": "delete"}
    # None matches: the oldest is updated, the others stay.
    deploy.checks["2"] = [by_hand, _copy_of(first, 6, instructions="by hand")]
    assert pending(dp.plan(SPEC, facts(deploy))) == {f"approvalCheck:{PROD}": "update"}
    # With no approvers in the file, every Approval check goes.
    deploy.checks["2"] = [first, _copy_of(first, 99)]
    actions = dp.plan(replace_env(PROD, approvers=[], minApprovers=1), facts(deploy))
    assert pending(actions) == {f"approvalCheck:{PROD}": "delete", f"approvalCheck:{PROD}#99": "delete"}


def test_status_counts_a_second_check_as_not_current() -> None:
    deploy = converged()
    [first] = deploy.checks["2"]
    deploy.checks["2"] = [first, _copy_of(first, 99)]
    got = dp.status(SPEC, None, facts(deploy), 0)[dp.NAME]  # type: ignore[arg-type]
    assert [(e["check"], e["checkCurrent"]) for e in got["environments"]] == [(True, True), (True, False)]


def test_a_name_that_differs_only_in_case_is_renamed_to_the_files() -> None:
    deploy = converged()
    deploy.environments[0]["name"] = deploy.environments[0]["name"].upper()
    deploy.connections[0]["name"] = deploy.connections[0]["name"].upper()
    actions = {a.key: a for a in dp.plan(SPEC, facts(deploy)) if a.op != "noop"}
    env, conn = SPEC.devops.environments[0].name, SPEC.devops.kubernetes[0].connection
    assert set(actions) == {f"environment:{env}", f"kubernetesConnection:{conn}"}
    assert [(c.field, c.old, c.new) for c in actions[f"environment:{env}"].changes] == [
        ("name", env.upper(), env)
    ]
    assert actions[f"kubernetesConnection:{conn}"].changes[0] == Change("name", conn.upper(), conn)


def test_environments_and_connections_dropped_from_the_file_are_deleted_when_ours() -> None:
    deploy = converged()
    marker = common.marker(SPEC)
    deploy.environments += [
        {"id": 3, "name": "old-env", "description": marker},
        {"id": 4, "name": "team-env", "description": "made by hand"},
    ]
    deploy.checks["3"] = [{"id": 13, "type": {"id": dp.APPROVAL_TYPE_ID}}]
    deploy.connections.append({"id": "e-old", "name": "old-aks", "type": "kubernetes", "description": marker})
    actions = dp.plan(SPEC, facts(deploy))
    assert pending(actions) == {
        "approvalCheck:old-env": "delete",
        "environment:old-env": "delete",
        "kubernetesConnection:old-aks": "delete",
    }
    by_key = {a.key: a for a in actions}
    assert by_key["environment:old-env"].needs == ("approvalCheck:old-env",)
    assert by_key["environment:old-env"].data == {"id": 3}
    assert by_key["kubernetesConnection:old-aks"].data == {"id": "e-old"}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d.environments[0].update(description="made by hand"),
            "environment 'private-aks-dev' exists",
        ),
        (lambda d: d.connections[0].update(description="made by hand"), "connection 'aks-dev' exists"),
    ],
    ids=["foreign-environment", "foreign-connection"],
)
def test_refuses_to_take_over_foreign_objects(mutate: Any, message: str) -> None:
    deploy = converged()
    mutate(deploy)
    with pytest.raises(PreconditionFailed, match=message):
        dp.plan(SPEC, facts(deploy))


def test_observe_problems_stop_the_plan_but_not_destroy() -> None:
    deploy = converged()
    deploy.errors.append(NotFound("devops.environments[0].approvers: no user or group named 'x'"))
    with pytest.raises(NotFound, match=r"environments\[0\]\.approvers"):
        dp.plan(SPEC, facts(deploy))
    assert dp.plan_destroy(SPEC, facts(deploy))


def test_destroy_removes_only_ours_checks_first() -> None:
    deploy = converged()
    deploy.environments[1]["description"] = "taken over by hand"
    deploy.connections.append({"id": "e-x", "name": "someone", "type": "kubernetes", "description": "theirs"})
    actions = dp.plan_destroy(SPEC, facts(deploy))
    assert ops(actions) == {
        "approvalCheck:private-aks-dev": "delete",
        "environment:private-aks-dev": "delete",
        "kubernetesConnection:aks-dev": "delete",
        "kubernetesConnection:aks-prod": "delete",
    }
    assert {a.key: a.needs for a in actions}["environment:private-aks-dev"] == (
        "approvalCheck:private-aks-dev",
    )


def test_destroy_of_nothing_is_empty() -> None:
    assert dp.plan_destroy(SPEC, facts(DeployPathFacts())) == []


def test_plan_output_never_carries_the_kubeconfig() -> None:
    deploy = converged()
    deploy.kubeconfigs["aks-dev"] = dataclasses.replace(KUBE["aks-dev"], fingerprint="d" * 64)
    actions = dp.plan(SPEC, facts(deploy))
    shown = json.dumps([a.to_dict() for a in actions]) + repr(actions) + repr(deploy)
    assert "c2VjcmV0LWtleS1tYXRlcmlhbA" not in shown and "kubeconfig dev" not in shown
    assert "sha256:dddddddddddd" in shown  # the change is still visible, as a short fingerprint


def test_check_body_carries_settings_and_resource() -> None:
    body = dp.check_body(env_spec(PROD), 2, IDS[PROD])
    assert body["type"] == {"id": dp.APPROVAL_TYPE_ID, "name": "Approval"}
    assert body["resource"] == {"type": "environment", "id": "2", "name": PROD}
    assert body["settings"] == {
        "approvers": [{"id": "id-leads"}, {"id": "id-release"}],
        "minRequiredApprovers": 2,
        "instructions": "Check the change ticket first.",
        "requesterCannotBeApprover": True,
        "blockedApprovers": [],
    }
    assert body["timeout"] == 1440


def test_connection_body_is_a_kubeconfig_connection_with_string_data() -> None:
    k = SPEC.devops.kubernetes[1]
    body = dp.connection_body(SPEC, k, KUBE["aks-prod"], PROJECT)
    assert body["type"] == "kubernetes" and body["url"] == "https://aks-prod.privatelink:443"
    assert body["authorization"] == {
        "scheme": "Kubernetes",
        "parameters": {"kubeconfig": KUBE["aks-prod"].text, "clusterContext": "aks-prod"},
    }
    assert body["data"] == {
        "authorizationType": "Kubeconfig",
        "acceptUntrustedCerts": "false",
        dp.FINGERPRINT_KEY: "b" * 64,
    }
    assert all(isinstance(v, str) for v in body["data"].values())
    assert common.marker(SPEC) in body["description"]
    assert body["serviceEndpointProjectReferences"][0]["projectReference"] == PROJECT


def test_status_reports_existence_check_and_kubeconfig_currency() -> None:
    deploy = converged()
    deploy.kubeconfigs["aks-dev"] = dataclasses.replace(KUBE["aks-dev"], fingerprint="e" * 64)
    deploy.approvers[PROD] = ["id-other"]
    del deploy.checks["1"]
    got = dp.status(SPEC, None, facts(deploy), 0)[dp.NAME]  # type: ignore[arg-type]
    assert [(e["name"], e["exists"], e["check"], e["checkCurrent"]) for e in got["environments"]] == [
        ("private-aks-dev", True, False, False),
        (PROD, True, True, False),
    ]
    assert [(c["name"], c["exists"], c["isReady"], c["kubeconfigCurrent"]) for c in got["connections"]] == [
        ("aks-dev", True, True, False),
        ("aks-prod", True, True, True),
    ]
