"""Every pipeline under pipelines/ validates against the official Azure Pipelines schema, and the
validation has teeth: mistakes Azure Pipelines rejects are reported with file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipelinecheck import (
    PIPELINE_FILES,
    PIPELINES,
    PipelineFileError,
    PipelineValidator,
    load,
    official_schema,
    official_validator,
    path_id,
    schema_problems,
)

VALID = """\
trigger: none
pool:
  name: private-agents
variables:
  namespace: dev
jobs:
  - deployment: helm
    environment: private-aks-dev
    strategy:
      runOnce:
        deploy:
          steps:
            - task: HelmDeploy@0
              displayName: helm upgrade
              inputs:
                connectionType: Kubernetes Service Connection
                kubernetesServiceConnection: private-aks-dev
                namespace: $(namespace)
                command: upgrade
                chartType: FilePath
                chartPath: charts/app
                install: true
                waitForExecution: true
            - ${{ if eq(variables['Build.SourceBranch'], 'refs/heads/main') }}:
                - bash: echo main
                  displayName: only on main
"""


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "pipeline.yml"
    path.write_text(text, encoding="utf-8")
    return schema_problems(official_validator(), load(path))


def test_the_pipelines_are_all_there() -> None:
    names = {path.relative_to(PIPELINES).as_posix() for path in PIPELINE_FILES}
    assert {
        "image-nightly.yml",
        "deploy-pool.yml",
        "examples/deploy-private-aks.yml",
        "examples/build-push-private-acr.yml",
    } <= names
    assert any(name.startswith("templates/") for name in names)


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=path_id)
def test_pipeline_validates_against_the_official_schema(path: Path) -> None:
    assert schema_problems(official_validator(), load(path)) == []


def test_the_reference_pipeline_is_valid(tmp_path: Path) -> None:
    assert problems_of(tmp_path, VALID) == []


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        pytest.param(
            "trigger: none", "triggers: none", 1, "triggers", "'triggers' was unexpected", id="unknown-key"
        ),
        pytest.param(
            "    environment: private-aks-dev",
            "    enviroment: private-aks-dev",
            8,
            "jobs.0.enviroment",
            "'enviroment' was unexpected",
            id="unknown-job-key",
        ),
        pytest.param(
            "kubernetesServiceConnection: private",
            "kubernetesServiceConection: private",
            17,
            "inputs.kubernetesServiceConection",
            "'kubernetesServiceConection' was unexpected",
            id="wrong-input-name",
        ),
        pytest.param(
            "command: upgrade",
            "command: upgrad",
            19,
            "inputs.command",
            "'upgrad' is not one of",
            id="bad-enum",
        ),
        pytest.param(
            "install: true",
            "install: maybe",
            22,
            "inputs.install",
            "is not of type 'boolean'",
            id="not-boolean",
        ),
        pytest.param("HelmDeploy@0", "HelmDeploy@9", 13, "steps.0.task", "HelmDeploy@9", id="unknown-task"),
        pytest.param(
            "            - task: HelmDeploy@0\n              displayName: helm upgrade\n",
            "            - displayName: helm upgrade\n              task: HelmDeploy@0\n",
            13,
            "steps.0",
            "the first key must be task",
            id="task-not-first",
        ),
        pytest.param(
            "runOnce:", "runTwice:", 10, "strategy.runTwice", "'runTwice' was unexpected", id="strategy"
        ),
        pytest.param(
            "                - bash: echo main\n",
            "                - bash: echo main\n                  shell: zsh\n",
            26,
            "steps.1.shell",
            "'shell' was unexpected",
            id="inside-template-if",
        ),
    ],
)
def test_invalid_pipeline_is_reported_where_the_mistake_is(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in VALID
    problems = problems_of(tmp_path, VALID.replace(old, new, 1))
    assert len(problems) == 1, problems
    location, _, text = problems[0].partition(": ")
    assert location == f"{tmp_path / 'pipeline.yml'}:{line}"
    assert field in text and message in text


def test_a_task_without_inputs_is_still_rejected(tmp_path: Path) -> None:
    """Only `required` inside `inputs` is dropped: a task that needs inputs must still have them."""
    text = "steps:\n  - task: AzureCLI@2\n    displayName: no inputs\n"
    assert any("'inputs' is a required property" in p for p in problems_of(tmp_path, text))


def test_dropping_required_inputs_is_what_makes_helm_upgrade_valid(tmp_path: Path) -> None:
    """The unmodified schema rejects a HelmDeploy@0 upgrade through a Kubernetes connection for
    lacking the ACR inputs (needed only by other commands); the adjusted schema accepts it."""
    path = tmp_path / "pipeline.yml"
    path.write_text(VALID, encoding="utf-8")
    unmodified = PipelineValidator(json.loads(official_schema().read_text(encoding="utf-8")))
    problems = schema_problems(unmodified, load(path))
    assert len(problems) == 1 and "'azureSubscriptionForACR' is a required property" in problems[0]
    assert schema_problems(official_validator(), load(path)) == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("jobs:\n  - job: a\n    steps: []\n    steps: []\n", 4, "duplicate key 'steps'"),
        ("jobs:\n  - job: a\n    steps: [\n", 4, "not valid YAML"),
    ],
    ids=["duplicate-key", "broken-yaml"],
)
def test_unreadable_pipeline_names_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "pipeline.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PipelineFileError) as raised:
        load(path)
    assert str(raised.value).startswith(f"{path}:{line}: {message}")
