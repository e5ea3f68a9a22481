"""The scale-set pool's plan: a pure function from (spec, facts) to the actions that converge its
resources: resource group, pool-management identity, scale set, role on the scale set, Azure
Resource Manager connection and its federated credential, elastic pool, queue permissions.
"""

from __future__ import annotations

from typing import Any

from agentctl.config import PoolSpec
from agentctl.errors import PreconditionFailed, quoted
from agentctl.kinds.base import CREATE, DELETE, NOOP, UPDATE, Action, Change, Facts, changes
from agentctl.kinds.common import (
    MANAGED_BY,
    TAG_MANAGED,
    TAG_POOL,
    credential_for,
    federated_credential_name,
    identity_parts,
    not_ours,
    owned,
    queue_permissions,
    resource_group,
    wif_issuer_subject,
)
from agentctl.kinds.pool import desired, roles
from agentctl.kinds.pool.facts import PoolFacts, of


def plan(spec: PoolSpec, facts: Facts) -> list[Action]:
    """The actions that make the pool's resources match the spec (with another backend selected:
    the removal of what the scale-set pool left)."""
    if spec.backend != "scaleSet":
        return _deletes(spec, facts, old_identities=False)
    mine = of(facts)
    actions = [resource_group(spec, mine.resource_group)]
    if desired.pool_identity_managed(spec):
        actions.append(_identity(spec, mine))
    actions.append(_scale_set(spec, mine, _after_managed(facts)))
    actions += roles.pool_role(spec, mine)
    identity_made = any(a.key == "poolIdentity" and a.op == CREATE for a in actions)
    actions.append(_connection(spec, facts, mine, identity_made))
    if not spec.devops.azureConnection.existing:
        actions.append(_credential(spec, mine, identity_made))
    actions.append(_elastic_pool(spec, facts, mine, tuple(a.key for a in actions) + _after_managed(facts)))
    # Connections of ours the file no longer names (it was renamed), once the pool has left them
    actions += roles.stale_connections(spec, mine, ("pool",))
    # What the pool left on identities it no longer uses: on the scale set's previous identities,
    # and on the agents' identity (a previous release federated the connection with it)
    actions += roles.old_identities(spec, facts, ("scaleSet", "pool"))
    actions += queue_permissions("poolPermissions", spec, mine.queue, mine.queue_permissions, ("pool",))
    return actions


def _identity(spec: PoolSpec, mine: PoolFacts) -> Action:
    """The pool-management identity, when agentctl makes it."""
    made = mine.pool_identity
    if made is not None:
        _identity_owned(spec, made)
    name = identity_parts(desired.pool_identity_id(spec))[1]
    return Action(
        "poolIdentity", NOOP if made is not None else CREATE, "identity", name, needs=("resourceGroup",)
    )


def _after_managed(facts: Facts) -> tuple[str, ...]:
    """A backend switch from a managed pool: the scale set goes in the subnet once the managed pool
    has left it (and its delegation), and the elastic pool takes the name once the service's pool
    of that name is gone."""
    from agentctl.kinds import managed_pool

    return ("managedPool", "subnetDelegation") if managed_pool.of(facts).pool is not None else ()


def _scale_set(spec: PoolSpec, mine: PoolFacts, after: tuple[str, ...] = ()) -> Action:
    ss, name = mine.scale_set, spec.scaleSet.name
    if ss is None:
        return Action("scaleSet", CREATE, "scale set", name, needs=("resourceGroup", *after))
    if not scale_set_owned(ss):
        raise PreconditionFailed(
            f"scale set {name} exists in {spec.azure.resourceGroup} but agentctl did not create it",
            hint="choose another scaleSet.name, or tag it managed-by=agentctl to adopt it",
        )
    owner = (ss.get("tags") or {}).get(TAG_POOL)
    if owner and owner != spec.devops.pool.name:
        raise PreconditionFailed(
            f"scale set {name} belongs to agentctl's pool {quoted(owner)}, "
            f"not {quoted(spec.devops.pool.name)}",
            hint="choose another scaleSet.name; to rename the pool, destroy it with its old file first",
        )
    drift, patch = desired.scale_set_drift(spec, ss)
    state = (ss.get("properties") or {}).get("provisioningState")
    data: dict[str, Any] = {"patch": patch, "warnings": desired.scale_set_fixed_drift(spec, ss)}
    if state == "Failed":  # a failed create or update: PUT the whole model again
        drift.append(("provisioningState", state, "Succeeded"))
        data = {"put": desired.ssh_keys(ss), "warnings": data["warnings"]}
    op = UPDATE if drift else NOOP
    return Action("scaleSet", op, "scale set", name, changes(drift), ("resourceGroup",), data)


def _connection(spec: PoolSpec, facts: Facts, mine: PoolFacts, identity_made: bool) -> Action:
    """The Azure Resource Manager connection, signing in as the pool-management identity."""
    conn, conn_spec = mine.azure_connection, spec.devops.azureConnection
    if conn_spec.existing:
        if conn is None:
            raise PreconditionFailed(
                f"service connection {quoted(conn_spec.name)} does not exist",
                hint="create it, or set devops.azureConnection.existing: false to let agentctl make it",
            )
        return Action("azureConnection", NOOP, "service connection", conn_spec.name)
    if conn is None:
        needs: tuple[str, ...] = ("poolIdentity",) if identity_made else ()
        return Action("azureConnection", CREATE, "service connection", conn_spec.name, needs=needs)
    if not owned(conn.get("description"), spec):
        raise not_ours(
            f"service connection {quoted(conn_spec.name)}",
            conn.get("description"),
            hint="set devops.azureConnection.existing: true to use it as it is",
        )
    identity_name = identity_parts(desired.pool_identity_id(spec))[1]
    client = _client_id(mine.pool_identity) or f"(client id of the new identity {identity_name})"
    want = desired.connection_body(spec, facts.project, facts.tenant_id, client, "", "")
    drift = desired.connection_drift(want, conn)
    # It moves to another identity only once that one trusts it and holds its role.
    needs = ("federatedCredential", "roleAssignment") if drift else ()
    op = UPDATE if drift else NOOP
    return Action("azureConnection", op, "service connection", conn_spec.name, changes(drift), needs)


def _credential(spec: PoolSpec, mine: PoolFacts, identity_made: bool) -> Action:
    """The federated credential on the pool-management identity, from the connection's issuer and subject."""
    conn, name = mine.azure_connection, federated_credential_name(spec, spec.devops.azureConnection.name)
    issuer, subject = wif_issuer_subject(conn or {})
    trusted = credential_for(mine.federated_credentials, issuer, subject)
    named = next((c for c in mine.federated_credentials if c.get("name") == name), None)
    drift: list[Change] = []
    if conn is None or mine.pool_identity is None or (trusted is None and named is None):
        op = CREATE
    elif trusted is not None:
        op = NOOP
    else:
        props = (named or {}).get("properties") or {}
        pairs = (("issuer", issuer), ("subject", subject))
        op, drift = UPDATE, changes([(k, props.get(k), v) for k, v in pairs if props.get(k) != v])
    needs: tuple[str, ...] = ("azureConnection",) if conn is None else ()
    needs += ("poolIdentity",) if identity_made else ()
    return Action(
        "federatedCredential",
        op,
        "federated credential",
        str((trusted or {}).get("name") or name),
        drift,
        needs,
    )


def _elastic_pool(spec: PoolSpec, facts: Facts, mine: PoolFacts, before: tuple[str, ...]) -> Action:
    wanted = ("scaleSet", "azureConnection", "federatedCredential", "roleAssignment", "managedPool")
    needs = tuple(k for k in wanted if k in before)
    name = spec.devops.pool.name
    if mine.agent_pool is None:
        return Action("pool", CREATE, "agent pool", name, needs=needs)
    elastic = mine.elastic_pool or {}
    if str(elastic.get("azureId", "")).lower() != desired.scale_set_id(spec).lower():
        raise PreconditionFailed(
            f"agent pool {quoted(name)} exists and is not backed by scale set {spec.scaleSet.name}",
            hint="choose another devops.pool.name",
        )
    drift = desired.elastic_drift(spec, elastic, mine.azure_connection, facts.now)
    return Action("pool", UPDATE if drift else NOOP, "agent pool", name, changes(drift), needs)


def _client_id(identity: dict[str, Any] | None) -> str:
    return str(((identity or {}).get("properties") or {}).get("clientId") or "")


def scale_set_owned(ss: dict[str, Any]) -> bool:
    return (ss.get("tags") or {}).get(TAG_MANAGED) == MANAGED_BY


def _identity_owned(spec: PoolSpec, identity: dict[str, Any]) -> None:
    """The identity agentctl would make exists: it must be this pool's."""
    tags = identity.get("tags") or {}
    owner = tags.get(TAG_POOL) if tags.get(TAG_MANAGED) == MANAGED_BY else None
    what = f"identity {identity.get('name')} in {spec.azure.resourceGroup}"
    if owner is None:
        raise PreconditionFailed(
            f"{what} exists but agentctl did not create it",
            hint="name it in devops.azureConnection.identity to use it as it is, or choose another "
            "scaleSet.name",
        )
    if owner != spec.devops.pool.name:
        raise PreconditionFailed(
            f"{what} belongs to agentctl's pool '{owner}'",
            hint="to rename a pool, destroy it with its old file first; else choose another scaleSet.name",
        )


def plan_destroy(spec: PoolSpec, facts: Facts) -> list[Action]:
    """Delete, in reverse order, only what agentctl created."""
    return _deletes(spec, facts, old_identities=spec.backend == "scaleSet")


def _deletes(spec: PoolSpec, facts: Facts, old_identities: bool) -> list[Action]:
    """``old_identities``: also what the pool left on the agents' identity (known only when the
    scale-set pool is the selected backend)."""
    mine = of(facts)
    actions: list[Action] = []
    backing = str((mine.elastic_pool or {}).get("azureId", "")).lower()
    if mine.agent_pool is not None and backing == desired.scale_set_id(spec).lower():
        actions.append(
            Action("pool", DELETE, "agent pool", spec.devops.pool.name, data={"id": mine.agent_pool["id"]})
        )
    after_pool = ("pool",) if actions else ()
    conn = mine.azure_connection
    conn_owned = (
        conn is not None and not spec.devops.azureConnection.existing and owned(conn.get("description"), spec)
    )
    if conn is not None and conn_owned:
        data = {"id": conn["id"]}
        actions.append(
            Action("azureConnection", DELETE, "service connection", conn["name"], needs=after_pool, data=data)
        )
    actions += roles.own_credential_deletes(spec, mine, conn_owned)
    actions += roles.stale_connections(spec, mine, after_pool)
    actions += roles.old_identities(spec, facts, after_pool) if old_identities else []
    actions += roles.pool_role_deletes(spec, mine, after_pool)
    ss = mine.scale_set
    owner = ((ss or {}).get("tags") or {}).get(TAG_POOL)
    if ss is not None and scale_set_owned(ss) and owner in (None, spec.devops.pool.name):
        actions.append(Action("scaleSet", DELETE, "scale set", spec.scaleSet.name, needs=after_pool))
    return actions + _identity_delete(spec, mine, actions, after_pool)


def _identity_delete(
    spec: PoolSpec, mine: PoolFacts, actions: list[Action], after: tuple[str, ...]
) -> list[Action]:
    """The pool-management identity agentctl made, once nothing of it is left."""
    made = mine.pool_identity
    tags = (made or {}).get("tags") or {}
    ours = tags.get(TAG_MANAGED) == MANAGED_BY and tags.get(TAG_POOL) == spec.devops.pool.name
    if made is None or not desired.pool_identity_managed(spec) or not ours:
        return []
    types = ("azureConnection", "federatedCredential", "roleAssignment")
    first = tuple(a.key for a in actions if a.key.split(":")[0] in types)
    return [Action("poolIdentity", DELETE, "identity", str(made.get("name")), needs=after + first)]
