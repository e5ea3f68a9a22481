"""The shell the pipelines run: house rules (strict mode, shellcheck, no secret in text, logs or
arguments) and the behaviour of pipelines/scripts/*.sh, run against stand-in commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pipelinecheck import (
    PIPELINE_FILES,
    PIPELINES,
    REPO,
    Script,
    load,
    path_id,
    require,
    script_problems,
    scripts,
    secret_macro_problems,
)

SECRET = "s3cr3t-token-value"
ALL_SCRIPTS = [script for path in PIPELINE_FILES for script in scripts(load(path), REPO)]


def test_every_script_follows_the_house_rules() -> None:
    assert len(ALL_SCRIPTS) >= 3
    assert [problem for script in ALL_SCRIPTS for problem in script_problems(script)] == []


@pytest.mark.parametrize("path", PIPELINE_FILES, ids=path_id)
def test_secret_macros_are_only_mapped_into_env(path: Path) -> None:
    assert secret_macro_problems(load(path)) == []


def test_shellcheck_passes_on_every_script(tmp_path: Path) -> None:
    require(shutil.which("shellcheck") is not None, "shellcheck")
    files = {}
    for index, script in enumerate(ALL_SCRIPTS):
        path = tmp_path / f"script{index}.sh"
        path.write_text(script.text, encoding="utf-8")
        files[str(path)] = script.origin
    run = subprocess.run(
        ["shellcheck", "--shell=bash", "--format=gcc", *files], capture_output=True, text=True, check=False
    )
    findings = run.stdout
    for name, origin in files.items():
        findings = findings.replace(name, origin)
    assert run.returncode == 0, findings


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        (
            "bash: |\n      set -euo pipefail\n      echo $(System.AccessToken)",
            "outside a step's env mapping",
        ),
        (
            "task: AzureCLI@2\n    inputs:\n      arguments: --pat $(System.AccessToken)",
            "outside a step's env",
        ),
        (
            "bash: echo hi\n    env:\n      TOKEN: Bearer $(System.AccessToken)",
            "outside a step's env mapping",
        ),
    ],
    ids=["echoed", "argument", "embedded-in-env"],
)
def test_secret_macro_in_text_is_reported(tmp_path: Path, step: str, problem: str) -> None:
    pipeline = tmp_path / "pipeline.yml"
    pipeline.write_text(f"steps:\n  - {step}\n", encoding="utf-8")
    problems = secret_macro_problems(load(pipeline))
    assert len(problems) == 1 and problem in problems[0] and problems[0].startswith(f"{pipeline}:")


@pytest.mark.parametrize(
    ("text", "env", "problem"),
    [
        ("# comment\nset -eu\nagentctl plan\n", {}, "the first command must be `set -euo pipefail`"),
        ("set -euo pipefail\nset -x\nagentctl plan\n", {}, "xtrace would print secrets"),
        ("set -euo pipefail\nset -o xtrace\n", {}, "xtrace would print secrets"),
        ('set -euo pipefail\necho "$TOKEN"\n', {"TOKEN": "$(System.AccessToken)"}, "uses secret $TOKEN"),
        ("set -euo pipefail\nagentctl --pat ${AZDO_PAT} plan\n", {}, "uses secret $AZDO_PAT"),
        ("set -euo pipefail\ncd $(Build.SourcesDirectory)\n", {}, "Azure replaces $(...)"),
        ("set -euo pipefail\necho ${{ parameters.x }}\n", {}, "Azure replaces $(...)"),
    ],
    ids=["no-strict-mode", "xtrace", "xtrace-long", "echo-secret", "secret-argument", "macro", "expression"],
)
def test_script_rule_violations_are_reported(text: str, env: dict[str, str], problem: str) -> None:
    problems = script_problems(Script("pipeline.yml:3: steps.0.bash", text, env, inline=True))
    assert len(problems) == 1 and problem in problems[0], problems


def test_command_substitution_is_not_mistaken_for_a_macro() -> None:
    text = 'set -euo pipefail\nstarted="$(date -u +%s)"\nmkdir -p "$(dirname "$OUT")"\n'
    assert script_problems(Script("x", text, {}, inline=True)) == []


def fake_command(bin_dir: Path, name: str, body: str) -> None:
    """A stand-in for ``name`` on PATH that logs its arguments and environment to files."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(
        "#!/usr/bin/env bash\nset -euo pipefail\n"
        f'printf "%s\\n" "$@" > "{bin_dir}/{name}.args"\n'
        f'env > "{bin_dir}/{name}.env"\n' + body,
        encoding="utf-8",
    )
    path.chmod(0o755)


def run_script(name: str, bin_dir: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(cwd), **env}
    return subprocess.run(
        ["bash", str(PIPELINES / "scripts" / name)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("exit_code", "ok_codes", "expected"),
    [(0, "", 0), (2, "0 2", 0), (2, "", 2), (3, "0 2", 3), (1, "0 2", 1)],
    ids=["ok", "plan-changes-allowed", "changes-not-allowed", "invalid-input", "apply-failed"],
)
def test_run_agentctl_keeps_the_json_and_fails_only_on_unexpected_codes(
    tmp_path: Path, exit_code: int, ok_codes: str, expected: int
) -> None:
    bin_dir = tmp_path / "bin"
    fake_command(bin_dir, "agentctl", f'echo \'{{"status": "x"}}\'\nexit {exit_code}\n')
    out = tmp_path / "staging" / "plan" / "plan.json"
    env = {"AGENTCTL_ARGS": "plan -f examples/pool.yaml", "AGENTCTL_JSON": str(out), "AZDO_PAT": SECRET}
    if ok_codes:
        env["AGENTCTL_OK_EXIT_CODES"] = ok_codes
    run = run_script("run-agentctl.sh", bin_dir, tmp_path, **env)
    assert run.returncode == expected, run.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == {"status": "x"}
    args = (bin_dir / "agentctl.args").read_text(encoding="utf-8").split()
    assert args == ["--output", "json", "plan", "-f", "examples/pool.yaml"]
    assert f"AZDO_PAT={SECRET}" in (bin_dir / "agentctl.env").read_text(encoding="utf-8")
    assert SECRET not in run.stdout + run.stderr


def test_run_agentctl_without_json_passes_output_through(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    fake_command(bin_dir, "agentctl", "echo converged\n")
    run = run_script("run-agentctl.sh", bin_dir, tmp_path, AGENTCTL_ARGS="deploy-pool -f a.yaml --yes")
    assert run.returncode == 0 and "converged" in run.stdout
    assert (bin_dir / "agentctl.args").read_text(encoding="utf-8").split() == [
        "deploy-pool",
        "-f",
        "a.yaml",
        "--yes",
    ]


def test_run_agentctl_needs_a_command(tmp_path: Path) -> None:
    run = run_script("run-agentctl.sh", tmp_path / "bin", tmp_path)
    assert run.returncode != 0 and "AGENTCTL_ARGS must hold the agentctl command" in run.stderr


# The build resource group and network of the nightly bake (no public IP for the Packer VM).
NETWORK = {
    "PKR_VAR_build_resource_group_name": "rg-image-build",
    "PKR_VAR_virtual_network_name": "vnet-hub",
    "PKR_VAR_virtual_network_subnet_name": "agents",
    "PKR_VAR_virtual_network_resource_group_name": "rg-network",
}


@pytest.mark.parametrize("make_exit", [0, 2], ids=["baked", "bake-failed"])
def test_bake_records_the_duration_also_when_the_bake_fails(tmp_path: Path, make_exit: int) -> None:
    bin_dir = tmp_path / "bin"
    fake_command(bin_dir, "make", f"sleep 1\nexit {make_exit}\n")
    record = tmp_path / "images" / "artifacts" / "bake-duration.json"
    run = run_script(
        "bake-image.sh",
        bin_dir,
        tmp_path,
        PKR_VAR_FILE="packer/ubuntu-24.04.pkrvars.hcl",
        DURATION_FILE=str(record),
        **NETWORK,
    )
    assert run.returncode == make_exit
    assert (bin_dir / "make.args").read_text(encoding="utf-8").split() == [
        "image",
        "PKR_VAR_FILE=packer/ubuntu-24.04.pkrvars.hcl",
    ]
    duration = json.loads(record.read_text(encoding="utf-8"))
    assert duration["varFile"] == "packer/ubuntu-24.04.pkrvars.hcl"
    assert duration["exitCode"] == make_exit
    assert 1 <= duration["seconds"] <= 10
    assert duration["started"].endswith("Z")


def test_bake_rejects_a_var_file_that_would_break_the_record(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    fake_command(bin_dir, "make", "exit 0\n")
    run = run_script(
        "bake-image.sh", bin_dir, tmp_path, PKR_VAR_FILE='x".hcl', DURATION_FILE=str(tmp_path / "d.json")
    )
    assert run.returncode == 3 and "PKR_VAR_FILE has characters outside" in run.stderr
    assert not (bin_dir / "make.args").exists()


@pytest.mark.parametrize(
    "var_file", ["../ubuntu-24.04.pkrvars.hcl", "packer/../../etc/vars.hcl", "packer/..hcl"]
)
def test_bake_refuses_a_var_file_path_with_dot_dot(tmp_path: Path, var_file: str) -> None:
    bin_dir = tmp_path / "bin"
    fake_command(bin_dir, "make", "exit 0\n")
    run = run_script(
        "bake-image.sh",
        bin_dir,
        tmp_path,
        PKR_VAR_FILE=var_file,
        DURATION_FILE=str(tmp_path / "d.json"),
        **NETWORK,
    )
    assert run.returncode == 3
    assert f"PKR_VAR_FILE must not contain '..': {var_file}" in run.stderr
    assert not (bin_dir / "make.args").exists()


@pytest.mark.parametrize("missing", sorted(NETWORK))
def test_bake_needs_the_build_network_so_the_vm_gets_no_public_ip(tmp_path: Path, missing: str) -> None:
    bin_dir = tmp_path / "bin"
    fake_command(bin_dir, "make", "exit 0\n")
    env = {**NETWORK, missing: ""}
    run = run_script(
        "bake-image.sh",
        bin_dir,
        tmp_path,
        PKR_VAR_FILE="packer/ubuntu-24.04.pkrvars.hcl",
        DURATION_FILE=str(tmp_path / "d.json"),
        **env,
    )
    assert run.returncode == 3
    assert (
        f"{missing} is not set: the nightly bakes in an existing resource group and the agents' subnet"
        in run.stderr
    )
    assert not (bin_dir / "make.args").exists()


def publish_setup(tmp_path: Path) -> Path:
    """A checkout with two var files and an az that appends each call's arguments to az.calls."""
    (tmp_path / "packer").mkdir()
    for version in ("22.04", "24.04"):
        (tmp_path / "packer" / f"ubuntu-{version}.pkrvars.hcl").write_text(
            f'gallery_image_name = "ubuntu-{version}-agent"\n', encoding="utf-8"
        )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(f'#!/usr/bin/env bash\necho "$*" >> "{bin_dir}/az.calls"\n', encoding="utf-8")
    az.chmod(0o755)
    return bin_dir


GALLERY = {"IMAGE_VERSION": "2026.1204.1", "GALLERY_RESOURCE_GROUP": "rg-images", "GALLERY_NAME": "agents"}


def test_publish_takes_each_listed_image_as_one_word(tmp_path: Path) -> None:
    bin_dir = publish_setup(tmp_path)
    run = run_script("publish-image.sh", bin_dir, tmp_path, IMAGES=" ubuntu-22.04\tubuntu-24.04 ", **GALLERY)
    assert run.returncode == 0, run.stderr
    calls = (bin_dir / "az.calls").read_text(encoding="utf-8").splitlines()
    assert [c.split("--gallery-image-definition ")[1].split()[0] for c in calls] == [
        "ubuntu-22.04-agent",
        "ubuntu-24.04-agent",
    ]
    assert all("--gallery-image-version 2026.1204.1" in c for c in calls)


@pytest.mark.parametrize(
    "images", ["ubuntu-24.04 *", "ubuntu-24.04 ../packer/ubuntu-22.04", "ubuntu-24.04 a/b", "ubuntu-20.04"]
)
def test_publish_refuses_a_bad_image_name_before_publishing_anything(tmp_path: Path, images: str) -> None:
    bin_dir = publish_setup(tmp_path)
    run = run_script("publish-image.sh", bin_dir, tmp_path, IMAGES=images, **GALLERY)
    assert run.returncode == 3
    assert f"IMAGES holds '{images.split()[-1]}'" in run.stderr
    assert not (bin_dir / "az.calls").exists()


def software_report(path: Path, name: str, version: str, kubectl: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"image": {"name": name, "version": version}, "tools": [{"name": "kubectl", "installed": kubectl}]}
    path.write_text(json.dumps(doc), encoding="utf-8")


def run_diff(tmp_path: Path, old: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """diff-image.sh with the real agentctl (this virtualenv's) and the artifacts of two bakes."""
    require(shutil.which("jq") is not None, "jq")
    artifacts = tmp_path / "workspace"
    for os_name, kubectl in (("ubuntu-22.04", "1.36.5"), ("ubuntu-24.04", "1.36.5")):
        report = (
            artifacts
            / f"software-report-{os_name}"
            / f"{os_name}-agent"
            / "2026.1204.1"
            / "software-report.json"
        )
        software_report(report, f"{os_name}-agent", "2026.1204.1", kubectl)
    software_report(
        artifacts / "s" / "old-checkout" / "software-report.json", "ubuntu-24.04-agent", "1.2.3", "0"
    )
    summary = tmp_path / "tmp" / "image-diff.md"
    bin_dir = Path(sys.executable).parent
    env = {"NEW_REPORTS": str(artifacts), "OLD_REPORT": str(old), "SUMMARY_FILE": str(summary)}
    return run_script("diff-image.sh", bin_dir, tmp_path, **env), summary


def test_diff_puts_the_changes_against_the_pools_image_in_the_summary(tmp_path: Path) -> None:
    old = tmp_path / "agent-image" / "software-report.json"
    software_report(old, "ubuntu-24.04-agent", "2026.1129.1", "1.36.4")
    run, summary = run_diff(tmp_path, old)
    assert run.returncode == 0, run.stderr
    text = summary.read_text(encoding="utf-8")
    assert "### ubuntu-22.04-agent 2026.1204.1\n\nNot compared: the pool runs ubuntu-24.04-agent." in text
    assert "### ubuntu-24.04-agent 2026.1204.1\n\n```text\nubuntu-24.04-agent 2026.1129.1 -> " in text
    assert "  ~ kubectl 1.36.4 -> 1.36.5\n0 added, 0 removed, 1 changed, 0 unchanged\n```" in text
    assert text.count("### ") == 2  # only the downloaded artifacts, never a report elsewhere in the workspace
    assert run.stdout.rstrip().endswith(f"##vso[task.uploadsummary]{summary}")


def test_diff_says_when_the_agent_has_no_report(tmp_path: Path) -> None:
    run, summary = run_diff(tmp_path, tmp_path / "none.json")
    assert run.returncode == 0, run.stderr
    assert "has no software report" in summary.read_text(encoding="utf-8")


def test_diff_fails_on_a_malformed_report_with_agentctls_exit_code(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text('{"image": {"name": "ubuntu-24.04-agent"}, "tools": []}', encoding="utf-8")
    run, _ = run_diff(tmp_path, old)
    assert run.returncode == 3
    assert "image.version: missing or not a string" in run.stderr
