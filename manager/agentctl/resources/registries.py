"""Private container registries for the pool's agents.

For each entry of ``registries:`` agentctl

- grants the scale set's user-assigned identity AcrPull or AcrPush on the registry (a role
  assignment with a deterministic name; any equivalent assignment at the registry counts as done);
- makes a Docker registry service connection of the Azure Container Registry kind that signs in
  with the agent's managed identity (scheme ``ManagedServiceIdentity``: no secret is stored; the
  Docker task exchanges the VM's identity token for a registry token on the agent itself);
- checks what usually breaks a private registry: a SKU without private endpoints, and a
  ``privatelink.azurecr.io`` zone that is not linked to the agents' virtual network or lacks the
  A record of the registry or of one of its regional data endpoints (``<registry>.<region>.data``).

The checks never stop a run. ``plan`` carries them as a no-op action per registry with
``data["warnings"]``; ``status`` lists them under ``registries.warnings``.

What the pool made for a registry or connection the file no longer names (an assignment of AcrPull
or AcrPush at a registry with the pool's marker, a ``dockerregistry`` connection with the pool's
marker) is deleted by ``plan`` and by ``plan_destroy``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agentctl import apply as applier
from agentctl import desired
from agentctl.apply import Context
from agentctl.azure import Arm
from agentctl.config import PoolSpec, Registry, parse_id
from agentctl.dnscheck import Zone, lookup, zones_named
from agentctl.errors import CloudError, NotFound, PreconditionFailed, quoted
from agentctl.observe import Clients, Facts
from agentctl.plan import CREATE, DELETE, NOOP, UPDATE, Action, Change

log = logging.getLogger(__name__)

NAME = "registries"
ROLES = {"pull": "7f951dda-4ed3-4680-a7ca-43fe172d538d", "push": "8311e382-0749-4cb8-b61a-304f252e45ec"}
ROLE_NAMES = {"pull": "AcrPull", "push": "AcrPush"}
ACCESS_BY_ROLE = {guid: access for access, guid in ROLES.items()}
PRIVATE_SKU = "Premium"
AUTH_SCHEME = "ManagedServiceIdentity"
WIF_SCHEME = "WorkloadIdentityFederation"
_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments/"


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


# --- pure helpers ------------------------------------------------------------------------


def role_definition_id(registry_id: str, access: str) -> str:
    parts = parse_id("registry", registry_id)
    assert parts is not None  # validated by config
    return f"/subscriptions/{parts['sub']}/providers/Microsoft.Authorization/roleDefinitions/{ROLES[access]}"


def registry_name(reg: Registry) -> str:
    parts = parse_id("registry", reg.id)
    assert parts is not None  # validated by config
    return parts["name"]


def vnet_id(spec: PoolSpec) -> str:
    """The agents' virtual network, from their subnet."""
    return spec.network.subnetId.rsplit("/subnets/", 1)[0]


def login_server(registry: dict[str, Any]) -> str:
    return str((registry.get("properties") or {}).get("loginServer") or "").lower()


def zone_name(registry: dict[str, Any]) -> str:
    """``privatelink.azurecr.io`` (or the sovereign cloud's suffix), from the login server."""
    return "privatelink." + login_server(registry).split(".", 1)[1]


def expected_records(registry: dict[str, Any]) -> list[str]:
    """A records the private endpoint needs: the registry and each regional data endpoint."""
    login = login_server(registry)
    label, suffix = login.split(".", 1)
    hosts = (registry.get("properties") or {}).get("dataEndpointHostNames") or [
        f"{label}.{registry.get('location', '')}.data.{suffix}"
    ]
    return [label] + [str(h).lower().removesuffix("." + suffix) for h in hosts]


def _scope(assignment: dict[str, Any]) -> str:
    rid = str(assignment.get("id", ""))
    end = rid.lower().rfind(_ASSIGNMENTS)
    return rid[:end] if end >= 0 else rid


def _scope_of(assignment: dict[str, Any]) -> str:
    return _scope(assignment).lower()


def _role_guid(assignment: dict[str, Any]) -> str:
    return str((assignment.get("properties") or {}).get("roleDefinitionId", "")).lower().rsplit("/", 1)[-1]


def connection_body(
    spec: PoolSpec,
    reg: Registry,
    registry: dict[str, Any],
    project: dict[str, Any],
    tenant_id: str,
    push_client_id: str = "",
) -> dict[str, Any]:
    """A Docker registry connection to an ACR: with ``pushIdentity``, workload identity federation
    as that identity (``push_client_id``); else the agent's managed identity."""
    parts = parse_id("registry", reg.id)
    assert parts is not None  # validated by config
    login = login_server(registry)
    auth: dict[str, Any] = {
        "scheme": AUTH_SCHEME,
        "parameters": {"tenantid": tenant_id, "loginServer": login},
    }
    if reg.pushIdentity:
        auth = {
            "scheme": WIF_SCHEME,
            "parameters": {
                "tenantid": tenant_id,
                "serviceprincipalid": push_client_id,
                "loginServer": login,
                "scope": reg.id,
            },
        }
    return {
        "name": reg.connection,
        "type": "dockerregistry",
        "url": f"https://{login}",
        "description": desired.marker(spec),
        "authorization": auth,
        "data": {
            "registrytype": "ACR",
            "registryId": reg.id,
            "subscriptionId": parts["sub"],
            "subscriptionName": parts["sub"],
        },
        "isShared": False,
        "owner": "library",
        "serviceEndpointProjectReferences": [
            {
                "projectReference": {"id": project["id"], "name": project["name"]},
                "name": reg.connection,
                "description": desired.marker(spec),
            }
        ],
    }


DRIFT_FIELDS: list[tuple[str, tuple[str, ...]]] = [
    ("type", ("type",)),
    ("url", ("url",)),
    ("authorization.scheme", ("authorization", "scheme")),
    ("authorization.loginServer", ("authorization", "parameters", "loginServer")),
    ("authorization.tenantid", ("authorization", "parameters", "tenantid")),
    ("authorization.serviceprincipalid", ("authorization", "parameters", "serviceprincipalid")),
    ("data.registrytype", ("data", "registrytype")),
    ("data.registryId", ("data", "registryId")),
]


def connection_drift(want: dict[str, Any], observed: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    changes = []
    for label, path in DRIFT_FIELDS:
        old, new = desired._get(observed, *path), desired._get(want, *path)
        if str(old or "").lower() != str(new or "").lower():
            changes.append((label, old, new))
    return changes


def check(registry: dict[str, Any], zones: list[Zone], vnet_id: str) -> dict[str, Any]:
    """Why the agents might not reach the registry privately: {zone, missingRecords, warnings}."""
    name = str(registry.get("name", ""))
    warnings: list[str] = []
    sku = str((registry.get("sku") or {}).get("name", ""))
    if sku != PRIVATE_SKU:
        warnings.append(
            f"registry {name} has the {sku or 'unknown'} SKU: private endpoints need {PRIVATE_SKU} "
            f"(az acr update -n {name} --sku {PRIVATE_SKU})"
        )
    zname = zone_name(registry)
    found_zone = lookup(zones, vnet_id, zname, expected_records(registry))
    if found_zone.zone is None:
        found = ", ".join(z.id for z in found_zone.unlinked) or "none in the subscription"
        warnings.append(
            f"no private DNS zone {zname} is linked to virtual network {vnet_id.rsplit('/', 1)[-1]} "
            f"(zones named so: {found}): link one to it so the agents resolve {login_server(registry)} "
            "to the registry's private endpoint"
        )
        return {"zone": None, "missingRecords": found_zone.missing, "warnings": warnings}
    zone, missing = found_zone.zone, found_zone.missing
    for record in missing:
        warnings.append(
            f"private DNS zone {zname} ({zone.id}) has no A record '{record}': add it with the private "
            f"endpoint's address for {record}.{zname.removeprefix('privatelink.')} (or attach the zone "
            "to the registry's private endpoint through a DNS zone group)"
        )
    return {"zone": zone.id, "missingRecords": missing, "warnings": warnings}


# --- observe -----------------------------------------------------------------------------


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
        f.assignments = [a for a in assignments if _scope_of(a) == reg.id.lower()] if f.registry else []
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
        where = _where(spec, f"registries[{spec.registries.index(reg)}].pushIdentity")
        raise NotFound(
            f"{where}: identity {reg.pushIdentity} does not exist",
            hint="create it first (it is not agentctl's to make), or fix the id in the pool file",
        )
    found.push_credentials = id_arm.list_federated_credentials(parts["rg"], parts["name"])
    principal = str((found.push_identity.get("properties") or {}).get("principalId") or "")
    listed = reg_arm.list_role_assignments(reg.id, principal) if principal else []
    found.push_assignments = [a for a in listed if _scope_of(a) == reg.id.lower()]


def _stale_push(spec: PoolSpec, arm: Arm, out: Observed) -> list[StalePush]:
    """For each of the pool's workload-identity registry connections whose identity is not the
    file's pushIdentity for it: that identity's credentials trusting it and its AcrPush grants."""
    wanted = {}
    for reg in spec.registries:
        f = out.registries.get(reg.id.lower())
        wanted[reg.connection.lower()] = _principal(f.push_identity, "clientId").lower() if f else ""
    stale = []
    for c in out.connections:
        params = desired._get(c, "authorization", "parameters") or {}
        client = str(params.get("serviceprincipalid") or "")
        if (
            desired._get(c, "authorization", "scheme") != WIF_SCHEME
            or not client
            or not desired.owned(c.get("description"), spec)
            or wanted.get(str(c.get("name", "")).lower()) == client.lower()
        ):
            continue
        identity = arm.identity_by_client_id(client)
        if identity is None:
            continue
        rg, name = desired.identity_parts(str(identity["id"]))
        trust = desired.wif_issuer_subject(c)
        credentials = [
            cred
            for cred in arm.list_federated_credentials(rg, name)
            if desired.credential_for([cred], *trust) is not None
        ]
        scope = f"/subscriptions/{spec.azure.subscription}"
        assignments = [
            a
            for a in arm.list_role_assignments(scope, _principal(identity))
            if _role_guid(a) == ROLES["push"]
            and desired.owned((a.get("properties") or {}).get("description"), spec)
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


# --- plan --------------------------------------------------------------------------------


def _where(spec: PoolSpec, path: str) -> str:
    """``pool.yaml:41: registries[0].id``: where a precondition's value comes from."""
    line = spec.line(path)
    return f"{spec.source}:{line}: {path}" if spec.source and line else path


def _facts(facts: Facts, reg: Registry) -> RegistryFacts:
    observed: Observed = facts.extra.get(NAME) or Observed()
    return observed.registries.get(reg.id.lower()) or RegistryFacts(None, [], None, {})


def plan(spec: PoolSpec, facts: Facts) -> list[Action]:
    actions: list[Action] = []
    observed: Observed = facts.extra.get(NAME) or Observed()
    for i, reg in enumerate(spec.registries):
        f = _facts(facts, reg)
        if f.registry is None:
            raise PreconditionFailed(
                f"{_where(spec, f'registries[{i}].id')}: container registry {reg.id} does not exist",
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
    here = [a for a in f.assignments if _scope_of(a) == scope.lower()]
    replaced = [
        a
        for a in here
        if _role_guid(a) in ACCESS_BY_ROLE
        and _role_guid(a) != want
        and desired.owned((a.get("properties") or {}).get("description"), spec)
    ]
    have = any(_role_guid(a) == want for a in here)
    key = f"registryRole:{name}"
    changes = [
        Change("role", ROLE_NAMES[ACCESS_BY_ROLE[_role_guid(a)]], ROLE_NAMES[reg.access]) for a in replaced
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
                "name": desired.role_assignment_name(scope, facts.principal_id, role_id),
            },
        )
    ]
    for a in replaced:
        actions.append(
            Action(
                f"registryRole:{name}/{a['name']}",
                DELETE,
                "role assignment",
                f"{ROLE_NAMES[ACCESS_BY_ROLE[_role_guid(a)]]} on {name}",
                needs=(key,),  # grant the new role before the old one goes: no gap in access
                data={"scope": scope, "name": a["name"]},
            )
        )
    return actions


def _principal(identity: dict[str, Any] | None, key: str = "principalId") -> str:
    return str(((identity or {}).get("properties") or {}).get(key) or "")


def _push_actions(spec: PoolSpec, reg: Registry, f: RegistryFacts) -> list[Action]:
    """AcrPush at the registry for the identity the connection signs in as (pushIdentity)."""
    if not reg.pushIdentity:
        return []
    name = registry_name(reg)
    principal = _principal(f.push_identity)
    role_id = role_definition_id(reg.id, "push")
    have = any(_role_guid(a) == ROLES["push"] for a in f.push_assignments)
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
                "principalId": principal,
                "name": desired.role_assignment_name(reg.id, principal, role_id),
            },
        )
    ]


def _credential_actions(spec: PoolSpec, reg: Registry, f: RegistryFacts) -> list[Action]:
    """The federated credential on pushIdentity that trusts the connection (issuer and subject)."""
    if not reg.pushIdentity:
        return []
    key = f"registryConnection:{reg.connection}"
    issuer, subject = desired.wif_issuer_subject(f.connection or {})
    trusted = desired.credential_for(f.push_credentials, issuer, subject)
    name = desired.federated_credential_name(spec, reg.connection)
    return [
        Action(
            f"registryCredential:{reg.connection}",
            NOOP if trusted else CREATE,
            "federated credential",
            str((trusted or {}).get("name") or name),
            needs=(key,),
            data={
                "identity": desired.identity_parts(reg.pushIdentity),
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
    push_client = _principal(f.push_identity, "clientId")
    body = connection_body(spec, reg, f.registry, facts.project, facts.tenant_id, push_client)
    conn = f.connection
    if conn is None:
        op, changes = CREATE, []
    elif not desired.owned(conn.get("description"), spec):
        raise PreconditionFailed(
            f"{_where(spec, f'registries[{index}].connection')}: service connection {quoted(reg.connection)} "
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
    drift = desired.permissions_drift(reg.authorizeAllPipelines, [], f.permissions)
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
        f = _facts(facts, reg)
        name = registry_name(reg)
        # the agents' grants on the registry, and the push identity's AcrPush
        agents = [("registryRole", a) for a in f.assignments if _scope_of(a) == reg.id.lower()]
        pushers = [("registryPushRole", a) for a in f.push_assignments if _role_guid(a) == ROLES["push"]]
        for kind, a in agents + pushers:
            if not desired.owned((a.get("properties") or {}).get("description"), spec):
                continue
            role = ROLE_NAMES.get(ACCESS_BY_ROLE.get(_role_guid(a), ""), "role")
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
        if conn is not None and desired.owned(conn.get("description"), spec):
            actions.append(_connection_delete(conn, needs=("pool",)))
            trusted = desired.credential_for(f.push_credentials, *desired.wif_issuer_subject(conn))
            if reg.pushIdentity and trusted is not None:
                actions.append(
                    Action(
                        f"registryCredential:{reg.connection}",
                        DELETE,
                        "federated credential",
                        str(trusted["name"]),
                        needs=(f"registryConnection:{conn['name']}",),
                        data={"identity": desired.identity_parts(reg.pushIdentity)},
                    )
                )
    observed: Observed = facts.extra.get(NAME) or Observed()
    return actions + _leftovers(spec, observed, needs=("pool",))


def _leftovers(spec: PoolSpec, observed: Observed, needs: tuple[str, ...]) -> list[Action]:
    """Deletes of what this pool made for registries and connections the file no longer names:
    AcrPull/AcrPush assignments at a registry, and dockerregistry connections, with its marker."""
    listed = {reg.id.lower() for reg in spec.registries}
    names = {reg.connection.lower() for reg in spec.registries}
    actions: list[Action] = []
    for a in observed.assignments:
        scope = _scope(a)
        parts = parse_id("registry", scope)
        if (
            parts is None
            or scope.lower() in listed
            or _role_guid(a) not in ACCESS_BY_ROLE
            or not desired.owned((a.get("properties") or {}).get("description"), spec)
        ):
            continue
        actions.append(
            Action(
                f"registryRole:{parts['name']}/{a['name']}",
                DELETE,
                "role assignment",
                f"{ROLE_NAMES[ACCESS_BY_ROLE[_role_guid(a)]]} on {parts['name']}",
                needs=needs,
                data={"scope": scope, "name": a["name"]},
            )
        )
    for stale in observed.stale_push:
        after = (*needs, f"registryConnection:{stale.connection}")
        identity = desired.identity_parts(stale.identity)
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
            where = parse_id("registry", _scope(a))
            actions.append(
                Action(
                    f"registryPushRole:{(where or {}).get('name', '')}/{a['name']}",
                    DELETE,
                    "role assignment",
                    f"AcrPush on {(where or {}).get('name', _scope(a))} for {identity[1]}",
                    needs=after,
                    data={"scope": _scope(a), "name": a["name"]},
                )
            )
    for c in observed.connections:
        if (
            str(c.get("type", "")).lower() == "dockerregistry"
            and str(c.get("name", "")).lower() not in names
            and desired.owned(c.get("description"), spec)
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


# --- apply -------------------------------------------------------------------------------


def _connection_create(ctx: Context, a: Action) -> None:
    ctx.outputs[a.key] = ctx.clients.devops.call("endpoint.create", body=a.data["body"])


def _connection_update(ctx: Context, a: Action) -> None:
    body = {**a.data["body"], "id": a.data["id"]}
    ctx.outputs[a.key] = ctx.clients.devops.call("endpoint.update", {"endpointId": a.data["id"]}, body=body)


def _credential_put(ctx: Context, a: Action) -> None:
    issuer, subject = desired.wif_issuer_subject(ctx.outputs.get(a.data["connection"]) or a.data["endpoint"])
    if not issuer or not subject:
        raise CloudError(f"connection {a.data['connection']} did not return its workload identity subject")
    rg, name = a.data["identity"]
    ctx.clients.arm.put_federated_credential(rg, name, a.name, issuer, subject)


def _permissions(ctx: Context, a: Action) -> None:
    conn_id = a.data["id"] or (ctx.outputs.get(a.data["connection"]) or {}).get("id")
    if not conn_id:
        raise CloudError(f"the id of {a.name} is unknown (was its step skipped?)")
    ctx.clients.devops.set_permissions(
        "endpoint", conn_id, desired.permissions_body(a.data["authorizeAll"], [])
    )


HANDLERS: dict[tuple[str, str], Callable[[Context, Action], None]] = {
    # Same data as the pool's own role assignment and connection: {scope, name, roleId} and {id}.
    ("registryRole", CREATE): applier.HANDLERS[("roleAssignment", CREATE)],
    ("registryRole", DELETE): applier.HANDLERS[("roleAssignment", DELETE)],
    ("registryPushRole", CREATE): applier.HANDLERS[("roleAssignment", CREATE)],
    ("registryPushRole", DELETE): applier.HANDLERS[("roleAssignment", DELETE)],
    ("registryCredential", CREATE): _credential_put,
    ("registryCredential", DELETE): applier.HANDLERS[("federatedCredential", DELETE)],
    ("registryConnection", CREATE): _connection_create,
    ("registryConnection", UPDATE): _connection_update,
    ("registryConnection", DELETE): applier.HANDLERS[("azureConnection", DELETE)],
    ("registryPermissions", CREATE): _permissions,
    ("registryPermissions", UPDATE): _permissions,
}


# --- status ------------------------------------------------------------------------------


def status(spec: PoolSpec, clients: Clients, facts: Facts) -> dict[str, Any]:
    observed: Observed = facts.extra.get(NAME) or Observed()
    items: list[dict[str, Any]] = []
    for reg in spec.registries:
        f = _facts(facts, reg)
        here = [a for a in f.assignments if _scope_of(a) == reg.id.lower()]
        missing = {
            "zone": None,
            "missingRecords": [],
            "warnings": [f"container registry {reg.id} does not exist"],
        }
        result = check(f.registry, observed.zones, vnet_id(spec)) if f.registry else missing
        items.append(
            {
                "name": registry_name(reg),
                "id": reg.id,
                "exists": f.registry is not None,
                "sku": desired._get(f.registry, "sku", "name"),
                "loginServer": login_server(f.registry) if f.registry else None,
                "access": reg.access,
                "role": ROLE_NAMES[reg.access],
                "roleAssigned": any(_role_guid(a) == ROLES[reg.access] for a in here),
                "connection": {
                    "name": reg.connection,
                    "exists": f.connection is not None,
                    "scheme": desired._get(f.connection, "authorization", "scheme"),
                },
                "dnsZone": result["zone"],
                "missingRecords": result["missingRecords"],
                "warnings": result["warnings"],
            }
        )
    return {"items": items, "warnings": [w for item in items for w in item["warnings"]]}
