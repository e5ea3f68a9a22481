"""Azure DevOps service endpoints (service connections): create, get, list, update, delete.

Secret parameters (kubeconfig, password, keys, tokens) are never stored: the service answers
them as null, and the sandbox does too. An AzureRM connection with workload identity
federation answers its issuer (``https://vstoken.dev.azure.com/<organization id>``) and
subject (``sc://<organization>/<project>/<name>``; renaming the connection changes it, as it
does in Azure DevOps). A missing endpoint reads as a 200 with a null body, as the service does.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from agentctl.sandbox.devops import common
from agentctl.sandbox.http import Response, devops_error
from agentctl.sandbox.registry import Ctx, Location, State, devops, location

ORG_ENDPOINTS = location(
    Location(
        "14e48fdc-2c8b-41ce-a0c3-e26f6cc55bd0",
        "serviceendpoint",
        "endpoints",
        "_apis/{area}/{resource}/{endpointId}",
        4,
        5.0,
        7.2,
        "7.1",  # released in 7.1 (the 7.1 spec marks it not preview)
    )
)
PROJECT_ENDPOINTS = location(
    Location(
        "e85f1c62-adfc-4b74-b618-11a150fb195e",
        "serviceendpoint",
        "endpoints",
        "{project}/_apis/{area}/{resource}/{endpointId}",
        4,
        5.0,
        7.2,
        "7.1",  # released in 7.1 (the 7.1 spec marks it not preview)
    )
)
NAMESPACE = "Microsoft.VisualStudio.Services.ServiceEndpoints.WebApi"
SECRET_PARAMETERS = {
    "kubeconfig",
    "password",
    "serviceprincipalkey",
    "apitoken",
    "accesstoken",
    "token",
    "certificate",
    "serviceprincipalcertificate",
    "serviceaccountcertificate",
    "clientsecret",
}
SCHEMES = {
    "azurerm": ("ServicePrincipal", "ManagedServiceIdentity", "WorkloadIdentityFederation", "PublishProfile"),
    "kubernetes": ("Kubernetes", "Token", "None"),
    "dockerregistry": (
        "UsernamePassword",
        "ServicePrincipal",
        "ManagedServiceIdentity",
        "WorkloadIdentityFederation",
    ),
    "generic": ("UsernamePassword", "None"),
}
REQUIRED_PARAMETERS = {
    ("azurerm", "workloadidentityfederation"): ("tenantid",),
    ("azurerm", "serviceprincipal"): ("tenantid", "serviceprincipalid", "serviceprincipalkey"),
    ("kubernetes", "kubernetes"): ("kubeconfig",),
    ("dockerregistry", "usernamepassword"): ("registry", "username", "password"),
}


def endpoints(st: State) -> dict[str, common.Item]:
    return common.section(st, "endpoints")


def _bad(message: str, type_key: str = "ArgumentException") -> Exception:
    return devops_error(400, type_key, message, namespace="System")


def _text_map(value: Any, field: str) -> dict[str, Any]:
    """A string dictionary as the service reads it: scalars become their text."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(f"'{field}' must be an object of strings.")
    out: dict[str, Any] = {}
    for k, v in value.items():
        if isinstance(v, dict | list):
            raise _bad(f"'{field}.{k}' must be a string.")
        out[k] = ("True" if v else "False") if isinstance(v, bool) else (None if v is None else str(v))
    return out


def _subject(ctx: Ctx, ep: common.Item) -> str:
    first = ep["serviceEndpointProjectReferences"][0]["projectReference"]["name"]
    return f"sc://{ctx.meta['organization']}/{first}/{ep['name']}"


def public(ctx: Ctx, ep: common.Item) -> common.Item:
    """The endpoint as the service returns it: secrets null, federation issuer and subject filled."""
    out = copy.deepcopy(ep)
    auth = out["authorization"]
    if ep["type"].lower() in ("azurerm", "dockerregistry") and auth["scheme"] == "WorkloadIdentityFederation":
        auth["parameters"]["workloadIdentityFederationIssuer"] = (
            f"https://vstoken.dev.azure.com/{ctx.meta['organizationId']}"
        )
        auth["parameters"]["workloadIdentityFederationSubject"] = _subject(ctx, ep)
    return out


def _references(ctx: Ctx, refs: Any) -> list[common.Item]:
    if not refs:
        raise devops_error(
            400,
            "ArgumentNullException",
            "Value cannot be null.\r\nParameter name: endpointProjectReferences",
            namespace="System",
        )
    out = []
    for ref in refs:
        proj = common.project(ctx, ((ref or {}).get("projectReference") or {}).get("id") or "")
        out.append(
            {
                "projectReference": common.project_ref(proj),
                "name": ref.get("name") or "",
                "description": ref.get("description") or "",
            }
        )
    return out


def _build(ctx: Ctx, doc: common.Item, existing: common.Item | None) -> common.Item:
    """The endpoint to store from a create or update body, checked as the service checks it."""
    name, kind = doc.get("name"), (doc.get("type") or "")
    if not name:
        raise devops_error(
            400,
            "ArgumentNullException",
            "Value cannot be null.\r\nParameter name: endpoint.Name",
            namespace="System",
        )
    if kind.lower() not in SCHEMES:
        raise _bad(f"Service endpoint type '{kind}' is not supported. Known types: {', '.join(SCHEMES)}.")
    auth = doc.get("authorization") or {}
    scheme = auth.get("scheme") or ""
    if scheme.lower() not in (s.lower() for s in SCHEMES[kind.lower()]):
        raise _bad(
            f"The authorization scheme '{scheme}' is not supported for service endpoint type '{kind}'."
        )
    params = _text_map(auth.get("parameters"), "authorization.parameters")
    data = _text_map(doc.get("data"), "data")
    automatic = data.get("creationMode", "").lower() == "automatic"
    for required in REQUIRED_PARAMETERS.get((kind.lower(), scheme.lower()), ()):
        keep = existing is not None and required in SECRET_PARAMETERS
        if not params.get(required) and not keep:
            raise _bad(f"The authorization parameter '{required}' is required for scheme '{scheme}'.")
    if (
        kind.lower() == "azurerm"
        and scheme == "WorkloadIdentityFederation"
        and not params.get("serviceprincipalid")
    ):
        if not automatic:
            raise _bad(
                "The authorization parameter 'serviceprincipalid' is required for a manual connection."
            )
        params["serviceprincipalid"] = _automatic_principal(ctx, name)
    if kind.lower() == "kubernetes" and not doc.get("url"):
        raise _bad("The 'url' of a kubernetes service endpoint is required.")
    refs = _references(ctx, doc.get("serviceEndpointProjectReferences"))
    for ref in refs:
        for other in endpoints(ctx.st).values():
            same_project = any(
                r["projectReference"]["id"] == ref["projectReference"]["id"]
                for r in other["serviceEndpointProjectReferences"]
            )
            if (
                other["name"].lower() == name.lower()
                and same_project
                and (existing is None or other["id"] != existing["id"])
            ):
                raise devops_error(
                    409,
                    "DuplicateServiceConnectionException",
                    f"A service connection with name {name} already exists. Choose a different name.",
                    namespace=NAMESPACE,
                )
    stored_params = {k: (None if k.lower() in SECRET_PARAMETERS else v) for k, v in params.items()}
    return {
        "id": existing["id"] if existing else str(uuid.uuid4()),
        "name": name,
        "type": kind,
        "url": doc.get("url") or ("https://management.azure.com/" if kind.lower() == "azurerm" else ""),
        "description": doc.get("description") or "",
        "authorization": {"scheme": scheme, "parameters": stored_params},
        "data": data,
        "isShared": False,
        "isReady": True,
        "owner": doc.get("owner") or "Library",
        "createdBy": existing["createdBy"] if existing else common.caller(ctx),
        "operationStatus": {"state": "Ready", "statusMessage": ""},
        "serviceEndpointProjectReferences": refs,
    }


def _automatic_principal(ctx: Ctx, name: str) -> str:
    """The service principal an automatic connection would get (made up, stable)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"agentctl-sandbox:{ctx.meta['organizationId']}:{name}"))


@devops(ORG_ENDPOINTS, "POST", "devops.endpoints.create", key="!endpointId")
def create_endpoint(ctx: Ctx) -> Response:
    ep = _build(ctx, common.body(ctx), None)
    endpoints(ctx.st)[ep["id"]] = ep
    return Response(200, public(ctx, ep))


@devops(ORG_ENDPOINTS, "PUT", "devops.endpoints.update", key="endpointId")
def update_endpoint(ctx: Ctx) -> Response:
    existing = endpoints(ctx.st).get(ctx.req.params["endpointId"].lower())
    if existing is None:
        raise devops_error(
            404,
            "ServiceEndpointNotFoundException",
            f"Service connection with id {ctx.req.params['endpointId']} could not be found.",
            namespace=NAMESPACE,
        )
    ep = _build(ctx, common.body(ctx), existing)
    endpoints(ctx.st)[ep["id"]] = ep
    return Response(200, public(ctx, ep))


@devops(ORG_ENDPOINTS, "DELETE", "devops.endpoints.delete", key="endpointId")
def delete_endpoint(ctx: Ctx) -> Response:
    ids = [p.strip().lower() for p in ctx.req.arg("projectIds").split(",") if p.strip()]
    if not ids:
        raise devops_error(
            400,
            "ArgumentNullException",
            "Value cannot be null.\r\nParameter name: projectIds",
            namespace="System",
        )
    ep = endpoints(ctx.st).get(ctx.req.params["endpointId"].lower())
    if ep is None:
        return Response(204)
    projects = {common.project(ctx, p)["id"] for p in ids}
    ep["serviceEndpointProjectReferences"] = [
        r for r in ep["serviceEndpointProjectReferences"] if r["projectReference"]["id"] not in projects
    ]
    if not ep["serviceEndpointProjectReferences"]:
        del endpoints(ctx.st)[ep["id"]]
        common.section(ctx.st, "permissions").pop(f"endpoint/{ep['id']}", None)
    return Response(204)


def _in_project(ep: common.Item, project_id: str) -> bool:
    return any(r["projectReference"]["id"] == project_id for r in ep["serviceEndpointProjectReferences"])


@devops(PROJECT_ENDPOINTS, "GET", "devops.endpoints.get", key="endpointId")
def get_endpoint(ctx: Ctx) -> Response:
    proj = common.project(ctx)
    ep = endpoints(ctx.st).get(ctx.req.params["endpointId"].lower())
    if ep is None or not _in_project(ep, proj["id"]):
        # what the service answers for an unknown id: 200 and a JSON null
        return Response(200, headers={"Content-Type": "application/json; charset=utf-8"}, text="null")
    return Response(200, public(ctx, ep))


@devops(PROJECT_ENDPOINTS, "GET", "devops.endpoints.list", key="!endpointId")
def list_endpoints(ctx: Ctx) -> Response:
    proj = common.project(ctx)

    def wanted(param: str) -> set[str]:
        return {v.strip().lower() for v in ctx.req.arg(param).split(",") if v.strip()}

    names, ids, schemes, kind = (
        wanted("endpointNames"),
        wanted("endpointIds"),
        wanted("authSchemes"),
        ctx.req.arg("type").lower(),
    )
    out = []
    for ep in endpoints(ctx.st).values():
        if not _in_project(ep, proj["id"]):
            continue
        if (names and ep["name"].lower() not in names) or (ids and ep["id"] not in ids):
            continue
        if (kind and ep["type"].lower() != kind) or (
            schemes and ep["authorization"]["scheme"].lower() not in schemes
        ):
            continue
        out.append(public(ctx, ep))
    return Response(200, common.wrap(sorted(out, key=lambda e: e["name"].lower())))
