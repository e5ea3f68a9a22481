"""Hostile and broken clients: the token is judged before the body is read, bodies are capped, bad
lengths and over-deep JSON get a 400, stalled handshakes and idle connections are closed, the
access log is bounded, a broken state directory says so, and one directory has one `serve`.

Every socket here has a timeout and no test sends a large body: the tests are bounded in time
and memory whatever the server does."""

from __future__ import annotations

import errno
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import FAST, SUB, outside_the_specs

from agentctl.cli import run
from agentctl.sandbox import Sandbox, Timing, start
from testlib import EXAMPLE_POOL

RG_PUT = f"/subscriptions/{SUB}/resourcegroups/rg-x?api-version=2024-07-01"
RG_LIST = f"/subscriptions/{SUB}/resourcegroups?api-version=2024-07-01"
TIMEOUT = 10  # seconds any socket here waits at most


@pytest.fixture
def quick(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox that gives up on a handshake or an idle connection after 0.3 s."""
    sb = start(tmp_path / "sb", timing=Timing(handshake_timeout=0.3, keepalive_timeout=0.3), record=False)
    yield sb
    sb.stop()


def tls(sb: Sandbox) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", sb.port), timeout=TIMEOUT)
    return ssl.create_default_context(cafile=sb.ca_bundle).wrap_socket(raw, server_hostname="127.0.0.1")


def exchange(sb: Sandbox, head: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send a request's head (and maybe part of a body); read one response: (status, headers, body)."""
    with tls(sb) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            assert chunk, data
            data += chunk
        top, _, rest = data.partition(b"\r\n\r\n")
        lines = top.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        while len(rest) < int(headers.get("content-length", 0)):
            chunk = conn.recv(65536)
            assert chunk
            rest += chunk
        return int(lines[0].split()[1]), headers, rest


def head(method: str, path: str, token: str = "", **headers: str) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def test_the_token_is_checked_before_the_body_is_read(sb: Sandbox) -> None:
    # A gigabyte announced, nothing sent: without a token the answer comes at once.
    status, headers, body = exchange(sb, head("PUT", RG_PUT, Content_Length="1000000000"))
    assert status == 401 and json.loads(body)["error"]["code"] == "AuthenticationFailed"
    assert headers["connection"] == "close"
    status, _, body = exchange(sb, head("PUT", RG_PUT, "forged.token.here", Content_Length="1000000000"))
    assert status == 401 and json.loads(body)["error"]["code"] == "InvalidAuthenticationToken"
    devops = f"/{sb.organization}/_apis/projects?api-version=7.1"
    assert exchange(sb, head("POST", devops, sb.token, Content_Length="1000000000"))[0] == 401  # ARM's token


def test_an_oversized_body_is_413_before_it_is_read(sb: Sandbox) -> None:
    status, headers, body = exchange(sb, head("PUT", RG_PUT, sb.token, Content_Length=str(5 * 1024 * 1024)))
    assert status == 413 and json.loads(body)["error"]["code"] == "RequestEntityTooLarge"
    assert "x-ms-request-id" in headers and headers["connection"] == "close"
    status, _, body = exchange(
        sb,
        head(
            "POST",
            f"/{sb.organization}/_apis/projects?api-version=7.1",
            sb.devops_token,
            Content_Length="9999999",
        ),
    )
    assert status == 413 and json.loads(body)["typeKey"] == "RequestContentTooLargeException"
    log = [json.loads(line) for line in sb.access_log.read_text().splitlines()]
    assert [e["status"] for e in log] == [413, 413]


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "12 34"])
def test_a_bad_content_length_is_400(sb: Sandbox, length: str) -> None:
    status, _, body = exchange(sb, head("PUT", RG_PUT, sb.token, Content_Length=length))
    assert status == 400 and b"Invalid Content Length" in body
    outside_the_specs(sb, "arm.resourcegroups.put", "HTTP framing errors are answered before any API")


def test_chunked_bodies_need_a_length(sb: Sandbox) -> None:
    status, _, _ = exchange(sb, head("PUT", RG_PUT, sb.token, Transfer_Encoding="chunked"), b"0\r\n\r\n")
    assert status == 411
    outside_the_specs(sb, "arm.resourcegroups.put", "HTTP framing errors are answered before any API")


def test_json_nested_too_deep_is_400_and_the_server_goes_on(sb: Sandbox) -> None:
    for depth in (65, 100_000):  # past the limit, and past Python's recursion limit
        doc = b"[" * depth + b"]" * depth
        status, _, body = exchange(
            sb,
            head("PUT", RG_PUT, sb.token, Content_Length=str(len(doc)), Content_Type="application/json"),
            doc,
        )
        assert status == 400 and json.loads(body)["error"]["code"] == "InvalidRequestContent"
    status, _, body = exchange(sb, head("GET", RG_LIST, sb.token))
    assert status == 200 and json.loads(body)["value"]


def test_a_stalled_handshake_is_dropped(quick: Sandbox) -> None:
    with socket.create_connection(("127.0.0.1", quick.port), timeout=TIMEOUT) as raw:
        began = time.monotonic()
        assert raw.recv(1024) == b""  # closed by the server; never a TLS answer to silence
        assert time.monotonic() - began < TIMEOUT


def test_idle_and_stalled_connections_are_closed(quick: Sandbox) -> None:
    with tls(quick) as conn:
        assert conn.recv(1024) == b""  # idle after the handshake
    with tls(quick) as conn:
        conn.sendall(f"GET {RG_LIST} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())  # the head never ends
        assert conn.recv(1024) == b""
    with tls(quick) as conn:  # a body that never comes
        conn.sendall(
            head("PUT", RG_PUT, quick.token, Content_Length="100").replace("\n", "\r\n").encode() + b"\r\n"
        )
        assert conn.recv(1024) == b""
    status, _, _ = exchange(quick, head("GET", RG_LIST, quick.token))
    assert status == 200


def test_the_access_log_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTCTL_SANDBOX_LOG_MAX_BYTES", "20000")
    sb = start(tmp_path / "sb", timing=FAST, record=False)
    try:
        for _ in range(60):
            assert exchange(sb, head("GET", RG_LIST, sb.token))[0] == 200
    finally:
        sb.stop()
    current, previous = sb.access_log, sb.access_log.with_name("access.jsonl.1")
    assert 0 < current.stat().st_size <= 20000 and 0 < previous.stat().st_size <= 20000
    assert previous.stat().st_mode & 0o777 == 0o600
    assert all(json.loads(line)["status"] == 200 for line in previous.read_text().splitlines())
    assert run(["sandbox", "reset", "--dir", str(tmp_path / "sb")]) == 0
    assert not current.exists() and not previous.exists()
    monkeypatch.setenv("AGENTCTL_SANDBOX_LOG_MAX_BYTES", "lots")
    assert run(["--sandbox", "--sandbox-dir", str(tmp_path / "sb"), "status", "-f", str(EXAMPLE_POOL)]) == 3


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = run(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out + captured.err


@pytest.mark.parametrize("content", ["{not json", "[]", '{"meta": 1}', "\udcff"])
def test_a_corrupt_state_names_reset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    state = tmp_path / "sb"
    state.mkdir()
    (state / "state.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    code, text = cli(capsys, "--sandbox", "--sandbox-dir", str(state), "status", "-f", str(EXAMPLE_POOL))
    assert code == 1 and "agentctl sandbox reset" in text and "state.json" in text
    assert cli(capsys, "sandbox", "reset", "--dir", str(state))[0] == 0
    assert cli(capsys, "--sandbox", "--sandbox-dir", str(state), "status", "-f", str(EXAMPLE_POOL))[0] == 0


def fail_writes(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Every file write in the state directory fails after writing (a full disk) or at once (a
    read-only one). The tests run as any user, so the failure is made, not provoked with chmod."""
    if code == errno.ENOSPC:

        def fsync(fd: int) -> None:
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(os, "fsync", fsync)
    else:
        import tempfile

        def mkstemp(*args: Any, **kwargs: Any) -> Any:
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_directory_names_reset_and_leaves_no_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    state = tmp_path / "sb"
    # Before any state exists: the sandbox cannot start.
    with monkeypatch.context() as m:
        fail_writes(m, code)
        status, text = cli(
            capsys, "--sandbox", "--sandbox-dir", str(state), "status", "-f", str(EXAMPLE_POOL)
        )
    assert status == 1 and "agentctl sandbox reset" in text and os.strerror(code) in text
    # With a state: a write request fails with the same words, the state stays as it was.
    sb = start(state, timing=FAST, record=False)
    try:
        before = (state / "state.json").read_bytes()
        with monkeypatch.context() as m:
            fail_writes(m, code)
            status_code, _, body = exchange(
                sb, head("PUT", RG_PUT, sb.token, Content_Length="26"), b'{"location": "westeurope"}'
            )
        assert status_code == 500 and "agentctl sandbox reset" in json.loads(body)["error"]["message"]
        assert (state / "state.json").read_bytes() == before
        assert [p.name for p in state.iterdir() if p.name.startswith(".state.json")] == []
        assert (
            exchange(sb, head("PUT", RG_PUT, sb.token, Content_Length="26"), b'{"location": "westeurope"}')[0]
            == 201
        )
    finally:
        sb.stop()


def test_two_serves_at_once_on_one_directory_start_one(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "agentctl", "sandbox", "serve", "--dir", str(tmp_path / "sb")]
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    try:
        lines = [p.stdout.readline() if p.stdout else "" for p in procs]  # EOF for the one that exits
        serving = [p for p, line in zip(procs, lines, strict=True) if line.startswith("{")]
        refused = [p for p, line in zip(procs, lines, strict=True) if not line.startswith("{")]
        assert len(serving) == 1 and len(refused) == 1
        assert refused[0].wait(timeout=60) == 5
        assert "already serves" in (refused[0].stderr.read() if refused[0].stderr else "")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
            p.wait(timeout=60)
