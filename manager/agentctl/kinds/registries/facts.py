"""The registries' facts: each registry, the agents' and push identities' roles at it, the
registry connections and their permissions, the private DNS zones, and what the pool left on
identities the file no longer names. Read-only."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agentctl.azure import Arm
from agentctl.config import PoolSpec, Registry, parse_id
from agentctl.dnscheck import Zone, zones_named
from agentctl.errors import NotFound
from agentctl.kinds.base import Clients, Facts
from agentctl.kinds.common import credential_for, get_in, identity_parts, owned, wif_issuer_subject
from agentctl.kinds.registries.desired import (
    NAME,
    ROLES,
    WIF_SCHEME,
    login_server,
    principal,
    role_guid,
    scope_of,
    where,
    zone_name,
)

log = logging.getLogger(__name__)


@dataclass
class RegistryFacts:
    registry: dict[str, Any] | None  # the ARM resource; None when it does not exist
    assignments: list[dict[str, Any]]  # of the agents' principal, at the registry
    connection: dict[str, Any] | None
    permissions: dict[str, Any]
    push_identity: dict[str, Any] | None = None  # pushIdentity, when the file names one
    push_credentials: list[dict[str, Any]] = field(default_factory=list)  # its federated credentials
    push_assignments: list[dict[str, Any]] = field(default_factory=list)  # its roles at the registry


@dataclass
class StalePush:
    """What a workload-identity registry connection of the pool left on an identity the file no
    longer names for it (pushIdentity changed or dropped, or the registry left the file)."""

    connection: str
    identity: str  # resource id
    credentials: list[dict[str, Any]]  # those trusting the connection
    assignments: list[dict[str, Any]]  # AcrPush with the pool's marker


@dataclass
class Observed:
    registries: dict[str, RegistryFacts] = field(default_factory=dict)  # by registry id, lower case
    zones: list[Zone] = field(default_factory=list)  # private DNS zones the registries need
    # Of the agents' principal, at, above and below the pool's and the registries' subscriptions.
    assignments: list[dict[str, Any]] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)  # the project's dockerregistry ones
    stale_push: list[StalePush] = field(default_factory=list)


def of(facts: Facts) -> Observed:
    """The registries' part of ``facts`` (empty before they are observed)."""
    found: Observed | None = facts.kinds.get(NAME)
    return found if found is not None else Observed()


def observe(spec: PoolSpec, clients: Clients, facts: Facts) -> Observed:
    arm, dev = clients.arm, clients.devops

    def one(reg: Registry) -> RegistryFacts:
        parts = parse_id("registry", reg.id)
        assert parts is not None  # validated by config
        reg_arm = (
            arm
            if parts["sub"].lower() == arm.subscription.lower()
            else Arm(arm.target, parts["sub"], arm.shared)
        )
        registry = reg_arm.get_registry(parts["rg"], parts["name"])
        conn = dev.endpoint_by_name(reg.connection)
        perms = dev.permissions("endpoint", conn["id"]) if conn else {}
        found = RegistryFacts(registry, [], conn, perms)
        if reg.pushIdentity:
            _push_identity(spec, reg, reg_arm, found)
        return found

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="observe-acr") as pool:
        # Also with no registry listed: what the pool made for registries it no longer names.
        mine = pool.submit(_identity_assignments, spec, arm, facts)
        doc = pool.submit(
            dev.call, "endpoint.list", {"project": dev.project["id"]}, {"type": "dockerregistry"}
        )
        found = list(pool.map(one, spec.registries))
    assignments = mine.result()
    for reg, f in zip(spec.registries, found, strict=True):  # the identity's listing has them all
        f.assignments = [a for a in assignments if scope_of(a) == reg.id.lower()] if f.registry else []
    out = Observed(
        {reg.id.lower(): f for reg, f in zip(spec.registries, found, strict=True)},
        assignments=assignments,
        connections=[
            c for c in dev.values(doc.result()) if str(c.get("type", "")).lower() == "dockerregistry"
        ],
    )
    out.stale_push = _stale_push(spec, arm, out)
    out.zones = zones_named(
        arm, {zone_name(f.registry) for f in found if f.registry and login_server(f.registry)}
    )
    return out


def _push_identity(spec: PoolSpec, reg: Registry, reg_arm: Arm, found: RegistryFacts) -> None:
    """The identity the connection signs in as: its federated credentials, its roles at the registry."""
    assert reg.pushIdentity is not None
    parts = parse_id("identity", reg.pushIdentity)
    assert parts is not None  # validated by config
    id_arm = (
        reg_arm if parts["sub"].lower() == reg_arm.subscription.lower() else Arm(reg_arm.target, parts["sub"])
    )
    found.push_identity = id_arm.get_identity(parts["rg"], parts["name"])
    if found.push_identity is None:
        field = where(spec, f"registries[{spec.registries.index(reg)}].pushIdentity")
        raise NotFound(
            f"{field}: identity {reg.pushIdentity} does not exist",
            hint="create it first (it is not agentctl's to make), or fix the id in the pool file",
        )
    found.push_credentials = id_arm.list_federated_credentials(parts["rg"], parts["name"])
    principal = str((found.push_identity.get("properties") or {}).get("principalId") or "")
    listed = reg_arm.list_role_assignments(reg.id, principal) if principal else []
    found.push_assignments = [a for a in listed if scope_of(a) == reg.id.lower()]


def _stale_push(spec: PoolSpec, arm: Arm, out: Observed) -> list[StalePush]:
    """For each of the pool's workload-identity registry connections whose identity is not the
    file's pushIdentity for it: that identity's credentials trusting it and its AcrPush grants."""
    wanted = {}
    for reg in spec.registries:
        f = out.registries.get(reg.id.lower())
        wanted[reg.connection.lower()] = principal(f.push_identity, "clientId").lower() if f else ""
    stale = []
    for c in out.connections:
        params = get_in(c, "authorization", "parameters") or {}
        client = str(params.get("serviceprincipalid") or "")
        if (
            get_in(c, "authorization", "scheme") != WIF_SCHEME
            or not client
            or not owned(c.get("description"), spec)
            or wanted.get(str(c.get("name", "")).lower()) == client.lower()
        ):
            continue
        identity = arm.identity_by_client_id(client)
        if identity is None:
            continue
        rg, name = identity_parts(str(identity["id"]))
        trust = wif_issuer_subject(c)
        credentials = [
            cred
            for cred in arm.list_federated_credentials(rg, name)
            if credential_for([cred], *trust) is not None
        ]
        scope = f"/subscriptions/{spec.azure.subscription}"
        assignments = [
            a
            for a in arm.list_role_assignments(scope, principal(identity))
            if role_guid(a) == ROLES["push"] and owned((a.get("properties") or {}).get("description"), spec)
        ]
        stale.append(StalePush(str(c["name"]), str(identity["id"]), credentials, assignments))
    return stale


def _identity_assignments(spec: PoolSpec, arm: Arm, facts: Facts) -> list[dict[str, Any]]:
    """Every assignment of the agents' identity in the pool's subscription (observed already) and
    in those of the listed registries: with a principalId filter, ARM also returns those below the
    scope."""
    if not facts.principal_id:
        return []
    subs = set()
    for reg in spec.registries:
        parts = parse_id("registry", reg.id)
        assert parts is not None  # validated by config
        subs.add(parts["sub"].lower())
    subs.discard(spec.azure.subscription.lower())
    others = [
        a
        for sub in sorted(subs)
        for a in arm.list_role_assignments(f"/subscriptions/{sub}", facts.principal_id)
    ]
    return [*facts.role_assignments, *others]
