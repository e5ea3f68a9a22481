"""The managed pool's writes, one handler per (action type, op)."""

from __future__ import annotations

import copy
from typing import Any

from agentctl.azure.managed import DEVCENTER_API, NETWORK_API, POOLS_API
from agentctl.errors import CloudError
from agentctl.kinds import common, writes
from agentctl.kinds.base import Action, Context, Handler
from agentctl.kinds.managed_pool import desired
from agentctl.kinds.managed_pool.facts import of
from agentctl.kinds.managed_pool.plan import DELEGATION, SERVICE


def _dev_center(ctx: Context, a: Action) -> None:
    ctx.clients.arm.managed.put(
        desired.dev_center_id(ctx.spec), DEVCENTER_API, desired.dev_center_body(ctx.spec)
    )


def _project(ctx: Context, a: Action) -> None:
    ctx.clients.arm.managed.put(desired.project_id(ctx.spec), DEVCENTER_API, desired.project_body(ctx.spec))


def _delete_by_id(api_version: str) -> Handler:
    def handler(ctx: Context, a: Action) -> None:
        ctx.clients.arm.managed.delete(a.data["id"], api_version)

    return handler


def _subnet_body(subnet: dict[str, Any], delegations: list[dict[str, Any]]) -> dict[str, Any]:
    """The subnet as read, with other delegations (read-only members are ignored by Network)."""
    props = copy.deepcopy(subnet.get("properties") or {})
    props["delegations"] = delegations
    return {"properties": props}


def _delegate(ctx: Context, a: Action) -> None:
    managed, subnet_id = ctx.clients.arm.managed, ctx.spec.network.subnetId
    subnet = managed.get(subnet_id, NETWORK_API)
    if subnet is None:
        raise CloudError(f"subnet {subnet_id} is gone")
    delegation = {"name": DELEGATION, "properties": {"serviceName": SERVICE}}
    managed.put(subnet_id, NETWORK_API, _subnet_body(subnet, [delegation]))


def _undelegate(ctx: Context, a: Action) -> None:
    managed, subnet_id = ctx.clients.arm.managed, a.data["subnetId"]
    subnet = managed.get(subnet_id, NETWORK_API)
    if subnet is None:
        return
    kept = [
        d
        for d in (subnet.get("properties") or {}).get("delegations") or []
        if (d.get("properties") or {}).get("serviceName") != SERVICE
    ]
    managed.put(subnet_id, NETWORK_API, _subnet_body(subnet, kept))


def _pool_put(ctx: Context, a: Action) -> None:
    body = desired.pool_body(ctx.spec, a.data["delegated"])
    ctx.outputs["managedPool"] = ctx.clients.arm.managed.put(desired.pool_id(ctx.spec), POOLS_API, body)


def _pool_update(ctx: Context, a: Action) -> None:
    if a.data.get("put"):  # a failed pool: the whole body again
        _pool_put(ctx, a)
        return
    ctx.outputs["managedPool"] = ctx.clients.arm.managed.patch(
        desired.pool_id(ctx.spec), POOLS_API, a.data["patch"]
    )


def _pool_delete(ctx: Context, a: Action) -> None:
    pool = of(ctx.facts).pool or {}
    ctx.clients.arm.managed.delete(str(pool.get("id") or desired.pool_id(ctx.spec)), POOLS_API)


def _permissions(ctx: Context, a: Action) -> None:
    """On the queue the service made in the project (read again after a create)."""
    dev, pool = ctx.clients.devops, ctx.spec.devops.pool
    queue = of(ctx.facts).queue or dev.queue_by_name(pool.name)
    if not queue:
        raise CloudError(
            f"the service made no queue for pool {pool.name} in project {ctx.spec.devops.project}"
        )
    body = common.permissions_body(
        pool.authorizeAllPipelines, pool.pipelines, of(ctx.facts).queue_permissions
    )
    dev.set_permissions("queue", queue["id"], body)


def _role(ctx: Context, a: Action) -> None:
    writes.put_role(ctx, a.data["scope"], a.data["roleId"], a.data["principalId"])


def _register(ctx: Context, a: Action) -> None:
    ctx.clients.arm.managed.register(a.name)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("provider", "update"): _register,
    ("devCenter", "create"): _dev_center,
    ("devCenter", "delete"): _delete_by_id(DEVCENTER_API),
    ("devCenterProject", "create"): _project,
    ("devCenterProject", "delete"): _delete_by_id(DEVCENTER_API),
    ("subnetDelegation", "update"): _delegate,
    ("subnetDelegation", "delete"): _undelegate,
    ("serviceRole", "create"): _role,
    ("serviceRole", "delete"): writes.role_delete,
    ("managedPool", "create"): _pool_put,
    ("managedPool", "update"): _pool_update,
    ("managedPool", "delete"): _pool_delete,
    ("managedPoolPermissions", "create"): _permissions,
    ("managedPoolPermissions", "update"): _permissions,
}
