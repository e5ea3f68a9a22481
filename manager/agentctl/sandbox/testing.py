"""Helpers for tests that drive the real SDK clients against a sandbox.

    arm_client(sb, ComputeManagementClient)   # an azure-mgmt client on the sandbox, CA trusted
    federated_token(state_dir)                # a client assertion for workload identity federation
    devops_connection(sb)                     # an azure-devops Connection, the sandbox's DevOps token

The azure-devops SDK (msrest/requests) reads its CA bundle per request; point
``REQUESTS_CA_BUNDLE`` at ``sb.ca_bundle`` (tests do it with ``monkeypatch.setenv``), because
the SDK's own route-discovery clients cannot be given one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TypeVar

from agentctl.sandbox.endpoints import Endpoints

T = TypeVar("T")


class StaticToken:
    """An azure-core token credential that hands out one fixed token."""

    def __init__(self, token: str, lifetime: float = 3600.0) -> None:
        self.token = token
        self.expires_on = int(time.time() + lifetime)

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, self.expires_on)


def arm_client(sb: Endpoints, client_class: type[T], *, token: str | None = None, **kwargs: Any) -> T:
    """An ARM management client on the sandbox, polling LROs every 50 ms unless told otherwise."""
    kwargs.setdefault("polling_interval", 0.05)
    return client_class(  # type: ignore[call-arg]
        StaticToken(token or sb.token),
        sb.subscription_id,
        base_url=sb.arm_endpoint,
        credential_scopes=[f"{sb.arm_endpoint}.default"],
        connection_verify=sb.ca_bundle,
        **kwargs,
    )


def devops_connection(sb: Endpoints, token: str | None = None) -> Any:
    from azure.devops.connection import Connection
    from msrest.authentication import BasicTokenAuthentication

    return Connection(
        base_url=sb.devops_url, creds=BasicTokenAuthentication({"access_token": token or sb.devops_token})
    )


def federated_token(state_dir: str | Path, lifetime: float = 600, subject: str = "") -> str:
    """A federated token (client assertion) the sandbox's Entra accepts for its client, as an
    Azure Pipelines job would get it: for tests of workload identity federation."""
    from agentctl.sandbox import entra
    from agentctl.sandbox.auth import Credentials
    from agentctl.sandbox.store import STATE_FILE

    root = Path(state_dir)
    key = Credentials.load_or_create(root).signing_key
    organization_id = json.loads((root / STATE_FILE).read_text())["meta"]["organizationId"]
    return entra.federated_token(key, organization_id, lifetime, subject or entra.FEDERATED_SUBJECT)
