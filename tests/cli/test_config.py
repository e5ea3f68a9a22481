"""pool.yaml validation: a table of broken files, each with its exit code, line and field."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from agentctl import config
from agentctl.cli import cli
from testlib import EXAMPLE_POOL

GOOD = EXAMPLE_POOL.read_text()
SUB = "11111111-2222-3333-4444-555555555555"


def edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# (id, document, field named, text in the message, line marker: a string on the expected line)
CASES = [
    ("yaml-syntax", edit("  location: westeurope", "  location: [westeurope"), "", "YAML syntax", None),
    ("not-a-mapping", "- just\n- a list\n", "", "must be a mapping", None),
    (
        "unknown-key-did-you-mean",
        edit("  location:", "  locaton:"),
        "azure.locaton",
        "did you mean 'location'",
        "locaton",
    ),
    ("unknown-top-level", GOOD + "extra: 1\n", "extra", "unknown key", "extra:"),
    (
        "missing-required",
        edit("  project: platform\n", ""),
        "devops.project",
        "required field is missing",
        "devops:",
    ),
    (
        "wrong-type-int",
        edit("maxCapacity: 10", "maxCapacity: ten"),
        "devops.pool.maxCapacity",
        "whole number",
        "maxCapacity",
    ),
    (
        "wrong-type-bool",
        edit("recycleAfterEachUse: false", "recycleAfterEachUse: 0"),
        "devops.pool.recycleAfterEachUse",
        "true or false",
        "recycleAfterEachUse",
    ),
    (
        "bool-is-not-int",
        edit("maxCapacity: 10", "maxCapacity: true"),
        "devops.pool.maxCapacity",
        "whole number",
        "maxCapacity",
    ),
    (
        "bad-guid",
        edit(f"subscription: {SUB}", "subscription: 12-34"),
        "azure.subscription",
        "not a valid value",
        "subscription:",
    ),
    (
        "malformed-subnet-id",
        edit("/subnets/agents", "/subnetz/agents"),
        "network.subnetId",
        "subnet resource id",
        "subnetId",
    ),
    (
        "version-as-image-id",
        edit("images/ubuntu-24.04-agent", "images/ubuntu-24.04-agent/versions/1.0.0"),
        "image.galleryImageId",
        "image.version",
        "galleryImageId",
    ),
    (
        "malformed-identity",
        edit("userAssignedIdentities/id-agents", "identities/id-agents"),
        "scaleSet.identity.userAssigned",
        "identity resource id",
        "userAssigned",
    ),
    (
        "idle-exceeds-max",
        edit("desiredIdle: 1", "desiredIdle: 12"),
        "devops.pool.desiredIdle",
        "(12) exceeds maxCapacity (10)",
        "desiredIdle",
    ),
    (
        "max-capacity-limit",
        edit("maxCapacity: 10", "maxCapacity: 5000"),
        "devops.pool.maxCapacity",
        "above the maximum 1000",
        "maxCapacity",
    ),
    (
        "vmss-name-too-long",
        edit("name: vmss-agents", "name: " + "v" * 70),
        "scaleSet.name",
        "limit is 64",
        "name: vvv",
    ),
    (
        "vmss-name-chars",
        edit("name: vmss-agents", "name: -vmss"),
        "scaleSet.name",
        "not a valid value",
        "name: -vmss",
    ),
    (
        "rg-name-trailing-dot",
        edit("resourceGroup: rg-agents", "resourceGroup: rg-agents."),
        "azure.resourceGroup",
        "not a valid value",
        "resourceGroup",
    ),
    (
        "enum-did-you-mean",
        edit("credentials: user", "credentials: usr"),
        "devops.kubernetes[0].credentials",
        "did you mean 'user'",
        "credentials",
    ),
    (
        "bad-image-version",
        GOOD.replace("images/ubuntu-24.04-agent\n", "images/ubuntu-24.04-agent\n  version: 2026.11.29.1\n"),
        "image.version",
        "not a valid value",
        "version:",
    ),
    (
        "version-int32",
        GOOD.replace(
            "images/ubuntu-24.04-agent\n", "images/ubuntu-24.04-agent\n  version: 2026.1129.9999999999\n"
        ),
        "image.version",
        "32-bit",
        "version:",
    ),
    (
        "other-subscription-subnet",
        edit(
            f"/subscriptions/{SUB}/resourceGroups/rg-network",
            "/subscriptions/99999999-2222-3333-4444-555555555555/resourceGroups/rg-network",
        ),
        "network.subnetId",
        "own subscription",
        "subnetId",
    ),
    (
        "min-approvers",
        edit("minApprovers: 1", "minApprovers: 3"),
        "devops.environments[0].minApprovers",
        "exceeds the number of approvers",
        "minApprovers",
    ),
    (
        "duplicate-connection-name",
        edit("connection: private-aks-dev", "connection: arm-agents"),
        "devops.kubernetes[0].connection",
        "already used",
        "connection: arm-agents",
    ),
    (
        "duplicate-key",
        edit("  project: platform\n", "  project: platform\n  project: other\n"),
        "",
        "duplicate key 'devops.project'",
        "project: other",
    ),
    (
        "pool-name-chars",
        edit("name: private-agents", "name: 'a/b'"),
        "devops.pool.name",
        "character 2 '/' is one Azure DevOps refuses",
        "name: 'a/b'",
    ),
    (
        "org-url",
        edit("https://dev.azure.com/contoso", "https://example.com/contoso"),
        "devops.organization",
        "not a valid value",
        "organization",
    ),
    (
        "no-wif",
        edit("name: arm-agents", "name: arm-agents\n    workloadIdentity: false"),
        "devops.azureConnection.workloadIdentity",
        "workload identity",
        "workloadIdentity",
    ),
    (
        "ssh-key-missing-file",
        edit("sku: Standard_D4s_v5", "sku: Standard_D4s_v5\n  sshPublicKey: ./nope.pub"),
        "scaleSet.sshPublicKey",
        "readable .pub",
        "sshPublicKey",
    ),
    (
        "pipeline-id-negative",
        edit(
            "    authorizeAllPipelines: false\n",
            "    authorizeAllPipelines: false\n    pipelines:\n      - 7\n      - -3\n",
        ),
        "devops.pool.pipelines[1]",
        "-3 is below the minimum 1",
        "- -3",
    ),
    (
        "pipeline-id-zero",
        edit("    authorizeAllPipelines: false\n", "    authorizeAllPipelines: false\n    pipelines: [0]\n"),
        "devops.pool.pipelines[0]",
        "0 is below the minimum 1",
        "pipelines: [0]",
    ),
    (
        "pipeline-id-twice",
        edit(
            "    authorizeAllPipelines: false\n", "    authorizeAllPipelines: false\n    pipelines: [7, 7]\n"
        ),
        "devops.pool.pipelines[1]",
        "'7' is listed twice (first at devops.pool.pipelines[0])",
        "pipelines: [7, 7]",
    ),
    (
        "zone-twice",
        edit("sku: Standard_D4s_v5", "sku: Standard_D4s_v5\n  zones: ['2', '2']"),
        "scaleSet.zones[1]",
        "listed twice",
        "zones:",
    ),
    *[
        (
            f"admin-reserved-{name}",
            edit("sku: Standard_D4s_v5", f"sku: Standard_D4s_v5\n  adminUsername: {name}"),
            "scaleSet.adminUsername",
            f"'{name}' is a name Azure reserves",
            "adminUsername",
        )
        for name in ("root", "admin", "administrator", "user", "guest", "test")
    ],
    *[
        (
            f"admin-pattern-{i}",
            edit("sku: Standard_D4s_v5", f"sku: Standard_D4s_v5\n  adminUsername: '{name}'"),
            "scaleSet.adminUsername",
            "not a valid value",
            "adminUsername",
        )
        for i, name in enumerate(("Ops", "-ops", "9ops", "o" * 33, "ops@x"))
    ],
    (
        "sku-too-long",
        edit("sku: Standard_D4s_v5", "sku: Standard_" + "D" * 60),
        "scaleSet.sku",
        "the limit is 64",
        "sku:",
    ),
    (
        "sku-not-a-size",
        edit("sku: Standard_D4s_v5", "sku: D4s_v5"),
        "scaleSet.sku",
        "not a valid value",
        "sku:",
    ),
    (
        "list-expected",
        edit("approvers: [platform-leads@contoso.com]", "approvers: platform-leads@contoso.com"),
        "devops.environments[0].approvers",
        "expected a list",
        "approvers",
    ),
]


@pytest.mark.parametrize(
    ("doc", "field", "message", "marker"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_pool_files(tmp_path, doc: str, field: str, message: str, marker: str | None) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(doc)
    result = CliRunner().invoke(cli, ["validate", "-f", str(path)])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert message in result.output
    want = f"{path}:{line_of(doc, marker)}: " if marker else f"{path}:"
    matching = [ln for ln in result.output.splitlines() if message in ln]
    assert any(want in ln for ln in matching), (want, result.output)
    if field:
        assert any(f"{field}: " in ln for ln in matching), result.output


def test_json_errors_name_line_and_field(tmp_path) -> None:
    path = tmp_path / "pool.yaml"
    doc = edit("desiredIdle: 1", "desiredIdle: 12")
    path.write_text(doc)
    result = CliRunner().invoke(cli, ["-o", "json", "validate", "-f", str(path)])
    env = json.loads(result.output)
    assert env["status"] == "error"
    (err,) = env["errors"]
    assert err["field"] == "devops.pool.desiredIdle" and err["line"] == line_of(doc, "desiredIdle")
    assert err["code"] == "input.invalid" and err["file"] == str(path)


def test_a_wrong_item_type_is_reported_once() -> None:
    with pytest.raises(config.InvalidInput) as info:
        config.loads(edit("sku: Standard_D4s_v5", "sku: Standard_D4s_v5\n  zones: [1, 2]"), "pool.yaml")
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("scaleSet.zones[0]", "expected a string, got a number (1)"),
        ("scaleSet.zones[1]", "expected a string, got a number (2)"),
    ]


def test_a_pattern_matches_the_whole_value() -> None:
    with pytest.raises(config.InvalidInput) as info:  # `$` alone would let a final newline through
        config.loads(
            edit("sku: Standard_D4s_v5", 'sku: Standard_D4s_v5\n  adminUsername: "ops\\n"'), "pool.yaml"
        )
    (problem,) = info.value.problems
    assert problem.field == "scaleSet.adminUsername" and "not a valid value" in problem.message


@pytest.mark.parametrize("sku", ["Standard_D4s_v5", "Standard_NC24ads_A100_v4", "Standard_M416-208s_v2"])
def test_real_vm_sizes_are_accepted(sku: str) -> None:
    assert config.loads(edit("sku: Standard_D4s_v5", f"sku: {sku}"), "pool.yaml").scaleSet.sku == sku


def test_missing_file_and_directory(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["validate", "-f", str(tmp_path / "none.yaml")])
    assert result.exit_code == 3 and "no such file" in result.output


def test_yaml_bomb_is_refused_quickly(tmp_path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        refs = ", ".join([f"*{prev}"] * 9)
        bomb += f"{cur}: &{cur} [{refs}]\n"
    with pytest.raises(config.InvalidInput, match=r"invalid|not valid"):
        config.loads(bomb, "bomb.yaml")


def test_oversize_file_refused() -> None:
    with pytest.raises(config.InvalidInput) as info:
        config.loads(b"a: " + b"x" * (2 * 1024 * 1024), "big.yaml")
    assert "larger than" in str(info.value.problems[0])


def test_defaults_fill_in() -> None:
    spec = config.loads(GOOD, "pool.yaml")
    assert spec.scaleSet.adminUsername == "azureuser"
    assert spec.azure.cloud == "public"
    assert spec.org_name == "contoso"
    assert spec.devops.kubernetes[0].credentials == "user"


def test_schema_file_is_current() -> None:
    committed = json.loads(config.schema_path().read_text())
    assert committed == config.json_schema(), (
        "run: agentctl -o json schema | jq .data > manager/agentctl/schemas/pool.schema.json"
    )


def test_schema_accepts_examples_and_rejects_typos() -> None:
    import jsonschema
    import yaml

    schema = config.json_schema()
    jsonschema.validate(yaml.safe_load(GOOD), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(edit("  location:", "  locaton:")), schema)


def test_template_written_by_init_is_valid() -> None:
    from importlib import resources

    text = resources.files("agentctl").joinpath("templates/pool.yaml").read_text()
    spec = config.loads(text, "template.yaml")
    assert re.fullmatch(config.GUID, spec.azure.subscription)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("a: &a [*a]\n", "refers to the value that contains it"),
        ("a: " + "[" * 200 + "]" * 200 + "\n", "nested deeper"),
        ("azure:\n  subscription: 2024-13-45\n", "bad value '2024-13-45'"),
    ],
    ids=["recursive-alias", "deep-nesting", "impossible-date"],
)
def test_hostile_yaml_is_a_located_error(doc: str, message: str) -> None:
    with pytest.raises(config.InvalidInput) as info:
        config.loads(doc, "hostile.yaml")
    assert message in str(info.value.problems[0])


@pytest.mark.parametrize(
    "doc", ["a: !!int ''\n", "a: !!float ''\n", "a: !!binary '%%%'\n", "a: !!timestamp x\n"]
)
def test_explicit_tags_with_bad_values_are_located_errors(doc: str) -> None:
    with pytest.raises(config.InvalidInput) as info:
        config.loads(doc, "tags.yaml")
    assert info.value.problems[0].line == 1


def test_the_pool_identity_must_not_be_the_agents() -> None:
    agents = config.loads(GOOD, "pool.yaml").scaleSet.identity.userAssigned
    text = GOOD.replace("    name: arm-agents\n", f"    name: arm-agents\n    identity: {agents}\n", 1)
    assert text != GOOD
    with pytest.raises(config.InvalidInput) as e:
        config.loads(text, "pool.yaml")
    [problem] = e.value.problems
    assert problem.field == "devops.azureConnection.identity" and problem.line
    assert "every job on the pool" in problem.message


def test_grant_role_defaults_to_the_least_role_and_null_turns_it_off() -> None:
    assert (
        config.loads(
            GOOD.replace("    grantRole: Virtual Machine Contributor\n", ""), "p"
        ).devops.azureConnection.grantRole
        == config.POOL_ROLE
    )
    spec = config.loads(GOOD.replace("grantRole: Virtual Machine Contributor", "grantRole: null"), "p")
    assert spec.devops.azureConnection.grantRole is None
