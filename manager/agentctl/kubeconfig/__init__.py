"""Check, repair, minify and convert kubeconfig files without ever showing their secrets.

``check(text, source)`` lists every ``Finding`` (stable code, message, file:line and field path,
whether ``fix`` can repair it). ``fix`` repairs what is safe and keeps only the chosen context;
``to_kubelogin_msi`` turns an Entra (AKS AAD) kubeconfig into one that signs in with a managed
identity; ``minify``, ``current_server`` and ``fingerprint`` serve the service-connection code.

Messages name fields, lengths and dates, never a value: certificates, keys and tokens stay in
the file. Pure: no network, no Azure SDK. See docs/kubeconfig.md for the list of codes.

The package: ``reader`` (bytes to values with the line of every field), ``model`` (clusters,
contexts, users; which context to keep), ``checks`` and ``credentials`` (the findings),
``repair`` (what ``fix`` changes), ``kubelogin`` (Entra sign-in and the managed identity's exec).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re

from agentctl.errors import InvalidInput, quoted
from agentctl.kubeconfig.checks import blocking, check, is_url
from agentctl.kubeconfig.findings import Finding, Unreadable
from agentctl.kubeconfig.kubelogin import AKS_SERVER_ID, entra_server_id, msi_exec
from agentctl.kubeconfig.model import picked, select
from agentctl.kubeconfig.reader import document
from agentctl.kubeconfig.repair import dump, prepared, repair
from agentctl.yamlnodes import MAX_BYTES

__all__ = [
    "AKS_SERVER_ID",
    "MAX_BYTES",
    "Finding",
    "InvalidInput",
    "Unreadable",
    "blocking",
    "check",
    "current_server",
    "fingerprint",
    "fix",
    "minify",
    "to_kubelogin_msi",
    "with_namespace",
]

log = logging.getLogger(__name__)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def fix(text: str | bytes, source: str, context: str | None = None) -> tuple[str, list[Finding]]:
    """Repair what is safe and keep only ``context`` (default: the current or only one).

    Returns the repaired YAML and the findings that remain in it. Raises ``Unreadable`` when
    the text cannot be parsed, and ``InvalidInput`` when ``context`` is not in the file.
    """
    fixed = dump(prepared(text, source, context))
    remaining = check(fixed, source)
    log.debug("%s: repaired, %d finding(s) remain", source, len(remaining))
    return fixed, remaining


def minify(text: str | bytes, context: str | None = None, source: str = "kubeconfig") -> str:
    """Only ``context`` (default: the current one) with its cluster and user; nothing else changed."""
    data = document(text, source)
    chosen = picked(data, select(data, context, source))
    if chosen is None:
        raise InvalidInput(
            f"{source}: no usable context to keep",
            hint="set current-context or name a context whose cluster and user are defined",
        )
    return dump(chosen.minified(data))


def with_namespace(text: str | bytes, namespace: str, source: str = "kubeconfig") -> tuple[str, str]:
    """The current context's name, and the config with that context's default namespace set."""
    data = document(text, source)
    current = str(data.get("current-context") or "")
    for entry in data.get("contexts") or []:
        if isinstance(entry, dict) and entry.get("name") == current:
            if not isinstance(entry.get("context"), dict):
                entry["context"] = {}
            entry["context"]["namespace"] = namespace
    return current, dump(data)


def current_server(text: str | bytes, source: str = "kubeconfig") -> str:
    """The API server URL of the current context."""
    data = document(text, source)
    chosen = picked(data, select(data, None, source))
    server = chosen.cluster["cluster"].get("server") if chosen else None
    if not isinstance(server, str) or not is_url(server):
        raise InvalidInput(f"{source}: the current context has no valid server URL")
    return server


def fingerprint(text: str | bytes, source: str = "kubeconfig") -> str:
    """A stable sha256 of the repaired, minified config: equal for equivalent kubeconfigs."""
    canonical = json.dumps(prepared(text, source, None), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def to_kubelogin_msi(text: str | bytes, client_id: str, source: str = "kubeconfig") -> str:
    """Turn an Entra exec (or legacy azure auth-provider) kubeconfig into a managed-identity one.

    Same result as ``kubelogin convert-kubeconfig -l msi --client-id <client_id>`` on the current
    context, minified: ``kubelogin get-token --login msi --server-id <id> --client-id <client_id>``.
    """
    if not _GUID.fullmatch(client_id):
        raise InvalidInput(f"managed identity client id {quoted(client_id)} is not a GUID")
    data = document(text, source)
    chosen = picked(data, select(data, None, source))
    if chosen is None:
        raise InvalidInput(f"{source}: no usable current context to convert")
    data = chosen.minified(data)
    repair(data)
    server_id = entra_server_id(chosen.user["user"])
    if server_id is None:
        raise InvalidInput(
            f"{source}: user {quoted(chosen.user['name'])} does not sign in through Entra ID",
            hint="kubelogin-msi converts the kubelogin exec or azure auth-provider kubeconfigs of Entra AKS",
        )
    chosen.user["user"] = {"exec": msi_exec(server_id, client_id)}
    converted = dump(data)
    remaining = blocking(check(converted, source))
    if remaining:
        raise InvalidInput(
            f"{source}: the converted kubeconfig is not usable", problems=[f.problem() for f in remaining]
        )
    return converted
