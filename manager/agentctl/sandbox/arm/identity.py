"""Microsoft.ManagedIdentity: user-assigned identities (PUT, GET, list, DELETE) and their
federated identity credentials (PUT, GET, list, DELETE)."""

from __future__ import annotations

import re

from agentctl.sandbox.arm import common
from agentctl.sandbox.arm.validate import deserialize
from agentctl.sandbox.http import Response, arm_error
from agentctl.sandbox.registry import ApiVersions, Ctx, State, arm

VERSIONS = ApiVersions.of(
    "userAssignedIdentities",
    "2018-11-30",
    "2021-09-30-preview",
    "2022-01-31-preview",
    "2023-01-31",
    "2023-07-31-preview",
    "2024-11-30",
)
IDENTITIES = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
    "/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
)
CREDENTIALS = IDENTITIES + "/{resourceName}/federatedIdentityCredentials"
MAX_CREDENTIALS = 20
MODEL = {
    "Identity": {
        "id": "any",
        "name": "any",
        "type": "any",
        "systemData": "any",
        "location": "string",
        "tags": "{string}",
        "properties": "any",
    },
    "FederatedIdentityCredential": {
        "id": "any",
        "name": "any",
        "type": "any",
        "systemData": "any",
        "properties": "#FederatedIdentityCredentialProperties",
    },
    "FederatedIdentityCredentialProperties": {
        "issuer": "string",
        "subject": "string",
        "audiences": "[string]",
    },
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")
_IDENTITY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")


def identity(
    sub: str, rg: str, name: str, location: str, tenant: str, principal_id: str, client_id: str
) -> common.Resource:
    return {
        "id": common.provider_id(sub, rg, "Microsoft.ManagedIdentity/userAssignedIdentities", name),
        "name": name,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "location": location,
        "tags": {},
        "properties": {"tenantId": tenant, "principalId": principal_id, "clientId": client_id},
    }


def by_client_id(st: State, client_id: str) -> common.Resource | None:
    for r in common.resources(st).values():
        if (
            r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"
            and r["properties"]["clientId"] == client_id
        ):
            return r
    return None


def credentials_of(st: State, identity_id: str) -> list[common.Resource]:
    return common.children(st, identity_id + "/federatedIdentityCredentials")


arm("GET", IDENTITIES + "/{resourceName}", "arm.identities.get", VERSIONS)(common.show)
arm("GET", IDENTITIES, "arm.identities.list", VERSIONS)(common.listing)
arm(
    "GET",
    "/subscriptions/{subscriptionId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
    "arm.identities.listbysubscription",
    VERSIONS,
)(common.subscription_listing)
arm("GET", CREDENTIALS + "/{federatedIdentityCredentialResourceName}", "arm.fic.get", VERSIONS)(common.show)
arm("GET", CREDENTIALS, "arm.fic.list", VERSIONS)(common.listing)


def _bad(message: str) -> Exception:
    return arm_error(400, "BadRequest", message)


@arm("PUT", IDENTITIES + "/{resourceName}", "arm.identities.put", VERSIONS)
def put_identity(ctx: Ctx) -> Response:
    """Create or update (tags): the ids Azure gives a new identity stay for its life."""
    p = ctx.req.params
    common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"])
    name, body = p["resourceName"], ctx.req.body
    deserialize(body, "#Identity", MODEL, {})
    if not _IDENTITY_NAME.match(name):
        raise _bad(
            f"Resource name '{name}' is invalid. It must be 3 to 128 characters, start with a letter or "
            "digit, and contain only letters, digits, '-' and '_'."
        )
    if not body.get("location"):
        raise arm_error(400, "LocationRequired", "The location property is required for this definition.")
    rid = common.path_id(ctx)
    existing = common.get(ctx.st, rid)
    if existing is not None:
        existing["tags"] = body.get("tags") or {}
        return Response(200, common.put(ctx.st, existing))
    # A new identity (also one made again after a delete) gets new ids, as in Azure; they are
    # derived from a per-identity count so that one world always gives the same ids.
    counters: dict[str, int] = ctx.st.setdefault("counters", {})
    made_before = counters.get(rid.lower(), 0)
    counters[rid.lower()] = made_before + 1
    seed = f"{rid}/{made_before}"
    made = identity(
        p["subscriptionId"],
        p["resourceGroupName"],
        name,
        body["location"].replace(" ", "").lower(),
        ctx.meta["tenantId"],
        common.stable_guid(seed + "/principal"),
        common.stable_guid(seed + "/client"),
    )
    made["tags"] = body.get("tags") or {}
    return Response(201, common.put(ctx.st, made))


@arm("DELETE", IDENTITIES + "/{resourceName}", "arm.identities.delete", VERSIONS)
def delete_identity(ctx: Ctx) -> Response:
    """Its federated credentials go with it; role assignments of its principal stay (as in Azure)."""
    p = ctx.req.params
    common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"])
    found = common.get(ctx.st, common.path_id(ctx))
    if found is None:
        return Response(204)
    common.delete_tree(ctx.st, found["id"])
    return Response(200)


@arm("PUT", CREDENTIALS + "/{federatedIdentityCredentialResourceName}", "arm.fic.put", VERSIONS)
def put_credential(ctx: Ctx) -> Response:
    name = ctx.req.params["federatedIdentityCredentialResourceName"]
    owner = common.require(ctx, common.path_id(ctx).rsplit("/", 2)[0])
    body = ctx.req.body
    deserialize(body, "#FederatedIdentityCredential", MODEL, {}, code="BadRequest")
    if not _NAME.match(name):
        raise _bad(
            f"Federated identity credential name '{name}' is invalid. It must be 3 to 120 characters, "
            "start with "
            "a letter or digit, and contain only letters, digits, '-' and '_'."
        )
    props = body.get("properties") or {}
    for required in ("issuer", "subject", "audiences"):
        if not props.get(required):
            raise _bad(f"The '{required}' property of the federated identity credential is required.")
    if not str(props["issuer"]).startswith("https://"):
        raise _bad(f"Issuer '{props['issuer']}' is invalid: it must be an https URL.")
    if len(props["audiences"]) != 1:
        raise _bad("A federated identity credential must have exactly one audience.")
    rid = owner["id"] + "/federatedIdentityCredentials/" + name
    existing = common.get(ctx.st, rid)
    if existing is None and len(credentials_of(ctx.st, owner["id"])) >= MAX_CREDENTIALS:
        raise _bad(
            f"A user-assigned identity can have at most {MAX_CREDENTIALS} federated identity credentials."
        )
    stored = common.put(
        ctx.st,
        {
            "id": existing["id"] if existing else rid,
            "name": existing["name"] if existing else name,
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
            "properties": {
                "issuer": props["issuer"],
                "subject": props["subject"],
                "audiences": props["audiences"],
            },
        },
    )
    return Response(200 if existing else 201, stored)


@arm("DELETE", CREDENTIALS + "/{federatedIdentityCredentialResourceName}", "arm.fic.delete", VERSIONS)
def delete_credential(ctx: Ctx) -> Response:
    common.require(ctx, common.path_id(ctx).rsplit("/", 2)[0])
    found = common.get(ctx.st, common.path_id(ctx))
    if found is None:
        return Response(204)
    common.delete_tree(ctx.st, found["id"])
    return Response(200)
