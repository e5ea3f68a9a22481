"""The scale-set pool's writes, one handler per (action type, op). Each builds its payload from the
spec (through ``desired``) and from what earlier steps returned (a new identity, a new
connection's id and issuer, a new pool's queue)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentctl.config import PoolSpec
from agentctl.errors import CloudError
from agentctl.kinds import common, writes
from agentctl.kinds.base import Action, Context, Handler
from agentctl.kinds.pool import desired
from agentctl.kinds.pool.facts import of


def pool_identity(ctx: Context) -> dict[str, Any]:
    made = ctx.outputs.get("poolIdentity") or of(ctx.facts).pool_identity
    if not made:
        raise CloudError("the pool-management identity is unknown (was its step skipped?)")
    return dict(made)


def connection(ctx: Context) -> dict[str, Any]:
    conn = ctx.outputs.get("azureConnection") or of(ctx.facts).azure_connection
    if not conn:
        raise CloudError("the service connection is unknown (was its step skipped?)")
    return dict(conn)


def _resource_group(ctx: Context, a: Action) -> None:
    spec = ctx.spec
    ctx.clients.arm.put_resource_group(spec.azure.resourceGroup, spec.azure.location, common.tags(spec))


def ssh_public_key(spec: PoolSpec) -> str:
    """The configured key, or a throwaway one whose private half is dropped at once."""
    key = spec.scaleSet.sshPublicKey
    if key and key.startswith(("ssh-", "ecdsa-")):
        return key.strip()
    if key:
        path = Path(key).expanduser()
        if not path.is_absolute() and spec.source:
            path = Path(spec.source).parent / path
        return path.read_text().strip()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public.decode() + " agentctl-throwaway"


def _scale_set_create(ctx: Context, a: Action) -> None:
    spec = ctx.spec
    body = desired.scale_set_body(spec, ssh_public_key(spec))
    ctx.outputs["scaleSet"] = ctx.clients.arm.put_scale_set(
        spec.azure.resourceGroup, spec.scaleSet.name, body
    )


def _scale_set_update(ctx: Context, a: Action) -> None:
    spec, arm = ctx.spec, ctx.clients.arm
    if "put" in a.data:  # recover a failed scale set: the whole model again, same SSH key
        body = desired.scale_set_body(spec, a.data["put"] or ssh_public_key(spec))
        observed = of(ctx.facts).scale_set or {}
        body["sku"]["capacity"] = observed.get("sku", {}).get("capacity", 0)
        desired.keep_extensions(body, observed)
        arm.put_scale_set(spec.azure.resourceGroup, spec.scaleSet.name, body)
    else:
        arm.patch_scale_set(spec.azure.resourceGroup, spec.scaleSet.name, a.data["patch"])


def _scale_set_delete(ctx: Context, a: Action) -> None:
    ctx.clients.arm.delete_scale_set(ctx.spec.azure.resourceGroup, ctx.spec.scaleSet.name)


def _identity_create(ctx: Context, a: Action) -> None:
    rg, name = common.identity_parts(desired.pool_identity_id(ctx.spec))
    ctx.outputs["poolIdentity"] = ctx.clients.arm.put_identity(rg, name, desired.identity_body(ctx.spec))


def _identity_delete(ctx: Context, a: Action) -> None:
    ctx.clients.arm.delete_identity(*common.identity_parts(desired.pool_identity_id(ctx.spec)))


def _role_create(ctx: Context, a: Action) -> None:
    """grantRole for the pool-management identity (made by an earlier step, perhaps)."""
    principal = str((pool_identity(ctx).get("properties") or {}).get("principalId") or "")
    writes.put_role(ctx, a.data["scope"], a.data["roleId"], principal, a.data.get("name", ""))


def _connection_body(ctx: Context) -> dict[str, Any]:
    target = ctx.clients.devops.target
    return desired.connection_body(
        ctx.spec,
        ctx.facts.project,
        ctx.facts.tenant_id,
        str((pool_identity(ctx).get("properties") or {}).get("clientId") or ""),
        target.cloud.connection_environment,
        target.cloud.arm_endpoint,
    )


def _connection_create(ctx: Context, a: Action) -> None:
    dev = ctx.clients.devops
    created = dev.call("endpoint.create", body=_connection_body(ctx))
    ctx.outputs["azureConnection"] = dev.wait_ready(created["id"])


def _connection_update(ctx: Context, a: Action) -> None:
    dev = ctx.clients.devops
    conn = connection(ctx)
    body = {**_connection_body(ctx), "id": conn["id"]}
    dev.call("endpoint.update", {"endpointId": conn["id"]}, body=body)
    ctx.outputs["azureConnection"] = dev.wait_ready(conn["id"])


def _fic_put(ctx: Context, a: Action) -> None:
    issuer, subject = common.wif_issuer_subject(connection(ctx))
    if not issuer or not subject:
        raise CloudError("the service connection did not return its workload identity issuer and subject")
    rg, name = common.identity_parts(desired.pool_identity_id(ctx.spec))
    ctx.clients.arm.put_federated_credential(rg, name, a.name, issuer, subject)


def _pool_create(ctx: Context, a: Action) -> None:
    spec, dev = ctx.spec, ctx.clients.devops
    project_id = dev.project["id"]
    query = {
        "poolName": spec.devops.pool.name,
        "authorizeAllPipelines": str(spec.devops.pool.authorizeAllPipelines).lower(),
        "autoProvisionProjectPools": "false",
        "projectId": project_id,
    }
    body = desired.elastic_pool_body(spec, connection(ctx)["id"], project_id, ctx.facts.now)
    ctx.outputs["pool"] = dev.call("elastic.create", query=query, body=body)


def _pool_update(ctx: Context, a: Action) -> None:
    agent_pool = of(ctx.facts).agent_pool
    assert agent_pool is not None
    dev = ctx.clients.devops
    body = {
        **desired.elastic_settings(ctx.spec, ctx.facts.now),
        "serviceEndpointId": connection(ctx)["id"],
        "serviceEndpointScope": dev.project["id"],
    }
    dev.call("elastic.update", {"poolId": agent_pool["id"]}, body=body)


def _pool_delete(ctx: Context, a: Action) -> None:
    ctx.clients.devops.call("pool.delete", {"poolId": a.data["id"]})


def _permissions(ctx: Context, a: Action) -> None:
    created = ctx.outputs.get("pool") or {}
    mine = of(ctx.facts)
    queue = created.get("agentQueue") or mine.queue
    if not queue:
        raise CloudError(f"the project queue of pool {ctx.spec.devops.pool.name} was not found")
    pool = ctx.spec.devops.pool
    body = common.permissions_body(pool.authorizeAllPipelines, pool.pipelines, mine.queue_permissions)
    ctx.clients.devops.set_permissions("queue", queue["id"], body)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("resourceGroup", "create"): _resource_group,
    ("poolIdentity", "create"): _identity_create,
    ("poolIdentity", "delete"): _identity_delete,
    ("scaleSet", "create"): _scale_set_create,
    ("scaleSet", "update"): _scale_set_update,
    ("scaleSet", "delete"): _scale_set_delete,
    ("roleAssignment", "create"): _role_create,
    ("roleAssignment", "delete"): writes.role_delete,
    ("azureConnection", "create"): _connection_create,
    ("azureConnection", "update"): _connection_update,
    ("azureConnection", "delete"): writes.connection_delete,
    ("federatedCredential", "create"): _fic_put,
    ("federatedCredential", "update"): _fic_put,
    ("federatedCredential", "delete"): writes.credential_delete,
    ("pool", "create"): _pool_create,
    ("pool", "update"): _pool_update,
    ("pool", "delete"): _pool_delete,
    ("poolPermissions", "create"): _permissions,
    ("poolPermissions", "update"): _permissions,
}
