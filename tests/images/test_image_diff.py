"""`agentctl image diff OLD NEW`: the comparison of two software reports as tables of reports in,
changes out; malformed reports refused with the field that is wrong; the command's text and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentctl.cli import cli
from agentctl.errors import InvalidInput
from agentctl.reportdiff import check_report, compare

DIGEST_A, DIGEST_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def report(version: str = "2026.1129.1", **sections: list[dict[str, Any]]) -> dict[str, Any]:
    return {"image": {"version": version, "os": "Ubuntu 24.04.3 LTS"}, "tools": [], **sections}


def tool(name: str, installed: str) -> dict[str, str]:
    return {"name": name, "pinned": installed, "installed": installed}


def package(name: str, installed: str) -> dict[str, str]:
    return {"name": name, "installed": installed}


def image(name: str, digest: str, tag: str | None = None) -> dict[str, Any]:
    return {"name": name, "tag": tag, "digest": digest, "present": True}


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str, str | None, str | None]]:
    data = compare({"source": "old.json", "report": old}, {"source": "new.json", "report": new})
    return [(c["section"], c["name"], c["change"], c["old"], c["new"]) for c in data["changes"]]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (report(tools=[tool("helm", "3.21.4")]), report(tools=[tool("helm", "3.21.4")]), []),
        (
            report(tools=[tool("helm", "3.21.4")]),
            report(tools=[tool("helm", "3.21.4"), tool("kubectl", "1.36.5")]),
            [("tools", "kubectl", "added", None, "1.36.5")],
        ),
        (
            report(tools=[tool("helm", "3.21.4"), tool("packer", "1.16.1")]),
            report(tools=[tool("helm", "3.21.4")]),
            [("tools", "packer", "removed", "1.16.1", None)],
        ),
        (
            report(tools=[tool("kubectl", "1.36.4")]),
            report(tools=[tool("kubectl", "1.36.5")]),
            [("tools", "kubectl", "changed", "1.36.4", "1.36.5")],
        ),
        (
            report(ubuntu_packages=[package("jq", "1.7.1-3build1"), package("git", "1:2.43.0-1")]),
            report(ubuntu_packages=[package("git", "1:2.43.0-1"), package("jq", "1.7.1-3build2")]),
            [("ubuntu_packages", "jq", "changed", "1.7.1-3build1", "1.7.1-3build2")],
        ),
        (
            report(apt_packages=[package("docker-ce", "5:29.8.1-1~ubuntu.24.04~noble")]),
            report(apt_packages=[package("docker-ce", "5:29.8.2-1~ubuntu.24.04~noble")]),
            [
                (
                    "apt_packages",
                    "docker-ce",
                    "changed",
                    "5:29.8.1-1~ubuntu.24.04~noble",
                    "5:29.8.2-1~ubuntu.24.04~noble",
                )
            ],
        ),
        (
            report(),  # a report from before container images existed
            report(container_images=[image("mcr.microsoft.com/dotnet/sdk", DIGEST_A, "10.0")]),
            [("container_images", "mcr.microsoft.com/dotnet/sdk:10.0", "added", None, DIGEST_A)],
        ),
        (
            report(container_images=[image("mcr.microsoft.com/dotnet/sdk", DIGEST_A, "10.0")]),
            report(
                container_images=[
                    image("mcr.microsoft.com/dotnet/sdk", DIGEST_B, "10.0"),
                    image("mcr.microsoft.com/dotnet/sdk", DIGEST_A, "9.0"),
                ]
            ),
            [
                ("container_images", "mcr.microsoft.com/dotnet/sdk:10.0", "changed", DIGEST_A, DIGEST_B),
                ("container_images", "mcr.microsoft.com/dotnet/sdk:9.0", "added", None, DIGEST_A),
            ],
        ),
        (
            report(tools=[tool("a", "1"), tool("b", "1"), tool("c", "1")]),
            report(tools=[tool("b", "2"), tool("c", "1"), tool("d", "1")]),
            [
                ("tools", "a", "removed", "1", None),
                ("tools", "b", "changed", "1", "2"),
                ("tools", "d", "added", None, "1"),
            ],
        ),
    ],
    ids=[
        "unchanged",
        "added",
        "removed",
        "changed",
        "order-does-not-matter",
        "apt-package",
        "images-new-section",
        "image-by-tag",
        "all-kinds",
    ],
)
def test_compare(old: dict[str, Any], new: dict[str, Any], expected: list[tuple[Any, ...]]) -> None:
    assert changes(old, new) == expected


def test_totals_count_unchanged_rows_per_section() -> None:
    old = report(tools=[tool("a", "1"), tool("b", "1")], ubuntu_packages=[package("jq", "1")])
    new = report("2026.1204.1", tools=[tool("a", "1"), tool("b", "2")], ubuntu_packages=[package("jq", "1")])
    data = compare({"source": "o", "report": old}, {"source": "n", "report": new})
    assert data["totals"] == {"added": 0, "removed": 0, "changed": 1, "unchanged": 2}
    assert data["unchanged"] == {"tools": 1, "apt_packages": 0, "ubuntu_packages": 1, "container_images": 0}
    assert (data["old"]["version"], data["new"]["version"]) == ("2026.1129.1", "2026.1204.1")


@pytest.mark.parametrize(
    ("doc", "fields"),
    [
        ([], [""]),
        ({"tools": []}, ["image.version"]),
        ({"image": {"version": 2026}, "tools": []}, ["image.version"]),
        ({"image": {"version": "1.2.3"}}, ["tools"]),
        ({"image": {"version": "1.2.3"}, "tools": {}}, ["tools"]),
        ({"image": {"version": "1.2.3"}, "tools": [{"installed": "1"}]}, ["tools[0].name"]),
        ({"image": {"version": "1.2.3"}, "tools": [{"name": "helm"}]}, ["tools[0].installed"]),
        ({"image": {"version": "1.2.3"}, "tools": ["helm"]}, ["tools[0].name"]),
        (
            {"image": {"version": "1.2.3"}, "tools": [tool("helm", "1"), tool("helm", "2")]},
            ["tools[1].name"],
        ),
        ({"image": {"version": "1.2.3"}, "tools": [], "ubuntu_packages": "jq"}, ["ubuntu_packages"]),
        (
            {"image": {"version": "1.2.3"}, "tools": [], "container_images": [{"name": "x.test/a"}]},
            ["container_images[0].digest"],
        ),
    ],
    ids=[
        "not-an-object",
        "no-image",
        "version-not-text",
        "no-tools",
        "tools-not-a-list",
        "row-without-name",
        "row-without-version",
        "row-not-an-object",
        "listed-twice",
        "section-not-a-list",
        "image-without-digest",
    ],
)
def test_malformed_report_names_every_bad_field(doc: Any, fields: list[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_report(doc, "r.json")
    assert caught.value.exit_code == 3
    assert [p.field for p in caught.value.problems] == fields
    assert all(p.file == "r.json" for p in caught.value.problems)


OLD = report(tools=[tool("kubectl", "1.36.4"), tool("helm", "3.21.4")], ubuntu_packages=[package("jq", "1")])
NEW = report(
    "2026.1204.1",
    tools=[tool("kubectl", "1.36.5"), tool("helm", "3.21.4"), tool("kubelogin", "0.2.19")],
    container_images=[image("mcr.microsoft.com/dotnet/sdk", DIGEST_A, "10.0")],
)


def write(path: Path, doc: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_text_lists_each_change_with_its_versions(tmp_path: Path) -> None:
    old, new = write(tmp_path / "old.json", OLD), write(tmp_path / "new.json", NEW)
    result = CliRunner().invoke(cli, ["image", "diff", old, new])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "2026.1129.1 (Ubuntu 24.04.3 LTS) -> 2026.1204.1 (Ubuntu 24.04.3 LTS)",
        "tools:",
        "  ~ kubectl 1.36.4 -> 1.36.5",
        "  + kubelogin 0.2.19",
        "Ubuntu packages:",
        "  - jq 1",
        "container images:",
        f"  + mcr.microsoft.com/dotnet/sdk:10.0 {DIGEST_A}",
        "2 added, 1 removed, 1 changed, 1 unchanged",
    ]


def test_json_and_a_nightly_artifact_folder(tmp_path: Path) -> None:
    """The nightly publishes software-report-<os>/<image>/<version>/software-report.json."""
    old = write(tmp_path / "old.json", OLD)
    artifact = tmp_path / "software-report-ubuntu-24.04"
    write(artifact / "ubuntu-24.04-agent" / "2026.1204.1" / "software-report.json", NEW)
    (artifact / "bake-duration.json").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--output", "json", "image", "diff", old, str(artifact)], prog_name="agentctl"
    )
    assert result.exit_code == 0, result.output
    envelope = json.loads(result.output)
    assert (envelope["command"], envelope["status"], envelope["errors"]) == ("image diff", "ok", [])
    data = envelope["data"]
    assert data["new"]["source"].endswith("2026.1204.1/software-report.json")
    assert {(c["name"], c["change"]) for c in data["changes"]} == {
        ("kubectl", "changed"),
        ("kubelogin", "added"),
        ("jq", "removed"),
        ("mcr.microsoft.com/dotnet/sdk:10.0", "added"),
    }


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: write(d / "r.json", {"image": {}, "tools": []}), '"field": "image.version"'),
        (
            lambda d: (d / "r.json").write_text("{\n  oops", encoding="utf-8") and str(d / "r.json"),
            "not JSON",
        ),
        (lambda d: str(d / "missing.json"), "no such file"),
        (lambda d: str(d), "must hold exactly one software-report.json, it holds 0"),
    ],
    ids=["bad-field", "not-json", "missing", "folder-without-report"],
)
def test_a_malformed_report_exits_3_with_a_clear_error(tmp_path: Path, make: Any, message: str) -> None:
    new = write(tmp_path / "new" / "new.json", NEW)
    (tmp_path / "case").mkdir()
    bad = make(tmp_path / "case")
    result = CliRunner().invoke(cli, ["--output", "json", "image", "diff", bad, new])
    assert result.exit_code == 3, result.output
    envelope = json.loads(result.output)
    assert envelope["status"] == "error" and envelope["data"] is None
    assert envelope["errors"][0]["code"] == "input.invalid"
    assert message in json.dumps(envelope["errors"])
    text = CliRunner().invoke(cli, ["image", "diff", bad, new])
    assert text.exit_code == 3 and "Traceback" not in text.output
