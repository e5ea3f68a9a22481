"""The handlers for the writes several kinds make the same way: a role assignment and its delete,
a federated credential's delete, a service connection's delete."""

from __future__ import annotations

import logging

from agentctl.errors import CloudError
from agentctl.kinds.base import Action, Context
from agentctl.kinds.common import marker, role_assignment_name

log = logging.getLogger(__name__)


def put_role(ctx: Context, scope: str, role_id: str, principal: str, name: str = "") -> None:
    """Assign ``role_id`` at ``scope`` to ``principal`` (an equivalent assignment counts as done)."""
    name = name or role_assignment_name(scope, principal, role_id)
    try:
        ctx.clients.arm.put_role_assignment(scope, name, role_id, principal, marker(ctx.spec))
    except CloudError as e:
        if "RoleAssignmentExists" not in e.message:
            raise
        log.info("an equivalent role assignment exists already: %s", e.message)


def role_create(ctx: Context, a: Action) -> None:
    """``data``: scope, roleId, principalId (or the agents' identity's), name (optional)."""
    principal = a.data.get("principalId") or ctx.facts.principal_id
    put_role(ctx, a.data["scope"], a.data["roleId"], principal, a.data.get("name", ""))


def role_delete(ctx: Context, a: Action) -> None:
    """``data``: scope, name."""
    ctx.clients.arm.delete_role_assignment(a.data["scope"], a.data["name"])


def credential_delete(ctx: Context, a: Action) -> None:
    """``data``: identity (resource group, name); the action's name is the credential's."""
    rg, name = a.data["identity"]
    ctx.clients.arm.delete_federated_credential(rg, name, a.name)


def connection_delete(ctx: Context, a: Action) -> None:
    """``data``: id of the service connection, deleted from the pool's project."""
    dev = ctx.clients.devops
    dev.call("endpoint.delete", {"endpointId": a.data["id"]}, {"projectIds": dev.project["id"]})
