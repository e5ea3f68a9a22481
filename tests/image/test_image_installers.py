"""The download installers end to end (loopback server, fixture artifacts), and the in-image checks,
validation and software report driven against fake tools that print what the real ones print. The agent
comes as a stand-in layout whose installdependencies.sh has the shape of the real one (apt update, then
apt install of its packages) and runs against a fake apt that installs from a loopback archive through
the proxy apt's configuration names: the offline check must succeed only when nothing is left to fetch."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from imagekit import SCRIPTS, Box, Reply, Server

KUBECTL = """#!/bin/sh
[ "$*" = "version --client --output=json" ] || exit 2
printf '{"clientVersion":{"gitVersion":"v%s"},"kustomizeVersion":"v5.7.1"}\\n' "${FAKE_VERSION:-1.36.5}"
"""
HELM = """#!/bin/sh
[ "$*" = "version --template {{.Version}}" ] || exit 2
printf 'v3.21.4'
"""
KUBELOGIN = """#!/bin/sh
[ "$*" = "--version" ] || exit 2
cat <<'OUT'
kubelogin version
git hash: v0.2.19/1a2b3c4d
Go version: go1.26.4
Build time: 2026-06-23T10:00:00Z
Platform: linux/amd64
OUT
"""
LISTENER = """#!/bin/sh
[ "$*" = "--version" ] || exit 2
echo 5.279.0
"""
DEPENDENCIES = """#!/bin/bash
echo run >> "$(dirname "$0")/../deps.log"
[ -z "$FAKE_DEPS_EXIT" ] || exit "$FAKE_DEPS_EXIT"
command -v apt >/dev/null || exit 1
apt update && apt install -y libkrb5-3 zlib1g || exit 1
apt install -y libicu74 || apt install -y libicu72 || exit 1
"""
# A fake apt: packages listed in $FAKE_INSTALLED are installed; any other is fetched from the archive
# ($FAKE_ARCHIVE/pool/NAME.deb) through the http proxy that $APT_CONFIG names, as apt would.
APT = """proxy=""
if [[ -n ${APT_CONFIG:-} ]]; then
    proxy=$(sed -nE 's/^Acquire::http::Proxy "([^"]*)";$/\\1/p' "$APT_CONFIG")
fi
fetch() { curl -fsS --max-time 5 ${proxy:+--proxy "$proxy"} -o /dev/null "$FAKE_ARCHIVE/$1"; }
case $1 in
    update) fetch dists/noble/InRelease || echo "W: Some index files failed to download" ;;
    install)
        shift
        for pkg in "$@"; do
            [[ $pkg == -* ]] && continue
            if grep -qx "$pkg" "$FAKE_INSTALLED"; then
                echo "$pkg is already the newest version"
            elif fetch "pool/$pkg.deb"; then
                echo "$pkg" >>"$FAKE_INSTALLED"
            else
                echo "E: Failed to fetch $pkg" >&2
                exit 100
            fi
        done ;;
    *) exit 64 ;;
esac
"""


def tar_gz(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def publish(box: Box, server: Server, tool: str, name: str, data: bytes) -> None:
    """Serve DATA as TOOL's artifact NAME, its sha256 pinned in the toolset."""
    digest = hashlib.sha256(data).hexdigest()
    server.serve(f"/fixtures.test/{name}", Reply(200, data))
    download = {
        "url": f"https://fixtures.test/{name}",
        "sha256": digest,
        "sha256_from": "computed by the test from the fixture",
    }
    toolset = box.toolset
    toolset["tools"][tool]["downloads"] = {"amd64": download}
    box.toolset = toolset


def install(box: Box, tool: str, **env: str):
    return box.exec(["bash", str(SCRIPTS / f"install-{tool}.sh")], **env)


def test_kubectl_installs_and_checks_itself(box: Box, server: Server) -> None:
    publish(box, server, "kubectl", "kubectl", KUBECTL.encode())
    result = install(box, "kubectl")
    assert result.returncode == 0, result.stderr
    assert (box.root / "bin" / "kubectl").read_text() == KUBECTL
    assert "check passed: kubectl" in result.stderr
    assert box.ledger[0][0:2] == ["sha256", "kubectl 1.36.5 (amd64, kubectl)"]


def test_installer_fails_when_the_tool_reports_another_version(box: Box, server: Server) -> None:
    publish(box, server, "kubectl", "kubectl", KUBECTL.encode())
    result = install(box, "kubectl", FAKE_VERSION="1.35.0")
    assert result.returncode == 1
    assert "kubectl reports version '1.35.0', the toolset pins '1.36.5'" in result.stderr
    assert "check passed" not in result.stderr


def test_helm_installs_from_its_tarball(box: Box, server: Server) -> None:
    name = "helm-v3.21.4-linux-amd64.tar.gz"
    publish(box, server, "helm", name, tar_gz({"linux-amd64/helm": HELM, "linux-amd64/LICENSE": "x"}))
    result = install(box, "helm")
    assert result.returncode == 0, result.stderr
    assert (box.root / "bin" / "helm").read_text() == HELM
    assert "check passed: helm" in result.stderr


def test_kubelogin_installs_from_its_zip(box: Box, server: Server) -> None:
    name = "kubelogin-linux-amd64.zip"
    publish(box, server, "kubelogin", name, zip_bytes({"bin/linux_amd64/kubelogin": KUBELOGIN}))
    result = install(box, "kubelogin")
    assert result.returncode == 0, result.stderr
    assert (box.root / "bin" / "kubelogin").stat().st_mode & 0o111
    assert "check passed: kubelogin" in result.stderr


def agent_tarball(**extra: str) -> bytes:
    return tar_gz(
        {
            "bin/Agent.Listener": LISTENER,
            "bin/installdependencies.sh": DEPENDENCIES,
            "config.sh": "#!/bin/sh\n",
            "run.sh": "#!/bin/sh\n",
            **extra,
        }
    )


AGENT_TARBALL = "vsts-agent-linux-x64-5.279.0.tar.gz"


def fake_apt(box: Box, archive: str, *installed: str) -> Path:
    """The fake apt on PATH, with INSTALLED installed and the Ubuntu archive at ARCHIVE."""
    box.fake("apt", APT)
    listing = box.root / "installed"
    listing.write_text("".join(f"{name}\n" for name in installed))
    box.env.update(FAKE_INSTALLED=str(listing), FAKE_ARCHIVE=f"{archive}/archive.test")
    return listing


def test_agent_is_unpacked_unconfigured_and_its_dependencies_then_need_no_network(
    box: Box, server: Server, http_server: Server
) -> None:
    publish(box, server, "azure-pipelines-agent", AGENT_TARBALL, agent_tarball())
    http_server.serve("/archive.test/pool/libicu74.deb", Reply(200, b"deb"))
    installed = fake_apt(box, http_server.url, "libkrb5-3", "zlib1g")
    result = install(box, "azure-pipelines-agent")
    assert result.returncode == 0, result.stderr
    agent = box.root / "agent"
    assert (agent / "bin" / "Agent.Listener").stat().st_mode & 0o111
    assert not (agent / ".agent").exists()
    # the bake's own run fetched the missing package; the check's offline run fetched nothing
    assert installed.read_text().splitlines() == ["libkrb5-3", "zlib1g", "libicu74"]
    assert (agent / "deps.log").read_text() == "run\n" * 2
    assert http_server.hits("/archive.test/pool/libicu74.deb") == 1
    assert http_server.hits("/archive.test/dists/noble/InRelease") == 1
    assert "check passed: azure-pipelines-agent" in result.stderr


def fake_agent(box: Box) -> Path:
    """The agent's stand-in layout in AGENT_DIR, as the installer leaves it."""
    agent = box.root / "agent"
    for name, text in (("Agent.Listener", LISTENER), ("installdependencies.sh", DEPENDENCIES)):
        path = agent / "bin" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755)
    return agent


def test_the_offline_dependency_run_fails_when_a_package_is_missing(box: Box, http_server: Server) -> None:
    fake_agent(box)
    http_server.serve("/archive.test/pool/libicu74.deb", Reply(200, b"deb"))
    fake_apt(box, http_server.url, "libkrb5-3", "zlib1g")
    result = box.run("check azure-pipelines-agent")
    assert result.returncode == 1
    assert "installdependencies.sh failed (exit 1) with apt unable to download" in result.stderr
    assert "E: Failed to fetch libicu74" in result.stderr
    assert http_server.requests == []  # apt could not reach the archive at all


def test_the_offline_dependency_run_passes_when_everything_is_installed(
    box: Box, http_server: Server
) -> None:
    fake_agent(box)
    fake_apt(box, http_server.url, "libkrb5-3", "zlib1g", "libicu74")
    result = box.run("check azure-pipelines-agent")
    assert result.returncode == 0, result.stderr
    assert http_server.requests == []


@pytest.mark.parametrize(
    "leftover", [".agent", ".credentials", ".credentials_rsaparams", ".runner", AGENT_TARBALL]
)
def test_an_agent_folder_with_a_leftover_fails_the_check(
    box: Box, http_server: Server, leftover: str
) -> None:
    agent = fake_agent(box)
    fake_apt(box, http_server.url, "libkrb5-3", "zlib1g", "libicu74")
    (agent / leftover).write_text("{}")
    result = box.run("check azure-pipelines-agent")
    assert result.returncode == 1
    assert (
        f"{agent} holds {leftover}: the image must carry an unpacked, unconfigured agent only"
        in result.stderr
    )


def test_a_configured_agent_in_the_tarball_fails_the_install(
    box: Box, server: Server, http_server: Server
) -> None:
    publish(
        box,
        server,
        "azure-pipelines-agent",
        AGENT_TARBALL,
        agent_tarball(**{".agent": "{}", ".runner": "{}"}),
    )
    fake_apt(box, http_server.url, "libkrb5-3", "zlib1g", "libicu74")
    result = install(box, "azure-pipelines-agent")
    assert result.returncode == 1
    assert f"{box.root / 'agent'} holds .agent, .runner: the image must carry" in result.stderr


def test_failing_dependency_install_is_retried_and_keeps_its_exit_code(box: Box, server: Server) -> None:
    publish(box, server, "azure-pipelines-agent", AGENT_TARBALL, agent_tarball())
    result = install(box, "azure-pipelines-agent", FAKE_DEPS_EXIT="3")
    assert result.returncode == 3
    assert (box.root / "agent" / "deps.log").read_text() == "run\n" * 3


def fake_image(box: Box) -> None:
    """Fakes of everything the report and checks query, at the toolset's versions."""
    for name, text in (("kubectl", KUBECTL), ("helm", HELM), ("kubelogin", KUBELOGIN)):
        path = box.root / "bin" / name
        path.write_text(text)
        path.chmod(0o755)
    fake_agent(box)
    fake_apt(box, "http://127.0.0.1:9", "libkrb5-3", "zlib1g", "libicu74")
    box.fake(
        "az", """[ "$*" = "version --output json" ] && echo '{"azure-cli": "2.90.0", "extensions": {}}'\n"""
    )
    box.fake("docker", """[ "$*" = "version --format {{.Server.Version}}" ] && echo 29.8.2\n""")
    box.fake("packer", """[ "$*" = version ] && echo 'Packer v1.16.1'\n""")
    box.fake(
        "dpkg-query",
        """case "$*" in
  *docker-ce|*docker-ce-cli) echo -n 5:29.8.2-1~ubuntu.24.04~noble ;;
  *azure-cli) echo -n 2.90.0-1~noble ;;
  *packer) echo -n 1.16.1-1 ;;
  *jq) echo -n 1.7.1-3build1 ;;
  *'${Version}'*) exit 1 ;;
  *) echo -n 'install ok installed' ;;
esac
""",
    )


def test_software_report_lists_versions_packages_and_verified_checksums(box: Box) -> None:
    fake_image(box)
    state = box.root / "state"
    (state / "verified.tsv").write_text(
        "sha256\thelm 3.21.4 (amd64, helm.tar.gz)\t" + "a" * 64 + "\tpinned in toolset.json\n"
        "key-fingerprint\tdocker apt key\t9DC858229FC7DD38854AE2D88D81803C0EBFCD88\thttps://x/gpg\n"
    )
    result = box.exec(
        ["bash", str(SCRIPTS.parent / "tests" / "software-report.sh")],
        IMAGE_VERSION="2026.1129.3",
        IMAGE_NAME="ubuntu-24.04-agent",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((state / "software-report.json").read_text())
    assert report["image"]["version"] == "2026.1129.3"
    assert report["image"]["name"] == "ubuntu-24.04-agent"
    assert report["image"]["os"] == "Ubuntu 24.04.3 LTS"
    tools = {tool["name"]: tool for tool in report["tools"]}
    assert set(tools) == set(box.toolset["tools"])
    assert all(tool["installed"] == tool["pinned"] for tool in tools.values()), tools
    assert tools["helm"]["reason"] == box.toolset["tools"]["helm"]["reason"]
    packages = {p["name"]: p for p in report["apt_packages"]}
    assert packages["docker-ce"] == {
        "name": "docker-ce",
        "pinned": "5:29.8.2-1~ubuntu.24.04~noble",
        "installed": "5:29.8.2-1~ubuntu.24.04~noble",
    }
    assert packages["containerd.io"]["installed"] == "not installed"
    assert {"name": "jq", "installed": "1.7.1-3build1"} in report["ubuntu_packages"]
    assert [v["kind"] for v in report["verified"]] == ["sha256", "key-fingerprint"]
    assert report["container_images"] == []
    markdown = (state / "software-report.md").read_text()
    assert "## Container images\n\nNone pre-pulled.\n" in markdown
    assert markdown.startswith("# Agent image ubuntu-24.04-agent 2026.1129.3\n")
    assert "| kubectl | 1.36.5 | 1.36.5 |" in markdown
    assert (
        f"| sha256 | helm 3.21.4 (amd64, helm.tar.gz) | `{'a' * 64}` | pinned in toolset.json |" in markdown
    )


def test_validation_runs_every_check_and_reports_each_failure(box: Box) -> None:
    fake_image(box)
    (box.root / "agent" / ".credentials").write_text("{}")
    result = box.exec(["bash", str(SCRIPTS.parent / "tests" / "validate.sh")])
    assert result.returncode == 1
    total = 5 + len(box.toolset["tools"])
    summary = next(line for line in result.stderr.splitlines() if "checks failed:" in line)
    failed = summary.split("checks failed: ", 1)[1].split()
    assert f"of {total} checks failed" in summary
    assert {"docker", "azure-pipelines-agent", "system"} <= set(failed)
    assert not {"kubectl", "helm", "kubelogin", "container-images"} & set(failed)
    assert "check passed: kubectl" in result.stderr
    assert "check passed: container-images" in result.stderr  # none listed by default
    assert "agent holds .credentials: the image must carry an unpacked, unconfigured agent" in result.stderr


@pytest.mark.parametrize(
    ("status", "message"),
    [("install ok installed", None), ("deinstall ok config-files", "Ubuntu packages not installed: ")],
)
def test_ubuntu_packages_check(box: Box, status: str, message: str | None) -> None:
    box.fake("dpkg-query", f"echo -n '{status}'\n")
    result = box.run("check ubuntu-packages")
    if message is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1
        assert message + " ".join(box.toolset["ubuntu_packages"]["packages"]) in result.stderr


def test_apt_pin_check_names_the_drifted_package(box: Box) -> None:
    box.fake("dpkg-query", 'echo -n "2.89.1-1~noble"\n')
    box.fake("apt-mark", "echo azure-cli\n")
    result = box.run("check_apt_pins azure-cli")
    assert result.returncode == 1
    assert "azure-cli: package azure-cli is 2.89.1-1~noble, the toolset pins 2.90.0-1~noble" in result.stderr


def test_unknown_check_is_an_error(box: Box) -> None:
    result = box.run("check no-such-tool")
    assert result.returncode == 1
    assert "no check named no-such-tool" in result.stderr


# A fake docker that keeps its images in $FAKE_DOCKER_REFS ("REFERENCE ID" lines): `pull` of a digest
# reference adds it, `tag` adds a name for an image it has, `image inspect --format {{.Id}}` answers.
DOCKER = """refs=$FAKE_DOCKER_REFS
touch "$refs"
echo "$*" >>"$refs.calls"
id_of() { awk -v r="$1" '$1 == r { print $2 }' "$refs" | tail -n 1; }
case "$1 $2" in
    "version --format") echo 29.8.2 ;;
    "pull --quiet") [[ $3 == *@sha256:* ]] || exit 9; echo "$3 id-${3##*:}" >>"$refs" ;;
    "image inspect") id=$(id_of "$5"); [[ -n $id ]] || exit 1; echo "$id" ;;
    tag*) id=$(id_of "$2"); [[ -n $id ]] || exit 1; echo "$3 $id" >>"$refs" ;;
    *) exit 64 ;;
esac
"""
SDK = {
    "name": "mcr.microsoft.com/dotnet/sdk",
    "tag": "10.0",
    "digest": "sha256:" + "1" * 64,
    "reason": "the base image of most builds on the pool",
}
NODE = {"name": "registry.example.test/node", "digest": "sha256:" + "2" * 64, "reason": "x" * 20}


def with_images(box: Box, *images: dict) -> Path:
    toolset = box.toolset
    toolset["container_images"]["images"] = list(images)
    box.toolset = toolset
    box.fake("docker", DOCKER)
    refs = box.root / "docker-refs"
    box.env["FAKE_DOCKER_REFS"] = str(refs)
    return refs


def test_container_images_are_pulled_by_digest_and_tagged(box: Box) -> None:
    refs = with_images(box, SDK, NODE)
    result = box.exec(["bash", str(SCRIPTS / "install-container-images.sh")])
    assert result.returncode == 0, result.stderr
    sdk, node = f"{SDK['name']}@{SDK['digest']}", f"{NODE['name']}@{NODE['digest']}"
    calls = refs.with_name("docker-refs.calls").read_text().splitlines()
    assert [c for c in calls if not c.startswith("image inspect")] == [
        f"pull --quiet {sdk}",
        f"tag {sdk} {SDK['name']}:10.0",
        f"pull --quiet {node}",
    ]
    assert "check passed: container-images" in result.stderr
    assert [row[:3] for row in box.ledger] == [
        ["digest", f"{SDK['name']}:10.0", SDK["digest"]],
        ["digest", NODE["name"], NODE["digest"]],
    ]


@pytest.mark.parametrize(
    ("refs", "missing"),
    [
        ("", f"{SDK['name']}@{SDK['digest']}"),
        (f"{SDK['name']}@{SDK['digest']} id-1\n", f"{SDK['name']}:10.0 (as {SDK['digest']})"),
        (
            f"{SDK['name']}@{SDK['digest']} id-1\n{SDK['name']}:10.0 id-other\n",
            f"{SDK['name']}:10.0 (as {SDK['digest']})",
        ),
    ],
    ids=["not-pulled", "not-tagged", "tag-on-another-image"],
)
def test_container_image_check_names_what_is_missing(box: Box, refs: str, missing: str) -> None:
    with_images(box, SDK).write_text(refs)
    result = box.run("check container-images")
    assert result.returncode == 1
    assert f"container images not in the image: {missing}" in result.stderr


def test_software_report_lists_the_container_images(box: Box) -> None:
    fake_image(box)
    with_images(box, SDK, NODE).write_text(f"{SDK['name']}@{SDK['digest']} id-1\n")
    result = box.exec(["bash", str(SCRIPTS.parent / "tests" / "software-report.sh")])
    assert result.returncode == 0, result.stderr
    report = json.loads((box.root / "state" / "software-report.json").read_text())
    assert report["container_images"] == [
        {"name": SDK["name"], "tag": "10.0", "digest": SDK["digest"], "present": True},
        {"name": NODE["name"], "tag": None, "digest": NODE["digest"], "present": False},
    ]
    markdown = (box.root / "state" / "software-report.md").read_text()
    assert f"| {SDK['name']} | 10.0 | `{SDK['digest']}` | yes |" in markdown
    assert f"| {NODE['name']} | - | `{NODE['digest']}` | NO |" in markdown
