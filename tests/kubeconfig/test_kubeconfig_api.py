"""The library API other code calls: fix, minify, current_server, fingerprint, to_kubelogin_msi,
and the limits that keep hostile input from hanging or crashing it."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
import yaml
from kubeconfig_corpus import CLIENT_ID, ENTRA_SERVER_ID, SERVER, Material, azure_provider, base, entra

from agentctl import kubeconfig as kc
from agentctl.errors import InvalidInput


def _codes(text: str | bytes) -> set[str]:
    """The codes of the errors ``check`` finds (warnings left out)."""
    return {f.code for f in kc.blocking(kc.check(text, "k.yaml"))}


def _two_clusters(m: Material) -> str:
    """base() plus a second context, cluster and user (an ops cluster)."""
    extra_cluster = (
        f"- cluster:\n    server: https://ops.example.io\n    certificate-authority-data: {m.ca}\n"
    )
    extra_cluster += "  name: ops\n"
    extra_context = "- context:\n    cluster: ops\n    user: ops-user\n  name: ops\n"
    extra_user = f"- name: ops-user\n  user:\n    token: {m.token}x\n"
    return (
        base(m)
        .replace("clusters:\n", "clusters:\n" + extra_cluster)
        .replace("contexts:\n", "contexts:\n" + extra_context)
        .replace("users:\n", "users:\n" + extra_user)
    )


# --- minify, current_server, fix with a context ------------------------------------------------


def test_minify_keeps_only_the_current_context_and_its_cluster_and_user(m: Material) -> None:
    doc = yaml.safe_load(kc.minify(_two_clusters(m)))
    assert [c["name"] for c in doc["clusters"]] == ["aks-dev"]
    assert [u["name"] for u in doc["users"]] == ["clusterUser_rg-aks_aks-dev"]
    assert doc["current-context"] == "aks-dev" and len(doc["contexts"]) == 1
    assert doc["users"][0]["user"]["client-key-data"] == m.key


def test_minify_to_a_named_context(m: Material) -> None:
    doc = yaml.safe_load(kc.minify(_two_clusters(m), "ops"))
    assert doc["clusters"][0]["cluster"]["server"] == "https://ops.example.io"
    assert doc["users"] == [{"name": "ops-user", "user": {"token": m.token + "x"}}]
    assert doc["current-context"] == "ops"


def test_minify_refuses_what_it_cannot_choose(m: Material) -> None:
    with pytest.raises(InvalidInput, match="no context 'nope'") as err:
        kc.minify(_two_clusters(m), "nope")
    assert "aks-dev" in err.value.hint and "ops" in err.value.hint
    no_current = _two_clusters(m).replace("current-context: aks-dev\n", "")
    with pytest.raises(InvalidInput, match="no usable context"):
        kc.minify(no_current)
    assert "kubeconfig.not_minified" in _codes(no_current)
    assert not next(f for f in kc.check(no_current, "k") if f.code == "kubeconfig.not_minified").fixable


def test_fix_does_not_minify_when_the_chosen_context_is_broken(m: Material) -> None:
    """Dropping clusters around a context whose cluster is missing would lose the one meant."""
    text = _two_clusters(m).replace("    cluster: aks-dev\n", "    cluster: aks-typo\n")
    fixed, remaining = kc.fix(text, "k")
    assert len(yaml.safe_load(fixed)["clusters"]) == 2
    assert {f.code for f in remaining} == {"context.cluster_missing", "kubeconfig.not_minified"}


def test_current_server(m: Material) -> None:
    assert kc.current_server(base(m)) == SERVER
    assert kc.current_server(
        _two_clusters(m).replace("current-context: aks-dev", "current-context: ops")
    ) == ("https://ops.example.io")
    with pytest.raises(InvalidInput, match="no valid server URL"):
        kc.current_server(base(m).replace(f"    server: {SERVER}\n", ""))


# --- fingerprint ---------------------------------------------------------------------------------


def test_with_namespace_sets_it_on_the_current_context_only(m: Material) -> None:
    text = _two_clusters(m)
    current = yaml.safe_load(text)["current-context"]
    name, out = kc.with_namespace(text, "team-a")
    doc = yaml.safe_load(out)
    assert name == current
    namespaces = {c["name"]: c["context"].get("namespace") for c in doc["contexts"]}
    assert namespaces == {current: "team-a", "ops": None}
    assert kc.fingerprint(out) != kc.fingerprint(text)  # the namespace is part of what a connection holds
    bare = text.replace("- context:\n    cluster: ops\n    user: ops-user\n  name: ops\n", "- name: ops\n")
    _, out = kc.with_namespace(bare.replace(f"current-context: {current}", "current-context: ops"), "x")
    assert {"name": "ops", "context": {"namespace": "x"}} in yaml.safe_load(out)["contexts"]


def test_fingerprint_ignores_form_but_not_content(m: Material) -> None:
    good = base(m)
    reference = kc.fingerprint(good)
    assert len(reference) == 64 and int(reference, 16) >= 0
    same = [
        good.replace("\n", "\r\n"),
        "\ufeff# from az aks get-credentials\n" + good,
        good.replace(
            f"    client-certificate-data: {m.cert}\n", f"    client-certificate-data: |\n      {m.cert}\n"
        ),
        _two_clusters(m),  # same current context: the others are not part of what is stored
        yaml.safe_dump(yaml.safe_load(good), sort_keys=True),
    ]
    assert {kc.fingerprint(t) for t in same} == {reference}
    different = [
        good.replace(m.token, m.token + "0"),
        good.replace(SERVER, "https://other.example.io"),
        good.replace("    cluster: aks-dev\n", "    cluster: aks-dev\n    namespace: dev\n"),
        kc.to_kubelogin_msi(entra(m), CLIENT_ID),
    ]
    assert reference not in {kc.fingerprint(t) for t in different}
    assert len({kc.fingerprint(t) for t in different}) == len(different)


# --- to_kubelogin_msi ----------------------------------------------------------------------------


def test_devicecode_kubeconfig_becomes_managed_identity(m: Material) -> None:
    original = yaml.safe_load(entra(m))
    converted = kc.to_kubelogin_msi(entra(m), CLIENT_ID, "aks-prod")
    doc = yaml.safe_load(converted)
    assert [(f.code, f.severity) for f in kc.check(converted, "converted")] == [("user.exec", "warning")]
    assert doc["clusters"] == original["clusters"]  # server and CA untouched
    assert kc.current_server(converted) == SERVER
    plugin = doc["users"][0]["user"]["exec"]
    assert plugin["command"] == "kubelogin" and plugin["interactiveMode"] == "Never"
    assert plugin["args"] == [
        "get-token",
        "--login",
        "msi",
        "--server-id",
        ENTRA_SERVER_ID,
        "--client-id",
        CLIENT_ID,
    ]
    assert doc["users"][0]["user"] == {"exec": plugin}  # nothing else: no secret is stored


def test_legacy_azure_auth_provider_converts_and_drops_its_tokens(m: Material) -> None:
    provider = azure_provider(m).replace(ENTRA_SERVER_ID, "a1b2c3d4-0000-4000-8000-00000000000a")
    converted = kc.to_kubelogin_msi(provider, CLIENT_ID)
    args = yaml.safe_load(converted)["users"][0]["user"]["exec"]["args"]
    assert args[args.index("--server-id") + 1] == "a1b2c3d4-0000-4000-8000-00000000000a"
    assert m.token not in converted and "auth-provider" not in converted
    assert kc.blocking(kc.check(converted, "c")) == []


@pytest.mark.parametrize(
    ("server_args", "want"),
    [
        ("      - --server-id=api://custom-server\n", "api://custom-server"),
        ("", "6dae42f8-4368-4678-94ff-3960e28e3630"),  # the AKS default when the kubeconfig has none
    ],
)
def test_server_id_forms(m: Material, server_args: str, want: str) -> None:
    text = entra(m).replace(f"      - --server-id\n      - {ENTRA_SERVER_ID}\n", server_args)
    args = yaml.safe_load(kc.to_kubelogin_msi(text, CLIENT_ID))["users"][0]["user"]["exec"]["args"]
    assert args[args.index("--server-id") + 1] == want


def test_conversion_refusals(m: Material) -> None:
    with pytest.raises(InvalidInput, match="not a GUID"):
        kc.to_kubelogin_msi(entra(m), "my-identity")
    with pytest.raises(InvalidInput, match="does not sign in through Entra ID"):
        kc.to_kubelogin_msi(base(m), CLIENT_ID)
    with pytest.raises(kc.Unreadable):
        kc.to_kubelogin_msi("clusters: [\n", CLIENT_ID)
    broken_ca = entra(m).replace(m.ca, m.ca[:-7])
    with pytest.raises(InvalidInput, match="converted kubeconfig is not usable") as err:
        kc.to_kubelogin_msi(broken_ca, CLIENT_ID)
    assert "base64.invalid" in str(err.value.problems[0])


def test_msi_and_azurecli_logins_are_not_interactive(m: Material) -> None:
    assert _codes(entra(m, "msi")) == set()
    assert _codes(entra(m, "azurecli")) == set()
    no_login = entra(m).replace("      - --login\n      - devicecode\n", "")
    assert _codes(no_login) == {"exec.interactive"}  # kubelogin's default login is devicecode
    from_env = no_login.replace("env: null", "env:\n      - name: AAD_LOGIN_METHOD\n        value: msi")
    assert _codes(from_env) == set()


# --- limits and odd YAML ---------------------------------------------------------------------------


def test_oversize_input_is_refused_without_parsing() -> None:
    findings = kc.check(b"a: b\n" * (kc.MAX_BYTES // 5 + 1), "k.yaml")
    assert [f.code for f in findings] == ["file.too_large"]
    with pytest.raises(kc.Unreadable, match="cannot be read"):
        kc.fix("x" * (kc.MAX_BYTES + 1), "k.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 2000 + "]" * 2000, "nests deeper than 64"),
        ("a: &a [*a]\n", "refer to themselves"),
        ("&a {x: [1, *a]}\n", "refer to themselves"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
            ),
            "YAML bomb",
        ),
    ],
)
def test_hostile_yaml_gives_a_limit_finding(text: str, message: str) -> None:
    # The limits bound the work (size, depth, expanded values), so these end in a finding, not a hang.
    findings = kc.check(text, "k.yaml")
    assert [f.code for f in findings] == ["yaml.limit"] and message in findings[0].message


@pytest.mark.parametrize(
    "text",
    [
        "current-context: 2024-13-45\n",
        "current-context: 1" + "0" * 5000 + "\n",
        "current-context: !!binary zz\n",
        "current-context: !custom x\n",
        "? [a, b]\n: c\n",
        "null\n",
        "- just\n- a list\n",
        "\x00\x01",
        b"\xff\xfe\x00",
        b"\xc3\x28 invalid utf-8",
    ],
)
def test_odd_yaml_is_a_finding_not_a_crash(text: str | bytes) -> None:
    findings = kc.check(text, "k.yaml")
    assert findings and all(isinstance(f, kc.Finding) and f.code for f in findings)


def test_yaml_merge_keys_are_understood(m: Material) -> None:
    text = (
        base(m)
        .replace(
            f"    client-certificate-data: {m.cert}\n    client-key-data: {m.key}\n    token: {m.token}\n",
            "    <<: *creds\n",
        )
        .replace(
            "kind: Config\n",
            f"kind: Config\nx-creds: &creds\n  client-certificate-data: {m.cert}\n"
            f"  client-key-data: {m.key}\n",
        )
    )
    assert kc.check(text, "k") == [f for f in kc.check(text, "k") if f.code == "kubeconfig.structure"] == []
    assert yaml.safe_load(kc.minify(text))["users"][0]["user"]["client-key-data"] == m.key


def test_duplicate_key_blocks_repair(m: Material) -> None:
    text = base(m) + "current-context: other\n"
    assert _codes(text) == {"yaml.duplicate_key"}
    with pytest.raises(kc.Unreadable):
        kc.fix(text, "k")


def test_findings_serialise(m: Material) -> None:
    finding = kc.check(base(m).replace("current-context: aks-dev", "current-context: x"), "k.yaml")[0]
    assert finding.to_dict() == {
        "code": "context.current_dangling",
        "location": "k.yaml:12 current-context",
        "file": "k.yaml",
        "line": 12,
        "field": "current-context",
        "message": "current-context names 'x', which is not defined (contexts: 'aks-dev'); "
        "pick one with --fix --context 'aks-dev'",
        "fixable": False,
        "severity": "error",
    }
    assert str(finding.problem()).startswith("k.yaml:12: current-context: current-context names")


# --- failure modes outside the corpus, with the hint each message gives ----------------------------


def _swap(old: str, new: str) -> Callable[[Material], str]:
    return lambda m: base(m).replace(old.format(m=m), new.format(m=m))


@pytest.mark.parametrize(
    ("make", "code", "field", "hint"),
    [
        (_swap("kind: Config", "kind: Pod"), "kubeconfig.kind", "kind", "must be 'Config'"),
        (_swap("users:\n", "users: {{}}\nx:\n"), "kubeconfig.structure", "users", "must be a list"),
        (_swap("- context:\n", "- contextt:\n"), "kubeconfig.structure", "contexts[0].context", "no context"),
        (
            _swap(
                "  name: aks-dev\ncontexts",
                "  name: aks-dev\n- name: aks-dev\n  cluster: {{server: https://b.io}}\ncontexts",
            ),
            "name.duplicate",
            "clusters[1].name",
            "used twice",
        ),
        (
            lambda m: "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
            "context.none",
            "contexts",
            "no context",
        ),
        (
            _swap(
                "    client-certificate-data: {m.cert}\n    client-key-data: {m.key}\n    token: {m.token}\n",
                "    {{}}\n",
            ),
            "user.no_credentials",
            "users[0].user",
            "no credentials",
        ),
        (
            _swap("    token: {m.token}\n", "    tokenFile: /var/run/secrets/token\n"),
            "file.reference",
            "users[0].user.tokenFile",
            "needs token",
        ),
        (
            lambda m: base(m).replace(m.ca, base64.b64encode(base64.b64decode(m.ca)[28:]).decode()),
            "cert.not_pem",
            "clusters[0].cluster.certificate-authority-data",
            "does not decode to a PEM certificate",
        ),
        (
            lambda m: base(m).replace(m.key, m.key.replace("+", "-").replace("/", "_") + "-_"),
            "base64.invalid",
            "users[0].user.client-key-data",
            "URL-safe",
        ),
        (
            _swap("    client-key-data: {m.key}\n", "    client-key-data:\n"),
            "base64.invalid",
            "users[0].user.client-key-data",
            "is empty",
        ),
        (
            _swap("    user: clusterUser_rg-aks_aks-dev\n  name", "  name"),
            "context.user_missing",
            "contexts[0].context.user",
            "names no user",
        ),
    ],
)
def test_more_failure_modes(
    m: Material, make: Callable[[Material], str], code: str, field: str, hint: str
) -> None:
    found = [f for f in kc.check(make(m), "k.yaml") if f.code == code]
    assert [f.field for f in found] == [field] and hint in found[0].message, kc.check(make(m), "k.yaml")


def test_der_and_utf8_errors_are_named(m: Material) -> None:
    der = base64.b64encode(b"\x30\x82\x01\x0a" + b"\x00" * 20).decode()
    found = kc.check(base(m).replace(m.cert, der), "k")
    assert [(f.code, f.message) for f in found] == [
        ("cert.not_pem", "decodes to binary DER, not a PEM certificate")
    ]
    (bad,) = kc.check(b"apiVersion: v1\nkind: \xff\n", "k")
    assert (bad.code, bad.line, bad.message) == (
        "encoding.invalid",
        2,
        "is not UTF-8 text (byte 22 is invalid)",
    )
