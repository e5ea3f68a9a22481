"""Bearer tokens: HS256 JWTs signed with a per-directory key, so every server on the same
state directory accepts the tokens of the others, and a token carries its own expiry.

``credentials.json`` (mode 0600) holds the signing key and the client secret the token
endpoint accepts; both are made once per state directory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentctl.sandbox.files import write_private

CREDENTIALS_FILE = "credentials.json"


@dataclass
class Credentials:
    client_secret: str
    signing_key: str
    # the long-lived tokens (ARM, Azure DevOps) of the server last started on this directory
    token: str = ""
    devops_token: str = ""

    @staticmethod
    def load_or_create(state_dir: Path) -> Credentials:
        path = state_dir / CREDENTIALS_FILE
        if path.exists():
            doc = json.loads(path.read_text())
            return Credentials(
                doc["clientSecret"], doc["signingKey"], doc.get("token", ""), doc.get("devopsToken", "")
            )
        creds = Credentials(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
        creds.save(state_dir)
        return creds

    def save(self, state_dir: Path) -> None:
        doc = {
            "clientSecret": self.client_secret,
            "signingKey": self.signing_key,
            "token": self.token,
            "devopsToken": self.devops_token,
        }
        write_private(state_dir / CREDENTIALS_FILE, json.dumps(doc, indent=2) + "\n")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: str, signing_input: str) -> str:
    return _b64(hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest())


def sign(key: str, claims: dict[str, Any]) -> str:
    """An HS256 JWT of ``claims``."""
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    return signing_input + "." + _sign(key, signing_input)


def mint(
    key: str, tenant_id: str, lifetime: float, now: float, audience: str, client_id: str, object_id: str
) -> tuple[str, int]:
    """An access token as Entra issues it to an application (v1 format, which ARM and Azure
    DevOps accept), and its expiry (epoch seconds, rounded up: valid for at least ``lifetime``)."""
    exp = math.ceil(now + lifetime)
    claims = {
        "aud": audience,
        "iss": f"https://sts.windows.net/{tenant_id}/",
        "iat": int(now),
        "nbf": int(now),
        "exp": exp,
        "appid": client_id,
        "appidacr": "1",
        "idtyp": "app",
        "oid": object_id,
        "sub": object_id,
        "tid": tenant_id,
        "uti": secrets.token_urlsafe(16),
        "ver": "1.0",
    }
    return sign(key, claims), exp


def check(key: str, token: str, now: float) -> tuple[str, dict[str, Any]]:
    """("ok" | "expired" | "invalid", claims): the signature and the expiry."""
    parts = token.split(".")
    if len(parts) != 3 or not hmac.compare_digest(_sign(key, parts[0] + "." + parts[1]), parts[2]):
        return "invalid", {}
    try:
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        return "invalid", {}
    if not isinstance(claims, dict):
        return "invalid", {}
    return ("expired" if claims.get("exp", 0) <= now else "ok"), claims
