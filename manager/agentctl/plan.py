"""Planning: a pure function from (spec, facts) to the actions that converge them.

No I/O happens here. Each ``Action`` names its resource, what changes (field, old, new), and
which actions it needs first; ``apply`` runs them as a graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentctl import desired, resources
from agentctl.config import POOL_ROLE, PoolSpec
from agentctl.errors import PreconditionFailed, Problem, quoted
from agentctl.observe import Facts, OldIdentity

CREATE, UPDATE, DELETE, NOOP = "create", "update", "delete", "noop"


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass
class Action:
    key: str  # unique within a plan, e.g. "scaleSet"
    op: str
    kind: str  # resource type for people, e.g. "scale set"
    name: str
    changes: list[Change] = field(default_factory=list)
    needs: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)  # what apply needs beyond the spec

    def to_dict(self) -> dict[str, Any]:
        out = {
            "key": self.key,
            "op": self.op,
            "kind": self.kind,
            "name": self.name,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes],
            "needs": list(self.needs),
        }
        if self.data.get("warnings"):
            out["warnings"] = [str(w) for w in self.data["warnings"]]
        return out


@dataclass
class Plan:
    actions: list[Action]

    @property
    def pending(self) -> list[Action]:
        return [a for a in self.actions if a.op != NOOP]

    @property
    def changed(self) -> bool:
        return bool(self.pending)

    def get(self, key: str) -> Action | None:
        return next((a for a in self.actions if a.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        counts = {op: sum(a.op == op for a in self.actions) for op in (CREATE, UPDATE, DELETE, NOOP)}
        return {"changed": self.changed, "summary": counts, "actions": [a.to_dict() for a in self.actions]}


def _changes(items: list[tuple[str, Any, Any]]) -> list[Change]:
    return [Change(f, o, n) for f, o, n in items]


def plan(spec: PoolSpec, facts: Facts) -> Plan:
    """The actions that make Azure and Azure DevOps match the spec."""
    actions: list[Action] = []
    add = actions.append
    rg = spec.azure.resourceGroup
    pool = spec.devops.pool
    conn_spec = spec.devops.azureConnection

    add(Action("resourceGroup", NOOP if facts.resource_group else CREATE, "resource group", rg))

    # Pool-management identity, when agentctl makes it
    identity_name = desired.identity_parts(desired.pool_identity_id(spec))[1]
    if desired.pool_identity_managed(spec):
        made = facts.pool_identity
        if made is not None:
            _identity_owned(spec, made)
        op = NOOP if made is not None else CREATE
        add(Action("poolIdentity", op, "identity", identity_name, needs=("resourceGroup",)))

    # Scale set
    ss = facts.scale_set
    if ss is None:
        add(Action("scaleSet", CREATE, "scale set", spec.scaleSet.name, needs=("resourceGroup",)))
    else:
        if not _scale_set_owned(spec, ss):
            raise PreconditionFailed(
                f"scale set {spec.scaleSet.name} exists in {rg} but agentctl did not create it",
                hint="choose another scaleSet.name, or tag it managed-by=agentctl to adopt it",
            )
        owner = (ss.get("tags") or {}).get(desired.TAG_POOL)
        if owner and owner != pool.name:
            raise PreconditionFailed(
                f"scale set {spec.scaleSet.name} belongs to agentctl's pool {quoted(owner)}, "
                f"not {quoted(pool.name)}",
                hint="choose another scaleSet.name; to rename the pool, destroy it with its old file first",
            )
        drift, patch = desired.scale_set_drift(spec, ss)
        state = (ss.get("properties") or {}).get("provisioningState")
        data: dict[str, Any] = {"patch": patch, "warnings": desired.scale_set_fixed_drift(spec, ss)}
        if state == "Failed":  # a failed create or update: PUT the whole model again
            drift.append(("provisioningState", state, "Succeeded"))
            data = {"put": desired.ssh_keys(ss), "warnings": data["warnings"]}
        add(
            Action(
                "scaleSet",
                UPDATE if drift else NOOP,
                "scale set",
                spec.scaleSet.name,
                _changes(drift),
                ("resourceGroup",),
                data,
            )
        )

    actions += _pool_role(spec, facts)

    # Service connection, signing in as the pool-management identity
    conn = facts.azure_connection
    identity_made = _has_op(actions, "poolIdentity", CREATE)
    if conn_spec.existing:
        if conn is None:
            raise PreconditionFailed(
                f"service connection {quoted(conn_spec.name)} does not exist",
                hint="create it, or set devops.azureConnection.existing: false to let agentctl make it",
            )
        add(Action("azureConnection", NOOP, "service connection", conn_spec.name))
    elif conn is None:
        needs: tuple[str, ...] = ("poolIdentity",) if identity_made else ()
        add(Action("azureConnection", CREATE, "service connection", conn_spec.name, needs=needs))
    else:
        if not desired.owned(conn.get("description"), spec):
            raise desired.not_ours(
                f"service connection {quoted(conn_spec.name)}",
                conn.get("description"),
                hint="set devops.azureConnection.existing: true to use it as it is",
            )
        client = _client_id(facts.pool_identity) or f"(client id of the new identity {identity_name})"
        want = desired.connection_body(spec, facts.project, facts.tenant_id, client, "", "")
        drift = desired.connection_drift(want, conn)
        # It moves to another identity only once that one trusts it and holds its role.
        needs = ("federatedCredential", "roleAssignment") if drift else ()
        add(
            Action(
                "azureConnection",
                UPDATE if drift else NOOP,
                "service connection",
                conn_spec.name,
                _changes(drift),
                needs,
            )
        )

    # Federated credential on the pool-management identity, from the connection's issuer and subject
    if not conn_spec.existing:
        fic_name = desired.federated_credential_name(spec, conn_spec.name)
        issuer, subject = desired.wif_issuer_subject(conn or {})
        trusted = desired.credential_for(facts.federated_credentials, issuer, subject)
        named = next((c for c in facts.federated_credentials if c.get("name") == fic_name), None)
        fic_changes: list[Change] = []
        if conn is None or facts.pool_identity is None or (trusted is None and named is None):
            fic_op = CREATE
        elif trusted is not None:
            fic_op = NOOP
        else:
            props = (named or {}).get("properties") or {}
            fic_op, fic_changes = (
                UPDATE,
                _changes(
                    [
                        (k, props.get(k), v)
                        for k, v in (("issuer", issuer), ("subject", subject))
                        if props.get(k) != v
                    ]
                ),
            )
        fic_needs: tuple[str, ...] = ("azureConnection",) if conn is None else ()
        fic_needs += ("poolIdentity",) if identity_made else ()
        add(
            Action(
                "federatedCredential",
                fic_op,
                "federated credential",
                str((trusted or {}).get("name") or fic_name),
                fic_changes,
                fic_needs,
            )
        )

    # Elastic pool
    pool_needs = tuple(
        k
        for k in ("scaleSet", "azureConnection", "federatedCredential", "roleAssignment")
        if _has(actions, k)
    )
    elastic = facts.elastic_pool
    if facts.agent_pool is None:
        add(Action("pool", CREATE, "agent pool", pool.name, needs=pool_needs))
    else:
        azure_id = str((elastic or {}).get("azureId", ""))
        if azure_id.lower() != desired.scale_set_id(spec).lower():
            raise PreconditionFailed(
                f"agent pool {quoted(pool.name)} exists and is not backed by scale set {spec.scaleSet.name}",
                hint="choose another devops.pool.name",
            )
        drift = desired.elastic_drift(spec, elastic or {}, conn, facts.now)
        add(Action("pool", UPDATE if drift else NOOP, "agent pool", pool.name, _changes(drift), pool_needs))

    # Connections of ours the file no longer names (it was renamed), once the pool has left them
    actions += _stale_connections(spec, facts, ("pool",))
    # What the pool left on identities it no longer uses: on the scale set's previous identities,
    # and on the agents' identity (a previous release federated the connection with it)
    actions += _old_identities(spec, facts, ("scaleSet", "pool"))

    # Pipeline permissions on the pool's queue
    drift = desired.permissions_drift(pool.authorizeAllPipelines, pool.pipelines, facts.queue_permissions)
    # A new queue starts with no permissions: with nothing to grant there is no action.
    perm_op = (UPDATE if facts.queue else CREATE) if drift else (NOOP if facts.queue else "")
    if perm_op:
        add(
            Action(
                "poolPermissions",
                perm_op,
                "pipeline permissions",
                f"queue {pool.name}",
                _changes(drift),
                ("pool",),
            )
        )
    for kind in resources.kinds():
        actions.extend(kind.plan(spec, facts))
    return Plan(actions)


def _has(actions: list[Action], key: str) -> bool:
    return any(a.key == key for a in actions)


def _has_op(actions: list[Action], key: str, op: str) -> bool:
    return any(a.key == key and a.op == op for a in actions)


def _client_id(identity: dict[str, Any] | None) -> str:
    return str(((identity or {}).get("properties") or {}).get("clientId") or "")


def _role_id(assignment: dict[str, Any]) -> str:
    return str((assignment.get("properties") or {}).get("roleDefinitionId") or "").lower()


def _scale_set_owned(spec: PoolSpec, ss: dict[str, Any]) -> bool:
    return (ss.get("tags") or {}).get(desired.TAG_MANAGED) == desired.MANAGED_BY


def _identity_owned(spec: PoolSpec, identity: dict[str, Any]) -> None:
    """The identity agentctl would make exists: it must be this pool's."""
    tags = identity.get("tags") or {}
    owner = tags.get(desired.TAG_POOL) if tags.get(desired.TAG_MANAGED) == desired.MANAGED_BY else None
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


def _pool_role(spec: PoolSpec, facts: Facts) -> list[Action]:
    """grantRole for the pool-management identity on the scale set (and nowhere else); grants of
    this pool's that it no longer asks for go."""
    conn = spec.devops.azureConnection
    if conn.existing and not conn.identity:
        return []  # the connection's identity is not agentctl's to know
    scope = desired.scale_set_id(spec)
    here = [a for a in facts.pool_role_assignments if desired.scope_of(a) == scope.lower()]
    role_id = (facts.role_definition_id or "").lower() if conn.grantRole else ""
    out = [
        _role_delete(spec, facts, a, scope, ())
        for a in _role_assignments_of(spec, here)
        if _role_id(a) != role_id
    ]
    _check_rights(spec, facts)
    if not conn.grantRole:
        return out
    have = any(_role_id(a) == role_id for a in here)
    needs = ("scaleSet",) + (("poolIdentity",) if facts.pool_identity is None else ())
    principal = facts.pool_principal_id
    data = {"scope": scope, "roleId": facts.role_definition_id or "", "principal": "pool"}
    if principal:
        data["name"] = desired.role_assignment_name(scope, principal, data["roleId"])
    name = f"{conn.grantRole} on {spec.scaleSet.name}"  # as its delete is named: role on scope
    return [
        *out,
        Action("roleAssignment", NOOP if have else CREATE, "role assignment", name, needs=needs, data=data),
    ]


def _check_rights(spec: PoolSpec, facts: Facts) -> None:
    """Stop before any write when the pool-management identity would lack what Azure DevOps needs
    on the scale set: grantRole does not cover it, or (no grantRole) no role it holds does."""
    conn = spec.devops.azureConnection
    path = "devops.azureConnection.grantRole"
    if conn.grantRole:
        definition = facts.role_definitions.get((facts.role_definition_id or "").lower())
        if definition is None:
            return  # not readable here; a missing role stopped observe already
        missing = desired.missing_actions([definition])
        problem = f"role '{conn.grantRole}' does not let Azure DevOps manage the scale set"
    else:
        target = desired.scale_set_id(spec).lower()
        mine = _role_assignments_of(spec, facts.pool_role_assignments)  # they go with the grant
        held = [
            facts.role_definitions.get(_role_id(a))
            for a in facts.pool_role_assignments
            if (target == desired.scope_of(a) or target.startswith(desired.scope_of(a) + "/"))
            and a not in mine
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


def _role_assignments_of(spec: PoolSpec, assignments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The assignments this pool made (its marker is their description)."""
    return [a for a in assignments if (a.get("properties") or {}).get("description") == desired.marker(spec)]


def _role_delete(
    spec: PoolSpec, facts: Facts, assignment: dict[str, Any], scope: str, needs: tuple[str, ...]
) -> Action:
    """Named as its create is: ``role on scope`` (the role's id when it is not the file's role)."""
    name = str(assignment["name"])
    role_id = str((assignment.get("properties") or {}).get("roleDefinitionId") or "")
    grant = spec.devops.azureConnection.grantRole
    role = grant if grant and role_id.lower() == (facts.role_definition_id or "").lower() else None
    label = f"{role or 'role ' + role_id.rsplit('/', 1)[-1]} on {scope.rstrip('/').rsplit('/', 1)[-1]}"
    return Action(
        f"roleAssignment:{name}",
        DELETE,
        "role assignment",
        label,
        needs=needs,
        data={"scope": scope, "name": name},
    )


def _trusts(facts: Facts) -> set[tuple[str, str]]:
    """(issuer, subject) of this pool's Azure Resource Manager connections, current and stale."""
    return {
        desired.wif_issuer_subject(c) for c in [facts.azure_connection, *facts.stale_connections] if c
    } - {("", "")}


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
    rg, name = desired.identity_parts(identity_id)
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


def _old_identities(spec: PoolSpec, facts: Facts, needs: tuple[str, ...]) -> list[Action]:
    """On identities the pool no longer uses for its connection (the agents' identity, and those the
    scale set is moving away from): federated credentials trusting one of this pool's connections
    (by issuer and subject) and this pool's grant on the group."""
    out: list[Action] = []
    scope = desired.resource_group_scope(spec)
    trusts = _trusts(facts)
    agents = spec.scaleSet.identity.userAssigned
    olds = {agents: OldIdentity(facts.agent_federated_credentials, facts.role_assignments)}
    olds.update(facts.old_identities)
    for identity_id, old in olds.items():
        out += _credential_deletes(identity_id, _trusting(old.federated_credentials, trusts), needs)
        on_group = [a for a in old.role_assignments if desired.scope_of(a) == scope.lower()]
        out += [_role_delete(spec, facts, a, scope, needs) for a in _role_assignments_of(spec, on_group)]
    return out


def _stale_connections(spec: PoolSpec, facts: Facts, needs: tuple[str, ...]) -> list[Action]:
    """Delete agentctl's connections for this pool that the file no longer names, and the
    federated credential trusting each on the pool-management identity."""
    out = []
    for conn in facts.stale_connections:
        key = f"azureConnection:{conn['name']}"
        out.append(
            Action(key, DELETE, "service connection", conn["name"], needs=needs, data={"id": conn["id"]})
        )
        trusted = _trusting(facts.federated_credentials, {desired.wif_issuer_subject(conn)})
        out += _credential_deletes(desired.pool_identity_id(spec), trusted, (key,))
    return out


def plan_destroy(spec: PoolSpec, facts: Facts) -> Plan:
    """Delete, in reverse order, only what agentctl created."""
    actions: list[Action] = []
    backing = str((facts.elastic_pool or {}).get("azureId", "")).lower()
    if facts.agent_pool is not None and backing == desired.scale_set_id(spec).lower():
        pool_id = facts.agent_pool["id"]
        actions.append(Action("pool", DELETE, "agent pool", spec.devops.pool.name, data={"id": pool_id}))
    after_pool = ("pool",) if actions else ()
    conn = facts.azure_connection
    conn_owned = (
        conn is not None
        and not spec.devops.azureConnection.existing
        and desired.owned(conn.get("description"), spec)
    )
    if conn_owned:
        assert conn is not None
        actions.append(
            Action(
                "azureConnection",
                DELETE,
                "service connection",
                conn["name"],
                needs=after_pool,
                data={"id": conn["id"]},
            )
        )
    conn_spec = spec.devops.azureConnection
    if facts.pool_identity is not None and not conn_spec.existing:
        # Matched by issuer and subject; when the connection is gone already (a run stopped between
        # the two deletes), by the subject Azure DevOps gives it and the name only this pool uses.
        needs = ("azureConnection",) if conn_owned else ()
        if conn is None:
            name = desired.federated_credential_name(spec, conn_spec.name)
            subject = desired.connection_subject(spec, conn_spec.name).lower()
            mine = [
                c
                for c in facts.federated_credentials
                if c.get("name") == name
                and str((c.get("properties") or {}).get("subject") or "").lower() == subject
            ]
        else:
            mine = _trusting(facts.federated_credentials, _trusts(facts)) if conn_owned else []
        actions += _credential_deletes(desired.pool_identity_id(spec), mine, needs)
    actions += _stale_connections(spec, facts, after_pool)
    actions += _old_identities(spec, facts, after_pool)
    scope = desired.scale_set_id(spec)
    here = [a for a in facts.pool_role_assignments if desired.scope_of(a) == scope.lower()]
    actions += [_role_delete(spec, facts, a, scope, after_pool) for a in _role_assignments_of(spec, here)]
    ss = facts.scale_set
    owner = ((ss or {}).get("tags") or {}).get(desired.TAG_POOL)
    if ss is not None and _scale_set_owned(spec, ss) and owner in (None, spec.devops.pool.name):
        actions.append(Action("scaleSet", DELETE, "scale set", spec.scaleSet.name, needs=after_pool))
    made = facts.pool_identity
    tags = (made or {}).get("tags") or {}
    if (
        made is not None
        and desired.pool_identity_managed(spec)
        and tags.get(desired.TAG_MANAGED) == desired.MANAGED_BY
        and tags.get(desired.TAG_POOL) == spec.devops.pool.name
    ):
        first = tuple(
            a.key
            for a in actions
            if a.key.split(":")[0] in ("azureConnection", "federatedCredential", "roleAssignment")
        )
        actions.append(
            Action("poolIdentity", DELETE, "identity", str(made.get("name")), needs=after_pool + first)
        )
    for kind in resources.kinds():
        actions.extend(kind.plan_destroy(spec, facts))
    return Plan(actions)
