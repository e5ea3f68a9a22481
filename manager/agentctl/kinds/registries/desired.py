"""Registry helpers, the registry connection's body and drift, and the private-DNS check: pure functions."""

from __future__ import annotations

from typing import Any

from agentctl.config import PoolSpec, Registry, parse_id
from agentctl.dnscheck import Zone, lookup
from agentctl.kinds.common import get_in, marker

NAME = "registries"
ROLES = {"pull": "7f951dda-4ed3-4680-a7ca-43fe172d538d", "push": "8311e382-0749-4cb8-b61a-304f252e45ec"}
ROLE_NAMES = {"pull": "AcrPull", "push": "AcrPush"}
ACCESS_BY_ROLE = {guid: access for access, guid in ROLES.items()}
PRIVATE_SKU = "Premium"
AUTH_SCHEME = "ManagedServiceIdentity"
WIF_SCHEME = "WorkloadIdentityFederation"
_ASSIGNMENTS = "/providers/microsoft.authorization/roleassignments/"


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


def scope(assignment: dict[str, Any]) -> str:
    rid = str(assignment.get("id", ""))
    end = rid.lower().rfind(_ASSIGNMENTS)
    return rid[:end] if end >= 0 else rid


def scope_of(assignment: dict[str, Any]) -> str:
    return scope(assignment).lower()


def role_guid(assignment: dict[str, Any]) -> str:
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
        "description": marker(spec),
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
                "description": marker(spec),
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
        old, new = get_in(observed, *path), get_in(want, *path)
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


def where(spec: PoolSpec, path: str) -> str:
    """``pool.yaml:41: registries[0].id``: where a precondition's value comes from."""
    line = spec.line(path)
    return f"{spec.source}:{line}: {path}" if spec.source and line else path


def principal(identity: dict[str, Any] | None, key: str = "principalId") -> str:
    return str(((identity or {}).get("properties") or {}).get(key) or "")
