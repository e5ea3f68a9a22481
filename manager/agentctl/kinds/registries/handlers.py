"""The registries' writes (role assignments and deletes are the shared ones)."""

from __future__ import annotations

from agentctl.errors import CloudError
from agentctl.kinds import common, writes
from agentctl.kinds.base import CREATE, DELETE, UPDATE, Action, Context, Handler


def _connection_create(ctx: Context, a: Action) -> None:
    ctx.outputs[a.key] = ctx.clients.devops.call("endpoint.create", body=a.data["body"])


def _connection_update(ctx: Context, a: Action) -> None:
    body = {**a.data["body"], "id": a.data["id"]}
    ctx.outputs[a.key] = ctx.clients.devops.call("endpoint.update", {"endpointId": a.data["id"]}, body=body)


def _credential_put(ctx: Context, a: Action) -> None:
    issuer, subject = common.wif_issuer_subject(ctx.outputs.get(a.data["connection"]) or a.data["endpoint"])
    if not issuer or not subject:
        raise CloudError(f"connection {a.data['connection']} did not return its workload identity subject")
    rg, name = a.data["identity"]
    ctx.clients.arm.put_federated_credential(rg, name, a.name, issuer, subject)


def _permissions(ctx: Context, a: Action) -> None:
    conn_id = a.data["id"] or (ctx.outputs.get(a.data["connection"]) or {}).get("id")
    if not conn_id:
        raise CloudError(f"the id of {a.name} is unknown (was its step skipped?)")
    ctx.clients.devops.set_permissions(
        "endpoint", conn_id, common.permissions_body(a.data["authorizeAll"], [])
    )


HANDLERS: dict[tuple[str, str], Handler] = {
    # The shared handlers: data {scope, roleId, name, principalId} and {id}.
    ("registryRole", CREATE): writes.role_create,
    ("registryRole", DELETE): writes.role_delete,
    ("registryPushRole", CREATE): writes.role_create,
    ("registryPushRole", DELETE): writes.role_delete,
    ("registryCredential", CREATE): _credential_put,
    ("registryCredential", DELETE): writes.credential_delete,
    ("registryConnection", CREATE): _connection_create,
    ("registryConnection", UPDATE): _connection_update,
    ("registryConnection", DELETE): writes.connection_delete,
    ("registryPermissions", CREATE): _permissions,
    ("registryPermissions", UPDATE): _permissions,
}
