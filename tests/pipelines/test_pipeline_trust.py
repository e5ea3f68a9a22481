"""Pull requests never get deploy rights, and the pipelines install agentctl from a hash-checked
lock that matches pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from pipelinecheck import PIPELINE_FILES, REPO, path_id, walk

LOCK = REPO / "pipelines" / "requirements.lock"
PRIVILEGED = re.compile(r"parameters\.azureConnection\b|System\.AccessToken", re.IGNORECASE)


def _runs_for_pull_requests(pipeline: dict[str, Any], stage: dict[str, Any]) -> bool:
    """A stage may run for a pull request unless the pipeline has no PR trigger or the stage's
    condition excludes the PullRequest reason."""
    if str(pipeline.get("pr", "")).strip() == "none":
        return False
    condition = re.sub(r"\s+", "", str(stage.get("condition", "")))
    return "ne(variables['Build.Reason'],'PullRequest')" not in condition


def privileged_in_pull_requests(pipeline: dict[str, Any]) -> list[str]:
    """Stages that can run for a pull request and name the privileged connection or a token
    that can write (System.AccessToken; the agentctl template maps it unless told not to)."""
    found = []
    for stage in pipeline.get("stages") or []:
        if not isinstance(stage, dict) or not _runs_for_pull_requests(pipeline, stage):
            continue
        for where, node in walk(stage):
            if isinstance(node, str) and PRIVILEGED.search(node):
                found.append(f"{stage.get('stage')}: {'.'.join(map(str, where))}: {node}")
            calls_agentctl = isinstance(node, dict) and str(node.get("template", "")).endswith(
                "templates/agentctl.yml"
            )
            if (
                calls_agentctl
                and str((node.get("parameters") or {}).get("azureDevOpsToken", "true")) != "false"
            ):
                found.append(f"{stage.get('stage')}: {'.'.join(map(str, where))}: System.AccessToken")
    return found


PIPELINES_WITH_STAGES = [p for p in PIPELINE_FILES if "templates" not in p.parts]


@pytest.mark.parametrize("path", PIPELINES_WITH_STAGES, ids=[path_id(p) for p in PIPELINES_WITH_STAGES])
def test_no_stage_a_pull_request_runs_can_write(path: Any) -> None:
    pipeline = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    assert privileged_in_pull_requests(pipeline) == []


def test_the_check_catches_a_pull_request_stage_with_deploy_rights() -> None:
    deploy = yaml.load((REPO / "pipelines" / "deploy-pool.yml").read_text(), Loader=yaml.BaseLoader)
    [plan] = [s for s in deploy["stages"] if s["stage"] == "plan"]
    [call] = [
        n for _, n in walk(plan) if isinstance(n, dict) and "azureDevOpsToken" in (n.get("parameters") or {})
    ]
    call["parameters"]["azureDevOpsToken"] = "true"
    assert privileged_in_pull_requests(deploy) == ["plan: jobs.0.steps.2: System.AccessToken"]
    call["parameters"] |= {
        "azureDevOpsToken": "false",
        "azureConnection": "${{ parameters.azureConnection }}",
    }
    assert len(privileged_in_pull_requests(deploy)) == 1
    [deploy_stage] = [s for s in deploy["stages"] if s["stage"] == "deploy"]
    deploy_stage["condition"] = "eq(variables['Build.SourceBranch'], 'refs/heads/main')"  # PRs not excluded
    assert len(privileged_in_pull_requests(deploy)) > 1


def _lock() -> dict[str, tuple[str, list[str], list[str]]]:
    """name -> (version, hashes, what requires it) from pip-compile's output."""
    out: dict[str, tuple[str, list[str], list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text()):
        head = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if head:
            name = head.group(1).lower().replace("_", "-")
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
            via = re.findall(r"#\s+(?:via\s+)?([A-Za-z0-9._-]+(?: \(pyproject\.toml[^)]*\))?)$", block, re.M)
            out[name] = (head.group(2), hashes, via)
    return out


def test_the_lock_is_current_with_pyproject_and_hash_pinned() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    wanted = [
        Requirement(r) for r in project["project"]["dependencies"] + project["build-system"]["requires"]
    ]
    lock = _lock()
    stale = [
        str(req)
        for req in wanted
        if req.name.lower() not in lock
        or not req.specifier.contains(lock[req.name.lower()][0], prereleases=True)
    ]
    assert stale == [], "pyproject.toml changed: run `make lock`"
    assert all(hashes for _, hashes, _ in lock.values()), "every pin carries its sha256 hashes"
    direct = {req.name.lower() for req in wanted}
    orphans = [
        name
        for name, (_, _, via) in lock.items()
        if name not in direct and not any(v.split()[0].lower() in lock for v in via)
    ]
    assert orphans == [], "the lock pins what nothing requires any more: run `make lock`"


def test_the_pipelines_install_from_the_lock_with_hash_checking() -> None:
    text = (REPO / "pipelines" / "templates" / "install-agentctl.yml").read_text()
    assert "--require-hashes" in text and "pipelines/requirements.lock" in text
    assert re.search(r"install --no-deps --no-index --no-build-isolation \"\$REPO\"", text)
