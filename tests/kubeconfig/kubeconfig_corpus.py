"""Test material: real certificates and keys (made with cryptography, carrying canary markers)
and a corpus of broken kubeconfigs, each a failure mode met in the wild, with the findings
(code, line, field, fixable) that `agentctl kubeconfig check` must report for it.

Every case is a variation of ``base()``, an AKS ``clusterUser`` kubeconfig laid out like
``az aks get-credentials`` writes it (line numbers below refer to that layout).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass, field
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SERVER = "https://aks-dev-4f1c2b.hcp.westeurope.azmk8s.io:443"
CLIENT_ID = "8a3f0c2e-5d6b-4e7a-9c1d-2b3e4f5a6b7c"
ENTRA_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@dataclass(frozen=True)
class Material:
    """Base64 (kubeconfig *-data) forms of real test credentials, and every secret string."""

    ca: str
    cert: str
    key: str
    expired_cert: str
    other_key: str
    encrypted_key: str
    cert_pem: str
    key_pem: str
    token: str
    client_secret: str
    markers: tuple[str, ...]

    @property
    def secrets(self) -> list[str]:
        """Strings that must never appear in any output."""
        pem_bodies = [
            line for pem in (self.cert_pem, self.key_pem) for line in pem.splitlines() if "-----" not in line
        ]
        values = [self.ca, self.cert, self.key, self.expired_cert, self.other_key, self.encrypted_key]
        return [*values, *pem_bodies, self.token, self.client_secret, *self.markers]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _pem_key(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _certificate(
    subject_cn: str,
    key: ec.EllipticCurvePrivateKey,
    issuer_cn: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    days: int,
) -> bytes:
    now = dt.datetime.now(dt.UTC)
    start, end = (now - dt.timedelta(days=30), now + dt.timedelta(days=days))
    if days < 0:
        start, end = now + dt.timedelta(days=days * 2), now + dt.timedelta(days=days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(issuer_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@cache
def material() -> Material:
    tag = secrets.token_hex(6)
    markers = (f"CANARYCA{tag}", f"CANARYCERT{tag}", f"CANARYTOKEN{tag}", f"CANARYSECRET{tag}")
    ca_key, client_key, other_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca_pem = _certificate(markers[0], ca_key, markers[0], ca_key, 3650)
    cert_pem = _certificate(markers[1], client_key, markers[0], ca_key, 730)
    expired_pem = _certificate(markers[1], client_key, markers[0], ca_key, -10)
    key_pem = _pem_key(client_key)
    return Material(
        ca=_b64(ca_pem),
        cert=_b64(cert_pem),
        key=_b64(key_pem),
        expired_cert=_b64(expired_pem),
        other_key=_b64(_pem_key(other_key)),
        encrypted_key=_b64(_pem_key(client_key, b"passphrase-" + tag.encode())),
        cert_pem=cert_pem.decode(),
        key_pem=key_pem.decode(),
        token=f"{markers[2]}{secrets.token_hex(24)}",
        client_secret=f"{markers[3]}{secrets.token_hex(12)}",
        markers=markers,
    )


def base(m: Material) -> str:
    """A valid AKS clusterUser kubeconfig. Lines: 4 CA data, 5 server, 12 current-context,
    18 client-certificate-data, 19 client-key-data, 20 token."""
    return f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {m.ca}
    server: {SERVER}
  name: aks-dev
contexts:
- context:
    cluster: aks-dev
    user: clusterUser_rg-aks_aks-dev
  name: aks-dev
current-context: aks-dev
kind: Config
preferences: {{}}
users:
- name: clusterUser_rg-aks_aks-dev
  user:
    client-certificate-data: {m.cert}
    client-key-data: {m.key}
    token: {m.token}
"""


def entra(m: Material, login: str = "devicecode") -> str:
    """The Entra-enabled AKS kubeconfig (`az aks get-credentials` on an AAD cluster). Line 20: args."""
    return f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {m.ca}
    server: {SERVER}
  name: aks-prod
contexts:
- context:
    cluster: aks-prod
    user: clusterUser_rg-aks_aks-prod
  name: aks-prod
current-context: aks-prod
kind: Config
preferences: {{}}
users:
- name: clusterUser_rg-aks_aks-prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - {ENTRA_SERVER_ID}
      - --client-id
      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a
      - --tenant-id
      - {TENANT_ID}
      - --login
      - {login}
      command: kubelogin
      env: null
      installHint: install kubelogin
      provideClusterInfo: false
"""


def azure_provider(m: Material) -> str:
    """A pre-1.26 AKS AAD kubeconfig using the removed azure auth-provider. Line 18: auth-provider."""
    return f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {m.ca}
    server: {SERVER}
  name: aks-old
contexts:
- context:
    cluster: aks-old
    user: clusterUser_rg-aks_aks-old
  name: aks-old
current-context: aks-old
kind: Config
preferences: {{}}
users:
- name: clusterUser_rg-aks_aks-old
  user:
    auth-provider:
      config:
        access-token: {m.token}
        apiserver-id: {ENTRA_SERVER_ID}
        client-id: 80faf920-1908-4b52-b5ef-a8e7bedfc67a
        config-mode: "1"
        environment: AzurePublicCloud
        tenant-id: {TENANT_ID}
      name: azure
"""


def wrap(value: str, width: int = 76) -> list[str]:
    return [value[i : i + width] for i in range(0, len(value), width)]


@dataclass(frozen=True)
class Case:
    name: str
    why: str
    text: bytes
    expected: set[tuple[str, int | None, str, bool]]  # (code, line, field, fixable)
    repairable: bool = False  # --fix leaves nothing
    extra: dict[str, str] = field(default_factory=dict)


CERT = "users[0].user.client-certificate-data"
KEY = "users[0].user.client-key-data"
CA = "clusters[0].cluster.certificate-authority-data"


def corpus(m: Material) -> list[Case]:
    good = base(m)
    cert_line = f"    client-certificate-data: {m.cert}\n"
    key_line = f"    client-key-data: {m.key}\n"
    ca_line = f"    certificate-authority-data: {m.ca}\n"
    cases: list[Case] = []

    def add(
        name: str, why: str, text: str | bytes, expected: set[tuple[str, int | None, str, bool]], **kw: bool
    ) -> None:
        cases.append(Case(name, why, text.encode() if isinstance(text, str) else text, expected, **kw))

    add(
        "wrapped-at-76",
        "certificate base64 pasted from an e-mail or `base64` (76-column lines), continuation at column 0",
        good.replace(cert_line, "    client-certificate-data: " + "\n".join(wrap(m.cert)) + "\n"),
        {("base64.wrapped", 18, CERT, True)},
        repairable=True,
    )
    add(
        "wrapped-indented",
        "CA data wrapped by an editor, continuation lines indented (YAML folds them into spaces)",
        good.replace(ca_line, "    certificate-authority-data: " + "\n      ".join(wrap(m.ca, 64)) + "\n"),
        {("base64.wrapped", 4, CA, True)},
        repairable=True,
    )
    add(
        "literal-block",
        "key pasted as a YAML literal block, keeping the PEM tool's 64-column line breaks",
        good.replace(key_line, "    client-key-data: |\n" + "".join(f"      {c}\n" for c in wrap(m.key, 64))),
        {("base64.wrapped", 19, KEY, True)},
        repairable=True,
    )
    add(
        "space-broken",
        "a web form turned line breaks into spaces inside the certificate data",
        good.replace(cert_line, '    client-certificate-data: "' + " ".join(wrap(m.cert, 64)) + '"\n'),
        {("base64.wrapped", 18, CERT, True)},
        repairable=True,
    )
    add(
        "crlf",
        "saved with Notepad on Windows: CRLF line endings",
        good.replace("\n", "\r\n"),
        {("crlf", 1, "", True)},
        repairable=True,
    )
    add(
        "bom",
        "saved as 'UTF-8 with BOM' by a Windows editor",
        b"\xef\xbb\xbf" + good.encode(),
        {("bom", 1, "", True)},
        repairable=True,
    )
    add(
        "utf16",
        "written by Windows PowerShell 5 `kubectl config view --raw > config` (UTF-16LE with BOM)",
        good.encode("utf-16"),
        {("encoding.utf16", 1, "", True)},
        repairable=True,
    )
    add(
        "tabs",
        "an editor replaced the indentation of the cluster block with tabs",
        good.replace(ca_line, "\t\t" + ca_line.lstrip(" ")).replace(
            f"    server: {SERVER}", f"\t\tserver: {SERVER}"
        ),
        {("tabs", 4, "", True)},
        repairable=True,
    )
    add(
        "tabs-ambiguous",
        "tabs stand for 4 spaces on some lines: 2, 4 or 8 columns give different structures",
        good.replace(f"    server: {SERVER}\n  name: aks-dev", f"\tserver: {SERVER}\n  name: aks-dev"),
        {("tabs", 5, "", False), ("yaml.syntax", 5, "", False)},
    )
    add(
        "raw-pem",
        "the PEM certificate itself pasted into client-certificate-data instead of its base64",
        good.replace(
            cert_line,
            "    client-certificate-data: |\n"
            + "".join(f"      {line}\n" for line in m.cert_pem.splitlines()),
        ),
        {("base64.raw_pem", 18, CERT, True)},
        repairable=True,
    )
    add(
        "truncated",
        "the last characters of the certificate data were lost in the paste",
        good.replace(cert_line, f"    client-certificate-data: {m.cert[:-7]}\n"),
        {("base64.invalid", 18, CERT, False)},
    )
    add(
        "double-encoded",
        "the CA was base64-encoded twice (`base64 ca.crt | base64`)",
        good.replace(
            ca_line, f"    certificate-authority-data: {base64.b64encode(m.ca.encode()).decode()}\n"
        ),
        {("cert.not_pem", 4, CA, False)},
    )
    add(
        "swapped",
        "client certificate and client key pasted into each other's fields",
        good.replace(cert_line, f"    client-certificate-data: {m.key}\n").replace(
            key_line, f"    client-key-data: {m.cert}\n"
        ),
        {("cert.not_pem", 18, CERT, False), ("key.not_pem", 19, KEY, False)},
    )
    add(
        "expired",
        "the client certificate expired (AKS client certificates are rotated)",
        good.replace(cert_line, f"    client-certificate-data: {m.expired_cert}\n"),
        {("cert.expired", 18, CERT, False)},
    )
    add(
        "key-mismatch",
        "the key of another user pasted next to this certificate",
        good.replace(key_line, f"    client-key-data: {m.other_key}\n"),
        {("key.mismatch", 19, KEY, False)},
    )
    add(
        "encrypted-key",
        "an encrypted PKCS#8 key: kubectl cannot ask for its passphrase",
        good.replace(key_line, f"    client-key-data: {m.encrypted_key}\n"),
        {("key.encrypted", 19, KEY, False)},
    )
    add(
        "no-current-context",
        "a hand-made kubeconfig without current-context (one context)",
        good.replace("current-context: aks-dev\n", ""),
        {("context.current_missing", None, "current-context", True)},
        repairable=True,
    )
    add(
        "dangling-current-context",
        "the context was renamed but current-context still names the old one",
        good.replace("current-context: aks-dev", "current-context: aks-dev-admin"),
        {("context.current_dangling", 12, "current-context", False)},
    )
    add(
        "missing-cluster",
        "the context names a cluster that was not copied along",
        good.replace("    cluster: aks-dev\n", "    cluster: aks-dev-old\n"),
        {("context.cluster_missing", 9, "contexts[0].context.cluster", False)},
    )
    add(
        "missing-user",
        "the context names a user that was not copied along",
        good.replace("    user: clusterUser_rg-aks_aks-dev\n", "    user: clusterAdmin_rg-aks_aks-dev\n"),
        {("context.user_missing", 10, "contexts[0].context.user", False)},
    )
    add(
        "server-missing",
        "the cluster entry lost its server line",
        good.replace(f"    server: {SERVER}\n", ""),
        {("server.missing", 3, "clusters[0].cluster.server", False)},
    )
    add(
        "server-invalid",
        "the server URL was pasted without its scheme",
        good.replace(f"server: {SERVER}", "server: aks-dev-4f1c2b.hcp.westeurope.azmk8s.io:443"),
        {("server.invalid", 5, "clusters[0].cluster.server", False)},
    )
    add(
        "devicecode",
        "the Entra AKS kubeconfig: kubelogin device-code login needs a person",
        entra(m),
        {
            ("exec.interactive", 20, "users[0].user.exec.args", False),
            ("user.exec", 32, "users[0].user.exec.command", False),  # a warning: the plugin is named
        },
    )
    add(
        "interactive",
        "kubelogin --login interactive opens a browser",
        entra(m, "interactive"),
        {
            ("exec.interactive", 20, "users[0].user.exec.args", False),
            ("user.exec", 32, "users[0].user.exec.command", False),
        },
    )
    add(
        "azure-auth-provider",
        "a pre-1.26 kubeconfig with the removed azure auth-provider (device code)",
        azure_provider(m),
        {
            ("exec.interactive", 18, "users[0].user.auth-provider", False),
            ("user.auth_provider", 26, "users[0].user.auth-provider.name", False),
        },
    )
    add(
        "file-reference",
        "a minikube-style kubeconfig pointing at files on the author's machine",
        good.replace(cert_line, "    client-certificate: /home/dev/.minikube/profiles/minikube/client.crt\n"),
        {("file.reference", 18, "users[0].user.client-certificate", False)},
    )
    add(
        "missing-key",
        "the client-key-data line was not copied",
        good.replace(key_line, ""),
        {("user.incomplete", 17, "users[0].user", False)},
    )
    add(
        "token-newline",
        "a service-account token pasted with the line break `kubectl create token` prints",
        good.replace(f"    token: {m.token}\n", f"    token: |\n      {m.token}\n"),
        {("token.wrapped", 20, "users[0].user.token", True)},
        repairable=True,
    )
    add(
        "insecure-with-ca",
        "insecure-skip-tls-verify added next to the CA: kubectl refuses the pair",
        good.replace(
            f"    server: {SERVER}\n", f"    server: {SERVER}\n    insecure-skip-tls-verify: true\n"
        ),
        {("cluster.insecure_with_ca", 6, "clusters[0].cluster.insecure-skip-tls-verify", False)},
    )
    add(
        "two-contexts",
        "the whole ~/.kube/config pasted: other clusters' credentials would travel along",
        good.replace(
            "contexts:\n",
            "contexts:\n- context:\n    cluster: aks-dev\n    user: clusterUser_rg-aks_aks-dev\n"
            "    namespace: ops\n  name: aks-dev-ops\n",
        ),
        {("kubeconfig.not_minified", 7, "contexts", True)},
        repairable=True,
    )
    add(
        "duplicate-users",
        "two kubeconfigs concatenated by hand: `users:` appears twice",
        good + f"users:\n- name: other\n  user:\n    token: {m.token}\n",
        {("yaml.duplicate_key", 21, "users", False)},
    )
    add(
        "two-documents",
        "two kubeconfigs concatenated with `---` between them",
        good + "---\n" + good,
        {("yaml.syntax", 21, "", False)},
    )
    add("empty", "an empty paste", b"", {("kubeconfig.empty", None, "", False)})
    add(
        "unclosed-quote",
        "a quote opened and never closed",
        good.replace(f"server: {SERVER}", f'server: "{SERVER}'),
        {("yaml.syntax", 21, "", False)},
    )
    add(
        "yaml-bomb",
        "billion-laughs alias expansion",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
        ),
        {("yaml.limit", 1, "", False)},
    )
    return cases
