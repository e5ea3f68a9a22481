"""The credential checks: embedded certificates and keys, tokens, exec and auth-provider plugins.

Each names a field, a length or a date, never a value."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any

from agentctl.errors import quoted
from agentctl.kubeconfig.findings import Report
from agentctl.kubeconfig.kubelogin import kubelogin_login

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from cryptography.x509 import Certificate

_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_PEM_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_INTERACTIVE_LOGINS = {"devicecode", "interactive"}
_FILE_KEYS = {
    "certificate-authority": "certificate-authority-data",
    "client-certificate": "client-certificate-data",
    "client-key": "client-key-data",
    "tokenFile": "token",
}


def exec_plugin(report: Report, path: str, plugin: Any) -> None:
    if plugin is None:
        return
    command = plugin.get("command") if isinstance(plugin, dict) else None
    args = plugin.get("args") if isinstance(plugin, dict) else None
    if not isinstance(plugin, dict) or not isinstance(command, str) or not command.strip():
        report.add("kubeconfig.structure", path, "exec needs a command")
        return
    if args is not None and not isinstance(args, list):
        report.add("kubeconfig.structure", f"{path}.args", "exec args must be a list")
        return
    message = (
        f"exec plugin {quoted(command)}: kubectl runs this program on the agent whenever the "
        "connection is used (agentctl never runs it); make sure it is the one you expect"
    )
    report.add("user.exec", f"{path}.command", message, severity="warning")
    if plugin.get("interactiveMode") == "Always":
        message = "interactiveMode Always needs a terminal, which a pipeline does not have"
        report.add("exec.interactive", f"{path}.interactiveMode", message)
    login = kubelogin_login(plugin)
    if login in _INTERACTIVE_LOGINS:
        message = (
            f"kubelogin --login {login} waits for a person to sign in, which a pipeline cannot do; "
            "use credentials: kubelogin-msi"
        )
        report.add("exec.interactive", f"{path}.args", message)


def auth_provider(report: Report, path: str, provider: Any) -> None:
    """Name the auth-provider plugin (agentctl never runs it) and any command it would run."""
    if provider is None:
        return
    name = provider.get("name") if isinstance(provider, dict) else None
    if not isinstance(name, str) or not name.strip():
        report.add("kubeconfig.structure", path, "auth-provider needs a name")
        return
    message = f"auth-provider plugin {quoted(name)} signs in for kubectl (agentctl never runs it)"
    report.add("user.auth_provider", f"{path}.name", message, severity="warning")
    config = provider.get("config")
    command = config.get("cmd-path") if isinstance(config, dict) else None
    if command is not None:
        message = (
            f"cmd-path {quoted(command)} makes kubectl run a program on the agent to get a token "
            "(agentctl never runs it); the gcp provider that reads it left kubectl in 1.26"
        )
        report.add("user.cmd_path", f"{path}.config.cmd-path", message)


def file_references(report: Report, base: str, body: dict[str, Any]) -> None:
    for key, embedded in _FILE_KEYS.items():
        if body.get(key):
            message = f"{key} points to a file on this machine; a service connection needs {embedded}"
            report.add("file.reference", f"{base}.{key}", message)


def pem(report: Report, path: str, value: Any) -> bytes | None:
    """The PEM bytes a ``*-data`` field holds, reporting how it is broken."""
    if not isinstance(value, str) or not value.strip():
        report.add("base64.invalid", path, "is empty" if value in (None, "") else "is not base64 text")
        return None
    if value.lstrip().startswith("-----BEGIN"):
        report.add("base64.raw_pem", path, "holds PEM text where the base64 of the PEM belongs", fixable=True)
        return value.strip().encode() + b"\n"
    compact = "".join(value.split())
    if compact != value or report.lines.get(path) in report.wrapped:
        message = "the base64 is broken by line breaks or spaces (wrapped by a copy-paste)"
        report.add("base64.wrapped", path, message, fixable=True)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        report.add("base64.invalid", path, _not_base64(compact))
        return None


def certificate(report: Report, path: str, pem: bytes) -> Certificate | None:
    from cryptography import x509

    if b"-----BEGIN CERTIFICATE-----" not in pem:
        report.add("cert.not_pem", path, _not_pem(pem, "a PEM certificate"))
        return None
    try:
        cert = x509.load_pem_x509_certificates(pem)[0]
    except ValueError:
        report.add("cert.not_pem", path, "holds a PEM block that is not a valid X.509 certificate")
        return None
    expiry = cert.not_valid_after_utc
    if expiry < report.now:
        report.add("cert.expired", path, f"the certificate expired on {expiry:%Y-%m-%d %H:%M} UTC")
    return cert


def private_key(report: Report, path: str, pem: bytes) -> PrivateKeyTypes | None:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if not _PEM_KEY.search(pem):
        report.add("key.not_pem", path, _not_pem(pem, "a PEM private key"))
        return None
    try:
        return load_pem_private_key(pem, password=None)
    except TypeError:
        report.add(
            "key.encrypted",
            path,
            "the private key is encrypted with a passphrase, which kubectl cannot use",
        )
    except (ValueError, UnsupportedAlgorithm):
        report.add("key.not_pem", path, "holds a PEM block that is not a valid private key")
    return None


def _not_base64(compact: str) -> str:
    bad = next((i for i, ch in enumerate(compact) if ch not in _B64_ALPHABET), None)
    if bad is not None:
        urlsafe = " (URL-safe base64?)" if compact[bad] in "-_" else ""
        return f"is not base64: character {bad + 1} is outside the base64 alphabet{urlsafe}"
    if len(compact) % 4:
        return f"is not base64: {len(compact)} characters is not a multiple of 4 (cut short, or padding lost)"
    return "is not valid base64 (padding in the middle?)"


def _not_pem(decoded: bytes, what: str) -> str:
    head = decoded.lstrip()
    label = _PEM_LABEL.match(head)
    if label:
        return f"holds a PEM {label.group(1).decode()} where {what} belongs (fields swapped?)"
    if head.startswith(b"LS0tLS1"):
        return f"decodes to base64 text again, not {what} (encoded twice?)"
    if head[:1] == b"\x30":
        return f"decodes to binary DER, not {what}"
    return f"does not decode to {what}"


def same_public_key(cert: Certificate, key: PrivateKeyTypes) -> bool:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return bool(cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki))
