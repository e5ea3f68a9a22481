"""What several kinds share when they plan: how agentctl marks what it owns, and the helpers for
role assignments, federated credentials and pipeline permissions. Pure functions (the handlers
kinds share are in ``kinds.writes``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from typing import Any

from agentctl.config import PoolSpec, parse_id
from agentctl.errors import PreconditionFailed, quoted
from agentctl.kinds.base import Action, Change

log = logging.getLogger(__name__)

MANAGED_BY = "agentctl"
TAG_MANAGED = "managed-by"
TAG_POOL = "agentctl-pool"
WIF_AUDIENCE = "api://AzureADTokenExchange"


def marker(spec: PoolSpec) -> str:
    """The description marker that says an Azure DevOps object is agentctl's."""
    return f"Managed by agentctl (pool {spec.devops.pool.name})"


def owned(description: str | None, spec: PoolSpec) -> bool:
    return marker(spec) in (description or "")


def owner(description: str | None) -> str | None:
    """The agentctl pool whose marker ``description`` carries, if any."""
    found = re.search(r"Managed by agentctl \(pool (.+?)\)", description or "")
    return found.group(1) if found else None


def not_ours(what: str, description: str | None, hint: str) -> PreconditionFailed:
    """The error for an existing object this pool did not make (another pool may have)."""
    other = owner(description)
    if other:
        return PreconditionFailed(
            f"{what} belongs to agentctl's pool {quoted(other)}",
            hint="to rename a pool, destroy it with its old file first; else choose another name",
        )
    return PreconditionFailed(f"{what} exists but agentctl did not create it", hint=hint)


def tags(spec: PoolSpec) -> dict[str, str]:
    return {TAG_MANAGED: MANAGED_BY, TAG_POOL: spec.devops.pool.name}


def resource_group_scope(spec: PoolSpec) -> str:
    return f"/subscriptions/{spec.azure.subscription}/resourceGroups/{spec.azure.resourceGroup}"


def get_in(doc: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(doc, dict):
            doc = doc.get(key) if isinstance(key, str) else None
        elif isinstance(doc, list) and isinstance(key, int):
            doc = doc[key] if len(doc) > key else None
        else:
            return None
    return doc


def set_in(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc.setdefault(str(key), {})
    doc[str(path[-1])] = value


FIC_NAME_MAX = 120  # Microsoft.ManagedIdentity: 3 to 120 of [A-Za-z0-9_-], a letter or digit first


def federated_credential_name(spec: PoolSpec, connection: str) -> str:
    """The name of the federated credential behind ``connection`` of this pool's project: one per
    (organization, project, connection), the same on every run. Azure DevOps names are
    case-insensitive, so the digest is of their lower case; the readable part is only a hint."""
    key = f"{spec.org_name}/{spec.devops.project}/{connection}".lower()
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    readable = re.sub(r"[^a-z0-9_-]", "-", connection.lower())[: FIC_NAME_MAX - len("agentctl--") - 16]
    return f"agentctl-{readable}-{digest}"


def connection_subject(spec: PoolSpec, connection: str) -> str:
    """The subject Azure DevOps gives a workload identity connection of this pool's project."""
    return f"sc://{spec.org_name}/{spec.devops.project}/{connection}"


def credential_for(credentials: list[dict[str, Any]], issuer: str, subject: str) -> dict[str, Any] | None:
    """The federated credential that trusts this issuer and subject (ownership is never by name)."""
    if not issuer or not subject:
        return None
    for c in credentials:
        props = c.get("properties") or {}
        if props.get("issuer") == issuer and props.get("subject") == subject:
            return c
    return None


def wif_issuer_subject(endpoint: dict[str, Any]) -> tuple[str, str]:
    params = get_in(endpoint, "authorization", "parameters") or {}
    return str(params.get("workloadIdentityFederationIssuer") or ""), str(
        params.get("workloadIdentityFederationSubject") or ""
    )


def scope_of(assignment: dict[str, Any]) -> str:
    """A role assignment's scope, lower case, no trailing slash."""
    return str((assignment.get("properties") or {}).get("scope") or "").rstrip("/").lower()


def role_assignment_name(scope: str, principal_id: str, role_id: str) -> str:
    """Deterministic, so a rerun never makes a second assignment."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"agentctl|{scope.lower()}|{principal_id}|{role_id.lower()}"))


def permissions_body(
    authorize_all: bool, pipelines: list[int], observed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Pipeline permissions as the file says: ``pipelines`` authorized and, when the file names
    any, every other pipeline ``observed`` (the current permissions) authorizes taken back."""
    body: dict[str, Any] = {"allPipelines": {"authorized": authorize_all}}
    revoked = sorted(_authorized(observed or {}) - set(pipelines)) if pipelines else []
    entries = [{"id": pid, "authorized": True} for pid in pipelines]
    entries += [{"id": pid, "authorized": False} for pid in revoked]
    if entries:
        body["pipelines"] = entries
    return body


def _authorized(permissions: dict[str, Any]) -> set[int]:
    return {int(p["id"]) for p in permissions.get("pipelines") or [] if p.get("authorized")}


def permissions_drift(
    authorize_all: bool, pipelines: list[int], observed: dict[str, Any]
) -> list[tuple[str, Any, Any]]:
    changes: list[tuple[str, Any, Any]] = []
    old_all = bool(get_in(observed, "allPipelines", "authorized"))
    if old_all != authorize_all:
        changes.append(("allPipelines", old_all, authorize_all))
    # With no pipelines named, authorizations granted in Azure DevOps ("Permit") are left alone.
    have = _authorized(observed)
    if pipelines and have != set(pipelines):
        changes.append(("pipelines", sorted(have), sorted(pipelines)))
    return changes


def resource_group(spec: PoolSpec, found: dict[str, Any] | None) -> Action:
    """The pool's resource group: created (tagged) when missing, never deleted."""
    return Action("resourceGroup", "noop" if found else "create", "resource group", spec.azure.resourceGroup)


def queue_permissions(
    key: str, spec: PoolSpec, queue: dict[str, Any] | None, observed: dict[str, Any], needs: tuple[str, ...]
) -> list[Action]:
    """Pipeline permissions on the pool's queue as the file says (action type ``key``). A new queue
    starts with none: with nothing to grant there is no action."""
    pool = spec.devops.pool
    drift = permissions_drift(pool.authorizeAllPipelines, pool.pipelines, observed)
    op = ("update" if queue else "create") if drift else ("noop" if queue else "")
    if not op:
        return []
    found = [Change(f, o, n) for f, o, n in drift]
    return [Action(key, op, "pipeline permissions", f"queue {pool.name}", found, needs)]


def identity_parts(identity_id: str) -> tuple[str, str]:
    parts = parse_id("identity", identity_id)
    assert parts is not None  # validated by config, or made by pool_identity_id
    return parts["rg"], parts["name"]
