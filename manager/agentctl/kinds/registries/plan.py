"""The registries' plan: the agents' role at each registry, the push identity's role and federated
credential, the registry connection and its permissions; the checks as warnings on a no-op; what
the pool made for registries the file no longer names is deleted."""

from __future__ import annotations

from typing import Any

from agentctl.config import PoolSpec, Registry, parse_id
from agentctl.errors import PreconditionFailed, quoted
from agentctl.kinds.base import CREATE, DELETE, NOOP, UPDATE, Action, Change, Facts
from agentctl.kinds.common import (
    credential_for,
    federated_credential_name,
    identity_parts,
    owned,
    permissions_drift,
    role_assignment_name,
    wif_issuer_subject,
)
from agentctl.kinds.registries.desired import (
    ACCESS_BY_ROLE,
    ROLE_NAMES,
    ROLES,
    check,
    connection_body,
    connection_drift,
    principal,
    registry_name,
    role_definition_id,
    role_guid,
    scope,
    scope_of,
    vnet_id,
    where,
)
from agentctl.kinds.registries.facts import Observed, RegistryFacts, of


def registry_facts(facts: Facts, reg: Registry) -> RegistryFacts:
    observed: Observed = of(facts)
    return observed.registries.get(reg.id.lower()) or RegistryFacts(None, [], None, {})


def plan(spec: PoolSpec, facts: Facts) -> list[Action]:
    actions: list[Action] = []
    observed: Observed = of(facts)
    for i, reg in enumerate(spec.registries):
        f = registry_facts(facts, reg)
        if f.registry is None:
            raise PreconditionFailed(
                f"{where(spec, f'registries[{i}].id')}: container registry {reg.id} does not exist",
                hint="create it first (it is not agentctl's to make), or fix the id in the pool file",
            )
        actions += _role_actions(spec, facts, reg, f)
        actions += _push_actions(spec, reg, f)
        actions += _connection_actions(spec, facts, reg, f, i)
        actions += _credential_actions(spec, reg, f)
        warnings = check(f.registry, observed.zones, vnet_id(spec))["warnings"]
        if warnings:
            name = registry_name(reg)
            actions.append(
                Action(f"registryCheck:{name}", NOOP, "registry check", name, data={"warnings": warnings})
            )
    return actions + _leftovers(spec, observed, needs=())


def _role_actions(spec: PoolSpec, facts: Facts, reg: Registry, f: RegistryFacts) -> list[Action]:
    name = registry_name(reg)
    scope = reg.id
    want = ROLES[reg.access]
    role_id = role_definition_id(reg.id, reg.access)
    here = [a for a in f.assignments if scope_of(a) == scope.lower()]
    replaced = [
        a
        for a in here
        if role_guid(a) in ACCESS_BY_ROLE
        and role_guid(a) != want
        and owned((a.get("properties") or {}).get("description"), spec)
    ]
    have = any(role_guid(a) == want for a in here)
    key = f"registryRole:{name}"
    changes = [
        Change("role", ROLE_NAMES[ACCESS_BY_ROLE[role_guid(a)]], ROLE_NAMES[reg.access]) for a in replaced
    ]
    actions = [
        Action(
            key,
            NOOP if have else CREATE,
            "role assignment",
            f"{ROLE_NAMES[reg.access]} on {name}",
            [] if have else changes,
            data={
                "scope": scope,
                "roleId": role_id,
                "name": role_assignment_name(scope, facts.principal_id, role_id),
            },
        )
    ]
    for a in replaced:
        actions.append(
            Action(
                f"registryRole:{name}/{a['name']}",
                DELETE,
                "role assignment",
                f"{ROLE_NAMES[ACCESS_BY_ROLE[role_guid(a)]]} on {name}",
                needs=(key,),  # grant the new role before the old one goes: no gap in access
                data={"scope": scope, "name": a["name"]},
            )
        )
    return actions


def _push_actions(spec: PoolSpec, reg: Registry, f: RegistryFacts) -> list[Action]:
    """AcrPush at the registry for the identity the connection signs in as (pushIdentity)."""
    if not reg.pushIdentity:
        return []
    name = registry_name(reg)
    push_principal = principal(f.push_identity)
    role_id = role_definition_id(reg.id, "push")
    have = any(role_guid(a) == ROLES["push"] for a in f.push_assignments)
    identity = reg.pushIdentity.rsplit("/", 1)[-1]
    return [
        Action(
            f"registryPushRole:{name}",
            NOOP if have else CREATE,
            "role assignment",
            f"AcrPush on {name} for {identity}",
            data={
                "scope": reg.id,
                "roleId": role_id,
                "principalId": push_principal,
                "name": role_assignment_name(reg.id, push_principal, role_id),
            },
        )
    ]


def _credential_actions(spec: PoolSpec, reg: Registry, f: RegistryFacts) -> list[Action]:
    """The federated credential on pushIdentity that trusts the connection (issuer and subject)."""
    if not reg.pushIdentity:
        return []
    key = f"registryConnection:{reg.connection}"
    issuer, subject = wif_issuer_subject(f.connection or {})
    trusted = credential_for(f.push_credentials, issuer, subject)
    name = federated_credential_name(spec, reg.connection)
    return [
        Action(
            f"registryCredential:{reg.connection}",
            NOOP if trusted else CREATE,
            "federated credential",
            str((trusted or {}).get("name") or name),
            needs=(key,),
            data={
                "identity": identity_parts(reg.pushIdentity),
                "connection": key,
                "endpoint": f.connection or {},
            },
        )
    ]


def _connection_actions(
    spec: PoolSpec, facts: Facts, reg: Registry, f: RegistryFacts, index: int
) -> list[Action]:
    assert f.registry is not None
    key = f"registryConnection:{reg.connection}"
    push_client = principal(f.push_identity, "clientId")
    body = connection_body(spec, reg, f.registry, facts.project, facts.tenant_id, push_client)
    conn = f.connection
    if conn is None:
        op, changes = CREATE, []
    elif not owned(conn.get("description"), spec):
        raise PreconditionFailed(
            f"{where(spec, f'registries[{index}].connection')}: service connection {quoted(reg.connection)} "
            "exists but agentctl did not create it",
            hint="choose another connection name, or remove the existing connection",
        )
    else:
        changes = connection_drift(body, conn)
        op = UPDATE if changes else NOOP
    conn_id = (conn or {}).get("id")
    actions = [
        Action(
            key,
            op,
            "docker registry connection",
            reg.connection,
            [Change(*c) for c in changes],
            data={"body": body, "id": conn_id},
        )
    ]
    drift = permissions_drift(reg.authorizeAllPipelines, [], f.permissions)
    if conn is not None or drift:  # a new connection starts with no permissions to undo
        actions.append(
            Action(
                f"registryPermissions:{reg.connection}",
                (UPDATE if conn else CREATE) if drift else NOOP,
                "pipeline permissions",
                f"connection {reg.connection}",
                [Change(*c) for c in drift],
                (key,),
                {"id": conn_id, "connection": key, "authorizeAll": reg.authorizeAllPipelines},
            )
        )
    return actions


def plan_destroy(spec: PoolSpec, facts: Facts) -> list[Action]:
    """Only the assignments and connections agentctl made, after the pool is gone."""
    actions: list[Action] = []
    for reg in spec.registries:
        f = registry_facts(facts, reg)
        name = registry_name(reg)
        # the agents' grants on the registry, and the push identity's AcrPush
        agents = [("registryRole", a) for a in f.assignments if scope_of(a) == reg.id.lower()]
        pushers = [("registryPushRole", a) for a in f.push_assignments if role_guid(a) == ROLES["push"]]
        for kind, a in agents + pushers:
            if not owned((a.get("properties") or {}).get("description"), spec):
                continue
            role = ROLE_NAMES.get(ACCESS_BY_ROLE.get(role_guid(a), ""), "role")
            actions.append(
                Action(
                    f"{kind}:{name}/{a['name']}",
                    DELETE,
                    "role assignment",
                    f"{role} on {name}",
                    needs=("pool",),
                    data={"scope": reg.id, "name": a["name"]},
                )
            )
        conn = f.connection
        if conn is not None and owned(conn.get("description"), spec):
            actions.append(_connection_delete(conn, needs=("pool",)))
            trusted = credential_for(f.push_credentials, *wif_issuer_subject(conn))
            if reg.pushIdentity and trusted is not None:
                actions.append(
                    Action(
                        f"registryCredential:{reg.connection}",
                        DELETE,
                        "federated credential",
                        str(trusted["name"]),
                        needs=(f"registryConnection:{conn['name']}",),
                        data={"identity": identity_parts(reg.pushIdentity)},
                    )
                )
    observed: Observed = of(facts)
    return actions + _leftovers(spec, observed, needs=("pool",))


def _leftovers(spec: PoolSpec, observed: Observed, needs: tuple[str, ...]) -> list[Action]:
    """Deletes of what this pool made for registries and connections the file no longer names:
    AcrPull/AcrPush assignments at a registry, and dockerregistry connections, with its marker."""
    listed = {reg.id.lower() for reg in spec.registries}
    names = {reg.connection.lower() for reg in spec.registries}
    actions: list[Action] = []
    for a in observed.assignments:
        at = scope(a)
        parts = parse_id("registry", at)
        if (
            parts is None
            or at.lower() in listed
            or role_guid(a) not in ACCESS_BY_ROLE
            or not owned((a.get("properties") or {}).get("description"), spec)
        ):
            continue
        actions.append(
            Action(
                f"registryRole:{parts['name']}/{a['name']}",
                DELETE,
                "role assignment",
                f"{ROLE_NAMES[ACCESS_BY_ROLE[role_guid(a)]]} on {parts['name']}",
                needs=needs,
                data={"scope": at, "name": a["name"]},
            )
        )
    for stale in observed.stale_push:
        after = (*needs, f"registryConnection:{stale.connection}")
        identity = identity_parts(stale.identity)
        for cred in stale.credentials:
            actions.append(
                Action(
                    f"registryCredential:{identity[1]}/{cred['name']}",
                    DELETE,
                    "federated credential",
                    str(cred["name"]),
                    needs=after,
                    data={"identity": identity},
                )
            )
        for a in stale.assignments:
            where = parse_id("registry", scope(a))
            actions.append(
                Action(
                    f"registryPushRole:{(where or {}).get('name', '')}/{a['name']}",
                    DELETE,
                    "role assignment",
                    f"AcrPush on {(where or {}).get('name', scope(a))} for {identity[1]}",
                    needs=after,
                    data={"scope": scope(a), "name": a["name"]},
                )
            )
    for c in observed.connections:
        if (
            str(c.get("type", "")).lower() == "dockerregistry"
            and str(c.get("name", "")).lower() not in names
            and owned(c.get("description"), spec)
        ):
            actions.append(_connection_delete(c, needs))
    return actions


def _connection_delete(conn: dict[str, Any], needs: tuple[str, ...]) -> Action:
    return Action(
        f"registryConnection:{conn['name']}",
        DELETE,
        "docker registry connection",
        str(conn["name"]),
        needs=needs,
        data={"id": conn["id"]},
    )
