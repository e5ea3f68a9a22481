"""No certificate, key or token text reaches stdout or stderr on any command path.

The kubeconfigs carry real credentials whose certificates hold canary markers; the token and
an exec client secret are canaries themselves. Any 20-character window of any secret in the
output (table, JSON, --debug logs, error messages) fails the test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubeconfig_corpus import Case, Material, corpus, material

from agentctl import kubeconfig as kc
from agentctl.cli import run

WINDOW = 20


def _leaks(text: str, secrets: list[str]) -> list[str]:
    found = []
    for secret in secrets:
        windows = {secret[i : i + WINDOW] for i in range(0, max(1, len(secret) - WINDOW + 1), 5)}
        if any(w in text for w in windows):
            found.append(secret[:6] + "…")
    return found


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """--debug adds a handler to the root logger; drop it after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _with_secret_exec(m: Material) -> str:
    """A kubelogin service-principal kubeconfig with the client secret in its args (seen in the wild)."""
    return (
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
        f"    server: https://example.hcp.io\n    certificate-authority-data: {m.ca}\n"
        "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
        "users:\n- name: u\n  user:\n    exec:\n      command: kubelogin\n"
        f"      args: [get-token, --login, spn, --client-secret, {m.client_secret}, --server-id, abc]\n"
        # no current-context: a finding, and with --context below, a selection error path
    )


def _inputs(m: Material) -> list[tuple[str, bytes]]:
    cases: list[Case] = corpus(m)
    return [(c.name, c.text) for c in cases] + [("exec-secret", _with_secret_exec(m).encode())]


# Every command path: table and JSON, with and without --debug, check, fix to a file, fix in
# place, a context that does not exist (error path) and one that does.
ARGVS = [
    ["-o", "table", "kubeconfig", "check", "{src}"],
    ["-o", "json", "--debug", "kubeconfig", "check", "{src}"],
    ["-o", "table", "--debug", "kubeconfig", "check", "{src}", "--fix", "--out", "{out}"],
    ["-o", "json", "kubeconfig", "check", "{src}", "--fix"],
    ["-o", "table", "--debug", "kubeconfig", "check", "{src}", "--fix", "--context", "no-such-context"],
    ["-o", "json", "kubeconfig", "check", "{src}", "--fix", "--context", "x", "--out", "{out}"],
]


@pytest.mark.parametrize("name_text", _inputs(material()), ids=lambda nt: nt[0])
def test_no_secret_in_any_output(
    name_text: tuple[str, bytes], tmp_path: Path, capfd: pytest.CaptureFixture[str], m: Material
) -> None:
    _, text = name_text
    for template in ARGVS:
        src = tmp_path / "kube.yaml"
        src.write_bytes(text)
        argv = [a.format(src=src, out=tmp_path / "out.yaml") for a in template]
        code = run(argv)
        out, err = capfd.readouterr()
        assert code in (0, 3), (argv, err[-400:])
        assert out + err
        assert "--debug" in argv or "Traceback" not in err, err[-400:]
        assert not _leaks(out + err, m.secrets), (argv, _leaks(out + err, m.secrets))


def test_library_errors_hold_no_secret(m: Material) -> None:
    text = _with_secret_exec(m)
    messages = []
    for call in (
        lambda: kc.minify(text, "nope"),
        lambda: kc.current_server(text.replace("https://example.hcp.io", "''")),
        lambda: kc.to_kubelogin_msi(text, "not-a-guid"),
        lambda: kc.to_kubelogin_msi(text.replace("exec:", "exec-x:"), "8a3f0c2e-5d6b-4e7a-9c1d-2b3e4f5a6b7c"),
    ):
        with pytest.raises(kc.InvalidInput) as err:
            call()
        messages.append(f"{err.value.message} {err.value.hint} {[str(p) for p in err.value.problems]}")
    assert not _leaks("\n".join(messages), m.secrets)
    assert not _leaks(repr(kc.check(text, "k")), m.secrets)


def test_the_leak_detector_detects(m: Material) -> None:
    assert _leaks(f"x {m.cert[100:130]} y", m.secrets)
    assert _leaks(m.token, m.secrets)
    assert not _leaks("users[0].user.client-certificate-data is not base64", m.secrets)
