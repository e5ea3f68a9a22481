"""The HTTPS server: TLS, routing, authentication, api-versions, faults, transactions and the
access log around the service handlers.

Each request: route it (ARM, Azure DevOps or the token endpoint); wait any injected latency;
check the bearer token (401 as each service answers it) and the api-version (ARM: the
``api-version`` query parameter is required; Azure DevOps: in the ``Accept`` header or the
query, required for writes, negotiated against the resource location); inject a fault if one
fires; run the clock-driven tickers and the handler in one state transaction; add the
service's headers; log the exchange.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import re
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from agentctl.sandbox import accesslog, auth, endpoints, entra, prices, registry, seed, tls, world

# The service modules register their routes and tickers on import.
from agentctl.sandbox.arm import (  # noqa: F401
    acr,
    aks,
    authorization,
    compute,
    gallery,
    identity,
    netsec,
    network,
    preflight,
    resources,
    runcommand,
)
from agentctl.sandbox.arm import managedpools as managed_pools  # noqa: F401
from agentctl.sandbox.devops import core, environments, permissions, pools, security  # noqa: F401
from agentctl.sandbox.devops import endpoints as devops_endpoints  # noqa: F401
from agentctl.sandbox.faults import REQUEST_KINDS, FaultPlan, Timing, as_plan, parse, parse_timing
from agentctl.sandbox.files import ensure_dir, locked
from agentctl.sandbox.http import Request, Response, ServiceError, arm_error, devops_error, iso
from agentctl.sandbox.lro import complete_due  # noqa: F401  (the LRO status routes and ticker)
from agentctl.sandbox.registry import Ctx, Env, Route, State
from agentctl.sandbox.store import RESET_HINT, StateError, Store

log = logging.getLogger(__name__)

FAULTS_ENV = "AGENTCTL_SANDBOX_FAULTS"
TIMING_ENV = "AGENTCTL_SANDBOX_TIMING"
WEBAPI = "Microsoft.VisualStudio.Services.WebApi"
DROP = Response(0)  # the answer that is none: close the connection
PUBLIC = {"entra": None, "prices": "prices"}  # services answered without a token (and their operation)
MAX_BODY = 4 * 1024 * 1024  # ARM's request size limit (4 MB)
_VERSION = re.compile(r"^(\d+\.\d+)(-preview(?:\.(\d+))?)?$")


class Sandbox(endpoints.Endpoints):
    """A running sandbox. ``exchanges`` keeps every request and response (not redacted) when it
    was started with ``record`` (tests and benchmarks read them; a long ``serve`` keeps none)."""

    def __init__(self, ep: endpoints.Endpoints, server: _Server, thread: threading.Thread) -> None:
        super().__init__(**ep.__dict__)
        self.exchanges: list[dict[str, Any]] = server.app.exchanges
        self._server = server
        self._thread = thread

    def configure(
        self, faults: FaultPlan | str | list[Any] | None = None, timing: Timing | None = None
    ) -> None:
        """Replace the fault plan and / or the timing while running."""
        if faults is not None:
            self._server.env.faults = as_plan(faults)
        if timing is not None:
            self._server.env.timing = timing

    def stop(self) -> None:
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.flush()

    def flush(self) -> None:
        """Write the state file now (reads leave it up to a quarter second behind)."""
        self._server.app.store.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, port: int, context: ssl.SSLContext, app: _App) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.context = context
        self.app = app
        self.env = app.env
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK stalls
        request.settimeout(self.env.timing.handshake_timeout)  # a client that never finishes its handshake
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            log.debug("TLS handshake with %s failed: %s", client_address, e)
            return
        with self._lock:
            self._open.add(conn)
        try:
            _Handler(conn, client_address, self)
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()

    def close_connections(self) -> None:
        with self._lock:
            for conn in list(self._open):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.env.timing.keepalive_timeout)  # idle, or stalled mid-request

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        query: dict[str, str] = {}
        for k, v in parse_qsl(url.query, keep_blank_values=True):
            query.setdefault(k, v)
        headers = {k.lower(): v for k, v in self.headers.items()}
        # an encoded "/" stays inside its segment
        req = Request(self.command, unquote(re.sub("%2[fF]", "%252F", url.path)), query, headers)
        # The headers are judged before the body is read: a bad length, an oversized body or a
        # request without a valid token is answered at once and the connection closed.
        refused = self.server.app.admit(req)
        if refused is not None:
            self.close_connection = True
            self._send(refused)
            return
        length = int(headers.get("content-length") or 0)
        req.raw = self.rfile.read(length) if length else b""
        if len(req.raw) < length:  # the client gave up mid-body
            self.close_connection = True
            return
        response = self.server.app.dispatch(req)
        if response is DROP:  # an injected dropped connection
            self.close_connection = True
            return
        self._send(response)

    def _send(self, r: Response) -> None:
        if r.text is not None:
            payload, ctype = r.text.encode(), r.headers.pop("Content-Type", "text/plain; charset=utf-8")
        elif r.body is not None:
            payload, ctype = (
                json.dumps(r.body).encode(),
                r.headers.pop("Content-Type", "application/json; charset=utf-8"),
            )
        else:
            payload, ctype = b"", ""
        self.send_response(r.status)
        for k, v in r.headers.items():
            if k != "Content-Type":
                self.send_header(k, v)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:  # a body left unread: the connection cannot carry another request
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


def _service(method: str, path: str) -> str:
    if entra.operation(method, path):
        return "entra"
    if path.rstrip("/").lower() == prices.PATH:
        return "prices"
    return (
        "devops"
        if re.match(r"^/[^/]+/([^/]+/)?_apis(/|$)", path) and not path.lower().startswith("/subscriptions/")
        else "arm"
    )


class _App:
    """Everything a request goes through, independent of sockets."""

    def __init__(
        self, state_dir: Path, world_path: str | Path | None, env: Env, creds: auth.Credentials, record: bool
    ) -> None:
        self.env = env
        self.record = record
        self.creds = creds
        self.state_dir = state_dir
        self.access_log = state_dir / accesslog.ACCESS_LOG
        self.log_cap = accesslog.cap_from_env()
        self.exchanges: list[dict[str, Any]] = []
        loaded = world.load(world_path)
        self.store = Store(state_dir, lambda: seed.seed(loaded, time.time()))
        with self.store.transaction() as st:
            self.meta = dict(st["meta"])
            self.organizations = {v["meta"]["organization"].lower() for v in organization_views(st)}

    # -- pieces of the pipeline --------------------------------------------------------------

    def _unauthorized(self, service: str, reason: str, claims: dict[str, Any]) -> Response:
        tenant = self.meta["tenantId"]
        if service == "devops":
            headers = {
                "WWW-Authenticate": f"Bearer authorization_uri=https://login.microsoftonline.com/{tenant}"
            }
            return Response(
                401, None, headers, "Access Denied: the access token is missing, invalid or expired."
            )
        if reason == "missing":
            code, message, why = (
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                ("The authentication failed because of missing 'Authorization' header."),
            )
        elif reason == "expired":
            code, why = "ExpiredAuthenticationToken", "The access token has expired."
            message = (
                f"The access token expiry UTC time '{iso(claims.get('exp', 0))}' is earlier than "
                "current UTC time "
                f"'{iso(time.time())}'."
            )
        elif reason == "audience":
            allowed = ",".join(f"'{a}','{a.rstrip('/')}'" for a in reversed(entra.ARM_AUDIENCES))
            code, why = (
                "InvalidAuthenticationTokenAudience",
                "The access token has been obtained for wrong audience.",
            )
            message = (
                "The access token has been obtained for wrong audience or resource "
                f"'{claims.get('aud')}'. It should exactly match with one of the allowed audiences {allowed}."
            )
        elif reason == "tenant":
            code, why = "InvalidAuthenticationTokenTenant", "The access token is from the wrong issuer."
            message = (
                f"The access token is from the wrong issuer '{claims.get('iss')}'. It must match the tenant "
                f"'https://sts.windows.net/{tenant}/' associated with this subscription. Please use the "
                f"authority (URL) 'https://login.windows.net/{tenant}' to get the token. Note, if the "
                "subscription is transferred to another tenant there is no impact to the services, but "
                "information about new tenant could take time to propagate (up to an hour). If you just "
                "transferred your subscription and see this error message, please try back later."
            )
        else:
            code, message, why = (
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                "The access token is invalid.",
            )
        challenge = (
            f'Bearer authorization_uri="https://login.microsoftonline.com/{tenant}", error="invalid_token", '
            f'error_description="{why}"'
        )
        return Response(401, {"error": {"code": code, "message": message}}, {"WWW-Authenticate": challenge})

    def _authenticate(self, service: str, req: Request) -> Response | None:
        header = req.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return self._unauthorized(service, "missing", {})
        verdict, claims = auth.check(self.creds.signing_key, header[7:].strip(), time.time())
        if verdict == "ok":
            audience = str(claims.get("aud", ""))
            if service == "devops":
                verdict = "ok" if audience == entra.DEVOPS_RESOURCE else "audience"
            elif audience.rstrip("/") not in entra.arm_audiences(self.env.base):
                verdict = "audience"
            elif claims.get("tid") != self.meta["tenantId"]:
                verdict = "tenant"
        return None if verdict == "ok" else self._unauthorized(service, verdict, claims)

    def _arm_version(self, req: Request, route: Route | None) -> None:
        version = req.arg("api-version")
        if not version:
            raise arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        req.api_version = version
        v = route.versions if route else None
        if v is None or version in v.versions:
            return
        supported = ", ".join(sorted(v.versions))
        if v.resource_type == "resourceGroups":
            raise arm_error(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{version}' is invalid. The supported versions are '{supported}'.",
            )
        raise arm_error(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{self.meta['location']}' and API version "
            f"'{version}' for type '{v.resource_type}'. The supported api-versions are '{supported}'.",
        )

    def _devops_version(self, req: Request, route: Route) -> None:
        found = re.search(r"api-version=([^;,\s]+)", req.headers.get("accept", ""))
        version = req.arg("api-version") or (found.group(1) if found else "")
        req.api_version = version
        loc = route.location
        if not version:
            if req.method not in ("GET", "HEAD", "OPTIONS"):
                raise devops_error(
                    400,
                    "VssVersionNotSpecifiedException",
                    f'No api-version was supplied for the "{req.method}" request. The version must be '
                    "supplied either "
                    'as part of the Accept header (e.g. "application/json; api-version=1.0") or as a '
                    "query parameter "
                    '(e.g. "?api-version=1.0").',
                    namespace=WEBAPI,
                )
            return
        m = _VERSION.match(version)
        if m is None:
            raise devops_error(
                400,
                "VssInvalidApiVersionException",
                f"The api-version '{version}' is not valid.",
                namespace=WEBAPI,
            )
        if loc is None:
            return
        number, preview = float(m.group(1)), m.group(2) is not None
        if number > loc.max_version or number < loc.min_version:
            raise devops_error(
                400,
                "VssVersionOutOfRangeException",
                f"The requested REST API version of {version} is out of range for this server. The "
                "latest REST API "
                f"version this server supports is {loc.max_version}.",
                namespace=WEBAPI,
            )
        if not preview and number > float(loc.released):
            raise devops_error(
                400,
                "VssInvalidPreviewVersionException",
                f'The requested version "{version}" of the resource is under preview. The -preview flag '
                "must be "
                f'supplied in the api-version for such requests. For example: "{version}-preview"',
                namespace=WEBAPI,
            )

    def _not_routed(self, service: str, req: Request, match: registry.Match) -> ServiceError:
        if service == "devops":
            if match.methods:
                return devops_error(
                    405,
                    "VssMethodNotAllowedException",
                    f"The requested resource does not support http method '{req.method}'.",
                    namespace=WEBAPI,
                )
            return devops_error(
                404,
                "VssResourceNotFoundException",
                f"The resource {req.path} does not exist.",
                namespace=WEBAPI,
            )
        if match.methods:
            return arm_error(
                405,
                "MethodNotAllowed",
                f"The requested resource does not support http method '{req.method}'.",
            )
        return arm_error(
            404, "NotFound", f"No HTTP resource was found that matches the request URI '{req.path}'."
        )

    def _fault(self, service: str, operation: str, req: Request | None = None) -> Response | None:
        """An injected answer (``DROP`` to close the connection), or None when no fault fires."""
        fired = self.env.faults.pick(operation, REQUEST_KINDS)
        delay = sum(f.value for f in fired if f.kind == "latency")
        if delay:
            time.sleep(delay)
        for f in fired:
            if f.kind == "drop":
                return DROP
            if f.kind == "403" and req is not None:
                return _denied(service, req)
            if f.kind in ("429", "500", "503"):
                return _fault_response(service, int(f.kind), f.value)
        return None

    def _headers(self, service: str, req: Request, r: Response) -> None:
        if service == "arm":
            r.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
            r.headers.setdefault(
                "x-ms-correlation-request-id",
                req.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4()),
            )
        elif service == "devops":
            r.headers.setdefault("ActivityId", str(uuid.uuid4()))
            r.headers.setdefault("X-TFS-Session", req.headers.get("x-tfs-session") or str(uuid.uuid4()))
            if r.body is not None and req.api_version:
                r.headers["Content-Type"] = f"application/json; charset=utf-8; api-version={req.api_version}"

    def _entra(self, operation: str, req: Request) -> Response:
        return entra.answer(
            operation,
            req,
            self.env.base,
            self.meta,
            self.creds.signing_key,
            self.creds.client_secret,
            self.env.timing.token_lifetime,
        )

    # -- the pipeline ------------------------------------------------------------------------

    def admit(self, req: Request) -> Response | None:
        """The answer to a request refused on its headers alone (logged), or None to read its body."""
        start = time.time()
        service = _service(req.method, req.path)
        length = req.headers.get("content-length")
        denied = None if service in PUBLIC else self._authenticate(service, req)
        if "transfer-encoding" in req.headers:
            refused = Response(411, text="Length Required")
        elif length is not None and not re.fullmatch(r"\d{1,18}", length.strip()):
            refused = Response(400, text="Bad Request - Invalid Content Length")
        elif denied is not None:
            refused = denied
        elif int(length or 0) > MAX_BODY:
            refused = _too_large(service, int(length or 0))
        else:
            return None
        operation = entra.operation(req.method, req.path) if service == "entra" else PUBLIC.get(service)
        if operation is None:
            match = registry.match(service, req.method, req.path)
            operation = match.route.operation if match.route else f"{service}.unrouted"
        self._headers(service, req, refused)
        self._record(service, operation, req, refused, start)
        return refused

    def dispatch(self, req: Request) -> Response:
        """The answer to one request (``DROP``: none), logged."""
        start = time.time()
        service = _service(req.method, req.path)
        if service in PUBLIC:  # no sign-in: Entra itself, the public Retail Prices API
            operation = (entra.operation(req.method, req.path) or "") if service == "entra" else service
            response = self._fault(service, operation) or (
                self._entra(operation, req) if service == "entra" else prices.answer(req)
            )
            self._record(service, operation, req, response, start)
            return response
        match = registry.match(service, req.method, req.path)
        operation = match.route.operation if match.route else f"{service}.unrouted"
        try:
            response = self._answer(service, operation, match, req)
        except ServiceError as e:
            response = e.response
        except StateError as e:  # the sandbox's own trouble, said plainly (no service has this answer)
            log.error("%s", e)
            response = Response(500, {"error": {"code": "SandboxStateError", "message": str(e)}})
        if response is not DROP:
            self._headers(service, req, response)
        self._record(service, operation, req, response, start)
        return response

    def _answer(self, service: str, operation: str, match: registry.Match, req: Request) -> Response:
        """The answer to an admitted request (its token was checked by ``admit``)."""
        if service == "arm":
            self._arm_version(req, match.route)
        if match.route is None:
            raise self._not_routed(service, req, match)
        if service == "devops":
            org = match.params.get("organization", "")
            if org.lower() not in self.organizations:
                raise devops_error(
                    404,
                    "OrganizationNotFoundException",
                    f"The organization '{org}' does not exist.",
                    namespace=WEBAPI,
                )
            self._devops_version(req, match.route)
        _check_body(service, req)
        fault = self._fault(service, operation, req)
        if fault is not None:
            return fault
        req.params = match.params
        with self.store.transaction(write=req.method not in ("GET", "HEAD", "OPTIONS")) as st:
            now = time.time()
            for view in organization_views(st):
                for tick in registry.TICKERS:
                    tick(view, self.env, now)
            if service == "devops":  # the state as the organization in the URL sees it
                st = organization_view(st, match.params.get("organization", ""))
            try:
                response = match.route.handler(Ctx(st, self.env, req, operation, now))
            except ServiceError as e:  # inside the transaction: what the handler left unchanged is kept
                response = e.response
            # a snapshot: the body must not change with the state once the lock is released
            response.body = copy.deepcopy(response.body)
            return response

    def _record(self, service: str, operation: str, req: Request, r: Response, start: float) -> None:
        try:
            request_body: Any = req.body
        except ValueError:
            request_body = req.raw.decode(errors="replace")
        if "form-urlencoded" in req.headers.get("content-type", ""):
            request_body = req.raw.decode(errors="replace")
        exchange = {
            "time": iso(start),
            "service": service,
            "operation": operation,
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "apiVersion": req.api_version,
            "status": r.status or None,
            "durationMs": round((time.time() - start) * 1000, 1),
            "requestHeaders": {k: v for k, v in req.headers.items()},
            "request": request_body,
            "responseHeaders": dict(r.headers),
            "response": r.text if r.text is not None else r.body,
        }
        if self.record:
            self.exchanges.append(exchange)
        accesslog.write(self.access_log, exchange, self.log_cap)


def organization_view(st: State, organization: str) -> State:
    """The state as one organization sees it: its Azure DevOps state and its name in ``meta``,
    the rest (ARM, counters) shared. The world's first organization is the state itself."""
    other = (st.get("organizations") or {}).get(organization.lower())
    if other is None:
        return st
    meta = {
        **st["meta"],
        "organization": other["organization"],
        "organizationId": other["organizationId"],
        "caller": other["caller"],
    }
    return {**st, "devops": other["devops"], "meta": meta}


def organization_views(st: State) -> list[State]:
    """The state as each organization sees it, the world's first one first."""
    return [st, *(organization_view(st, name) for name in st.get("organizations") or {})]


def _check_body(service: str, req: Request) -> None:
    """A write's body must be JSON (an object, for ARM PUT and PATCH)."""
    try:
        doc = req.body
    except ValueError:
        if service == "arm":
            raise arm_error(
                400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
            ) from None
        raise devops_error(
            400, "ArgumentException", "The request content is not valid JSON.", namespace="System"
        ) from None
    if service == "arm" and req.method in ("PUT", "PATCH") and not isinstance(doc, dict):
        raise arm_error(
            400,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: the body must be a JSON object.",
        )


ACTION_VERBS = {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}


def _denied(service: str, req: Request) -> Response:
    """403 as Azure answers a caller without the permission: ARM's AuthorizationFailed names the
    action and scope; Azure DevOps answers its access-denied exception."""
    if service == "devops":
        return devops_error(
            403,
            "UnauthorizedRequestException",
            "TF400813: The user 'agentctl' is not authorized to access this resource.",
            namespace=WEBAPI,
        ).response
    path, verb = req.path.rstrip("/"), ACTION_VERBS.get(req.method, "action")
    parts = path.rpartition("/providers/")[2].split("/")
    if "/providers/" not in path:  # a resource group
        action, scope = f"Microsoft.Resources/subscriptions/resourceGroups/{verb}", path
    elif req.method == "POST" and len(parts) % 2 == 0:  # an action: .../{type}/{name}/{action}
        action, scope = "/".join([parts[0], *parts[1:-1:2], parts[-1], "action"]), path.rsplit("/", 1)[0]
    else:
        action, scope = "/".join([parts[0], *parts[1::2], verb]), path
    client = "00000000-0000-0000-0000-00000000a9e7"
    message = (
        f"The client '{client}' with object id '{client}' does not have authorization to perform action "
        f"'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please "
        "refresh your credentials."
    )
    return arm_error(403, "AuthorizationFailed", message).response


def _too_large(service: str, length: int) -> Response:
    message = (
        f"The request content size '{length}' bytes exceeds the maximum allowed size of '{MAX_BODY}' bytes."
    )
    if service == "devops":
        return devops_error(413, "RequestContentTooLargeException", message, namespace=WEBAPI).response
    if service == "entra":
        return Response(413, text="Request Entity Too Large")
    return arm_error(413, "RequestEntityTooLarge", message).response


def _fault_response(service: str, status: int, retry_after: float) -> Response:
    headers = {"Retry-After": str(int(retry_after))} if retry_after or status == 429 else {}
    if service == "devops":
        kinds = {
            429: (
                "RequestBlockedException",
                "TF400733: The request has been canceled: Request was blocked due to exceeding usage of "
                "resource 'ATCPU' in namespace 'User'.",
            ),
            500: ("VssServiceException", "An unexpected error occurred on the server."),
            503: (
                "VssServiceUnavailableException",
                "The service is temporarily unavailable. Please try again later.",
            ),
        }
        type_key, message = kinds[status]
        err = devops_error(status, type_key, message, namespace=WEBAPI).response
        err.headers.update(headers)
        return err
    if service == "entra":
        return Response(
            status,
            {"error": "temporarily_unavailable", "error_description": "AADSTS50196: The server is busy."},
            headers,
        )
    codes = {
        429: (
            "TooManyRequests",
            "The request is being throttled as the limit has been reached for this operation type. For "
            "more information, see - https://aka.ms/srpthrottlinglimits",
        ),
        500: ("InternalServerError", "Encountered internal server error."),
        503: ("ServiceUnavailable", "The service is temporarily unavailable. Please retry later."),
    }
    code, message = codes[status]
    return Response(status, {"error": {"code": code, "message": message}}, headers)


def start(
    state_dir: str | Path,
    world: str | Path | None = None,
    port: int = 0,
    faults: FaultPlan | str | list[Any] | None = None,
    timing: Timing | None = None,
    record: bool = True,
) -> Sandbox:
    """Start a sandbox on 127.0.0.1 serving the state in ``state_dir`` (seeded from ``world``);
    ``record`` keeps every exchange in memory (``Sandbox.exchanges``) as well as in the access log.

    Without ``faults`` / ``timing``, ``AGENTCTL_SANDBOX_FAULTS`` / ``AGENTCTL_SANDBOX_TIMING`` apply."""
    try:
        root = ensure_dir(Path(state_dir).resolve())
    except OSError as e:
        raise StateError(f"the sandbox directory {state_dir} cannot be made ({e.strerror or e})") from None
    if faults is None and os.environ.get(FAULTS_ENV):
        faults = parse([os.environ[FAULTS_ENV]], FAULTS_ENV)
    if timing is None and os.environ.get(TIMING_ENV):
        timing = parse_timing(os.environ[TIMING_ENV], TIMING_ENV)
    env = Env("", timing or Timing(), as_plan(faults))
    try:
        with locked(root):  # servers starting together on one directory make one CA and one set of secrets
            creds = auth.Credentials.load_or_create(root)
            context, ca_path = tls.server_context(root)
    except (OSError, ValueError, KeyError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise StateError(f"the sandbox directory {root} cannot be used ({reason}); {RESET_HINT}") from None
    app = _App(root, world, env, creds, record)
    server = _Server(port, context, app)
    bound = server.server_address[1]
    env.base = f"https://127.0.0.1:{bound}/"
    tenant = app.meta["tenantId"]
    client, principal = entra.client_id(tenant), entra.object_id(tenant)
    lifetime, now = env.timing.token_lifetime, time.time()
    key = creds.signing_key
    creds.token, _ = auth.mint(key, tenant, lifetime, now, entra.ARM_AUDIENCES[0], client, principal)
    creds.devops_token, _ = auth.mint(key, tenant, lifetime, now, entra.DEVOPS_RESOURCE, client, principal)
    creds.save(root)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=f"sandbox:{bound}", daemon=True)
    thread.start()
    ep = endpoints.Endpoints(
        arm_endpoint=env.base,
        devops_url=f"{env.base}{app.meta['organization']}",
        ca_bundle=str(ca_path),
        token_url=f"{env.base}{tenant}/oauth2/v2.0/token",
        authority=env.base.rstrip("/"),
        client_id=client,
        client_secret=creds.client_secret,
        token=creds.token,
        devops_token=creds.devops_token,
        tenant_id=tenant,
        subscription_id=app.meta["subscriptionId"],
        organization=app.meta["organization"],
        state_dir=root,
        access_log=app.access_log,
        port=bound,
        pid=os.getpid(),
    )
    sb = Sandbox(ep, server, thread)
    log.debug("sandbox serving %s from %s", env.base, root)
    return sb
