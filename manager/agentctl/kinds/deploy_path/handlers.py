"""The deploy path's writes."""

from __future__ import annotations

from typing import Any

from agentctl.config import Environment, Kubernetes
from agentctl.errors import NotFound, quoted
from agentctl.kinds.base import CREATE, DELETE, UPDATE, Action, Context, Handler
from agentctl.kinds.common import permissions_body
from agentctl.kinds.deploy_path.desired import check_body, connection_body, environment_description
from agentctl.kinds.deploy_path.facts import CHECK, CONN, ENV, PERMS, DeployPathFacts, of


def _instance(a: Action) -> str:
    """The environment or connection an action is about: the part of its key after the kind."""
    return a.key.split(":", 1)[1]


def _facts(ctx: Context) -> DeployPathFacts:
    dp = of(ctx.facts)
    assert dp is not None  # a deploy-path action comes only from its observed facts
    return dp


def _environment_spec(ctx: Context, name: str) -> Environment:
    return next(e for e in ctx.spec.devops.environments if e.name == name)


def _kubernetes_spec(ctx: Context, name: str) -> Kubernetes:
    return next(k for k in ctx.spec.devops.kubernetes if k.connection == name)


def _project(ctx: Context) -> dict[str, Any]:
    return {"project": ctx.clients.devops.project["id"]}


def _environment_create(ctx: Context, a: Action) -> None:
    env = _environment_spec(ctx, _instance(a))
    body = {"name": env.name, "description": environment_description(ctx.spec, env)}
    ctx.outputs[a.key] = ctx.clients.devops.call("environment.create", _project(ctx), body=body)


def _environment_update(ctx: Context, a: Action) -> None:
    env = _environment_spec(ctx, _instance(a))
    body = {"name": env.name, "description": environment_description(ctx.spec, env)}
    ctx.clients.devops.call("environment.update", {**_project(ctx), "environmentId": a.data["id"]}, body=body)


def _environment_delete(ctx: Context, a: Action) -> None:
    ctx.clients.devops.call("environment.delete", {**_project(ctx), "environmentId": a.data["id"]})


def _check_body(ctx: Context, a: Action) -> dict[str, Any]:
    name = _instance(a)
    created = ctx.outputs.get(f"{ENV}:{name}")
    observed = next((e for e in _facts(ctx).environments if e["name"].lower() == name.lower()), None)
    target = created or observed
    if not target:
        raise NotFound(f"environment {quoted(name)} is unknown (was its step skipped?)")
    return check_body(_environment_spec(ctx, name), target["id"], _facts(ctx).approvers.get(name, []))


def _check_create(ctx: Context, a: Action) -> None:
    ctx.clients.devops.call("check.create", _project(ctx), body=_check_body(ctx, a))


def _check_update(ctx: Context, a: Action) -> None:
    body = {**_check_body(ctx, a), "id": a.data["id"]}
    ctx.clients.devops.call("check.update", {**_project(ctx), "id": a.data["id"]}, body=body)


def _check_delete(ctx: Context, a: Action) -> None:
    ctx.clients.devops.call("check.delete", {**_project(ctx), "id": a.data["id"]})


def _connection_body(ctx: Context, a: Action) -> dict[str, Any]:
    k = _kubernetes_spec(ctx, _instance(a))
    return connection_body(ctx.spec, k, _facts(ctx).kubeconfigs[k.connection], ctx.clients.devops.project)


def _connection_create(ctx: Context, a: Action) -> None:
    ctx.outputs[a.key] = ctx.clients.devops.call("endpoint.create", body=_connection_body(ctx, a))


def _connection_update(ctx: Context, a: Action) -> None:
    body = {**_connection_body(ctx, a), "id": a.data["id"]}
    ctx.clients.devops.call("endpoint.update", {"endpointId": a.data["id"]}, body=body)


def _connection_delete(ctx: Context, a: Action) -> None:
    dev = ctx.clients.devops
    dev.call("endpoint.delete", {"endpointId": a.data["id"]}, {"projectIds": dev.project["id"]})


def _permissions(ctx: Context, a: Action) -> None:
    name = _instance(a)
    k = _kubernetes_spec(ctx, name)
    endpoint_id = a.data.get("id") or (ctx.outputs.get(f"{CONN}:{name}") or {}).get("id")
    if not endpoint_id:
        raise NotFound(f"Kubernetes connection {quoted(name)} is unknown (was its step skipped?)")
    body = permissions_body(k.authorizeAllPipelines, [])
    ctx.clients.devops.set_permissions("endpoint", endpoint_id, body)


HANDLERS: dict[tuple[str, str], Handler] = {
    (ENV, CREATE): _environment_create,
    (ENV, UPDATE): _environment_update,
    (ENV, DELETE): _environment_delete,
    (CHECK, CREATE): _check_create,
    (CHECK, UPDATE): _check_update,
    (CHECK, DELETE): _check_delete,
    (CONN, CREATE): _connection_create,
    (CONN, UPDATE): _connection_update,
    (CONN, DELETE): _connection_delete,
    (PERMS, CREATE): _permissions,
    (PERMS, UPDATE): _permissions,
}
