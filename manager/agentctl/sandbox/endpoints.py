"""Where a sandbox serves, and how another process finds a running one.

``agentctl sandbox serve`` writes ``endpoints.json`` (no secrets) next to ``credentials.json``
(mode 0600); ``connect`` reads both back when the server's process is alive and its port
answers.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentctl.sandbox.auth import Credentials

log = logging.getLogger(__name__)

ENDPOINTS_FILE = "endpoints.json"
CLOUD_FILE = "cloud.json"


@dataclass
class Endpoints:
    arm_endpoint: str  # "https://127.0.0.1:PORT/"
    devops_url: str  # "https://127.0.0.1:PORT/<organization>"
    ca_bundle: str
    token_url: str  # the Entra v2 token endpoint of the tenant
    authority: str  # the Entra authority host: "https://127.0.0.1:PORT"
    client_id: str
    client_secret: str
    token: str  # for ARM
    devops_token: str  # for Azure DevOps
    tenant_id: str
    subscription_id: str
    organization: str
    state_dir: Path
    access_log: Path
    port: int
    pid: int

    def public(self) -> dict[str, Any]:
        """What ``endpoints.json`` holds: everything but the secrets."""
        return {
            "armEndpoint": self.arm_endpoint,
            "devopsUrl": self.devops_url,
            "caBundle": self.ca_bundle,
            "tokenUrl": self.token_url,
            "authority": self.authority,
            "clientId": self.client_id,
            "tenantId": self.tenant_id,
            "subscriptionId": self.subscription_id,
            "organization": self.organization,
            "stateDir": str(self.state_dir),
            "accessLog": str(self.access_log),
            "port": self.port,
            "pid": self.pid,
        }


def write(ep: Endpoints) -> None:
    """Write ``endpoints.json`` and ``cloud.json``: the custom-cloud file (``AGENTCTL_CLOUD_CONFIG``)
    that points agentctl at this sandbox without ``--sandbox``."""
    (ep.state_dir / ENDPOINTS_FILE).write_text(json.dumps(ep.public(), indent=2) + "\n")
    cloud = {
        "resourceManager": ep.arm_endpoint,
        "authorityHost": ep.authority,
        "devopsUrl": ep.authority,
        "caBundle": ep.ca_bundle,
    }
    (ep.state_dir / CLOUD_FILE).write_text(json.dumps(cloud, indent=2) + "\n")


def remove(state_dir: Path, pid: int) -> None:
    """Forget the endpoints file if it is this process's."""
    path = state_dir / ENDPOINTS_FILE
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def connect(state_dir: str | Path) -> Endpoints | None:
    """The endpoints of a server running on ``state_dir``, or None when there is none."""
    root = Path(state_dir)
    try:
        doc = json.loads((root / ENDPOINTS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not _alive(int(doc["pid"])) or not _answers(int(doc["port"])):
        log.debug("stale %s (pid %s)", root / ENDPOINTS_FILE, doc.get("pid"))
        return None
    creds = Credentials.load_or_create(root)
    return Endpoints(
        arm_endpoint=doc["armEndpoint"],
        devops_url=doc["devopsUrl"],
        ca_bundle=doc["caBundle"],
        token_url=doc["tokenUrl"],
        authority=doc["authority"],
        client_id=doc["clientId"],
        client_secret=creds.client_secret,
        token=creds.token,
        devops_token=creds.devops_token,
        tenant_id=doc["tenantId"],
        subscription_id=doc["subscriptionId"],
        organization=doc["organization"],
        state_dir=root,
        access_log=Path(doc["accessLog"]),
        port=int(doc["port"]),
        pid=int(doc["pid"]),
    )
