"""images/refresh-pins.sh (the maintainer's pin refresh) against upstream checksum files on a loopback
server: new and changed pins are written with their source, unchanged ones left alone, failures abort,
and a download mirror is never asked for a checksum."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from imagekit import IMAGE_DIR, REPO, Box, Reply, Server

REFRESH = REPO / "images" / "refresh-pins.sh"
OLD, NEW, SAME = "1" * 64, "2" * 64, "3" * 64


def fixture_upstream(box: Box, server: Server) -> None:
    """Upstream URLs on the loopback server itself: the refresh reads them directly, never via a mirror."""
    up = f"{server.url}/up.test"
    toolset = box.toolset
    tools = toolset["tools"]
    tools["kubectl"]["downloads"]["amd64"] = {
        "url": f"{up}/v{{version}}/kubectl",
        "checksum_url": f"{up}/v{{version}}/kubectl.sha256",
    }
    tools["helm"]["downloads"]["amd64"].update(
        url=f"{up}/helm-v{{version}}.tgz",
        checksum_url=f"{up}/helm-v{{version}}.tgz.sha256sum",
        sha256=SAME,
    )
    tools["azure-pipelines-agent"]["downloads"]["amd64"].update(
        url=f"{up}/vsts-agent-linux-x64-{{version}}.tar.gz",
        checksum_url=f"{up}/releases/tags/v{{version}}",
        sha256=OLD,
    )
    del tools["kubelogin"]["downloads"]["amd64"]["checksum_url"]
    tools["kubelogin"]["downloads"]["amd64"].update(sha256=OLD, sha256_from="set by hand for this test")
    box.toolset = toolset
    server.serve("/up.test/v1.36.5/kubectl.sha256", Reply(200, f"{NEW}\n".encode()))
    server.serve("/up.test/helm-v3.21.4.tgz.sha256sum", Reply(200, f"{SAME}  helm-v3.21.4.tgz\n".encode()))
    body = f"| Linux x64 | [vsts-agent-linux-x64-5.279.0.tar.gz](https://x) | {NEW} |\r\n"
    server.serve("/up.test/releases/tags/v5.279.0", Reply(200, json.dumps({"body": body}).encode()))


def test_refresh_writes_new_and_changed_pins_with_their_source(box: Box, server: Server) -> None:
    fixture_upstream(box, server)
    result = box.exec(["bash", str(REFRESH)], IMAGE_MIRROR_URL="")
    assert result.returncode == 0, result.stderr
    downloads = {
        name: tool["downloads"]["amd64"]
        for name, tool in box.toolset["tools"].items()
        if tool["install"] == "download"
    }
    assert downloads["kubectl"]["sha256"] == NEW
    assert downloads["kubectl"]["sha256_from"].startswith(
        f"{server.url}/up.test/v1.36.5/kubectl.sha256, read "
    )
    assert downloads["azure-pipelines-agent"]["sha256"] == NEW
    assert downloads["helm"]["sha256"] == SAME
    assert (
        downloads["helm"]["sha256_from"]
        == json.loads((IMAGE_DIR / "toolset.json").read_text())["tools"]["helm"]["downloads"]["amd64"][
            "sha256_from"
        ]
    )
    assert downloads["kubelogin"] == {
        "url": downloads["kubelogin"]["url"],
        "sha256": OLD,
        "sha256_from": "set by hand for this test",
    }
    assert f"kubectl (amd64): no pin -> {NEW}" in result.stderr
    assert f"azure-pipelines-agent (amd64): {OLD} -> {NEW}" in result.stderr
    assert "helm (amd64): pin unchanged" in result.stderr
    assert "kubelogin (amd64): no checksum file published; keeping its pin" in result.stderr
    assert "2 pin(s) changed" in result.stderr
    schema = json.loads((IMAGE_DIR / "toolset.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(box.toolset)


def test_unreadable_checksum_file_aborts_without_writing(box: Box, server: Server) -> None:
    fixture_upstream(box, server)
    server.serve("/up.test/releases/tags/v5.279.0", Reply(404, b"gone"))
    before = Path(box.env["TOOLSET"]).read_bytes()
    result = box.exec(["bash", str(REFRESH)], IMAGE_MIRROR_URL="")
    assert result.returncode == 22
    assert "GET " in result.stderr and "/up.test/releases/tags/v5.279.0 failed: HTTP 404" in result.stderr
    assert Path(box.env["TOOLSET"]).read_bytes() == before


def test_refresh_never_reads_a_checksum_through_a_mirror(box: Box, server: Server) -> None:
    fixture_upstream(box, server)
    before = Path(box.env["TOOLSET"]).read_bytes()
    result = box.exec(["bash", str(REFRESH)])
    assert result.returncode == 1
    assert f"IMAGE_MIRROR_URL is set ({server.url}): a mirror never supplies a checksum" in result.stderr
    assert server.requests == []
    assert Path(box.env["TOOLSET"]).read_bytes() == before
