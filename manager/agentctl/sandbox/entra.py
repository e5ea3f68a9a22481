"""Microsoft Entra ID as azure-identity and MSAL use it: the tenant's OpenID configuration, instance
discovery, and the v2 token endpoint with the client credentials grant (a client secret, or a
client assertion: a federated token as Azure Pipelines and workload identity give).

The tenant has one application, the sandbox's client: its id is derived from the tenant, its
secret is in ``credentials.json``, and it trusts one federated identity: issuer
``https://vstoken.dev.azure.com/<organization id>`` (Azure DevOps' workload identity issuer, which
the sandbox plays), subject ``FEDERATED_SUBJECT`` and audience ``api://AzureADTokenExchange``.
Tokens are v1 access tokens for one resource: ARM (the sandbox's own endpoint, or the public
cloud's audiences) or Azure DevOps (``499b84ac-1321-427f-aa17-267ca6975798``).
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from agentctl.sandbox import auth
from agentctl.sandbox.arm.common import stable_guid
from agentctl.sandbox.http import Request, Response

DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"
ARM_AUDIENCES = ("https://management.azure.com/", "https://management.core.windows.net/")
GRAPH = "https://graph.microsoft.com"  # a resource Entra knows that neither API accepts
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
FEDERATED_SUBJECT = "sc://sandbox/agentctl/agentctl"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

OPENID = "entra.openid"
DISCOVERY = "entra.discovery"
TOKEN = "entra.token"


def operation(method: str, path: str) -> str | None:
    """The Entra operation a request is for, or None when it is not for Entra."""
    parts = path.strip("/").split("/")
    if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
        return OPENID
    if [p.lower() for p in parts] == ["common", "discovery", "instance"]:
        return DISCOVERY
    if [p.lower() for p in parts[1:]] == ["oauth2", "v2.0", "token"]:
        return TOKEN
    return None


def client_id(tenant: str) -> str:
    return stable_guid(f"entra/{tenant}/application")


def object_id(tenant: str) -> str:
    """The object id of the client's service principal (the ``oid`` of its tokens)."""
    return stable_guid(f"entra/{tenant}/service-principal")


def federated_issuer(organization_id: str) -> str:
    return f"https://vstoken.dev.azure.com/{organization_id}"


def federated_token(
    key: str, organization_id: str, lifetime: float = 600, subject: str = FEDERATED_SUBJECT, now: float = 0
) -> str:
    """A federated token as an Azure Pipelines job gets it (signed with the directory's key)."""
    now = now or time.time()
    return auth.sign(
        key,
        {
            "iss": federated_issuer(organization_id),
            "sub": subject,
            "aud": FEDERATION_AUDIENCE,
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + lifetime),
        },
    )


def arm_audiences(base: str) -> set[str]:
    """The audiences the sandbox's ARM accepts, compared without a trailing slash."""
    return {a.rstrip("/") for a in (*ARM_AUDIENCES, base)}


def _error(status: int, error: str, code: int, description: str) -> Response:
    now = time.time()
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(now))
    return Response(
        status,
        {
            "error": error,
            "error_description": (
                f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} "
                f"Timestamp: {stamp}"
            ),
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        },
    )


def _unknown_tenant(tenant: str) -> Response:
    return _error(
        400,
        "invalid_tenant",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
        "into the correct cloud.",
    )


def answer(
    op: str, req: Request, base: str, meta: dict[str, Any], key: str, secret: str, lifetime: float
) -> Response:
    """The answer of the Entra endpoint ``op`` (see ``operation``)."""
    tenant = meta["tenantId"]
    authority = base.rstrip("/")
    if op == DISCOVERY:
        endpoint = req.arg("authorization_endpoint")
        path_tenant = urlsplit(endpoint).path.strip("/").split("/")[0] if endpoint else "common"
        host = urlsplit(base).netloc
        return Response(
            200,
            {
                "tenant_discovery_endpoint": (
                    f"{authority}/{path_tenant}/v2.0/.well-known/openid-configuration"
                ),
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            },
        )
    asked = req.path.strip("/").split("/")[0]
    if asked.lower() not in (tenant.lower(), "organizations", "common"):
        return _unknown_tenant(asked)
    if op == OPENID:
        v2 = f"{authority}/{tenant}"
        return Response(
            200,
            {
                "token_endpoint": f"{v2}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{authority}/{tenant}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{authority}/{tenant}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
                "authorization_endpoint": f"{v2}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{v2}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{v2}/oauth2/v2.0/logout",
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "ver"],
                "kerberos_endpoint": f"{authority}/{tenant}/kerberos",
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            },
        )
    return _token(req, base, meta, key, secret, lifetime)


def _form(req: Request) -> dict[str, str]:
    if "form-urlencoded" not in req.headers.get("content-type", ""):
        return {}
    try:
        return dict(parse_qsl(req.raw.decode(), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}


def _check_assertion(assertion: str, key: str, organization_id: str) -> Response | None:
    verdict, claims = auth.check(key, assertion, time.time())
    if verdict == "invalid":
        return _error(401, "invalid_client", 700027, "Client assertion failed signature validation.")
    if verdict == "expired":
        return _error(
            400,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range. Current time: "
            f"{time.strftime('%Y-%m-%dT%H:%M:%S.0000000Z', time.gmtime())}, assertion valid until: "
            f"{time.strftime('%Y-%m-%dT%H:%M:%S.0000000Z', time.gmtime(claims.get('exp', 0)))}.",
        )
    issuer = federated_issuer(organization_id)
    if claims.get("iss") != issuer:
        return _error(
            400,
            "invalid_request",
            700211,
            "No matching federated identity record found for presented assertion issuer "
            f"'{claims.get('iss')}'.",
        )
    if claims.get("sub") != FEDERATED_SUBJECT:
        return _error(
            400,
            "invalid_request",
            700213,
            "No matching federated identity record found for presented assertion subject "
            f"'{claims.get('sub')}'.",
        )
    audience = claims.get("aud")
    if (audience if isinstance(audience, list) else [audience]) != [FEDERATION_AUDIENCE]:
        return _error(
            400,
            "invalid_request",
            700212,
            f"No matching federated identity record found for presented assertion audience '{audience}'.",
        )
    return None


def _token(req: Request, base: str, meta: dict[str, Any], key: str, secret: str, lifetime: float) -> Response:
    tenant = meta["tenantId"]
    form = _form(req)
    if form.get("grant_type") != "client_credentials":
        return _error(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{form.get('grant_type', '')}'.",
        )
    app = client_id(tenant)
    if form.get("client_id", "").lower() != app:
        return _error(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{form.get('client_id', '')}' was not found in the directory "
            f"'{tenant}'. This can happen if the application has not been installed by the administrator of "
            "the tenant or consented to by any user in the tenant. You may have sent your authentication "
            "request to the wrong tenant.",
        )
    if "client_assertion" in form:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return _error(
                400,
                "invalid_request",
                50027,
                f"JWT token is invalid or malformed: client_assertion_type is not '{ASSERTION_TYPE}'.",
            )
        refused = _check_assertion(form["client_assertion"], key, meta.get("organizationId", ""))
        if refused is not None:
            return refused
    elif "client_secret" in form:
        if form["client_secret"] != secret:
            return _error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{app}'.",
            )
    else:
        return _error(
            400,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    scopes = form.get("scope", "").split()
    resources = {s[: -len("/.default")] for s in scopes if s.endswith("/.default")}
    if len(scopes) != 1 or len(resources) != 1:
        return _error(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {form.get('scope', '')} is not valid. Client credential flows "
            "must have a scope value with /.default suffixed to the resource identifier (application ID "
            "URI).",
        )
    [resource] = resources
    if resource.rstrip("/") not in {*arm_audiences(base), GRAPH} and resource != DEVOPS_RESOURCE:
        return _error(
            400,
            "invalid_resource",
            500011,
            f"The resource principal named {resource} was not found in the tenant named {tenant}. This can "
            "happen if the application has not been installed by the administrator of the tenant or "
            "consented to by any user in the tenant. You might have sent your authentication request to the "
            "wrong tenant.",
        )
    audience = resource if resource == DEVOPS_RESOURCE else resource.rstrip("/") + "/"
    token, _ = auth.mint(key, tenant, lifetime, time.time(), audience, app, object_id(tenant))
    seconds = int(lifetime)
    return Response(
        200,
        {"token_type": "Bearer", "expires_in": seconds, "ext_expires_in": seconds, "access_token": token},
    )
