"""images/build.sh (what `make image` runs) with fake packer and az on PATH: prerequisites, credentials,
the date-based version, the packer init/validate/build sequence and the downloaded software report."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from imagekit import PACKER_DIR, REPO, Reply, Server

BUILD = REPO / "images" / "build.sh"
VAR_FILE = PACKER_DIR / "ubuntu-24.04.pkrvars.hcl"
EPOCH_2026_01_05 = "1767614400"  # 2026-01-05T12:00:00Z

FAKE_PACKER = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
case $1 in
  version) echo "Packer v${FAKE_PACKER_VERSION:-1.11.2}" ;;
  build)
    for arg in "$@"; do
      case $arg in
        image_version=*) version=${arg#*=} ;;
        artifacts_dir=*) dir=${arg#*=} ;;
      esac
    done
    if [ -z "${FAKE_NO_REPORT:-}" ]; then
      mkdir -p "$dir/ubuntu-24.04-agent/$version"
      echo '{}' > "$dir/ubuntu-24.04-agent/$version/software-report.json"
    fi ;;
esac
exit 0
"""
FAKE_AZ = """#!/usr/bin/env bash
echo "az $*" >> "$FAKE_LOG"
case "$1 $2" in
  "account show") exit "${FAKE_AZ_LOGIN_EXIT:-0}" ;;
  "sig image-version") printf '%s\\n' ${FAKE_AZ_VERSIONS:-} ;;
esac
"""


class Host:
    """A build host: a PATH with only the fakes we chose, plus the basic tools build.sh uses."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "calls.log"
        for tool in (
            "bash",
            "grep",
            "sed",
            "sort",
            "tail",
            "date",
            "dirname",
            "basename",
            "curl",
            "env",
            "mkdir",
        ):
            (self.bin / tool).symlink_to(
                subprocess.check_output(["bash", "-c", f"command -v {tool}"], text=True).strip()
            )

    def add(self, name: str, script: str) -> None:
        path = self.bin / name
        path.write_text(script)
        path.chmod(0o755)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        base = {
            "PATH": str(self.bin),
            "HOME": str(self.root),
            "FAKE_LOG": str(self.log),
            "ARTIFACTS_DIR": str(self.root / "artifacts"),
            "SOURCE_DATE_EPOCH": EPOCH_2026_01_05,
            "PKR_VAR_gallery_resource_group": "rg-images",
            "PKR_VAR_gallery_name": "agents",
            "PKR_VAR_location": "westeurope",
        }
        return subprocess.run(
            [str(BUILD), *args], env={**base, **env}, capture_output=True, text=True, timeout=60, check=False
        )

    @property
    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def host(tmp_path: Path) -> Host:
    host = Host(tmp_path)
    host.add("packer", FAKE_PACKER)
    host.add("az", FAKE_AZ)
    return host


def test_builds_with_the_var_file_and_a_date_based_version(host: Host) -> None:
    result = host.run(str(VAR_FILE), FAKE_AZ_VERSIONS="2026.105.1 2026.105.2 2026.104.7 2025.105.9")
    assert result.returncode == 0, result.stderr
    args = f"-var-file={VAR_FILE} -var image_version=2026.105.3 -var artifacts_dir={host.root / 'artifacts'}"
    packer_calls = [c for c in host.calls if not c.startswith("az ")]
    assert packer_calls == [
        "version",
        f"init {PACKER_DIR}",
        f"validate {args} {PACKER_DIR}",
        f"build {args} {PACKER_DIR}",
    ]
    assert (
        "az sig image-version list --resource-group rg-images --gallery-name agents "
        "--gallery-image-definition ubuntu-24.04-agent --query [].name --output tsv"
    ) in host.calls
    report = host.root / "artifacts" / "ubuntu-24.04-agent" / "2026.105.3" / "software-report.json"
    assert f"software report: {report}" in result.stderr


def test_first_build_of_the_day_is_n_1_and_image_version_overrides(host: Host) -> None:
    assert "version 2026.105.1" in host.run(str(VAR_FILE)).stderr
    result = host.run(str(VAR_FILE), IMAGE_VERSION="2027.1.9")
    assert result.returncode == 0, result.stderr
    assert any("-var image_version=2027.1.9 " in c for c in host.calls)


def test_bad_image_version_is_refused(host: Host) -> None:
    result = host.run(str(VAR_FILE), IMAGE_VERSION="2026.11.29.1")
    assert result.returncode == 1
    assert "IMAGE_VERSION must be Major.Minor.Patch (e.g. 2026.1129.1), not '2026.11.29.1'" in result.stderr
    assert not any(c.startswith("build") for c in host.calls)


def test_missing_packer_is_explained(host: Host) -> None:
    (host.bin / "packer").unlink()
    result = host.run(str(VAR_FILE))
    assert result.returncode == 1
    assert "packer is not installed (need 1.10.0 or newer" in result.stderr
    assert "Traceback" not in result.stderr


def test_old_packer_is_refused(host: Host) -> None:
    result = host.run(str(VAR_FILE), FAKE_PACKER_VERSION="1.6.6")
    assert result.returncode == 1
    assert "packer 1.6.6 is too old: the templates need 1.10.0 or newer" in result.stderr
    assert "https://developer.hashicorp.com/packer/install" in result.stderr and "PACKER" in result.stderr
    assert host.calls == ["version"]


def test_not_logged_in_is_explained(host: Host) -> None:
    result = host.run(str(VAR_FILE), FAKE_AZ_LOGIN_EXIT="1")
    assert result.returncode == 1
    assert "the Azure CLI is not logged in: run 'az login'" in result.stderr
    assert "PKR_VAR_use_azure_cli_auth=false" in result.stderr
    assert not any(c.startswith("init") for c in host.calls)


def test_missing_az_is_explained(host: Host) -> None:
    (host.bin / "az").unlink()
    result = host.run(str(VAR_FILE))
    assert result.returncode == 1
    assert "the Azure CLI is not installed" in result.stderr


def test_managed_identity_needs_a_token_but_never_shows_it(host: Host, http_server: Server) -> None:
    token_path = (
        "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"
    )
    secret = "eyJ0eXAiOiJKV1QiLCJzZWNyZXQiOiJ0b2tlbiJ9"
    http_server.serve(token_path + "&client_id=1111", Reply(200, f'{{"access_token": "{secret}"}}'.encode()))
    env = {"PKR_VAR_use_azure_cli_auth": "false", "AZURE_IMDS_ENDPOINT": http_server.url}
    ok = host.run(str(VAR_FILE), PKR_VAR_managed_identity_client_id="1111", **env)
    assert ok.returncode == 0, ok.stderr
    assert secret not in ok.stdout + ok.stderr
    assert "version 2026.105.1" in ok.stderr  # no gallery lookup without the CLI
    assert not any(c.startswith("az ") for c in host.calls)
    refused = host.run(str(VAR_FILE), PKR_VAR_managed_identity_client_id="2222", **env)
    assert refused.returncode == 1
    assert "no managed identity token from the instance metadata service" in refused.stderr


def test_missing_report_fails_the_build(host: Host) -> None:
    result = host.run(str(VAR_FILE), FAKE_NO_REPORT="1")
    assert result.returncode == 1
    assert "the build finished but its software report is missing" in result.stderr


def test_failing_packer_stops_with_its_exit_code(host: Host) -> None:
    host.add("packer", FAKE_PACKER.replace("exit 0\n", '[ "$1" = validate ] && exit 4; exit 0\n'))
    result = host.run(str(VAR_FILE))
    assert result.returncode == 4
    assert [c.split()[0] for c in host.calls if not c.startswith("az ")] == ["version", "init", "validate"]


def test_usage_and_missing_var_file(host: Host) -> None:
    usage = host.run()
    assert usage.returncode == 1 and "usage: images/build.sh VAR_FILE" in usage.stderr
    missing = host.run("packer/nope.pkrvars.hcl")
    assert missing.returncode == 1 and "var file not found: packer/nope.pkrvars.hcl" in missing.stderr


def test_build_sh_is_what_make_image_runs() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "images/build.sh $(PKR_VAR_FILE)" in makefile
    assert os.access(BUILD, os.X_OK)
