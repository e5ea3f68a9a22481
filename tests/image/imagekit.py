"""Helpers of the agent image tests: repository paths, a loopback HTTPS server (a throwaway certificate
that curl trusts through CURL_CA_BUNDLE) that serves fixture artifacts with scripted failures, a plain
HTTP one for the instance metadata service, and a scratch machine that runs the image's bash scripts
against them. The fixtures are registered by conftest.py."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGE_DIR = REPO / "images" / "ubuntu"
SCRIPTS = IMAGE_DIR / "scripts"
IMAGE_TESTS = IMAGE_DIR / "tests"
PACKER_DIR = REPO / "packer"
TOOLSET = IMAGE_DIR / "toolset.json"

NOBLE = 'PRETTY_NAME="Ubuntu 24.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\n'


def specs_dir() -> Path | None:
    """The shared specs folder (AGENTCTL_SPECS_DIR or ../shared/specs), or None when it is absent."""
    root = Path(os.environ.get("AGENTCTL_SPECS_DIR", REPO.parent / "shared" / "specs"))
    return root if (root / "packer" / "packer-attributes.json").is_file() else None


def need_tool(name: str) -> str:
    """The path of a command-line tool; skips the test when it is missing, unless running in CI."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI (scripts/debian-tools.sh installs it)")
        pytest.skip(f"{name} is not installed")
    return path


@dataclass
class Reply:
    """One scripted answer: a status and body; `length` overrides Content-Length (a truncated body)."""

    status: int = 200
    body: bytes = b""
    length: int | None = None


@dataclass
class Server:
    """Routes of the loopback server: path -> replies used in order, the last one repeating."""

    url: str
    routes: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def serve(self, path: str, *replies: Reply) -> str:
        self.routes[path] = list(replies)
        return path

    def hits(self, path: str) -> int:
        return self.requests.count(path)


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 and its key."""
    openssl = need_tool("openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    key_type = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subprocess.run(
        [openssl, "req", "-x509", *key_type, "-keyout", str(key), "-out", str(cert), "-days", "2", *subject],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def server(tls_cert: tuple[Path, Path]) -> Iterator[Server]:
    """The HTTPS server the image scripts download from (their mirror)."""
    with serving(tls_cert) as state:
        yield state


@pytest.fixture
def http_server() -> Iterator[Server]:
    """A plain HTTP server, for what is plain HTTP in Azure too (the instance metadata service)."""
    with serving(None) as state:
        yield state


@contextmanager
def serving(tls: tuple[Path, Path] | None) -> Iterator[Server]:
    state = Server(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            replies = state.routes.get(self.path, [Reply(404, b"not found")])
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
            self.send_response(reply.status)
            self.send_header("Content-Length", str(reply.length or len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
            if tls is not None:
                self.connection.unwrap()  # close_notify, so a short body reads as curl's "partial file"
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        scheme = "https"
    state.url = f"{scheme}://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@dataclass
class Box:
    """A scratch machine for the image scripts: state, bin and agent folders, an os-release, a toolset."""

    root: Path
    env: dict[str, str]

    @property
    def toolset(self) -> dict:
        return json.loads(Path(self.env["TOOLSET"]).read_text())

    @toolset.setter
    def toolset(self, value: dict) -> None:
        Path(self.env["TOOLSET"]).write_text(json.dumps(value, indent=2))

    @property
    def ledger(self) -> list[list[str]]:
        path = Path(self.env["IMAGE_STATE_DIR"]) / "verified.tsv"
        return [line.split("\t") for line in path.read_text().splitlines()] if path.exists() else []

    def fake(self, name: str, script: str) -> Path:
        """A fake command on PATH, e.g. `docker`, written as a bash script body."""
        path = self.root / "fakebin" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text("#!/usr/bin/env bash\n" + script)
        path.chmod(0o755)
        return path

    def run(self, command: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run bash with lib.sh sourced, then COMMAND."""
        return self.script(f'. "$IMAGE_DIR/scripts/lib.sh"\n{command}\n', **env)

    def script(self, text: str, **env: str) -> subprocess.CompletedProcess[str]:
        path = self.root / "run.sh"
        path.write_text(text)
        return self.exec(["bash", str(path)], **env)

    def exec(self, argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, env={**self.env, **env}, capture_output=True, text=True, timeout=60, check=False
        )


@pytest.fixture
def box(tmp_path: Path, server: Server, tls_cert: tuple[Path, Path]) -> Box:
    need_tool("jq")
    need_tool("curl")
    os_release = tmp_path / "os-release"
    os_release.write_text(NOBLE)
    toolset = tmp_path / "toolset.json"
    shutil.copy(TOOLSET, toolset)
    for name in ("state", "bin", "agent", "fakebin"):
        (tmp_path / name).mkdir()
    env = {
        "PATH": f"{tmp_path / 'fakebin'}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "IMAGE_DIR": str(IMAGE_DIR),
        "TOOLSET": str(toolset),
        "IMAGE_STATE_DIR": str(tmp_path / "state"),
        "IMAGE_BIN_DIR": str(tmp_path / "bin"),
        "AGENT_DIR": str(tmp_path / "agent"),
        "OS_RELEASE_FILE": str(os_release),
        "IMAGE_ARCH": "amd64",
        "IMAGE_MIRROR_URL": server.url,
        "CURL_CA_BUNDLE": str(tls_cert[0]),
        "IMAGE_RETRY_ATTEMPTS": "3",
        "IMAGE_RETRY_DELAY": "0",
        "IMAGE_DOWNLOAD_TIMEOUT": "20",
        "APT_KEYRINGS_DIR": str(tmp_path / "keyrings"),
        "APT_SOURCES_DIR": str(tmp_path / "sources"),
        "TMPDIR": str(tmp_path),
    }
    return Box(root=tmp_path, env=env)
