"""Offline checks of the image sources: the toolset and its schema, one installer and one check per tool,
shellcheck, and the patterns the image must never use (curl | bash, apt-key, latest)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
from imagekit import IMAGE_DIR, IMAGE_TESTS, PACKER_DIR, REPO, SCRIPTS, TOOLSET, need_tool

SCHEMA = json.loads((IMAGE_DIR / "toolset.schema.json").read_text())
TOOLS = json.loads(TOOLSET.read_text())["tools"]
SHELL_FILES = sorted((REPO / "images").rglob("*.sh"))
CHECKS = (IMAGE_TESTS / "checks.sh").read_text()


def validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA)


def toolset() -> dict:
    return json.loads(TOOLSET.read_text())


def test_toolset_matches_its_schema() -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(toolset())
    ]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("tools", "kubectl", "version"), "latest", "does not match"),
        (("tools", "helm", "reason"), "", "is too short"),
        (("tools", "kubectl", "downloads", "amd64", "url"), "http://dl.k8s.io/kubectl", "does not match"),
        (
            ("tools", "kubectl", "downloads", "amd64", "url"),
            "https://dl.k8s.io/release/latest/kubectl",
            "should not",
        ),
        (
            ("tools", "kubectl", "downloads", "amd64", "url"),
            "https://dl.k8s.io/release/v1.36.5/kubectl",
            "match",
        ),
        (("tools", "helm", "downloads", "amd64", "sha256"), "ABC", "does not match"),
        (("tools", "docker", "repository", "key_fingerprint"), "9DC8 5822", "does not match"),
        (("tools", "docker", "install"), "snap", "is not valid under any"),
    ],
    ids=[
        "version-latest",
        "empty-reason",
        "http-url",
        "latest-url",
        "url-without-version",
        "bad-sha",
        "spaced-fingerprint",
        "unknown-install",
    ],
)
def test_schema_rejects_loose_pins(path: tuple[str, ...], value: str, complaint: str) -> None:
    data = toolset()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    errors = list(validator().iter_errors(data))
    assert errors, f"schema accepted {path} = {value!r}"
    assert complaint in " ".join(e.message for error in errors for e in [error, *error.context])


@pytest.mark.parametrize("tool", sorted(t for t in TOOLS if TOOLS[t]["install"] == "download"))
def test_schema_wants_a_pin_and_where_it_came_from(tool: str) -> None:
    """A checksum file alone is not enough: the bake checks against the toolset's pin only."""
    for key in ("sha256", "sha256_from"):
        data = toolset()
        del data["tools"][tool]["downloads"]["amd64"][key]
        assert not validator().is_valid(data), f"{tool} without {key} accepted"


IMAGE = {
    "name": "mcr.microsoft.com/dotnet/sdk",
    "tag": "10.0",
    "digest": "sha256:" + "a" * 64,
    "reason": "the base image of most builds on the pool",
}


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({}, True),
        ({"tag": None}, True),
        ({"digest": None}, False),
        ({"digest": "sha256:" + "A" * 64}, False),
        ({"tag": "latest"}, False),
        ({"name": "ubuntu"}, False),
        ({"name": "mcr.microsoft.com/dotnet/sdk:10.0"}, False),
        ({"reason": "why"}, False),
    ],
    ids=["ok", "no-tag", "no-digest", "upper-digest", "latest", "no-registry", "tag-in-name", "short-reason"],
)
def test_schema_checks_container_images(change: dict, valid: bool) -> None:
    image = {k: v for k, v in {**IMAGE, **change}.items() if v is not None}
    data = toolset()
    data["container_images"]["images"] = [image]
    assert validator().is_valid(data) is valid


def statements(path: Path) -> list[str]:
    """The script's lines without comments and blank lines."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def check_functions() -> set[str]:
    return set(re.findall(r"^(check_[a-z_]+)\(\)", CHECKS, re.M))


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_every_tool_has_an_installer_that_reads_the_toolset_and_ends_with_its_check(tool: str) -> None:
    installer = SCRIPTS / f"install-{tool}.sh"
    assert installer.is_file(), f"{tool} has no installer {installer.name}"
    body = statements(installer)
    reader = "apt_install_pinned" if TOOLS[tool]["install"] == "apt" else "fetch_artifact"
    assert any(re.search(rf"\b{reader} {re.escape(tool)}\b", line) for line in body), (
        f"{installer.name} does not take {tool}'s version from the toolset ({reader} {tool})"
    )
    assert not re.search(r"\d+\.\d+\.\d+", installer.read_text()), f"{installer.name} hard-codes a version"
    assert body[-1] == f"check {tool}"
    name = tool.replace("-", "_")
    assert f"check_{name}" in check_functions()
    assert re.search(rf"^version_{name}\(\)", CHECKS, re.M), f"no version probe for {tool} in checks.sh"


def test_ubuntu_packages_come_from_the_toolset() -> None:
    installer = SCRIPTS / "install-ubuntu-packages.sh"
    assert "toolset_get ubuntu_packages packages" in installer.read_text()
    assert statements(installer)[-1] == "check ubuntu-packages"


def test_container_images_come_from_the_toolset_by_digest() -> None:
    installer = SCRIPTS / "install-container-images.sh"
    body = statements(installer)
    assert any(re.search(r'docker pull .*"\$name@\$digest"', line) for line in body)
    assert body[-1] == "check container-images"
    assert toolset()["container_images"]["images"] == []  # empty by default


def test_no_installer_without_a_toolset_entry() -> None:
    installers = {p.name.removeprefix("install-").removesuffix(".sh") for p in SCRIPTS.glob("install-*.sh")}
    assert installers == set(TOOLS) | {"ubuntu-packages", "container-images"}


@pytest.mark.parametrize(
    "script",
    sorted(SCRIPTS.glob("install-*.sh")) + sorted(SCRIPTS.glob("configure-*.sh")),
    ids=lambda p: p.name,
)
def test_each_install_and_configure_script_ends_with_its_own_check(script: Path) -> None:
    last = statements(script)[-1]
    match = re.fullmatch(r"check ([a-z-]+)", last)
    assert match, f"{script.name} ends with {last!r}, not with a check of what it did"
    assert f"check_{match.group(1).replace('-', '_')}" in check_functions()


def test_validation_covers_every_tool_and_every_configure_script() -> None:
    validate = (IMAGE_TESTS / "validate.sh").read_text()
    assert "toolset_tools" in validate and "ubuntu-packages" in validate
    for script in SCRIPTS.glob("configure-*.sh"):
        name = statements(script)[-1].removeprefix("check ")
        assert name in validate, f"validate.sh does not run the check of {script.name}"


@pytest.mark.parametrize("script", SHELL_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_scripts_are_strict(script: Path) -> None:
    text = script.read_text()
    if script.name in {"lib.sh", "checks.sh"}:
        assert text.startswith("# shellcheck shell=bash\n")
        return
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert script.stat().st_mode & 0o111, f"{script} is not executable"


def test_shellcheck_is_clean() -> None:
    shellcheck = need_tool("shellcheck")
    result = subprocess.run(
        [shellcheck, "-x", *[str(p.relative_to(REPO)) for p in SHELL_FILES]],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


FORBIDDEN = {
    "pipes a download into a shell": re.compile(
        r"\b(curl|wget)\b[^\n]*\|\s*(sudo\s+(-\S+\s+)*)?(ba|z|da|k)?sh\b|\b(ba)?sh\s+<\(\s*(curl|wget)\b"
    ),
    "uses apt-key": re.compile(r"\bapt-key\b"),
    "uses a moving 'latest' version or URL": re.compile(r"(?<![\w-])latest(?![\w-])", re.I),
}


def violations(text: str) -> list[str]:
    return [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("curl -fsSL https://get.example.test/install.sh | sudo -E bash -", "pipes a download into a shell"),
        ("wget -qO- https://x.test/i | sh", "pipes a download into a shell"),
        ("bash <(curl -s https://x.test/i)", "pipes a download into a shell"),
        ("apt-key adv --recv-keys ABC", "uses apt-key"),
        ('"version": "latest"', "uses a moving 'latest' version or URL"),
        ("https://github.com/x/y/releases/latest/download/z", "uses a moving 'latest' version or URL"),
        ("docker pull ubuntu:latest", "uses a moving 'latest' version or URL"),
    ],
)
def test_forbidden_patterns_are_detected(line: str, what: str) -> None:
    assert violations(line) == [what]


def test_allowed_lines_are_not_flagged() -> None:
    for line in (
        "curl -fsS https://x.test/f -o f | tee log",
        "exclude_from_latest = true",
        "jq . | sha256sum",
    ):
        assert violations(line) == [], line


def test_image_sources_use_no_forbidden_pattern() -> None:
    sources = [p for root in (REPO / "images", PACKER_DIR) for p in root.rglob("*") if p.is_file()]
    found = {str(p.relative_to(REPO)): v for p in sources if (v := violations(p.read_text()))}
    assert found == {}


# What the elastic pool's agent extension does not do: it downloads the agent on every new VM (only a
# baked /agent/.agent stops it, and then the agent is never configured); its enable script skips the
# unpack alone.
SKIPS_DOWNLOAD = re.compile(r"skip\w*\s+(?:its\s+(?:own\s+)?|the\s+)?download", re.I)


@pytest.mark.parametrize(
    ("line", "claims"),
    [
        ("the extension finds bin/Agent.Listener, skips its download and unpack", True),
        ("so the scale-set extension skips its own download and unpack", True),
        ("it skips the download", True),
        ("its enable script then skips only the unpack", False),
        ("(skipped only when `/agent/.agent` exists)", False),
    ],
)
def test_the_false_download_claim_is_recognised(line: str, claims: bool) -> None:
    assert bool(SKIPS_DOWNLOAD.search(line)) is claims


def test_no_doc_or_comment_says_the_extension_skips_its_download() -> None:
    roots = [
        REPO / "README.md",
        REPO / "docs",
        REPO / "images",
        PACKER_DIR,
        REPO / "pipelines",
        REPO / "manager",
    ]
    files = [f for root in roots for f in ([root] if root.is_file() else root.rglob("*")) if f.is_file()]
    found = [
        f"{f.relative_to(REPO)}:{n}"
        for f in files
        if f.suffix in {".md", ".sh", ".json", ".hcl", ".yml", ".yaml", ".py"}
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if SKIPS_DOWNLOAD.search(line)
    ]
    assert found == []
