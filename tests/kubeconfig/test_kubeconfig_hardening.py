"""What a kubeconfig makes kubectl trust or run is reported, and `--fix --out` never writes
through a symbolic link."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from kubeconfig_corpus import SERVER, Material, base, entra

from agentctl import kubeconfig as kc
from agentctl.cli import run
from agentctl.errors import EXIT_INVALID, quoted


def _found(text: str) -> set[tuple[str, int | None, str, str]]:
    return {(f.code, f.line, f.field, f.severity) for f in kc.check(text, "k.yaml")}


def _gcp_user(m: Material, command: str) -> str:
    """The user of ``base`` signing in through the old gcp auth-provider, which runs cmd-path."""
    user = (
        "  user:\n    auth-provider:\n      name: gcp\n      config:\n"
        f"        cmd-path: {command}\n        cmd-args: config config-helper --format=json\n"
    )
    head = base(m).split("  user:\n")[0]
    return head + user


def test_an_http_server_is_an_error(m: Material) -> None:
    text = base(m).replace(SERVER, "http://10.0.0.4:8080")
    assert ("server.http", 5, "clusters[0].cluster.server", "error") in _found(text)


def test_skipping_tls_verification_is_an_error_with_or_without_a_ca(m: Material) -> None:
    without_ca = base(m).replace(
        f"    certificate-authority-data: {m.ca}\n", "    insecure-skip-tls-verify: true\n"
    )
    field = "clusters[0].cluster.insecure-skip-tls-verify"
    assert ("cluster.insecure_skip_tls_verify", 4, field, "error") in _found(without_ca)
    with_ca = base(m).replace(
        f"    server: {SERVER}\n", f"    server: {SERVER}\n    insecure-skip-tls-verify: true\n"
    )
    assert {c for c, *_ in _found(with_ca)} == {"cluster.insecure_with_ca"}  # kubectl's own refusal
    assert (
        _found(
            base(m).replace(
                f"    server: {SERVER}\n", f"    server: {SERVER}\n    insecure-skip-tls-verify: false\n"
            )
        )
        == set()
    )


def test_exec_and_auth_provider_plugins_are_named_never_run(m: Material, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    plugin = tmp_path / "plugin.sh"
    plugin.write_text(f"#!/bin/sh\ntouch {marker}\n")
    plugin.chmod(0o700)
    text = entra(m, "msi").replace("command: kubelogin", f"command: {plugin}")
    exec_findings = [f for f in kc.check(text, "k.yaml") if f.code == "user.exec"]
    assert len(exec_findings) == 1 and exec_findings[0].severity == "warning"
    assert (
        exec_findings[0].field == "users[0].user.exec.command" and quoted(plugin) in exec_findings[0].message
    )

    gcp = _gcp_user(m, str(plugin))
    found = {f.code: f for f in kc.check(gcp, "k.yaml")}
    assert (
        found["user.auth_provider"].severity == "warning" and "'gcp'" in found["user.auth_provider"].message
    )
    assert found["user.cmd_path"].severity == "error"
    assert found["user.cmd_path"].field == "users[0].user.auth-provider.config.cmd-path"
    assert quoted(plugin) in found["user.cmd_path"].message
    kc.fix(gcp, "k.yaml")
    kc.fingerprint(text)
    assert not marker.exists()  # nothing in the file was run


def test_a_warning_alone_exits_0_and_is_no_envelope_error(
    m: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "kube.yaml"
    src.write_text(entra(m, "msi"))
    code = run(["-o", "json", "kubeconfig", "check", str(src)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["status"] == "ok" and not doc.get("errors")
    assert [(f["code"], f["severity"]) for f in doc["data"]["findings"]] == [("user.exec", "warning")]
    src.write_text(base(m).replace(SERVER, "http://aks.internal"))
    assert run(["kubeconfig", "check", str(src)]) == EXIT_INVALID
    assert "server.http" in capsys.readouterr().out


def test_a_long_name_is_quoted_shortened(m: Material) -> None:
    text = (
        base(m).replace(f"    server: {SERVER}\n", "").replace("name: aks-dev", "name: " + "c" * 900_000, 1)
    )
    messages = " ".join(f.message for f in kc.check(text, "k.yaml"))
    assert "has no server URL" in messages
    assert "c" * 41 not in messages and "(900000 characters)" in messages


@pytest.mark.parametrize("dangling", [False, True])
def test_fix_out_refuses_a_symlink(
    m: Material, tmp_path: Path, capsys: pytest.CaptureFixture[str], dangling: bool
) -> None:
    src = tmp_path / "kube.yaml"
    src.write_text(base(m).replace("\n", "\r\n"))  # fixable
    victim = tmp_path / "victim"
    if not dangling:
        victim.write_text("keep me\n")
    link = tmp_path / "out.yaml"
    link.symlink_to(victim)
    code = run(["-o", "json", "kubeconfig", "check", str(src), "--fix", "--out", str(link)])
    doc = json.loads(capsys.readouterr().out)
    assert code == EXIT_INVALID and doc["status"] == "error"
    assert "symbolic link" in doc["errors"][0]["message"]
    assert link.is_symlink() and os.readlink(link) == str(victim)
    assert victim.read_text() == "keep me\n" if not dangling else not victim.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["kube.yaml", "out.yaml", *([] if dangling else ["victim"])]
    )  # no temp file left


def test_fix_out_replaces_a_link_planted_after_the_check(m: Material, tmp_path: Path) -> None:
    """The write is a rename onto the path: a link that appears there is replaced, not followed."""
    from agentctl.cli.kubeconfig import _write_private

    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    out = tmp_path / "out.yaml"
    out.symlink_to(victim)
    _write_private(out, "apiVersion: v1\n", in_place=False)
    assert not out.is_symlink() and out.read_text() == "apiVersion: v1\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and victim.read_text() == "keep me\n"
