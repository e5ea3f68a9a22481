"""The scale-set pool's grants and trusts: the pool-management identity's role on the scale set,
and what the pool left on identities and connections it no longer uses (planned for deletion).
Pure functions, like the rest of the planner.
"""

from __future__ import annotations

from typing import Any

from agentctl.config import POOL_ROLE, PoolSpec
from agentctl.errors import PreconditionFailed, Problem
from agentctl.kinds.base import CREATE, DELETE, NOOP, Action, Facts
from agentctl.kinds.common import (
    connection_subject,
    federated_credential_name,
    identity_parts,
    marker,
    resource_group_scope,
    role_assignment_name,
    scope_of,
    wif_issuer_subject,
)
from agentctl.kinds.pool import desired
from agentctl.kinds.pool.facts import OldIdentity, PoolFacts, of


def _role_id(assignment: dict[str, Any]) -> str:
    return str((assignment.get("properties") or {}).get("roleDefinitionId") or "").lower()


def pool_role(spec: PoolSpec, mine: PoolFacts) -> list[Action]:
    """grantRole for the pool-management identity on the scale set (and nowhere else); grants of
    this pool's that it no longer asks for go."""
    conn = spec.devops.azureConnection
    if conn.existing and not conn.identity:
        return []  # the connection's identity is not agentctl's to know
    scope = desired.scale_set_id(spec)
    here = [a for a in mine.pool_role_assignments if scope_of(a) == scope.lower()]
    role_id = (mine.role_definition_id or "").lower() if conn.grantRole else ""
    out = [
        role_delete(spec, mine, a, scope, ()) for a in assignments_of(spec, here) if _role_id(a) != role_id
    ]
    _check_rights(spec, mine)
    if not conn.grantRole:
        return out
    have = any(_role_id(a) == role_id for a in here)
    needs = ("scaleSet",) + (("poolIdentity",) if mine.pool_identity is None else ())
    principal = mine.pool_principal_id
    data = {"scope": scope, "roleId": mine.role_definition_id or "", "principal": "pool"}
    if principal:
        data["name"] = role_assignment_name(scope, principal, data["roleId"])
    name = f"{conn.grantRole} on {spec.scaleSet.name}"  # as its delete is named: role on scope
    return [
        *out,
        Action("roleAssignment", NOOP if have else CREATE, "role assignment", name, needs=needs, data=data),
    ]


def _check_rights(spec: PoolSpec, mine: PoolFacts) -> None:
    """Stop before any write when the pool-management identity would lack what Azure DevOps needs
    on the scale set: grantRole does not cover it, or (no grantRole) no role it holds does."""
    conn = spec.devops.azureConnection
    path = "devops.azureConnection.grantRole"
    if conn.grantRole:
        definition = mine.role_definitions.get((mine.role_definition_id or "").lower())
        if definition is None:
            return  # not readable here; a missing role stopped observe already
        missing = desired.missing_actions([definition])
        problem = f"role '{conn.grantRole}' does not let Azure DevOps manage the scale set"
    else:
        target = desired.scale_set_id(spec).lower()
        made = assignments_of(spec, mine.pool_role_assignments)  # they go with the grant
        held = [
            mine.role_definitions.get(_role_id(a))
            for a in mine.pool_role_assignments
            if (target == scope_of(a) or target.startswith(scope_of(a) + "/")) and a not in made
        ]
        missing = desired.missing_actions([d for d in held if d])
        problem = (
            "is null, and the pool-management identity holds no role on scale set "
            f"{spec.scaleSet.name} that lets Azure DevOps manage it"
        )
    if not missing:
        return
    message = f"{problem} (it lacks {', '.join(missing)})"
    raise PreconditionFailed(
        f"{path} {message}" if not conn.grantRole else f"{path}: {message}",
        hint=f"set {path}: {POOL_ROLE} (agentctl grants it on the scale set only), or grant the "
        "pool-management identity that role on the scale set yourself",
        problems=[
            Problem(message, path, spec.line(path) or spec.line("devops.azureConnection"), spec.source)
        ],
    )


def assignments_of(spec: PoolSpec, assignments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The assignments this pool made (its marker is their description)."""
    return [a for a in assignments if (a.get("properties") or {}).get("description") == marker(spec)]


def role_delete(
    spec: PoolSpec, mine: PoolFacts, assignment: dict[str, Any], scope: str, needs: tuple[str, ...]
) -> Action:
    """Named as its create is: ``role on scope`` (the role's id when it is not the file's role)."""
    name = str(assignment["name"])
    role_id = str((assignment.get("properties") or {}).get("roleDefinitionId") or "")
    grant = spec.devops.azureConnection.grantRole
    role = grant if grant and role_id.lower() == (mine.role_definition_id or "").lower() else None
    label = f"{role or 'role ' + role_id.rsplit('/', 1)[-1]} on {scope.rstrip('/').rsplit('/', 1)[-1]}"
    data = {"scope": scope, "name": name}
    return Action(f"roleAssignment:{name}", DELETE, "role assignment", label, needs=needs, data=data)


def pool_role_deletes(spec: PoolSpec, mine: PoolFacts, needs: tuple[str, ...]) -> list[Action]:
    """This pool's grants on the scale set."""
    scope = desired.scale_set_id(spec)
    here = [a for a in mine.pool_role_assignments if scope_of(a) == scope.lower()]
    return [role_delete(spec, mine, a, scope, needs) for a in assignments_of(spec, here)]


def _trusts(mine: PoolFacts) -> set[tuple[str, str]]:
    """(issuer, subject) of this pool's Azure Resource Manager connections, current and stale."""
    return {wif_issuer_subject(c) for c in [mine.azure_connection, *mine.stale_connections] if c} - {("", "")}


def _trusting(credentials: list[dict[str, Any]], trusts: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """The credentials that trust one of these (issuer, subject) pairs."""
    return [
        c
        for c in credentials
        if (
            str((c.get("properties") or {}).get("issuer") or ""),
            str((c.get("properties") or {}).get("subject") or ""),
        )
        in trusts
    ]


def _credential_deletes(
    identity_id: str, credentials: list[dict[str, Any]], needs: tuple[str, ...]
) -> list[Action]:
    rg, name = identity_parts(identity_id)
    return [
        Action(
            f"federatedCredential:{name}/{fic['name']}",
            DELETE,
            "federated credential",
            str(fic["name"]),
            needs=needs,
            data={"identity": (rg, name)},
        )
        for fic in credentials
    ]


def own_credential_deletes(spec: PoolSpec, mine: PoolFacts, conn_owned: bool) -> list[Action]:
    """On destroy: the pool-management identity's credential trusting the connection. Matched by
    issuer and subject; when the connection is gone already (a run stopped between the two
    deletes), by the subject Azure DevOps gives it and the name only this pool uses."""
    conn_spec, conn = spec.devops.azureConnection, mine.azure_connection
    if mine.pool_identity is None or conn_spec.existing:
        return []
    needs = ("azureConnection",) if conn_owned else ()
    if conn is None:
        name = federated_credential_name(spec, conn_spec.name)
        subject = connection_subject(spec, conn_spec.name).lower()
        found = [
            c
            for c in mine.federated_credentials
            if c.get("name") == name
            and str((c.get("properties") or {}).get("subject") or "").lower() == subject
        ]
    else:
        found = _trusting(mine.federated_credentials, _trusts(mine)) if conn_owned else []
    return _credential_deletes(desired.pool_identity_id(spec), found, needs)


def old_identities(spec: PoolSpec, facts: Facts, needs: tuple[str, ...]) -> list[Action]:
    """On identities the pool no longer uses for its connection (the agents' identity, and those the
    scale set is moving away from): federated credentials trusting one of this pool's connections
    (by issuer and subject) and this pool's grant on the group."""
    mine = of(facts)
    out: list[Action] = []
    scope = resource_group_scope(spec)
    trusts = _trusts(mine)
    agents = spec.scaleSet.identity.userAssigned
    olds = {agents: OldIdentity(mine.agent_federated_credentials, facts.role_assignments)}
    olds.update(mine.old_identities)
    for identity_id, old in olds.items():
        out += _credential_deletes(identity_id, _trusting(old.federated_credentials, trusts), needs)
        on_group = [a for a in old.role_assignments if scope_of(a) == scope.lower()]
        out += [role_delete(spec, mine, a, scope, needs) for a in assignments_of(spec, on_group)]
    return out


def stale_connections(spec: PoolSpec, mine: PoolFacts, needs: tuple[str, ...]) -> list[Action]:
    """Delete agentctl's connections for this pool that the file no longer names, and the
    federated credential trusting each on the pool-management identity."""
    out = []
    for conn in mine.stale_connections:
        key = f"azureConnection:{conn['name']}"
        out.append(
            Action(key, DELETE, "service connection", conn["name"], needs=needs, data={"id": conn["id"]})
        )
        trusted = _trusting(mine.federated_credentials, {wif_issuer_subject(conn)})
        out += _credential_deletes(desired.pool_identity_id(spec), trusted, (key,))
    return out
