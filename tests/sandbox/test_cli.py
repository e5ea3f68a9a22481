"""`agentctl sandbox serve|reset`, state persistence across processes, and world files."""

from __future__ import annotations

import json
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import FAST, SUB, vmss_body

from agentctl.cli import run
from agentctl.errors import InvalidInput
from agentctl.sandbox import connect, start, world

RG_LIST = f"subscriptions/{SUB}/resourcegroups?api-version=2024-07-01"
VMSS_PUT = (
    f"subscriptions/{SUB}/resourceGroups/rg-network/providers/Microsoft.Compute/virtualMachineScaleSets/x"
    "?api-version=2026-04-01"
)


def request(
    line: dict[str, Any], method: str, path: str, body: Any = None, token: bool = True
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {line['token']}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(line["armEndpoint"] + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=line["caBundle"])) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any], float]]:
    """`agentctl sandbox serve` in a subprocess: (process, its JSON line, seconds to that line)."""
    began = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentctl", "sandbox", "serve", "--dir", str(tmp_path / "sb")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    took = time.monotonic() - began
    try:
        yield proc, json.loads(first), took
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_serve_prints_its_endpoints_and_answers(
    served: tuple[subprocess.Popen[str], dict[str, Any], float],
) -> None:
    proc, line, took = served
    assert {"armEndpoint", "devopsUrl", "caBundle", "token", "tokenUrl"} <= set(line)
    assert line["devopsUrl"] == line["armEndpoint"] + "contoso"
    print(f"serve printed its endpoints {took:.2f} s after launch (process start included)")
    status, body = request(line, "GET", RG_LIST)
    assert status == 200
    assert "rg-network" in {g["name"] for g in body["value"]}
    status, body = request(line, "GET", RG_LIST, token=False)
    assert (status, body["error"]["code"]) == (401, "AuthenticationFailed")
    typo = vmss_body(**{"properties.overprovisoin": False})
    status, body = request(line, "PUT", VMSS_PUT, typo)
    assert (status, body["error"]["code"]) == (400, "InvalidRequestFormat")
    assert "overprovisoin" in body["error"]["details"][0]["message"]
    found = connect(line["stateDir"])
    assert found is not None
    assert (found.arm_endpoint, found.pid, found.token) == (line["armEndpoint"], proc.pid, line["token"])
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0  # a guard against a hang, not a speed check
    assert connect(line["stateDir"]) is None
    assert not (Path(line["stateDir"]) / "endpoints.json").exists()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_serve_answers_curl(served: tuple[subprocess.Popen[str], dict[str, Any], float]) -> None:
    _, line, _ = served
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "--cacert",
            line["caBundle"],
            "-H",
            f"Authorization: Bearer {line['token']}",
            line["armEndpoint"] + RG_LIST,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert {g["name"] for g in json.loads(out.stdout)["value"]} >= {"rg-network", "rg-aks"}


def test_second_serve_on_the_same_dir_is_refused(
    served: tuple[subprocess.Popen[str], dict[str, Any], float], capsys: pytest.CaptureFixture[str]
) -> None:
    _, line, _ = served
    assert run(["sandbox", "serve", "--dir", line["stateDir"]]) == 5
    err = capsys.readouterr().err
    assert "already serves" in err
    assert "Traceback" not in err


def test_bad_inputs_fail_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "world.yaml"
    bad.write_text(
        "subscription:\n  id: 11111111-2222-3333-4444-555555555555\nresourceGroups:\n  rg:\n    vnets: {}\n"
    )
    assert run(["sandbox", "serve", "--dir", str(tmp_path / "a"), "--world", str(bad)]) == 3
    err = capsys.readouterr().err
    assert f"{bad}:5: resourceGroups.rg.vnets: unknown field 'vnets'" in err
    assert "Traceback" not in err
    assert run(["sandbox", "serve", "--dir", str(tmp_path / "b"), "--fault", "arm.vmss.put=teapot"]) == 3
    assert "--fault: bad fault rule" in capsys.readouterr().err
    assert run(["sandbox", "serve", "--dir", str(tmp_path / "c"), "--timing", "lro=soon"]) == 3


def test_reset_clears_the_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sb = start(tmp_path, timing=FAST)
    try:
        status, _ = request(
            {**sb.public(), "token": sb.token},
            "PUT",
            f"subscriptions/{SUB}/resourcegroups/rg-x?api-version=2024-07-01",
            {"location": "westeurope"},
        )
        assert status == 201
        assert run(["sandbox", "reset", "--dir", str(tmp_path)]) == 0
        assert "state.json" in capsys.readouterr().out
        _, body = request({**sb.public(), "token": sb.token}, "GET", RG_LIST)
        assert "rg-x" not in {g["name"] for g in body["value"]}  # the running server seeded the world again
    finally:
        sb.stop()


def test_state_persists_and_is_shared(tmp_path: Path) -> None:
    first, second = start(tmp_path, timing=FAST), start(tmp_path, timing=FAST)
    try:
        one = {**first.public(), "token": first.token}
        two = {**second.public(), "token": second.token}
        put = f"subscriptions/{SUB}/resourcegroups/rg-shared?api-version=2024-07-01"
        assert request(one, "PUT", put, {"location": "westeurope"})[0] == 201
        assert request(two, "GET", put)[0] == 200  # the other server reloaded the file
    finally:
        first.stop()
        second.stop()
    third = start(tmp_path, timing=FAST)
    try:
        assert request({**third.public(), "token": third.token}, "GET", put)[0] == 200
    finally:
        third.stop()
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "credentials.json").stat().st_mode & 0o777 == 0o600


def test_worlds_are_checked_with_lines() -> None:
    text = (
        "subscription: {id: not-a-guid}\n"
        "resourceGroups:\n"
        "  rg:\n"
        "    galleries:\n"
        "      g:\n"
        "        images:\n"
        "          i:\n"
        "            identifier: {publisher: p, offer: o, sku: s}\n"
        "            osType: Plan9\n"
        "            versions: {1.0: {}}\n"
        "    managedClusters:\n"
        "      c: {subnet: vnet/none, entra: maybe}\n"
        "devops: {organization: subscriptions, users: {a@b.c: {}}}\n"
    )
    with pytest.raises(InvalidInput) as e:
        world.parse(text, "w.yaml")
    found = {(p.line, p.field, p.message.split(" (")[0]) for p in e.value.problems}
    assert (1, "subscription.id", "expected a GUID") in found
    assert (9, "resourceGroups.rg.galleries.g.images.i.osType", "expected one of Linux, Windows") in found
    assert any(p.line == 10 and "Major.Minor.Patch" in p.message for p in e.value.problems)
    assert (12, "resourceGroups.rg.managedClusters.c.entra", "expected true or false") in found
    assert any(p.line == 12 and "vnet/none" in p.message for p in e.value.problems)
    assert any(p.line == 13 and "cannot be an organization name" in p.message for p in e.value.problems)


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("subscription:\n  id: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 64 levels", 2),
        (BOMB, "more than 50000 values", None),
        ("subscription: &s {id: *s}\n", "refers to the value that contains it", 1),
    ],
)
def test_hostile_worlds_are_refused_with_a_line(text: str, message: str, line: int | None) -> None:
    with pytest.raises(InvalidInput) as e:
        world.parse(text, "w.yaml")
    assert len(e.value.problems) == 1, e.value.problems
    found = e.value.problems[0]
    assert message in found.message and (line is None or found.line == line), found


def test_oversize_and_binary_world_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big, binary = tmp_path / "big.yaml", tmp_path / "bin.yaml"
    big.write_text("subscription: {id: 11111111-2222-3333-4444-555555555555}\n" + "# pad\n" * 200_000)
    binary.write_bytes(b"subscription: \xff\xfe\n")
    for path, message in ((big, "larger than 1024 KiB"), (binary, "not UTF-8 text")):
        assert run(["sandbox", "serve", "--dir", str(tmp_path / path.stem), "--world", str(path)]) == 3
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err


def test_a_built_in_world_is_named_without_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    no_egress = world.load("no-egress")
    assert no_egress == world.load(world.resources.files("agentctl.sandbox.worlds") / "no-egress.yaml")
    assert no_egress != world.load(None)
    (tmp_path / "no-egress").write_text("subscription: {}\n")  # a file of that name wins
    with pytest.raises(InvalidInput, match="world no-egress is invalid"):
        world.load("no-egress")
    assert run(["sandbox", "serve", "--dir", str(tmp_path / "s"), "--world", "no-such-world"]) == 3
    err = capsys.readouterr().err
    assert "neither a file nor a built-in world" in err and "no-egress" in err and "Traceback" not in err


def test_default_world_matches_the_example_pool() -> None:
    import yaml

    pool = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "pool.yaml").read_text())
    w = world.load(None)
    assert w["subscriptionId"] == pool["azure"]["subscription"]
    groups = {g["name"]: g for g in w["resourceGroups"]}
    assert pool["azure"]["resourceGroup"] not in groups
    for ref in (
        pool["network"]["subnetId"],
        pool["image"]["galleryImageId"],
        pool["scaleSet"]["identity"]["userAssigned"],
    ):
        assert ref.split("/")[4] in groups
    assert w["devops"]["organization"] == pool["devops"]["organization"].rsplit("/", 1)[1]
    assert [p["name"] for p in w["devops"]["projects"]] == [pool["devops"]["project"]]
    approvers = pool["devops"]["environments"][0]["approvers"]
    assert set(approvers) <= {g["mail"] for g in w["devops"]["groups"]} | {
        u["mail"] for u in w["devops"]["users"]
    }


def test_custom_world(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "subscription: {id: 22222222-2222-3333-4444-555555555555}\n"
        "location: northeurope\n"
        "resourceGroups:\n"
        "  rg-net: {virtualNetworks: {v: {addressPrefixes: [10.0.0.0/16], subnets: {s: 10.0.1.0/24}}}}\n"
        "devops: {organization: fabrikam, projects: {web: {}}, users: {carol@fabrikam.com: {}}}\n"
    )
    sb = start(tmp_path / "sb", world=path, timing=FAST)
    try:
        assert sb.devops_url.endswith("/fabrikam")
        line = {**sb.public(), "token": sb.token}
        status, body = request(
            line,
            "GET",
            "subscriptions/22222222-2222-3333-4444-555555555555/resourcegroups?api-version=2024-07-01",
        )
        assert (status, [g["location"] for g in body["value"]]) == (200, ["northeurope"])
    finally:
        sb.stop()


def test_servers_starting_together_share_one_ca_and_secret(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        sandboxes = list(pool.map(lambda _: start(tmp_path, timing=FAST), range(4)))
    try:
        assert len({sb.client_secret for sb in sandboxes}) == 1
        for sb in sandboxes:  # each one's certificate verifies against the one ca.pem
            assert request({**sb.public(), "token": sandboxes[0].token}, "GET", RG_LIST)[0] == 200
    finally:
        for sb in sandboxes:
            sb.stop()


def test_a_world_given_for_an_existing_state_is_named_as_unused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from testlib import EXAMPLE_POOL

    custom = tmp_path / "world.yaml"
    custom.write_text(_default_world())
    argv = [
        "--sandbox",
        "--sandbox-dir",
        str(tmp_path / "sb"),
        "--world",
        str(custom),
        "plan",
        "-f",
        str(EXAMPLE_POOL),
    ]
    assert run(argv) == 2
    assert "--world is not used" not in capsys.readouterr().err  # a new state: seeded from it
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert "--world is not used" in err and "sandbox reset" in err


def _default_world() -> str:
    from importlib import resources

    return resources.files("agentctl.sandbox.worlds").joinpath("default.yaml").read_text()
