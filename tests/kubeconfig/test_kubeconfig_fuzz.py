"""Property-based fuzzing: arbitrary bytes, mutated corpus files and random kubeconfig-shaped
YAML never make the library raise anything but InvalidInput, and each call finishes quickly.
Where `fix` succeeds, its output is stable (fixing it again changes nothing) and nothing it
reports as remaining claims to be fixable."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kubeconfig_corpus import CLIENT_ID, corpus, material

from agentctl import kubeconfig as kc
from agentctl.errors import InvalidInput

M = material()
CASES = corpus(M)
# KUBECONFIG_FUZZ_EXAMPLES=5000 for a long run; the default keeps the suite quick.
FUZZ = settings(
    max_examples=int(os.environ.get("KUBECONFIG_FUZZ_EXAMPLES", "80")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SNIPPETS = [
    b"\t",
    b"\r\n",
    b"\r",
    b": ",
    b"- ",
    b"&a ",
    b"*a",
    b"<<: *a",
    b"'",
    b'"',
    b"|\n",
    b">-\n",
    b"\n  ",
    b"\n",
    b"\xef\xbb\xbf",
    b"---\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b"!!binary ",
    b"!!int ",
    b"\x00",
    b"==",
    b" ",
    b"#",
    b"current-context: ",
    b"- name: x\n",
    b"-----BEGIN CERTIFICATE-----",
    b"\xff",
]
KEYS = [
    "apiVersion",
    "kind",
    "clusters",
    "contexts",
    "users",
    "current-context",
    "name",
    "cluster",
    "context",
    "user",
    "server",
    "certificate-authority-data",
    "client-certificate-data",
    "client-key-data",
    "token",
    "exec",
    "args",
    "command",
    "env",
    "auth-provider",
    "config",
    "insecure-skip-tls-verify",
    "interactiveMode",
    "tokenFile",
    "client-certificate",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.sampled_from(
        [
            M.ca,
            M.cert,
            M.key,
            M.cert[:-3],
            M.cert_pem,
            M.token,
            "kubelogin",
            "devicecode",
            "azure",
            "https://a.example.io",
            "get-token",
            "--login",
            "Always",
        ]
    ),
)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    max_leaves=25,
)


def _exercise(text: str | bytes) -> None:
    findings = kc.check(text, "fuzz.yaml")
    assert all(isinstance(f, kc.Finding) and f.code and f.message for f in findings)
    try:
        fixed, remaining = kc.fix(text, "fuzz.yaml")
    except InvalidInput:
        pass
    else:
        assert not any(f.fixable for f in remaining), remaining
        assert kc.fix(fixed, "fuzz.yaml")[0] == fixed
    for call in (
        lambda: kc.minify(text),
        lambda: kc.current_server(text),
        lambda: kc.fingerprint(text),
        lambda: kc.to_kubelogin_msi(text, CLIENT_ID),
    ):
        with contextlib.suppress(InvalidInput):
            call()


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data: bytes) -> None:
    _exercise(data)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#\t\r\n ax0=?,")), max_size=200))
def test_yaml_punctuation_soup(text: str) -> None:
    _exercise(text)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CASES)).text)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "swap"]))
        if action == "insert":
            data[at:at] = draw(st.sampled_from(SNIPPETS))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 80))]
        else:
            lines = bytes(data).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@FUZZ
@given(_mutated())
def test_mutated_corpus(data: bytes) -> None:
    _exercise(data)


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), TREES, max_size=6))
def test_kubeconfig_shaped_yaml(tree: dict[str, Any]) -> None:
    _exercise(yaml.safe_dump(tree))
