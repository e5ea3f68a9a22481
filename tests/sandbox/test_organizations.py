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
