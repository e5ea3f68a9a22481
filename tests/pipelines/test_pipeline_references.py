"""What the pipelines point at exists: templates (with the parameters they declare), repository
files and directories, Makefile targets; and nothing under pipelines/ is left unused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipelinecheck import (
    PIPELINE_FILES,
    PIPELINES,
    REPO,
    load,
    make_targets_called,
    makefile_targets,
    path_id,
    repo_path_problems,
    scripts,
    template_calls,
    template_problems,
    walk,
)

# Paths that a build step writes (path -> the repository file that writes it).
PRODUCED = {"images/artifacts": "images/build.sh"}

TEMPLATE = """\
parameters:
  - name: connection
    type: string
  - name: verbose
    type: boolean
    default: false
  - name: mode
    type: string
    default: check
    values: [check, apply]
steps:
  - bash: |
      set -euo pipefail
      true
"""


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=path_id)
def test_templates_exist_and_get_the_parameters_they_declare(path: Path) -> None:
    assert template_problems(load(path), REPO) == []


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=path_id)
def test_repository_paths_exist_or_are_produced_by_the_build(path: Path) -> None:
    assert repo_path_problems(load(path), REPO, PRODUCED) == []


def test_make_targets_exist_in_the_makefile() -> None:
    texts = [node for path in PIPELINE_FILES for _, node in walk(load(path).data) if isinstance(node, str)]
    texts += [script.text for path in PIPELINE_FILES for script in scripts(load(path), REPO)]
    called = {target for text in texts for target in make_targets_called(text)}
    assert "image" in called
    assert called <= makefile_targets(REPO / "Makefile")


def test_every_template_and_script_is_used() -> None:
    used = set()
    for path in PIPELINE_FILES:
        doc = load(path)
        used |= {(path.parent / ref).resolve() for _, ref, _ in template_calls(doc)}
        used |= {(REPO / script.origin).resolve() for script in scripts(doc, REPO) if not script.inline}
    shared = {*PIPELINES.glob("templates/*"), *PIPELINES.glob("scripts/*")}
    assert shared and {path.resolve() for path in shared} <= used


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        ("- template: missing.yml", "template 'missing.yml' does not exist"),
        ("- template: shared.yml@other-repo", "is not a plain path in this repository"),
        ("- template: shared.yml", "shared.yml requires parameter 'connection'"),
        (
            "- template: shared.yml\n    parameters: {connection: arm, colour: red}",
            "shared.yml declares no parameter 'colour'",
        ),
        (
            "- template: shared.yml\n    parameters: {connection: arm, verbose: loud}",
            "'loud' is not a boolean",
        ),
        (
            "- template: shared.yml\n    parameters: {connection: arm, mode: destroy}",
            "'destroy' is not one of",
        ),
        ("- template: shared.yml\n    parameters: {connection: [a, b]}", "is not a string"),
    ],
    ids=["missing", "other-repo", "required", "undeclared", "not-boolean", "not-allowed", "not-string"],
)
def test_template_mistakes_are_reported(tmp_path: Path, call: str, problem: str) -> None:
    (tmp_path / "shared.yml").write_text(TEMPLATE, encoding="utf-8")
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(f"steps:\n  {call}\n", encoding="utf-8")
    problems = template_problems(load(pipeline), tmp_path)
    assert len(problems) == 1 and problem in problems[0], problems
    assert problems[0].startswith(f"{pipeline}:2: steps.0.template")


def test_template_calls_with_expressions_and_defaults_pass(tmp_path: Path) -> None:
    (tmp_path / "shared.yml").write_text(TEMPLATE, encoding="utf-8")
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(
        "steps:\n"
        "  - template: /shared.yml\n"
        "    parameters:\n"
        "      connection: arm\n"
        "      verbose: ${{ parameters.v }}\n",
        encoding="utf-8",
    )
    assert template_problems(load(pipeline), tmp_path) == []


def test_missing_repository_paths_are_reported(tmp_path: Path) -> None:
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "pool.yaml").write_text("{}\n", encoding="utf-8")
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(
        "variables:\n"
        "  ok: examples/pool.yaml\n"
        "  missing: examples/other.yaml\n"
        "  report: out/report.json\n"
        "  macro: $(Build.SourcesDirectory)/examples/gone.yaml\n"
        "  runtime: $(Build.ArtifactStagingDirectory)/plan.json\n"
        "  branch: refs/heads/main\n",
        encoding="utf-8",
    )
    problems = repo_path_problems(load(pipeline), tmp_path, {"out": "build.sh"})
    assert problems == [
        f"{pipeline}:3: variables.missing: examples/other.yaml does not exist in the repository",
        f"{pipeline}:4: variables.report: out/report.json is written by build.sh, which does not exist",
        f"{pipeline}:5: variables.macro: examples/gone.yaml does not exist in the repository",
    ]


def test_make_calls_and_rules_are_read_like_make_does(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile"
    makefile.write_text(
        "X := 1\n.PHONY: a\nimage image-check: dep\n\tmake -s inner\nclean::\n", encoding="utf-8"
    )
    assert makefile_targets(makefile) == {"image", "image-check", "clean"}
    script = 'cd x && make image PKR_VAR_FILE="$f"\nmake -j 2 -C sub lint test\nif true; then make demo; fi\n'
    assert make_targets_called(script) == ["image", "lint", "test", "demo"]
    assert make_targets_called("cmake build; automake\necho make it so\nmakefile=1\n") == []
