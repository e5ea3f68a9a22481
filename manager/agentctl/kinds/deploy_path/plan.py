"""The deploy path's plan: environments and their Approval checks, Kubernetes connections and their
pipeline permissions; what the pool made that the file no longer names is deleted."""

from __future__ import annotations

from typing import Any

from agentctl.config import Environment, Kubernetes, PoolSpec
from agentctl.errors import PreconditionFailed, quoted
from agentctl.kinds.base import CREATE, DELETE, NOOP, UPDATE, Action, Facts, changes
from agentctl.kinds.common import marker, owned, permissions_drift
from agentctl.kinds.deploy_path.desired import (
    approval_check,
    check_drift,
    connection_drift,
    environment_description,
)
from agentctl.kinds.deploy_path.facts import CHECK, CONN, ENV, PERMS, DeployPathFacts, of


def plan(spec: PoolSpec, facts: Facts) -> list[Action]:
    dp = of(facts)
    if dp is None:  # not observed: nothing known, nothing to plan
        return []
    if dp.errors:
        raise dp.errors[0]
    actions: list[Action] = []
    envs = {e["name"].lower(): e for e in dp.environments}
    for env in spec.devops.environments:
        actions += _plan_environment(spec, env, envs.pop(env.name.lower(), None), dp)
    for leftover in envs.values():
        if owned(leftover.get("description"), spec):
            actions += _delete_environment(leftover, dp)
    conns = {c["name"].lower(): c for c in dp.connections}
    for k in spec.devops.kubernetes:
        actions += _plan_connection(spec, k, conns.pop(k.connection.lower(), None), dp)
    for leftover in conns.values():
        if owned(leftover.get("description"), spec):
            actions.append(_delete_connection(leftover))
    return actions


def plan_destroy(spec: PoolSpec, facts: Facts) -> list[Action]:
    dp = of(facts)
    if dp is None:
        return []
    actions: list[Action] = []
    for env in dp.environments:
        if owned(env.get("description"), spec):
            actions += _delete_environment(env, dp)
    for conn in dp.connections:
        if owned(conn.get("description"), spec):
            actions.append(_delete_connection(conn))
    return actions


def _plan_environment(
    spec: PoolSpec, env: Environment, observed: dict[str, Any] | None, dp: DeployPathFacts
) -> list[Action]:
    env_key, check_key = f"{ENV}:{env.name}", f"{CHECK}:{env.name}"
    ids = dp.approvers.get(env.name, [])
    if observed is None:
        out = [Action(env_key, CREATE, "environment", env.name)]
        if env.approvers:
            out.append(Action(check_key, CREATE, "approval check", env.name, needs=(env_key,)))
        return out
    if not owned(observed.get("description"), spec):
        raise PreconditionFailed(
            f"environment {quoted(env.name)} exists but agentctl did not create it",
            hint=f"choose another name, or add '{marker(spec)}' to its description to adopt it",
        )
    description = environment_description(spec, env)
    drift = [
        ("name", observed.get("name"), env.name),
        ("description", observed.get("description"), description),
    ]
    drift = [d for d in drift if d[1] != d[2]]  # a name differs only in case: the file's case wins
    data = {"id": observed["id"]}
    out = [Action(env_key, UPDATE if drift else NOOP, "environment", env.name, changes(drift), data=data)]
    check, extras = approval_check(env, ids, dp.checks.get(str(observed["id"]), []))
    for extra in extras:
        extra_key = f"{check_key}#{extra['id']}"
        out.append(
            Action(extra_key, DELETE, "approval check", f"{env.name} (another)", data={"id": extra["id"]})
        )
    if env.approvers and check is None:
        out.append(Action(check_key, CREATE, "approval check", env.name, needs=(env_key,)))
    elif env.approvers and check is not None:
        diff = check_drift(env, ids, check)
        op = UPDATE if diff else NOOP
        out.append(
            Action(check_key, op, "approval check", env.name, changes(diff), (env_key,), {"id": check["id"]})
        )
    elif check is not None:
        out.append(Action(check_key, DELETE, "approval check", env.name, data={"id": check["id"]}))
    return out


def _delete_environment(env: dict[str, Any], dp: DeployPathFacts) -> list[Action]:
    name = str(env["name"])
    env_key, check_key = f"{ENV}:{name}", f"{CHECK}:{name}"
    out: list[Action] = []
    for i, check in enumerate(dp.checks.get(str(env["id"]), [])):
        key = check_key if i == 0 else f"{check_key}#{check['id']}"
        out.append(Action(key, DELETE, "approval check", name, data={"id": check["id"]}))
    needs = tuple(a.key for a in out)
    out.append(Action(env_key, DELETE, "environment", name, needs=needs, data={"id": env["id"]}))
    return out


def _plan_connection(
    spec: PoolSpec, k: Kubernetes, observed: dict[str, Any] | None, dp: DeployPathFacts
) -> list[Action]:
    conn_key, perms_key = f"{CONN}:{k.connection}", f"{PERMS}:{k.connection}"
    out: list[Action] = []
    if observed is None:
        out.append(Action(conn_key, CREATE, "Kubernetes connection", k.connection))
        if k.authorizeAllPipelines:
            out.append(
                Action(
                    perms_key,
                    CREATE,
                    "pipeline permissions",
                    f"endpoint {k.connection}",
                    changes([("allPipelines", False, True)]),
                    (conn_key,),
                )
            )
        return out
    if not owned(observed.get("description"), spec):
        raise PreconditionFailed(
            f"Kubernetes connection {quoted(k.connection)} exists but agentctl did not create it",
            hint="choose another devops.kubernetes[].connection name, or delete the existing connection",
        )
    drift = connection_drift(dp.kubeconfigs[k.connection], observed)
    if observed.get("name") != k.connection:  # differs only in case: the file's case wins
        drift.insert(0, ("name", observed.get("name"), k.connection))
    data = {"id": observed["id"]}
    out.append(
        Action(
            conn_key,
            UPDATE if drift else NOOP,
            "Kubernetes connection",
            k.connection,
            changes(drift),
            data=data,
        )
    )
    perms = dp.permissions.get(str(observed["id"]), {})
    diff = permissions_drift(k.authorizeAllPipelines, [], perms)
    out.append(
        Action(
            perms_key,
            UPDATE if diff else NOOP,
            "pipeline permissions",
            f"endpoint {k.connection}",
            changes(diff),
            (conn_key,),
            data,
        )
    )
    return out


def _delete_connection(conn: dict[str, Any]) -> Action:
    name = str(conn["name"])
    return Action(f"{CONN}:{name}", DELETE, "Kubernetes connection", name, data={"id": conn["id"]})
