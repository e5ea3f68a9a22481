"""Planning: a pure function from (spec, facts) to the actions that converge them.

No I/O happens here. Each ``Action`` names its resource, what changes (field, old, new), and
which actions it needs first; ``apply`` runs them as a graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentctl import desired, resources
from agentctl.config import PoolSpec, parse_id
from agentctl.errors import PreconditionFailed, quoted
from agentctl.observe import Facts

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

    # Role for the identity on the resource group; grants of ours it no longer asks for go
    scope = desired.resource_group_scope(spec)
    on_group = [a for a in facts.role_assignments if _scope_of(a) == scope.lower()]
    role_id = (facts.role_definition_id or "") if conn_spec.grantRole else ""
    for a in _role_assignments_of(spec, on_group):
        if str((a.get("properties") or {}).get("roleDefinitionId", "")).lower() != role_id.lower():
            add(_role_delete(spec, facts, a, scope, ()))
    if conn_spec.grantRole:
        have = any(
            str((a.get("properties") or {}).get("roleDefinitionId", "")).lower() == role_id.lower()
            for a in on_group
        )
        add(
            Action(
                "roleAssignment",
                NOOP if have else CREATE,
                "role assignment",
                f"{conn_spec.grantRole} on {rg}",
                needs=("resourceGroup",),
                data={
                    "scope": scope,
                    "roleId": role_id,
                    "name": desired.role_assignment_name(scope, facts.principal_id, role_id),
                },
            )
        )

    # Service connection
    conn = facts.azure_connection
    if conn_spec.existing:
        if conn is None:
            raise PreconditionFailed(
                f"service connection {quoted(conn_spec.name)} does not exist",
                hint="create it, or set devops.azureConnection.existing: false to let agentctl make it",
            )
        add(Action("azureConnection", NOOP, "service connection", conn_spec.name))
    elif conn is None:
        add(Action("azureConnection", CREATE, "service connection", conn_spec.name))
    else:
        if not desired.owned(conn.get("description"), spec):
            raise desired.not_ours(
                f"service connection {quoted(conn_spec.name)}",
                conn.get("description"),
                hint="set devops.azureConnection.existing: true to use it as it is",
            )
        want = desired.connection_body(spec, facts.project, facts.tenant_id, facts.client_id, "", "")
        drift = desired.connection_drift(want, conn)
        add(
            Action(
                "azureConnection",
                UPDATE if drift else NOOP,
                "service connection",
                conn_spec.name,
                _changes(drift),
            )
        )

    # Federated credential on the identity, from the connection's issuer and subject
    fic_name = desired.federated_credential_name(conn_spec.name)
    fic = next((c for c in facts.federated_credentials if c.get("name") == fic_name), None)
    if conn is None:
        fic_op, fic_changes = CREATE, []
    else:
        issuer, subject = desired.wif_issuer_subject(conn)
        props = (fic or {}).get("properties") or {}
        diff = [
            (k, props.get(k), v) for k, v in (("issuer", issuer), ("subject", subject)) if props.get(k) != v
        ]
        fic_op = CREATE if fic is None else (UPDATE if diff else NOOP)
        fic_changes = _changes(diff) if fic is not None else []
    if not conn_spec.existing:
        add(
            Action(
                "federatedCredential",
                fic_op,
                "federated credential",
                fic_name,
                fic_changes,
                ("azureConnection",),
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
    # What the pool left on an identity the scale set no longer uses
    actions += _old_identities(spec, facts, ("scaleSet",))

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


def _scale_set_owned(spec: PoolSpec, ss: dict[str, Any]) -> bool:
    return (ss.get("tags") or {}).get(desired.TAG_MANAGED) == desired.MANAGED_BY


def _scope_of(assignment: dict[str, Any]) -> str:
    return str((assignment.get("properties") or {}).get("scope") or "").rstrip("/").lower()


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


def _old_identities(spec: PoolSpec, facts: Facts, needs: tuple[str, ...]) -> list[Action]:
    """On identities the scale set is moving away from: agentctl's federated credentials (named
    for one of this pool's connections, with its subject) and this pool's grant on the group."""
    out: list[Action] = []
    scope = desired.resource_group_scope(spec)
    subjects = {
        desired.wif_issuer_subject(c)[1] for c in [facts.azure_connection, *facts.stale_connections] if c
    }
    names = {
        desired.federated_credential_name(c["name"])
        for c in [facts.azure_connection, *facts.stale_connections]
        if c
    }
    for identity_id, old in facts.old_identities.items():
        parts = parse_id("identity", identity_id) or {}
        for fic in old.federated_credentials:
            subject = str((fic.get("properties") or {}).get("subject") or "")
            if fic.get("name") in names and subject in subjects and parts:
                out.append(
                    Action(
                        f"federatedCredential:{parts['name']}/{fic['name']}",
                        DELETE,
                        "federated credential",
                        str(fic["name"]),
                        needs=needs,
                        data={"identity": (parts["rg"], parts["name"])},
                    )
                )
        on_group = [a for a in old.role_assignments if _scope_of(a) == scope.lower()]
        out += [_role_delete(spec, facts, a, scope, needs) for a in _role_assignments_of(spec, on_group)]
    return out


def _stale_connections(spec: PoolSpec, facts: Facts, needs: tuple[str, ...]) -> list[Action]:
    """Delete agentctl's connections for this pool that the file no longer names, and the
    federated credential behind each."""
    out = []
    fics = {str(c.get("name")) for c in facts.federated_credentials}
    for conn in facts.stale_connections:
        key = f"azureConnection:{conn['name']}"
        out.append(
            Action(key, DELETE, "service connection", conn["name"], needs=needs, data={"id": conn["id"]})
        )
        fic = desired.federated_credential_name(conn["name"])
        if fic in fics:
            out.append(
                Action(f"federatedCredential:{fic}", DELETE, "federated credential", fic, needs=(key,))
            )
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
    fic_name = desired.federated_credential_name(spec.devops.azureConnection.name)
    # Also when the connection is gone already: a run stopped between the two deletes.
    fic_owned = conn_owned or (conn is None and not spec.devops.azureConnection.existing)
    if fic_owned and any(c.get("name") == fic_name for c in facts.federated_credentials):
        needs = ("azureConnection",) if conn_owned else ()
        actions.append(Action("federatedCredential", DELETE, "federated credential", fic_name, needs=needs))
    actions += _stale_connections(spec, facts, after_pool)
    actions += _old_identities(spec, facts, after_pool)
    scope = desired.resource_group_scope(spec)
    on_group = [a for a in facts.role_assignments if _scope_of(a) == scope.lower()]
    actions += [_role_delete(spec, facts, a, scope, after_pool) for a in _role_assignments_of(spec, on_group)]
    ss = facts.scale_set
    owner = ((ss or {}).get("tags") or {}).get(desired.TAG_POOL)
    if ss is not None and _scale_set_owned(spec, ss) and owner in (None, spec.devops.pool.name):
        actions.append(Action("scaleSet", DELETE, "scale set", spec.scaleSet.name, needs=after_pool))
    for kind in resources.kinds():
        actions.extend(kind.plan_destroy(spec, facts))
    return Plan(actions)
