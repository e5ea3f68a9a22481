"""An organization the world does not have: the sandbox answers as for a missing organization,
and agentctl's error names devops.organization before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentctl.cli import run
from testlib import EXAMPLE_POOL, is_write


def test_an_unknown_organization_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pool = tmp_path / "pool.yaml"
    pool.write_text(EXAMPLE_POOL.read_text().replace("dev.azure.com/contoso", "dev.azure.com/fabrikam"))
    state = tmp_path / "sb"
    capsys.readouterr()
    code = run(
        ["--sandbox", "--sandbox-dir", str(state), "-o", "json", "deploy-pool", "-f", str(pool), "--yes"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 5, out
    [error] = out["errors"]
    assert error["field"] == "devops.organization" and "fabrikam" in error["message"]
    log = [json.loads(line) for line in (state / "access.jsonl").read_text().splitlines()]
    refused = [e for e in log if e["service"] == "devops" and e["status"] == 404]
    assert refused and refused[0]["response"]["typeKey"] == "OrganizationNotFoundException"
    assert [e for e in log if is_write(e)] == []


FABRIKAM = """
  organizations:
    fabrikam:
      projects:
        platform: {description: Fabrikam platform}
      users:
        alice@contoso.com: {displayName: Alice Martin, objectId: 6a3f1c8e-2d5b-4a9c-8e7f-1b4d6c9a2e5f}
        bob@contoso.com: {displayName: Bob Chen, objectId: 8c5e2a7f-4d1b-4c6e-9a3f-5b8d1e4c7a2f}
      groups:
        platform-leads@contoso.com:
          objectId: 1e7c4a9f-5b2d-4e8a-b6c3-7f0a2d5e8b1c
          members: [alice@contoso.com, bob@contoso.com]
"""


def test_a_world_with_two_organizations_keeps_them_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    default = Path(__file__).parents[2] / "manager/agentctl/sandbox/worlds/default.yaml"
    world = tmp_path / "world.yaml"
    world.write_text(default.read_text().rstrip("\n") + "\n" + FABRIKAM)
    fabrikam = tmp_path / "fabrikam.yaml"
    fabrikam.write_text(EXAMPLE_POOL.read_text().replace("dev.azure.com/contoso", "dev.azure.com/fabrikam"))
    state = tmp_path / "sb"
    base = ["--sandbox", "--sandbox-dir", str(state), "--world", str(world), "-o", "json"]

    def cli(*args: str) -> tuple[int, dict[str, object]]:
        capsys.readouterr()
        code = run([*base, *args])
        return code, json.loads(capsys.readouterr().out)

    code, out = cli("deploy-pool", "-f", str(fabrikam), "--yes")
    assert code == 0, out
    log = [json.loads(line) for line in (state / "access.jsonl").read_text().splitlines()]
    devops_paths = {e["path"].split("/")[1] for e in log if e["service"] == "devops"}
    assert devops_paths == {"fabrikam"}
    code, out = cli("deploy-pool", "-f", str(fabrikam), "--yes")  # converged there
    assert code == 0 and out["status"] == "ok", out
    # contoso has its own pools, projects and connections: the pool is not there.
    code, out = cli("plan", "-f", str(EXAMPLE_POOL))
    ops = {a["key"]: a["op"] for a in out["data"]["actions"]}  # type: ignore[index]
    assert code == 2 and ops["scaleSet"] == "noop" and ops["resourceGroup"] == "noop"  # ARM is shared
    assert ops["pool"] == ops["azureConnection"] == ops["environment:private-aks-dev"] == "create"
