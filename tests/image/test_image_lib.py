"""lib.sh against a loopback HTTP server: verified downloads, bounded retry, checksum files, apt keys."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from imagekit import Box, Reply, Server, need_tool

ARTIFACT = b"#!/bin/sh\necho fixture artifact\n" * 64
ARTIFACT_SHA = hashlib.sha256(ARTIFACT).hexdigest()


def use_download(box: Box, tool: str, **download: str) -> None:
    """Point TOOL's amd64 download at fixture URLs (served by the mirror) with the given integrity."""
    toolset = box.toolset
    toolset["tools"][tool]["downloads"] = {"amd64": download}
    box.toolset = toolset


def test_download_fetches_through_the_mirror(box: Box, server: Server) -> None:
    server.serve("/example.test/files/tool", Reply(200, ARTIFACT))
    out = box.root / "out" / "tool"
    result = box.run(f"download https://example.test/files/tool {out}")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == ARTIFACT
    assert server.hits("/example.test/files/tool") == 1
    assert not out.with_name("tool.part").exists()


def test_download_refuses_plain_http(box: Box) -> None:
    result = box.run(f"download http://example.test/tool {box.root / 'tool'}")
    assert result.returncode != 0
    assert "refusing a non-https download URL: http://example.test/tool" in result.stderr


def test_pinned_artifact_installs_and_is_recorded(box: Box, server: Server) -> None:
    server.serve("/fixtures.test/kubectl-1.36.5", Reply(200, ARTIFACT))
    use_download(
        box,
        "kubectl",
        url="https://fixtures.test/kubectl-{version}",
        sha256=ARTIFACT_SHA,
        sha256_from="test fixture",
    )
    out = box.root / "kubectl"
    result = box.run(f"fetch_artifact kubectl {out}")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == ARTIFACT
    assert box.ledger == [
        ["sha256", "kubectl 1.36.5 (amd64, kubectl-1.36.5)", ARTIFACT_SHA, "pinned in toolset.json"]
    ]


def test_an_unpinned_artifact_is_refused_and_no_checksum_file_is_read(box: Box, server: Server) -> None:
    """A checksum comes from the toolset only: neither the origin nor the mirror can supply one."""
    listing = f"{ARTIFACT_SHA}  helm-v3.21.4-linux-amd64.tar.gz\n"
    server.serve("/fixtures.test/helm-v3.21.4-linux-amd64.tar.gz", Reply(200, ARTIFACT))
    server.serve("/fixtures.test/helm-v3.21.4-linux-amd64.tar.gz.sha256sum", Reply(200, listing.encode()))
    use_download(
        box,
        "helm",
        url="https://fixtures.test/helm-v{version}-linux-amd64.tar.gz",
        checksum_url="https://fixtures.test/helm-v{version}-linux-amd64.tar.gz.sha256sum",
    )
    out = box.root / "helm.tgz"
    result = box.run(f"fetch_artifact helm {out}")
    assert result.returncode == 1
    assert (
        f"{box.env['TOOLSET']} pins no sha256 for helm (amd64): run images/refresh-pins.sh" in result.stderr
    )
    assert server.requests == []
    assert not out.exists() and box.ledger == []


@pytest.mark.parametrize("mirror", ["http://127.0.0.1:9", "ftp://mirror.test", "mirror.test"])
def test_a_mirror_must_be_https(box: Box, server: Server, mirror: str) -> None:
    server.serve("/example.test/files/tool", Reply(200, ARTIFACT))
    out = box.root / "tool"
    result = box.run(f"download https://example.test/files/tool {out}", IMAGE_MIRROR_URL=mirror)
    assert result.returncode == 1
    assert f"IMAGE_MIRROR_URL must be an https URL, not '{mirror}'" in result.stderr
    assert not out.exists()


def test_wrong_pinned_checksum_aborts(box: Box, server: Server) -> None:
    server.serve("/fixtures.test/kubectl", Reply(200, ARTIFACT))
    wrong = "f" * 64
    use_download(
        box, "kubectl", url="https://fixtures.test/kubectl?v={version}", sha256=wrong, sha256_from="x" * 20
    )
    server.serve("/fixtures.test/kubectl?v=1.36.5", Reply(200, ARTIFACT))
    result = box.run(f"fetch_artifact kubectl {box.root / 'kubectl'}\necho unreachable")
    assert result.returncode == 1
    assert "unreachable" not in result.stdout
    assert (
        f"checksum mismatch for kubectl 1.36.5 (amd64, kubectl?v=1.36.5): expected {wrong}" in result.stderr
    )
    assert f"got {ARTIFACT_SHA}" in result.stderr
    assert box.ledger == []


def test_not_found_aborts_with_curls_exit_code(box: Box, server: Server) -> None:
    out = box.root / "missing"
    result = box.run(f"download https://example.test/missing {out}\necho unreachable")
    assert result.returncode == 22
    assert "unreachable" not in result.stdout
    assert f"GET {server.url}/example.test/missing failed: HTTP 404, curl exit 22" in result.stderr
    assert server.hits("/example.test/missing") == 3  # bounded: IMAGE_RETRY_ATTEMPTS
    assert not out.exists() and not out.with_name("missing.part").exists()


def test_truncated_transfer_aborts(box: Box, server: Server) -> None:
    server.serve("/example.test/big", Reply(200, ARTIFACT[:100], length=len(ARTIFACT)))
    out = box.root / "big"
    result = box.run(f"download https://example.test/big {out}")
    assert result.returncode == 18  # curl: partial file
    assert "curl exit 18" in result.stderr
    assert not out.exists()


def test_short_file_without_length_fails_its_checksum(box: Box, server: Server) -> None:
    server.serve("/fixtures.test/kubectl", Reply(200, ARTIFACT[:100]))
    use_download(
        box, "kubectl", url="https://fixtures.test/kubectl", sha256=ARTIFACT_SHA, sha256_from="x" * 20
    )
    result = box.run(f"fetch_artifact kubectl {box.root / 'kubectl'}")
    assert result.returncode == 1
    assert f"checksum mismatch for kubectl 1.36.5 (amd64, kubectl): expected {ARTIFACT_SHA}" in result.stderr


def test_transient_503_is_retried(box: Box, server: Server) -> None:
    server.serve("/example.test/flaky", Reply(503, b"busy"), Reply(200, ARTIFACT))
    out = box.root / "flaky"
    result = box.run(f"download https://example.test/flaky {out}")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == ARTIFACT
    assert server.hits("/example.test/flaky") == 2
    assert "HTTP 503, curl exit 22" in result.stderr
    assert "attempt 1/3 of fetch_once failed (exit 22)" in result.stderr


def test_retry_keeps_the_real_exit_code(box: Box) -> None:
    counter = box.root / "count"
    result = box.run(f"retry bash -c 'echo x >> {counter}; exit 7'\necho unreachable")
    assert result.returncode == 7
    assert "unreachable" not in result.stdout
    assert len(counter.read_text().splitlines()) == 3
    assert "giving up on bash after 3 attempts (exit 7)" in result.stderr


def test_retry_stops_at_the_first_success(box: Box) -> None:
    counter = box.root / "count"
    result = box.run(f"retry bash -c 'echo x >> {counter}; [ $(wc -l < {counter}) -ge 2 ]'")
    assert result.returncode == 0
    assert len(counter.read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (f"{ARTIFACT_SHA}\n", "kubectl"),
        (f"{'1' * 64}  other.zip\n{ARTIFACT_SHA}  kubelogin-linux-amd64.zip\n", "kubelogin-linux-amd64.zip"),
        (
            json.dumps(
                {
                    "tag_name": "v5.279.0",
                    "body": "| Package | SHA-256 |\r\n"
                    f"| [vsts-agent-linux-musl-x64-5.279.0.tar.gz](https://x) | {'2' * 64} |\r\n"
                    f"| [vsts-agent-linux-x64-5.279.0.tar.gz](https://x) | {ARTIFACT_SHA.upper()} |\r\n",
                }
            ),
            "vsts-agent-linux-x64-5.279.0.tar.gz",
        ),
    ],
    ids=["bare-hash", "sha256sum-list", "release-notes"],
)
def test_checksum_file_formats(box: Box, content: str, name: str) -> None:
    path = box.root / "sums"
    path.write_text(content)
    result = box.run(f"checksum_from_file {path} {name}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ARTIFACT_SHA


def test_ambiguous_checksum_file_is_rejected(box: Box) -> None:
    path = box.root / "sums"
    path.write_text(f"{'1' * 64}  a.zip\n{'2' * 64}  b.zip\n")
    result = box.run(f"checksum_from_file {path} c.zip")
    assert result.returncode == 1
    assert "no single sha256 for c.zip in the checksum file" in result.stderr


def test_missing_toolset_key_names_file_and_path(box: Box) -> None:
    result = box.run("toolset_get tools kubectl downloads arm64 url")
    assert result.returncode == 1
    assert f"{box.env['TOOLSET']} has no value at tools.kubectl.downloads.arm64.url" in result.stderr


@pytest.mark.parametrize(
    ("os_release", "suffix"),
    [
        ('VERSION_ID="24.04"\nVERSION_CODENAME=noble\n', "ubuntu.24.04~noble"),
        ('VERSION_ID="22.04"\nVERSION_CODENAME=jammy\n', "ubuntu.22.04~jammy"),
    ],
    ids=["noble", "jammy"],
)
def test_apt_pins_follow_the_ubuntu_release(box: Box, os_release: str, suffix: str) -> None:
    Path(box.env["OS_RELEASE_FILE"]).write_text(os_release)
    result = box.run("apt_pins docker; upstream_version 5:29.8.2-1~x; upstream_version 0.37.1-1~x")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"docker-ce=5:29.8.2-1~{suffix}" in lines
    assert f"docker-buildx-plugin=0.37.1-1~{suffix}" in lines
    assert lines[-2:] == ["29.8.2", "0.37.1"]


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[bytes, str]]:
    """A throwaway OpenPGP public key (armored) and its fingerprint. Making it starts a gpg-agent
    for the temporary home; it is stopped afterwards, so the test run leaves no daemon behind."""
    need_tool("gpg")
    home = tmp_path_factory.mktemp("gnupg")
    env = {**os.environ, "GNUPGHOME": str(home)}
    gpg = ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(
        [*gpg, "--quick-gen-key", "Fixture Repo <repo@example.test>", "ed25519", "sign", "never"],
        env=env,
        check=True,
        capture_output=True,
    )
    key = subprocess.run([*gpg, "--armor", "--export"], env=env, check=True, capture_output=True).stdout
    listing = subprocess.run(
        [*gpg, "--with-colons", "--list-keys"], env=env, check=True, capture_output=True, text=True
    ).stdout
    fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    yield key, fingerprint
    subprocess.run(["gpgconf", "--kill", "all"], env=env, check=True, capture_output=True)
    deadline = time.monotonic() + 10  # the agent exits shortly after it is told to
    while agents_of(home) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not agents_of(home), "a gpg-agent outlived the test"


def agents_of(home: Path) -> list[int]:
    """The pids of gpg-agents serving GNUPGHOME ``home``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone, or not a process
            continue
        if proc.name.isdigit() and argv and argv[0].endswith(b"gpg-agent") and str(home).encode() in argv:
            found.append(int(proc.name))
    return found


def use_repository(box: Box, fingerprint: str) -> None:
    toolset = box.toolset
    toolset["tools"]["docker"]["repository"].update(
        key_url="https://repo.example.test/gpg", key_fingerprint=fingerprint
    )
    box.toolset = toolset


def test_apt_repository_trusts_only_the_pinned_key(
    box: Box, server: Server, signing_key: tuple[bytes, str]
) -> None:
    key, fingerprint = signing_key
    server.serve("/repo.example.test/gpg", Reply(200, key))
    use_repository(box, fingerprint)
    result = box.run("apt_add_repository docker")
    assert result.returncode == 0, result.stderr
    keyring = box.root / "keyrings" / "docker.asc"
    assert keyring.read_bytes() == key
    assert (box.root / "sources" / "docker.sources").read_text() == (
        "Types: deb\n"
        "URIs: https://download.docker.com/linux/ubuntu\n"
        "Suites: noble\n"
        "Components: stable\n"
        "Architectures: amd64\n"
        f"Signed-By: {keyring}\n"
    )
    assert box.ledger == [["key-fingerprint", "docker apt key", fingerprint, "https://repo.example.test/gpg"]]


def test_apt_repository_rejects_another_key(box: Box, server: Server, signing_key: tuple[bytes, str]) -> None:
    key, fingerprint = signing_key
    server.serve("/repo.example.test/gpg", Reply(200, key))
    expected = "9DC858229FC7DD38854AE2D88D81803C0EBFCD88"
    use_repository(box, expected)
    result = box.run("apt_add_repository docker")
    assert result.returncode == 1
    assert f"has fingerprint(s) [{fingerprint}], expected {expected}" in result.stderr
    assert not (box.root / "sources").exists()
    assert not (box.root / "keyrings").exists()
