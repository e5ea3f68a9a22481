"""The checks of a kubeconfig's structure: sections, names, references between them, servers.

``check`` never raises: what it finds comes back as ``Finding``s; the credential checks are in
``credentials``.
"""

from __future__ import annotations

import difflib
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agentctl.errors import quoted
from agentctl.kubeconfig import credentials
from agentctl.kubeconfig.findings import Finding, Report
from agentctl.kubeconfig.model import Entry, entries, picked, select
from agentctl.kubeconfig.reader import Blocked, Loaded, load

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from cryptography.x509 import Certificate

log = logging.getLogger(__name__)

_CREDENTIAL_KEYS = (
    "token",
    "tokenFile",
    "client-certificate-data",
    "client-certificate",
    "client-key-data",
    "client-key",
    "exec",
    "auth-provider",
    "username",
)


def check(text: str | bytes, source: str) -> list[Finding]:
    """Every problem found in ``text`` (the content of ``source``), warnings included; never raises."""
    try:
        loaded = load(text, source)
    except Blocked as stop:
        return stop.findings
    findings = [*loaded.findings, *_Checker(loaded, source).run()]
    log.debug("%s: %d finding(s) %s", source, len(findings), sorted({f.code for f in findings}))
    return findings


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings that make a kubeconfig unusable as it is (warnings left out)."""
    return [f for f in findings if f.blocking]


class _Checker(Report):
    def __init__(self, loaded: Loaded, source: str) -> None:
        super().__init__(source, loaded.lines, loaded.wrapped)
        self.data = loaded.data

    def run(self) -> list[Finding]:
        data = self.data
        if not isinstance(data, dict):
            self.add("kubeconfig.structure", "", "the top level is not a mapping of kubeconfig fields")
            return self.found
        for key, want in (("apiVersion", "v1"), ("kind", "Config")):
            if key in data and data[key] != want:
                self.add("kubeconfig.kind", key, f"{key} must be {want!r}")
        clusters = self.section(data, "clusters", "cluster")
        contexts = self.section(data, "contexts", "context")
        users = self.section(data, "users", "user")
        for entry in clusters:
            self.cluster(entry)
        for entry in users:
            self.user(entry)
        cluster_names = {e.name for e in clusters if e.name}
        user_names = {e.name for e in users if e.name}
        for entry in contexts:
            self.context(entry, cluster_names, user_names)
        self.current(data, contexts)
        if max(len(clusters), len(contexts), len(users)) > 1:
            chosen = picked(data, select(data, None, self.source))
            message = (
                f"holds {len(contexts)} contexts, {len(clusters)} clusters and {len(users)} users; "
                "a service connection should carry only the context it uses"
            )
            if chosen is None:
                message += " (set current-context, or pick one with --context)"
            self.add("kubeconfig.not_minified", "contexts", message, fixable=chosen is not None)
        return self.found

    def section(self, data: dict[str, Any], section: str, inner: str) -> list[Entry]:
        found, problems = entries(data, section, inner)
        for path, message in problems:
            self.add("kubeconfig.structure", path, message)
        seen: set[str] = set()
        for entry in found:
            if entry.name in seen:
                self.add(
                    "name.duplicate", f"{entry.path}.name", f"{inner} name {quoted(entry.name)} is used twice"
                )
            if entry.name:
                seen.add(entry.name)
        return found

    def context(self, entry: Entry, clusters: set[str], users: set[str]) -> None:
        if entry.body is None:
            return
        for key, known in (("cluster", clusters), ("user", users)):
            ref = entry.body.get(key)
            path = f"{entry.path}.context.{key}"
            if not isinstance(ref, str) or not ref:
                self.add(f"context.{key}_missing", path, f"context {quoted(entry.name)} names no {key}")
            elif ref not in known:
                message = f"context {quoted(entry.name)} uses {key} {quoted(ref)}, which is not defined"
                self.add(f"context.{key}_missing", path, message)

    def current(self, data: dict[str, Any], contexts: list[Entry]) -> None:
        names = [e.name for e in contexts if e.name]
        current = data.get("current-context")
        if not names:
            self.add("context.none", "contexts", "defines no context")
        elif current in (None, ""):
            chosen = select(data, None, self.source)
            how = (
                f"--fix sets it to the only context {quoted(chosen)}" if chosen else "pick one with --context"
            )
            self.add(
                "context.current_missing",
                "current-context",
                f"current-context is not set; {how}",
                chosen is not None,
            )
        elif current not in names:
            self.add(
                "context.current_dangling",
                "current-context",
                f"current-context names {quoted(current)}, which is not defined (contexts: "
                f"{', '.join(quoted(n) for n in names)}); pick one with --fix --context "
                f"{quoted(difflib.get_close_matches(str(current), names, n=1, cutoff=0)[0])}",
            )

    def cluster(self, entry: Entry) -> None:
        if entry.body is None:
            return
        base = f"{entry.path}.cluster"
        body = entry.body
        server = body.get("server")
        if not isinstance(server, str) or not server.strip():
            self.add("server.missing", f"{base}.server", f"cluster {quoted(entry.name)} has no server URL")
        elif not is_url(server):
            message = "server is not an http(s) URL with a host (a stray space, quote or missing https://?)"
            self.add("server.invalid", f"{base}.server", message)
        elif urlsplit(server).scheme == "http":
            message = "the server URL is http://: credentials and traffic would cross the network unencrypted"
            self.add("server.http", f"{base}.server", message)
        credentials.file_references(self, base, body)
        if "certificate-authority-data" in body:
            path = f"{base}.certificate-authority-data"
            pem = credentials.pem(self, path, body["certificate-authority-data"])
            if pem is not None:
                credentials.certificate(self, path, pem)
        has_ca = "certificate-authority-data" in body or "certificate-authority" in body
        if body.get("insecure-skip-tls-verify") is True and has_ca:
            message = "insecure-skip-tls-verify together with a CA certificate: kubectl refuses the pair"
            self.add("cluster.insecure_with_ca", f"{base}.insecure-skip-tls-verify", message)
        elif body.get("insecure-skip-tls-verify") is True:
            message = (
                "insecure-skip-tls-verify turns off the check of the server's certificate: anyone on the "
                "path can pose as the cluster and take the credentials; give certificate-authority-data"
            )
            self.add("cluster.insecure_skip_tls_verify", f"{base}.insecure-skip-tls-verify", message)

    def user(self, entry: Entry) -> None:
        if entry.body is None:
            return
        base = f"{entry.path}.user"
        body = entry.body
        credentials.file_references(self, base, body)
        cert: Certificate | None = None
        key: PrivateKeyTypes | None = None
        if "client-certificate-data" in body:
            path = f"{base}.client-certificate-data"
            pem = credentials.pem(self, path, body["client-certificate-data"])
            cert = credentials.certificate(self, path, pem) if pem is not None else None
        if "client-key-data" in body:
            path = f"{base}.client-key-data"
            pem = credentials.pem(self, path, body["client-key-data"])
            key = credentials.private_key(self, path, pem) if pem is not None else None
        if cert is not None and key is not None and not credentials.same_public_key(cert, key):
            self.add(
                "key.mismatch",
                f"{base}.client-key-data",
                "the client key does not belong to the client certificate",
            )
        has_cert = "client-certificate-data" in body or "client-certificate" in body
        has_key = "client-key-data" in body or "client-key" in body
        if has_cert != has_key:
            which = (
                "a client certificate but no client key"
                if has_cert
                else "a client key but no client certificate"
            )
            self.add("user.incomplete", base, f"user {quoted(entry.name)} has {which}")
        token = body.get("token")
        if isinstance(token, str) and token.strip() and "".join(token.split()) != token:
            self.add("token.wrapped", f"{base}.token", "the token holds line breaks or spaces", fixable=True)
        credentials.exec_plugin(self, f"{base}.exec", body.get("exec"))
        provider = body.get("auth-provider")
        credentials.auth_provider(self, f"{base}.auth-provider", provider)
        if isinstance(provider, dict) and provider.get("name") == "azure":
            message = (
                "the azure auth-provider (removed in kubectl 1.26) signs in with a device code, "
                "which a pipeline cannot do; use credentials: kubelogin-msi"
            )
            self.add("exec.interactive", f"{base}.auth-provider", message)
        if not any(body.get(k) for k in _CREDENTIAL_KEYS):
            message = (
                f"user {quoted(entry.name)} has no credentials (token, certificate, exec, auth-provider)"
            )
            self.add("user.no_credentials", base, message)


def is_url(server: str) -> bool:
    if any(ch.isspace() for ch in server):
        return False
    try:
        parts = urlsplit(server)
        return parts.scheme in ("https", "http") and bool(parts.hostname)
    except ValueError:
        return False
