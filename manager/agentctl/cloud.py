"""Where to talk to and with which credential: Azure clouds, Azure DevOps, or the sandbox.

A ``Target`` carries the endpoints, token scopes, CA bundle and credentials that the ARM and
Azure DevOps adapters need. It is the only place that knows about clouds and the sandbox.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

from agentctl.errors import AuthError, UsageError, quoted

log = logging.getLogger(__name__)

DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"


@dataclass(frozen=True)
class Cloud:
    arm_endpoint: str
    arm_scope: str
    authority: str
    connection_environment: str  # the service connection's `environment` value


CLOUDS = {
    "public": Cloud(
        "https://management.azure.com/",
        "https://management.azure.com/.default",
        "login.microsoftonline.com",
        "AzureCloud",
    ),
    "usgovernment": Cloud(
        "https://management.usgovcloudapi.net/",
        "https://management.usgovcloudapi.net/.default",
        "login.microsoftonline.us",
        "AzureUSGovernment",
    ),
    "china": Cloud(
        "https://management.chinacloudapi.cn/",
        "https://management.chinacloudapi.cn/.default",
        "login.chinacloudapi.cn",
        "AzureChinaCloud",
    ),
}


class TokenCredential(Protocol):
    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


@dataclass
class Target:
    cloud: Cloud
    devops_url: str
    credential: TokenCredential
    ca_bundle: str | None = None  # None: the system trust store
    devops_pat: str | None = None
    sandbox: Any = None  # the in-process sandbox, kept alive while the command runs
    prices_url: str = "https://prices.azure.com/api/retail/prices"  # the public Azure Retail Prices API

    @property
    def verify(self) -> str | bool:
        return self.ca_bundle or True


def azure_credential(kind: str, cloud: Cloud) -> TokenCredential:
    """An azure-identity credential: DefaultAzureCredential, or one picked explicitly."""
    import azure.identity as ai

    authority = cloud.authority
    if kind == "cli":
        return ai.AzureCliCredential()
    if kind == "managed-identity":
        import os

        return ai.ManagedIdentityCredential(client_id=os.environ.get("AZURE_CLIENT_ID"))
    if kind == "workload-identity":
        return ai.WorkloadIdentityCredential(authority=authority)
    if kind == "default":
        return ai.DefaultAzureCredential(authority=authority)
    raise UsageError(f"unknown credential kind {quoted(kind)}")


def cloud_target(cloud_name: str, credential_kind: str, devops_url: str) -> Target:
    import os

    from agentctl.logs import register_secret

    cloud = CLOUDS[cloud_name]
    pat = os.environ.get("AZDO_PAT") or None
    register_secret(pat)
    return Target(cloud, devops_url.rstrip("/"), azure_credential(credential_kind, cloud), devops_pat=pat)


# --- sandbox -------------------------------------------------------------------------------


class SandboxCredential:
    """Gets tokens from the sandbox's token endpoint; refreshes them shortly before expiry."""

    def __init__(self, token_url: str, client_secret: str, ca_bundle: str) -> None:
        from agentctl.logs import register_secret

        self._url = token_url
        self._secret = client_secret
        self._ctx = ssl.create_default_context(cafile=ca_bundle)
        self._lock = threading.Lock()
        self._token: Any = None
        register_secret(client_secret)

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        from agentctl.logs import register_secret

        with self._lock:
            if self._token is None or self._token.expires_on - 5 < time.time() or kwargs.get("force"):
                body = json.dumps({"client_secret": self._secret}).encode()
                req = urllib.request.Request(
                    self._url, data=body, method="POST", headers={"Content-Type": "application/json"}
                )
                try:
                    with urllib.request.urlopen(req, context=self._ctx, timeout=10) as resp:
                        doc = json.load(resp)
                except OSError as e:
                    raise AuthError(f"the sandbox token endpoint did not answer: {e}") from None
                register_secret(doc["access_token"])
                self._token = AccessToken(doc["access_token"], int(doc["expires_on"]))
            return self._token


def sandbox_target(state_dir: str, world: str | None, organization: str | None = None) -> Target:
    """Use a sandbox already serving this state dir, or start one in this process."""
    from agentctl.sandbox.endpoints import connect

    running = connect(state_dir)
    if running is not None:
        return target_of(running, keep=False)
    from agentctl.sandbox.server import start

    return target_of(start(state_dir, world=world, record=False), keep=True)


def target_of(sb: Any, keep: bool) -> Target:
    """A target for a sandbox's endpoints; ``keep`` holds an in-process sandbox for clean-up."""
    cloud = Cloud(sb.arm_endpoint, f"{sb.arm_endpoint}.default", "sandbox", "AzureCloud")
    cred = SandboxCredential(sb.token_url, sb.client_secret, sb.ca_bundle)
    return Target(
        cloud,
        sb.devops_url,
        cred,
        ca_bundle=sb.ca_bundle,
        sandbox=sb if keep else None,
        prices_url=f"{sb.arm_endpoint}api/retail/prices",
    )
