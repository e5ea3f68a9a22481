"""Azure DevOps REST through the azure-devops SDK's transport.

The SDK's generated models drop fields they do not know (a check configuration's ``settings``
among them), so every call goes through the SDK's raw ``_send`` path with JSON bodies: route
discovery, authentication and sessions are the SDK's, the payloads are exactly ours. The SDK's own
retry policy (msrest's) would retry POSTs on any error status; ``_retry_policy`` replaces it:
429/503 for every method, other 5xx and connection errors for idempotent ones, Retry-After
honoured. Authentication is a
PAT, or an Entra bearer token that msrest asks for on every request (the credential caches and
refreshes it, so a token expiring mid-run is replaced). Paged lists (``PAGED``) are read whole
with ``list_all``, which follows the continuation token. The SDK's raw path puts route and query
values into the URL as they are, so ``_args`` encodes every one with ``urls.segment``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from agentctl.cloud import DEVOPS_SCOPE, Target
from agentctl.errors import (
    SIGN_IN_HINT,
    AgentctlError,
    AuthError,
    CloudError,
    NotFound,
    ScopeNotFound,
    quoted,
)
from agentctl.shared import SharedReads
from agentctl.urls import segment

log = logging.getLogger(__name__)
T = TypeVar("T")

# name -> (HTTP method, location id, api-version), as the SDK's own clients send them.
ROUTES: dict[str, tuple[str, str, str]] = {
    "project.get": ("GET", "603fe2ac-9723-48b9-88ad-09305aa6c6e1", "7.1-preview.4"),
    "endpoint.create": ("POST", "14e48fdc-2c8b-41ce-a0c3-e26f6cc55bd0", "7.1-preview.4"),
    "endpoint.update": ("PUT", "14e48fdc-2c8b-41ce-a0c3-e26f6cc55bd0", "7.1-preview.4"),
    "endpoint.delete": ("DELETE", "14e48fdc-2c8b-41ce-a0c3-e26f6cc55bd0", "7.1-preview.4"),
    "endpoint.list": ("GET", "e85f1c62-adfc-4b74-b618-11a150fb195e", "7.1-preview.4"),
    "endpoint.get": ("GET", "e85f1c62-adfc-4b74-b618-11a150fb195e", "7.1-preview.4"),
    "elastic.create": ("POST", "dd3c938f-835b-4971-b99a-db75a47aad43", "7.1-preview.1"),
    "elastic.get": ("GET", "dd3c938f-835b-4971-b99a-db75a47aad43", "7.1-preview.1"),
    "elastic.update": ("PATCH", "dd3c938f-835b-4971-b99a-db75a47aad43", "7.1-preview.1"),
    "elastic.nodes": ("GET", "1b232402-5ff0-42ad-9703-d76497835eb6", "7.1-preview.1"),
    "elastic.logs": ("GET", "595b1769-61d5-4076-a72a-98a02105ca9a", "7.1-preview.1"),
    "pool.list": ("GET", "a8c47e17-4d56-4a56-92bb-de7ea7dc65be", "7.1-preview.1"),
    "pool.delete": ("DELETE", "a8c47e17-4d56-4a56-92bb-de7ea7dc65be", "7.1-preview.1"),
    "queue.list": ("GET", "900fa995-c559-4923-aae7-f8424fe4fbea", "7.1-preview.1"),
    "queue.delete": ("DELETE", "900fa995-c559-4923-aae7-f8424fe4fbea", "7.1-preview.1"),
    "permissions.get": ("GET", "b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2", "7.1-preview.1"),
    "permissions.update": ("PATCH", "b5b9a4a4-e6cd-4096-853c-ab7d8b0c4eb2", "7.1-preview.1"),
    "environment.create": ("POST", "8572b1fc-2482-47fa-8f74-7e3ed53ee54b", "7.1-preview.1"),
    "environment.list": ("GET", "8572b1fc-2482-47fa-8f74-7e3ed53ee54b", "7.1-preview.1"),
    "environment.update": ("PATCH", "8572b1fc-2482-47fa-8f74-7e3ed53ee54b", "7.1-preview.1"),
    "environment.delete": ("DELETE", "8572b1fc-2482-47fa-8f74-7e3ed53ee54b", "7.1-preview.1"),
    "check.create": ("POST", "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea", "7.1-preview.1"),
    "check.list": ("GET", "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea", "7.1-preview.1"),
    "check.update": ("PATCH", "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea", "7.1-preview.1"),
    "check.delete": ("DELETE", "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea", "7.1-preview.1"),
    "identity.read": ("GET", "28010c54-d0c0-4c89-a5b0-1c9e188b9fb7", "7.1-preview.1"),
    # reads that are a POST: the caller's permissions (HasPermissionsBatch)
    "security.evaluate": ("POST", "cf1faa59-1b63-4448-bf04-13d981a46f5d", "7.1-preview.1"),
}
# What a call needs in Azure DevOps, by the part of the API it belongs to.
GRANTS = {
    "project": "read access to the project (membership of its Readers group, at least)",
    "endpoint": "the Administrator role on service connections (Project settings > Service connections)",
    "elastic": "the Administrator role on agent pools (Organization settings > Agent pools > Security)",
    "pool": "the Administrator role on agent pools (Organization settings > Agent pools > Security)",
    "queue": "the Administrator role on the project's agent pools (Project settings > Agent pools)",
    "permissions": "the Administrator role on the resource whose pipeline permissions change",
    "environment": "the Creator role on environments (Pipelines > Environments), Administrator to change one",
    "check": "the Administrator role on the environment (its Security page)",
    "identity": "permission to read the organization's users and groups (Basic access, at least)",
}


def grant_hint(route: str) -> str:
    needed = GRANTS.get(route.split(".", 1)[0], "the permission this call needs")
    return (
        f"give the identity agentctl signs in with (AZDO_PAT's user, when it is set) {needed}, "
        "then run the same command again"
    )


# the lists the service pages (their specs take continuationToken): read them with list_all
PAGED = frozenset({"environment.list"})
MAX_PAGES = 100
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})
TRANSIENT = "the service failed or throttled after retries; run the same command again"


class _TokenAuth:
    """msrest Authentication: a PAT, or a fresh Entra token on every session."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._lock = threading.Lock()

    def signed_session(self, session: Any = None) -> Any:
        import requests

        session = session or requests.Session()
        if self.target.devops_pat:
            session.auth = ("", self.target.devops_pat)
        else:
            from azure.core.exceptions import ClientAuthenticationError

            try:
                with self._lock:
                    token = self.target.credential.get_token(DEVOPS_SCOPE)
            except ClientAuthenticationError as e:
                first = str(getattr(e, "message", None) or e).splitlines()[0]
                raise AuthError(f"Azure DevOps: signing in failed: {first}", hint=SIGN_IN_HINT) from None
            session.headers["Authorization"] = f"Bearer {token.token}"
        return session


def _share_session(client: Any) -> None:
    """msrest keeps one requests session per thread, so every thread of a concurrent read opens
    its own TLS connection. Give all threads one session with a pool large enough for them."""
    import types

    import requests

    driver = client._client.config.pipeline._sender.driver
    session = requests.Session()
    session.mount("https://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64))
    driver._session_mapping = types.SimpleNamespace()
    driver.session = session  # the setter applies msrest's retry policy to the mounted adapters


def _retry_policy() -> Any:
    from urllib3.util.retry import Retry

    class _Retry(Retry):
        BACKOFF_MAX = 20  # msrest's retry settings read this urllib3 1.x name

        def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
            if status_code in (429, 503):
                return self.total is None or self.total > 0
            if status_code in (500, 502, 504):
                return method.upper() in IDEMPOTENT and (self.total is None or self.total > 0)
            return False

    return _Retry(
        total=6,
        connect=3,
        read=2,
        backoff_factor=0.5,
        backoff_max=20,
        # a lost answer is retried for idempotent methods only (a POST may have been done);
        # answers with a status are is_retry's to judge
        allowed_methods=IDEMPOTENT,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


class DevOps:
    def __init__(self, target: Target, project: str, shared: SharedReads | None = None) -> None:
        self.target = target
        self.org_url = target.devops_url
        self.project_name = project
        self.shared = shared  # set for read-only commands over several pools

    @cached_property
    def _client(self) -> Any:
        from azure.devops.client import Client

        class _Client(Client):  # type: ignore[misc]
            """The SDK's client, keeping the HTTP status on the errors it raises (it drops it)."""

            def _handle_error(self, request: Any, response: Any) -> None:
                try:
                    super()._handle_error(request, response)
                except Exception as e:
                    e.status_code = response.status_code  # type: ignore[attr-defined]
                    raise

        auth = _TokenAuth(self.target)
        client = _Client(base_url=self.org_url, creds=auth)
        client.config.connection.verify = self.target.verify
        client.config.connection.timeout = 60
        client.config.retry_policy.policy = _retry_policy()
        _share_session(client)
        return client

    def connect(self) -> None:
        """Build the SDK client now, before threads share it."""
        self._client  # noqa: B018

    def call(
        self,
        route: str,
        route_values: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """One REST call; returns the parsed JSON (or None for no content). 404 -> NotFound."""
        assert route not in PAGED, f"{route} is paged: read it with list_all"
        values, params = self._args(route_values, query)
        if ROUTES[route][0] != "GET":
            return self._json(self._send(route, values, params, body))
        return self._shared_read(
            route, values, params, lambda: self._json(self._send(route, values, params, None))
        )

    def list_all(
        self, route: str, route_values: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a paged list: each answer's ``X-MS-ContinuationToken`` header is sent back as
        ``continuationToken`` until there is none, for at most ``MAX_PAGES`` pages."""
        values, params = self._args(route_values, query)

        def read() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = []
            page = params
            for _ in range(MAX_PAGES):
                response = self._send(route, values, page, None)
                items += self.values(self._json(response))
                token = response.headers.get("x-ms-continuationtoken")
                if not token:
                    return items
                page = {**params, "continuationToken": segment(token)}
            raise CloudError(
                f"Azure DevOps {route}: still more after {MAX_PAGES} pages ({len(items)} items); "
                "agentctl reads no further",
                hint="run the same command again; if it stops here again, delete unused ones",
            )

        return self._shared_read(route, values, params, read)

    def _args(
        self, route_values: dict[str, Any] | None, query: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Route and query values, each encoded as one URL segment or query value."""
        values = dict(route_values or {})
        if "project" in values and values["project"] is None:
            values["project"] = self.project_name
        encoded = {k: segment(v) for k, v in values.items()}
        return encoded, {k: segment(v) for k, v in (query or {}).items() if v is not None}

    def _shared_read(
        self, route: str, values: dict[str, Any], params: dict[str, Any], read: Callable[[], T]
    ) -> T:
        """``read()``, sent once per command when reads are shared (see agentctl.shared)."""
        if self.shared is None:
            return read()
        key = ("devops", self.org_url, route, tuple(sorted(values.items())), tuple(sorted(params.items())))
        return self.shared.get(key, read)

    @staticmethod
    def _json(response: Any) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _send(self, route: str, values: dict[str, Any], params: dict[str, Any], body: Any) -> Any:
        """The HTTP response of one call; failures become agentctl's errors (404 -> NotFound)."""
        from azure.devops.exceptions import AzureDevOpsAuthenticationError, AzureDevOpsClientRequestError

        method, location, version = ROUTES[route]

        def send() -> Any:
            return self._client._send(
                http_method=method,
                location_id=location,
                version=version,
                route_values=values,
                query_parameters=params,
                content=body,
            )

        try:
            try:
                response = send()
            except AzureDevOpsAuthenticationError:
                if self.target.devops_pat:
                    raise
                # A bearer token can expire between signing and arrival: sign again, once.
                log.info("Azure DevOps %s: 401, retrying once with a fresh token", route)
                response = send()
        except AzureDevOpsAuthenticationError as e:
            raise AuthError(
                f"Azure DevOps {route}: authentication failed ({e})",
                hint="sign in again (`az login`), or check AZDO_PAT when it is set: expired, revoked, or "
                "for another organization",
            ) from None
        except AzureDevOpsClientRequestError as e:
            status = getattr(e, "status_code", 0)
            msg = getattr(e, "message", None) or str(e)
            if status == 404 and getattr(e, "type_key", "") == "OrganizationNotFoundException":
                raise ScopeNotFound(
                    f"Azure DevOps organization '{self.org_url.rsplit('/', 1)[-1]}' does not exist",
                    field="devops.organization",
                ) from None
            if status == 404:
                raise NotFound(f"Azure DevOps {route}: {msg}") from None
            if status in (401, 403):
                raise AuthError(f"Azure DevOps {route}: {msg}", hint=grant_hint(route)) from None
            hint = TRANSIENT if status == 429 or status >= 500 else ""
            raise CloudError(f"Azure DevOps {route}: {status} {msg}", hint=hint) from None
        except AgentctlError:
            raise
        except Exception as e:  # requests/msrest transport errors
            if type(e).__module__.startswith(("requests", "urllib3", "msrest")):
                raise CloudError(
                    f"Azure DevOps {route}: could not reach {self.org_url}: {e}",
                    hint="check the network path to Azure DevOps, then run the same command again",
                ) from None
            raise
        return response

    def read(
        self, route: str, route_values: dict[str, Any] | None = None, query: dict[str, Any] | None = None
    ) -> Any:
        """A GET where missing is an answer: None."""
        try:
            return self.call(route, route_values, query)
        except ScopeNotFound:
            raise
        except NotFound:
            return None

    @staticmethod
    def values(doc: Any) -> list[dict[str, Any]]:
        """Azure DevOps wraps lists as {count, value}."""
        if doc is None:
            return []
        if isinstance(doc, dict) and "value" in doc:
            return list(doc["value"])
        return list(doc)

    # --- lookups used across resources ---

    @cached_property
    def project(self) -> dict[str, Any]:
        found = self.read("project.get", {"projectId": self.project_name})
        if not found:
            raise NotFound(
                f"Azure DevOps project {quoted(self.project_name)} does not exist in {self.org_url}"
            )
        return dict(found)

    def endpoint_by_name(self, name: str) -> dict[str, Any] | None:
        doc = self.call("endpoint.list", {"project": self.project["id"]}, {"endpointNames": name})
        found = [e for e in self.values(doc) if e.get("name", "").lower() == name.lower()]
        return found[0] if found else None

    def pool_by_name(self, name: str) -> dict[str, Any] | None:
        found = [
            p for p in self.values(self.call("pool.list", query={"poolName": name})) if p["name"] == name
        ]
        return found[0] if found else None

    def queue_by_name(self, name: str) -> dict[str, Any] | None:
        doc = self.call("queue.list", {"project": self.project["id"]}, {"queueName": name})
        found = [q for q in self.values(doc) if q["name"] == name]
        return found[0] if found else None

    def permissions(self, resource_type: str, resource_id: str | int) -> dict[str, Any]:
        doc = self.read(
            "permissions.get",
            {"project": self.project["id"], "resourceType": resource_type, "resourceId": resource_id},
        )
        return dict(doc or {})

    def set_permissions(self, resource_type: str, resource_id: str | int, body: dict[str, Any]) -> None:
        self.call(
            "permissions.update",
            {"project": self.project["id"], "resourceType": resource_type, "resourceId": resource_id},
            body=body,
        )

    def wait_ready(self, endpoint_id: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        delay = 0.5
        while True:
            doc = self.call("endpoint.get", {"project": self.project["id"], "endpointId": endpoint_id})
            if doc and doc.get("isReady"):
                return dict(doc)
            if time.monotonic() > deadline:
                raise CloudError(f"service connection {endpoint_id} is not ready after {int(timeout)} s")
            time.sleep(delay)
            delay = min(delay * 2, 5)
