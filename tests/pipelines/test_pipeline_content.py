"""What each pipeline does: triggers, stages and gates, the agentctl calls (checked against the
agentctl CLI itself), and names that must match what agentctl creates from examples/pool.yaml."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from pipelinecheck import PIPELINE_FILES, PIPELINES, REPO, declared_parameters, load, template_arguments, walk

NIGHTLY = PIPELINES / "image-nightly.yml"
DEPLOY = PIPELINES / "deploy-pool.yml"
AGENTCTL_TEMPLATE = "templates/agentctl.yml"
POOL = yaml.safe_load((REPO / "examples" / "pool.yaml").read_text(encoding="utf-8"))
REGISTRY_POOL = REPO / "examples" / "pool-registry.yaml"  # the example pool with a registry


def data(path: Path) -> Any:
    return load(path).data


def stage(path: Path, name: str) -> dict[str, Any]:
    return next(s for s in data(path)["stages"] if s.get("stage") == name)


def tasks(node: Any, name: str) -> list[dict[str, Any]]:
    return [n for _, n in walk(node) if isinstance(n, dict) and n.get("task") == name]


def default(path: Path, parameter: str) -> Any:
    return declared_parameters(load(path))[parameter]["default"]


def test_nightly_runs_on_its_schedule_only() -> None:
    nightly = data(NIGHTLY)
    assert nightly["trigger"] == "none" and nightly["pr"] == "none"
    [schedule] = nightly["schedules"]
    assert schedule["always"] == "true"
    minute, hour, *rest = schedule["cron"].split()
    assert len(rest) == 3 and 0 <= int(minute) < 60 and 0 <= int(hour) < 24
    assert schedule["branches"]["include"] == ["main"]


def job_of(path: Path, stage_name: str, name: str) -> dict[str, Any]:
    return next(j for j in stage(path, stage_name)["jobs"] if j.get("job") == name)


def bake_step(job: dict[str, Any]) -> dict[str, Any]:
    [step] = tasks(job, "Bash@3")
    return step


def test_nightly_bakes_the_images_and_publishes_the_report() -> None:
    job = job_of(NIGHTLY, "bake", "bake")
    [leg] = job["strategy"]["matrix"].values()
    assert leg["varFile"] == "packer/${{ image }}.pkrvars.hcl"
    for image in default(NIGHTLY, "images"):
        assert (REPO / "packer" / f"{image}.pkrvars.hcl").is_file()
    step = bake_step(job)
    assert step["inputs"]["filePath"].endswith("pipelines/scripts/bake-image.sh")
    assert step["env"]["PKR_VAR_FILE"] == "$(varFile)"
    report_dir = "$(Build.SourcesDirectory)/$(softwareReportDir)"
    assert step["env"]["ARTIFACTS_DIR"] == report_dir
    assert step["env"]["DURATION_FILE"].startswith(report_dir + "/")
    [publish] = tasks(job, "PublishPipelineArtifact@1")
    assert publish["inputs"]["targetPath"] == report_dir
    assert publish["condition"] == "succeededOrFailed()"
    assert data(NIGHTLY)["variables"]["softwareReportDir"] == "images/artifacts"
    assert job["steps"][0] == {"checkout": "self", "clean": "true"}


def test_nightly_bakes_what_the_pool_files_use() -> None:
    """Every baked image is rolled and pruned through a pool file, and every pool's image is baked."""
    used = set()
    for pool_file in default(NIGHTLY, "poolFiles"):
        pool = yaml.safe_load((REPO / pool_file).read_text(encoding="utf-8"))
        used.add(pool["image"]["galleryImageId"].rsplit("/", 1)[1])
    baked = set()
    for image in default(NIGHTLY, "images"):
        hcl = (REPO / "packer" / f"{image}.pkrvars.hcl").read_text(encoding="utf-8")
        baked.update(re.findall(r'^gallery_image_name\s*=\s*"([^"]+)"', hcl, re.MULTILINE))
    assert baked == used


def required_packer_variables() -> set[str]:
    """Packer variables without a default that the per-OS var files do not set."""
    text = (REPO / "packer" / "variables.pkr.hcl").read_text(encoding="utf-8")
    blocks = re.findall(r'^variable "(\w+)" \{(.*?)^\}', text, re.MULTILINE | re.DOTALL)
    required = {name for name, body in blocks if not re.search(r"^\s*default\s*=", body, re.MULTILINE)}
    for var_file in (REPO / "packer").glob("*.pkrvars.hcl"):
        required -= set(re.findall(r"^(\w+)\s*=", var_file.read_text(encoding="utf-8"), re.MULTILINE))
    return required


def test_the_bake_step_maps_every_required_packer_variable_in_lower_case() -> None:
    """Azure Pipelines upper-cases the variables it exports (PKR_VAR_LOCATION), which Packer ignores:
    only a step's env map keeps the name as written."""
    job = job_of(NIGHTLY, "bake", "bake")
    env = bake_step(job)["env"]
    required = required_packer_variables()
    assert required >= {"location", "gallery_resource_group", "gallery_name"}
    for name in sorted(required):
        value = env.get(f"PKR_VAR_{name}", "")
        assert value.startswith("${{ parameters."), f"PKR_VAR_{name} is not mapped from a parameter"
        assert default(NIGHTLY, value[len("${{ parameters.") : -len(" }}")])


def test_the_bake_uses_the_bake_pools_identity_and_keeps_the_version_out_of_latest() -> None:
    """A federated token lasts about an hour and az cannot refresh it: bakes use the VM's identity, on
    a pool of its own, so no job on the pool being rolled can get the bake identity's tokens."""
    job = job_of(NIGHTLY, "bake", "bake")
    assert tasks(job, "AzureCLI@2") == []
    env = bake_step(job)["env"]
    assert env["PKR_VAR_use_azure_cli_auth"] == "false"
    assert env["PKR_VAR_managed_identity_client_id"] == "${{ parameters.bakeIdentityClientId }}"
    assert job["pool"] == "${{ parameters.bakePool }}"
    assert default(NIGHTLY, "bakePool") != default(NIGHTLY, "pool")
    others = [j for s in data(NIGHTLY)["stages"] for j in s["jobs"] if j.get("job") != "bake"]
    assert others and all("pool" not in j for j in others)  # they run on the pool being rolled
    assert env["PKR_VAR_exclude_from_latest"] == "true"
    assert env["IMAGE_VERSION"] == "$(imageVersion)"
    assert "counter(" in data(NIGHTLY)["variables"]["imageVersion"]


def test_the_bake_installs_packer_from_the_toolset_first() -> None:
    job = job_of(NIGHTLY, "bake", "bake")
    installs = [i for i, step in enumerate(job["steps"]) if "install-packer.sh" in step.get("bash", "")]
    assert installs and installs[0] < job["steps"].index(bake_step(job))
    assert (REPO / "images" / "ubuntu" / "scripts" / "install-packer.sh").is_file()


def test_the_image_build_writes_its_report_where_the_bake_step_says() -> None:
    """`make image PKR_VAR_FILE=...` runs images/build.sh, which writes to $ARTIFACTS_DIR."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^image:.*\n\t.*images/build\.sh.*\$\(PKR_VAR_FILE\)", makefile, re.MULTILINE)
    build = (REPO / "images" / "build.sh").read_text(encoding="utf-8")
    assert re.search(r"^artifacts_dir=\$\{ARTIFACTS_DIR:-", build, re.MULTILINE)


def test_nightly_defaults_to_the_private_pool_of_the_pool_file() -> None:
    assert default(NIGHTLY, "pool") == {"name": POOL["devops"]["pool"]["name"]}
    assert data(NIGHTLY)["pool"] == "${{ parameters.pool }}"


def test_nightly_rolls_every_pool_behind_an_environment_then_prunes() -> None:
    roll, prune = stage(NIGHTLY, "roll"), stage(NIGHTLY, "prune")
    assert (roll["dependsOn"], prune["dependsOn"]) == ("bake", "roll")
    [deployment] = roll["jobs"]
    assert deployment["environment"] == "agent-images" and "deployment" in deployment
    pool_files = default(NIGHTLY, "poolFiles")
    calls = [call["args"] for call in template_arguments(NIGHTLY, AGENTCTL_TEMPLATE)]
    rolls = [f"image roll -f {pool_file} --version $(imageVersion) --yes" for pool_file in pool_files]
    keep = default(NIGHTLY, "keepVersions")
    prune_call = f"image prune --keep {keep} " + " ".join(f"-f {f}" for f in pool_files) + " --yes"
    assert calls == [*rolls, prune_call]
    assert all(call.get("jsonFile") for call in template_arguments(NIGHTLY, AGENTCTL_TEMPLATE))
    assert keep == "5"
    [publish] = tasks(deployment, "AzureCLI@2")
    assert publish["inputs"]["scriptPath"].endswith("pipelines/scripts/publish-image.sh")
    assert publish["env"]["IMAGE_VERSION"] == "$(imageVersion)"
    steps = deployment["strategy"]["runOnce"]["deploy"]["steps"]
    rolled = [i for i, step in enumerate(steps) if step.get("template") == AGENTCTL_TEMPLATE]
    assert rolled and steps.index(publish) > max(rolled)


def test_deploy_pool_plans_on_pull_requests_and_deploys_main_behind_an_environment() -> None:
    pipeline = data(DEPLOY)
    assert pipeline["pr"]["branches"]["include"] == ["main"]
    assert pipeline["trigger"]["branches"]["include"] == ["main"]
    plan_call, main_plan_call, deploy_call = template_arguments(DEPLOY, AGENTCTL_TEMPLATE)
    pool_file = default(DEPLOY, "poolFile")
    assert plan_call["args"] == main_plan_call["args"] == f"plan -f {pool_file}"
    assert plan_call["okExitCodes"].split() == ["0", "2"]
    [publish] = tasks(stage(DEPLOY, "plan"), "PublishPipelineArtifact@1")
    assert plan_call["jsonFile"].startswith(publish["inputs"]["targetPath"] + "/")
    deploy = stage(DEPLOY, "deploy")
    assert "refs/heads/main" in deploy["condition"] and "PullRequest" in deploy["condition"]
    [deployment] = deploy["jobs"]
    assert deployment["environment"] == "${{ parameters.environment }}"
    assert deploy_call["args"] == f"deploy-pool -f {pool_file} --yes"
    # the pull request plans read-only; the deploy stage alone uses the privileged connection
    assert plan_call["azureConnection"] == default(DEPLOY, "readerConnection")
    assert plan_call["azureDevOpsToken"] == "false"
    assert deploy_call["azureConnection"] == default(DEPLOY, "azureConnection")


def test_agentctl_template_signs_in_and_maps_credentials_through_env() -> None:
    template = load(PIPELINES / AGENTCTL_TEMPLATE)
    [cli] = tasks(template.data, "AzureCLI@2")
    assert cli["env"]["AZURE_TOKEN_CREDENTIALS"] == "AzureCliCredential"
    assert cli["env"]["AZDO_PAT"] == "$(System.AccessToken)"
    raw = yaml.load((PIPELINES / AGENTCTL_TEMPLATE).read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    [env] = [n["env"] for _, n in walk(raw) if isinstance(n, dict) and "env" in n]
    [(condition, mapped)] = [(k, v) for k, v in env.items() if k.startswith("${{")]
    assert "parameters.azureDevOpsToken" in condition and mapped == {"AZDO_PAT": "$(System.AccessToken)"}
    assert cli["inputs"]["scriptPath"].endswith("pipelines/scripts/run-agentctl.sh")


def test_azure_identity_accepts_the_credential_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import DefaultAzureCredential

    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")
    credential = DefaultAzureCredential()
    assert [type(c).__name__ for c in credential.credentials] == ["AzureCliCredential"]
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredentials")
    with pytest.raises(ValueError, match="Invalid value"):
        DefaultAzureCredential()


AGENTCTL_CALLS = [
    pytest.param(call["args"], id=f"{path.name}: {call['args']}")
    for path in PIPELINE_FILES
    for call in template_arguments(path, AGENTCTL_TEMPLATE)
]


@pytest.mark.parametrize("args", AGENTCTL_CALLS)
def test_agentctl_calls_parse_with_the_agentctl_cli(args: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The arguments each pipeline passes are accepted by agentctl's own command line parser."""
    from agentctl.cli import cli

    monkeypatch.chdir(REPO)
    command: click.Command = cli
    words = shlex.split(args.replace("$(imageVersion)", "2026.1129.1"))
    while isinstance(command, click.Group):
        name, words = words[0], words[1:]
        found = command.get_command(click.Context(command), name)
        assert found is not None, f"agentctl has no command {name!r}"
        command = found
    parsed = command.make_context(name, words).params
    assert any("examples/pool.yaml" in str(value) for value in parsed.values()), parsed


def test_private_aks_example_deploys_through_what_agentctl_creates() -> None:
    example = data(PIPELINES / "examples" / "deploy-private-aks.yml")
    [job] = [j for s in example["stages"] for j in s["jobs"]]
    assert job["pool"] == {"name": POOL["devops"]["pool"]["name"]}
    assert job["environment"] in {env["name"] for env in POOL["devops"]["environments"]}
    [helm] = tasks(job, "HelmDeploy@0")
    inputs = helm["inputs"]
    assert inputs["connectionType"] == "Kubernetes Service Connection"
    assert inputs["kubernetesServiceConnection"] in {k["connection"] for k in POOL["devops"]["kubernetes"]}
    assert (inputs["command"], inputs["chartType"], inputs["install"], inputs["waitForExecution"]) == (
        "upgrade",
        "FilePath",
        "true",
        "true",
    )
    assert inputs["namespace"] == "$(namespace)"
    assert example["variables"]["namespace"] == POOL["devops"]["kubernetes"][0]["namespace"]


def test_private_acr_example_pushes_through_the_registry_connection(tmp_path: Path, capsys: Any) -> None:
    """The example pipeline pushes through the connection the registry example pool makes, on the
    pool that file makes: planned on the sandbox's built-in world."""
    from agentctl.cli import run

    example = data(PIPELINES / "examples" / "build-push-private-acr.yml")
    pool = yaml.safe_load(REGISTRY_POOL.read_text(encoding="utf-8"))
    assert example["pool"] == {"name": pool["devops"]["pool"]["name"]}
    [docker] = tasks(example, "Docker@2")
    assert docker["inputs"]["command"] == "buildAndPush"
    [registry] = pool["registries"]
    assert docker["inputs"]["containerRegistry"] == registry["connection"]
    assert registry["access"] == "push"  # a push needs AcrPush
    capsys.readouterr()
    code = run(["--sandbox", "--sandbox-dir", str(tmp_path), "-o", "json", "plan", "-f", str(REGISTRY_POOL)])
    out = capsys.readouterr().out
    assert code == 2, out  # changes pending (README: exit codes)
    created = {(a["kind"], a["name"]) for a in json.loads(out)["data"]["actions"] if a["op"] == "create"}
    assert ("docker registry connection", registry["connection"]) in created
    assert ("agent pool", pool["devops"]["pool"]["name"]) in created


STANDBY = PIPELINES / "standby.yml"


def test_standby_timer_runs_on_its_schedule_without_azure_rights() -> None:
    """The timer uses no ARM connection (no AzureCLI task, no azureSubscription anywhere) and runs on
    a hosted agent, with the job's own Azure DevOps token."""
    timer = data(STANDBY)
    assert timer["trigger"] == "none" and timer["pr"] == "none"
    (schedule,) = timer["schedules"]
    assert schedule["always"] == "true" and schedule["branches"]["include"] == ["main"]
    assert "vmImage" in timer["pool"]
    keys = {str(where[-1]) for where, _ in walk(timer) if where}
    assert "azureSubscription" not in keys and "azureConnection" not in keys
    assert not any(
        str(n.get("task", "")).startswith("AzureCLI") for _, n in walk(timer) if isinstance(n, dict)
    )
    (env,) = [n["env"] for _, n in walk(timer) if isinstance(n, dict) and "AGENTCTL_ARGS" in n.get("env", {})]
    assert env["AZDO_PAT"] == "$(System.AccessToken)"


def test_standby_timer_calls_parse_with_the_agentctl_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentctl.cli import cli

    monkeypatch.chdir(REPO)
    (env,) = [
        n["env"]
        for _, n in walk(data(STANDBY))
        if isinstance(n, dict) and "AGENTCTL_ARGS" in n.get("env", {})
    ]
    words = shlex.split(env["AGENTCTL_ARGS"].replace("${{ poolFile }}", default(STANDBY, "poolFiles")[0]))
    command = cli.get_command(click.Context(cli), words[0])
    assert isinstance(command, click.Group) and command.invoke_without_command
    assert command.make_context(words[0], words[1:]).params["path"] == "examples/pool.yaml"


def test_the_bake_builds_in_the_agents_subnet_without_a_public_ip() -> None:
    """The Packer VM gets a private IP in the subnet of examples/pool.yaml, and bake-image.sh refuses
    to run without each of these variables."""
    env = bake_step(job_of(NIGHTLY, "bake", "bake"))["env"]
    subnet = POOL["network"]["subnetId"].split("/")
    parameters = {
        "PKR_VAR_virtual_network_resource_group_name": subnet[4],
        "PKR_VAR_virtual_network_name": subnet[8],
        "PKR_VAR_virtual_network_subnet_name": subnet[10],
        "PKR_VAR_build_resource_group_name": None,
    }
    for name, expected in parameters.items():
        value = env[name]
        assert value.startswith("${{ parameters.") and value.endswith(" }}"), name
        given = default(NIGHTLY, value[len("${{ parameters.") : -len(" }}")])
        assert given and given == (expected or given), name
    script = (PIPELINES / "scripts" / "bake-image.sh").read_text(encoding="utf-8")
    [required] = re.findall(r"^for name in ([a-z_ ]+); do$", script, re.MULTILINE)
    assert {f"PKR_VAR_{n}" for n in required.split()} == set(parameters)
    source = (REPO / "packer" / "source.pkr.hcl").read_text(encoding="utf-8")
    assert re.search(r"^\s*private_virtual_network_with_public_ip\s*=\s*false$", source, re.MULTILINE)


def test_the_software_diff_is_in_the_bake_stage_before_the_rolls_approval() -> None:
    """Approvals of the environment gate the roll stage: the diff runs in the stage before it, on the
    pool being rolled (whose agents carry the image the pool uses), with no connection or token."""
    job = job_of(NIGHTLY, "bake", "diff")
    assert job["dependsOn"] == "bake" and "pool" not in job
    assert job["workspace"] == {"clean": "all"}
    steps = job["steps"]
    [download] = [s for s in steps if "download" in s]
    assert download == {"download": "current", "patterns": "software-report-*/**"}
    [step] = tasks(job, "Bash@3")
    assert step["inputs"]["filePath"].endswith("pipelines/scripts/diff-image.sh")
    assert step["continueOnError"] == "true"  # a missing diff never blocks the roll
    assert step["env"]["NEW_REPORTS"] == "$(Pipeline.Workspace)"
    assert steps.index(download) < steps.index(step)
    assert tasks(job, "AzureCLI@2") == [] and "AccessToken" not in str(job)
    published = tasks(job_of(NIGHTLY, "bake", "bake"), "PublishPipelineArtifact@1")
    assert [p["inputs"]["artifact"] for p in published] == ["software-report-$(osName)"]
