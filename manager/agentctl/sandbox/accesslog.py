"""The access log: one JSON object per request in ``access.jsonl`` (mode 0600), secrets
replaced by ``***REDACTED***`` so a reader can tell something was there.

Redacted: the Authorization header; body members that carry secrets (passwords, keys, client
secrets, tokens, kubeconfigs, custom data, protected settings); the base64 kubeconfigs AKS
returns; the output of a VM Run Command (what a script printed on a VM may hold anything); and
any string that looks like a JWT or a PEM block.

The log is bounded: when it reaches ``AGENTCTL_SANDBOX_LOG_MAX_BYTES`` (64 MiB by default) it
is moved to ``access.jsonl.1`` and a new one begins.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from agentctl.errors import InvalidInput
from agentctl.logs import REDACTED
from agentctl.sandbox.files import append_private

ACCESS_LOG = "access.jsonl"
CAP_ENV = "AGENTCTL_SANDBOX_LOG_MAX_BYTES"
DEFAULT_CAP = 64 * 1024 * 1024
_ROTATING = threading.Lock()  # one rotation at a time in this process

SECRET_HEADERS = {"authorization", "cookie", "set-cookie"}
SECRET_KEYS = {
    "access_token",
    "refresh_token",
    "client_secret",
    "clientsecret",
    "client_assertion",
    "password",
    "adminpassword",
    "kubeconfig",
    "customdata",
    "protectedsettings",
    "serviceprincipalkey",
    "apitoken",
    "accesstoken",
    "token",
    "privatekey",
    "certificate",
    "client-key-data",
    "client-certificate-data",
}
_LOOKS_SECRET = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.|-----BEGIN [A-Z ]+-----")


def _run_output(status: dict[str, Any]) -> bool:
    """A RunCommandResult status carrying a script's output (Linux: in the ProvisioningState
    message; Windows: StdOut and StdErr statuses)."""
    code, message = str(status.get("code", "")), str(status.get("message", ""))
    return code.startswith("ComponentStatus/Std") or (
        code.startswith("ProvisioningState/") and "[stdout]" in message
    )


def redact_body(value: Any, key: str = "") -> Any:
    if key.lower() in SECRET_KEYS and value is not None:
        return REDACTED
    if isinstance(value, dict):
        if "kubeconfigs" in value and isinstance(value["kubeconfigs"], list):
            value = {**value, "kubeconfigs": [{**k, "value": REDACTED} for k in value["kubeconfigs"]]}
        if _run_output(value):
            value = {**value, "message": REDACTED}
        return {k: redact_body(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_body(v) for v in value]
    if isinstance(value, str) and _LOOKS_SECRET.search(value):
        return REDACTED
    return value


def redact_form(text: str) -> str:
    """A form-encoded body (a token request) with its secret fields redacted."""
    pairs = [
        (k, REDACTED if k.lower() in SECRET_KEYS else v) for k, v in parse_qsl(text, keep_blank_values=True)
    ]
    return urlencode(pairs, safe="*")


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: REDACTED if k.lower() in SECRET_HEADERS else v for k, v in headers.items()}


def redacted(exchange: dict[str, Any]) -> dict[str, Any]:
    """The log line for an exchange (which ``Sandbox.exchanges`` keeps unredacted)."""
    out = dict(exchange)
    for side in ("request", "response"):
        body, headers = exchange.get(side), exchange.get(side + "Headers", {})
        form = any(k.lower() == "content-type" and "form-urlencoded" in v for k, v in headers.items())
        out[side] = redact_form(body) if form and isinstance(body, str) else redact_body(body)
        out[side + "Headers"] = redact_headers(headers)
    return out


def write(path: Path, exchange: dict[str, Any], cap: int = DEFAULT_CAP) -> None:
    """Append the exchange's line. A log that has reached ``cap`` bytes is first moved to
    ``access.jsonl.1`` (replacing the one before): the two files hold at most about twice ``cap``."""
    line = json.dumps(redacted(exchange), sort_keys=False) + "\n"
    with _ROTATING:
        try:
            full = path.stat().st_size + len(line) > cap
        except FileNotFoundError:
            full = False
        if full:
            os.replace(path, path.with_name(path.name + ".1"))
    append_private(path, line)


def cap_from_env() -> int:
    """``AGENTCTL_SANDBOX_LOG_MAX_BYTES`` (a positive integer), else ``DEFAULT_CAP``."""
    text = os.environ.get(CAP_ENV, "").strip()
    if not text:
        return DEFAULT_CAP
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput(f"{CAP_ENV}: expected a positive number of bytes, got {text!r}")
    return int(text)
