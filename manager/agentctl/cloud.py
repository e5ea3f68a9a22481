"""Where to talk to and with which credential: Azure clouds, Azure DevOps, or the sandbox.

A ``Target`` carries the endpoints, token scopes, CA bundle and credentials that the ARM and
Azure DevOps adapters need. It is the only place that knows about clouds and the sandbox.

A custom cloud (Azure Stack Hub, a sovereign or private cloud, or a served sandbox) is described
by a file named in ``AGENTCTL_CLOUD_CONFIG`` (see ``load_custom_cloud``); it replaces the pool
file's ``azure.cloud``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from agentctl.errors import AgentctlError, InvalidInput, Problem, UsageError, quoted

log = logging.getLogger(__name__)

DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"
CLOUD_CONFIG_ENV = "AGENTCTL_CLOUD_CONFIG"


@dataclass(frozen=True)
class Cloud:
    arm_endpoint: str
    arm_scope: str
    authority: str  # the Entra authority host, or an https URL for a custom one
    connection_environment: str  # the service connection's `environment` value
    devops_url: str = ""  # custom: the Azure DevOps host; an organization is <devops_url>/<name>
    ca_bundle: str | None = None  # custom: the CA bundle every HTTPS call trusts
    custom: bool = False  # MSAL's instance discovery (at login.microsoftonline.com) is off


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
    """An azure-identity credential: DefaultAzureCredential, or one picked explicitly. In a custom
    cloud, ``default`` is the environment's service principal (``AZURE_CLIENT_ID``,
    ``AZURE_TENANT_ID`` and ``AZURE_CLIENT_SECRET`` or a certificate) or, with
    ``AZURE_FEDERATED_TOKEN_FILE``, workload identity federation."""
    import azure.identity as ai

    options: dict[str, Any] = {"authority": cloud.authority}
    if cloud.custom:
        options["disable_instance_discovery"] = True
    if cloud.ca_bundle:
        options["connection_verify"] = cloud.ca_bundle
    if kind == "cli":
        return ai.AzureCliCredential()
    if kind == "managed-identity":
        return ai.ManagedIdentityCredential(client_id=os.environ.get("AZURE_CLIENT_ID"))
    if kind == "workload-identity":
        return ai.WorkloadIdentityCredential(**options)
    if kind == "default" and cloud.custom:
        if os.environ.get("AZURE_FEDERATED_TOKEN_FILE") and not os.environ.get("AZURE_CLIENT_SECRET"):
            return ai.WorkloadIdentityCredential(**options)
        return ai.EnvironmentCredential(**options)
    if kind == "default":
        return ai.DefaultAzureCredential(**options)
    raise UsageError(f"unknown credential kind {quoted(kind)}")


def cloud_target(cloud_name: str, credential_kind: str, devops_url: str, organization: str = "") -> Target:
    """The target for a pool file's cloud and organization (URL, and name), or for the custom
    cloud of ``AGENTCTL_CLOUD_CONFIG`` when it is set."""
    from agentctl.logs import register_secret

    config = os.environ.get(CLOUD_CONFIG_ENV)
    cloud = load_custom_cloud(Path(config)) if config else CLOUDS[cloud_name]
    if cloud.devops_url:
        devops_url = f"{cloud.devops_url}/{organization or devops_url.rstrip('/').rsplit('/', 1)[-1]}"
    pat = os.environ.get("AZDO_PAT") or None
    register_secret(pat)
    register_secret(os.environ.get("AZURE_CLIENT_SECRET"))
    token_file = os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
    if token_file:  # the federated token azure-identity reads: kept out of logs too
        with contextlib.suppress(OSError, UnicodeDecodeError):
            register_secret(Path(token_file).read_text(encoding="utf-8").strip() or None)
    return Target(
        cloud,
        devops_url.rstrip("/"),
        azure_credential(credential_kind, cloud),
        ca_bundle=cloud.ca_bundle,
        devops_pat=pat,
    )


CLOUD_KEYS = {
    "resourceManager": "the Azure Resource Manager endpoint (https URL)",
    "resourceManagerAudience": "the audience of ARM tokens (default: the endpoint)",
    "authorityHost": "the Microsoft Entra authority host (https URL)",
    "devopsUrl": "the Azure DevOps host; an organization's URL is <devopsUrl>/<organization>",
    "caBundle": "a PEM file of the CA certificates to trust (relative to this file)",
    "connectionEnvironment": "the `environment` of Azure Resource Manager service connections",
}


def load_custom_cloud(path: Path) -> Cloud:
    """A custom cloud from a YAML or JSON file (``CLOUD_KEYS``); a bad file is ``InvalidInput``
    naming the file, line and key."""
    from agentctl import yamlsrc

    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput(f"{CLOUD_CONFIG_ENV}: cannot read {source}: {e}") from None
    doc, lines = yamlsrc.load(text, source)

    def bad(key: str, message: str) -> InvalidInput:
        problem = Problem(message, key, lines.get(key), source)
        return InvalidInput(f"{CLOUD_CONFIG_ENV}: {source} is not valid", problems=[problem])

    if not isinstance(doc, dict):
        raise bad("", "a mapping of " + ", ".join(CLOUD_KEYS) + " is expected")
    for key in doc:
        if key not in CLOUD_KEYS:
            raise bad(str(key), "unknown key; the keys are " + ", ".join(CLOUD_KEYS))
    urls = {}
    for key in ("resourceManager", "authorityHost", "devopsUrl", "resourceManagerAudience"):
        value = doc.get(key)
        if value is None and key in ("devopsUrl", "resourceManagerAudience"):
            continue
        parts = urlsplit(str(value or ""))
        if not isinstance(value, str) or parts.scheme != "https" or not parts.hostname:
            raise bad(key, f"must be an https URL: {CLOUD_KEYS[key]}")
        urls[key] = value.rstrip("/")
    ca_bundle = doc.get("caBundle")
    if ca_bundle is not None:
        bundle = path.parent / str(ca_bundle)
        if not isinstance(ca_bundle, str) or not bundle.is_file():
            raise bad("caBundle", f"{ca_bundle} is not a file")
        ca_bundle = str(bundle.resolve())
    audience = urls.get("resourceManagerAudience", urls["resourceManager"])
    return Cloud(
        arm_endpoint=urls["resourceManager"] + "/",
        arm_scope=audience + "/.default",
        authority=urls["authorityHost"],
        connection_environment=str(doc.get("connectionEnvironment") or "AzureCloud"),
        devops_url=urls.get("devopsUrl", ""),
        ca_bundle=ca_bundle,
        custom=True,
    )


# --- sandbox -------------------------------------------------------------------------------


def sandbox_target(state_dir: str, world: str | None, organization: str | None = None) -> Target:
    """Use a sandbox already serving this state dir, or start one in this process."""
    from agentctl.sandbox.endpoints import connect

    running = connect(state_dir)
    if running is not None:
        return target_of(running, keep=False)
    from agentctl.sandbox.server import start
    from agentctl.sandbox.store import StateError

    try:
        sb = start(state_dir, world=world, record=False)
    except StateError as e:
        raise AgentctlError(str(e)) from None
    return target_of(sb, keep=True)


def target_of(sb: Any, keep: bool) -> Target:
    """A target for a sandbox's endpoints (its world's first organization), signed in through its
    Entra emulation with the sandbox's client secret; ``keep`` holds an in-process sandbox for
    clean-up."""
    import azure.identity as ai

    from agentctl.logs import register_secret

    register_secret(sb.client_secret)
    base = sb.arm_endpoint.rstrip("/")
    cloud = Cloud(
        sb.arm_endpoint, f"{sb.arm_endpoint}.default", sb.authority, "AzureCloud", base, sb.ca_bundle, True
    )
    cred = ai.ClientSecretCredential(
        sb.tenant_id,
        sb.client_id,
        sb.client_secret,
        authority=sb.authority,
        disable_instance_discovery=True,
        connection_verify=sb.ca_bundle,
    )
    return Target(
        cloud,
        sb.devops_url,
        cred,
        ca_bundle=sb.ca_bundle,
        sandbox=sb if keep else None,
        prices_url=f"{sb.arm_endpoint}api/retail/prices",
    )
