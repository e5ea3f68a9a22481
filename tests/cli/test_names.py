"""Names in pool.yaml follow Azure DevOps' and Azure's own naming rules; errors name the file,
line and field, and quote what they refuse shortened."""

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
DEVOPS_NAMES = [  # (field, the line in the example, how to put a name there)
    ("devops.project", "project: platform", "project: {}"),
    ("devops.pool.name", "name: private-agents", "name: {}"),
    ("devops.azureConnection.name", "name: arm-agents", "name: {}"),
    ("devops.environments[0].name", "- name: private-aks-dev", "- name: {}"),
    ("devops.kubernetes[0].connection", "- connection: private-aks-dev", "- connection: {}"),
]


def _validate(tmp_path, text: str) -> tuple[int, dict]:
    path = tmp_path / "pool.yaml"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["-o", "json", "validate", "-f", str(path)])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.output)


def _errors_at(tmp_path, old: str, new: str) -> list[dict]:
    assert old in GOOD, old
    text = GOOD.replace(old, new, 1)
    code, doc = _validate(tmp_path, text)
    assert code == 3, doc
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if new.strip() in ln)
    for e in doc["errors"]:
        assert e["file"] == str(tmp_path / "pool.yaml") and e["code"] == "input.invalid"
    return [e for e in doc["errors"] if e.get("line") == line]


@pytest.mark.parametrize(("field", "old", "template"), DEVOPS_NAMES, ids=[f for f, *_ in DEVOPS_NAMES])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"../etc"', "'/' is one Azure DevOps refuses"),
        ('"a?b=c"', "'?' is one Azure DevOps refuses"),
        ('"a#frag"', "'#' is one Azure DevOps refuses"),
        ('"a%2Fb"', "'%' is one Azure DevOps refuses"),
        ('"tab\\there"', "U+0009) is a control character"),
        ('"del\\x7f"', "U+007F) is a control character"),
        ('"right\\u202eleft"', "U+202E) is an invisible format character"),
        ('"zero\\u200bwidth"', "U+200B) is an invisible format character"),
        ('"line\\u2028sep"', "U+2028) is a line separator"),
        ('"emoji\\U0001F600"', "U+1F600) is beyond U+FFFF"),
        ('"   "', "is empty or only whitespace"),
        ('"\\u3000"', "is empty or only whitespace"),  # ideographic space is whitespace too
    ],
)
def test_devops_names_follow_the_service_rules(tmp_path, field, old, template, value, message) -> None:
    errors = _errors_at(tmp_path, old, template.format(value))
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    assert not any("\u202e" in e["message"] or "\u200b" in e["message"] for e in errors)  # escaped


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("_private", "must not start with _ or ."),
        (".hidden", "must not start with _ or ."),
        ("dotted.", "must not end with ."),
        ("web", "a name Azure DevOps reserves"),
        ("COM1", "a name Azure DevOps reserves"),
        ("App_Data", "a name Azure DevOps reserves"),
    ],
)
def test_project_names_have_their_own_rules(tmp_path, value: str, message: str) -> None:
    errors = _errors_at(tmp_path, "project: platform", f"project: {value}")
    assert [e["field"] for e in errors if message in e["message"]] == ["devops.project"], errors


@pytest.mark.parametrize(
    "name", ["platform", "Plattform Ü", "プロジェクト", "my project (2)", "a.b", "x-y_z"]
)
def test_ordinary_names_pass(tmp_path, name: str) -> None:
    for _, old, template in DEVOPS_NAMES:
        code, doc = _validate(tmp_path, GOOD.replace(old, template.format(json.dumps(name)), 1))
        assert code == 0, doc


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("name: vmss-agents", "name: vmss-٣", "scaleSet.name"),  # an Arabic-Indic digit
        ("name: vmss-agents", "name: vmss-agents-", "scaleSet.name"),
        ("rg-aks, name: aks-dev }", "rg-aks, name: aks-dev- }", "devops.kubernetes[0].cluster.name"),
        ("location: westeurope", "location: west\uff12", "azure.location"),  # a fullwidth digit
    ],
)
def test_arm_names_take_ascii_where_azure_requires(tmp_path, old: str, new: str, field: str) -> None:
    errors = _errors_at(tmp_path, old, new)
    assert any(e["field"] == field for e in errors), errors


def test_image_version_takes_ascii_digits_only() -> None:
    assert re.fullmatch(config.IMAGE_VERSION, "1.2.3")
    assert not re.fullmatch(config.IMAGE_VERSION, "1.٢.3")


@pytest.mark.parametrize(
    ("kind", "bad"),
    [
        (
            "subnet",
            f"/subscriptions/{SUB}/resourceGroups/../providers/Microsoft.Network/virtualNetworks/v/subnets/s",
        ),
        (
            "subnet",
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v٣/subnets/s",
        ),
        (
            "subnet",
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/..",
        ),
        (
            "identity",
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/...",
        ),
        (
            "galleryImage",
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/..",
        ),
        (
            "identity",
            f"/subscriptions/{SUB}/resourceGroups/rg./providers/Microsoft.ManagedIdentity/userAssignedIdentities/id",
        ),
    ],
)
def test_resource_ids_refuse_dot_segments_and_non_ascii_names(kind: str, bad: str) -> None:
    assert config.parse_id(kind, bad) is None


def test_resource_groups_take_unicode_letters_as_azure_does() -> None:
    rid = (
        f"/subscriptions/{SUB}/resourceGroups/rg-äöü"
        "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a"
    )
    assert config.parse_id("identity", rid) == {"sub": SUB, "rg": "rg-äöü", "name": "id-a"}


@pytest.mark.parametrize(
    ("old", "new_value"),
    [
        ("cloud: public", "cloud: {}"),  # an enum: the message quotes the value
        ("name: private-agents", "name: {}"),  # a name: the limit is given, not the value
    ],
)
def test_a_huge_scalar_is_never_echoed_whole(tmp_path, old: str, new_value: str) -> None:
    huge = "x" * 900_000
    text = (
        GOOD.replace(old, new_value.format(huge), 1)
        if old in GOOD
        else GOOD.replace("  location: westeurope", f"  location: westeurope\n  cloud: {huge}", 1)
    )
    code, doc = _validate(tmp_path, text)
    assert code == 3
    out = json.dumps(doc)
    assert len(out) < 5_000 and "x" * 41 not in out, out[:300]


@pytest.mark.parametrize(
    "url",
    [
        "https://dev.azure.com/..",
        "https://dev.azure.com/contoso?x=1",
        "https://dev.azure.com/contoso#x",
        "https://dev.azure.com/con%2Ftoso",
        "https://dev.azure.com/-contoso",
        "https://contoso.visualstudio.com/extra",
    ],
)
def test_organization_urls_name_an_organization_only(tmp_path, url: str) -> None:
    errors = _errors_at(tmp_path, "organization: https://dev.azure.com/contoso", f"organization: {url}")
    assert [e["field"] for e in errors] == ["devops.organization"], errors


@pytest.mark.parametrize(
    "doc",
    [
        "azure:\n  subscription: !!int " + "9x" * 450_000 + "\n",  # a value PyYAML cannot build
        "azure: {}\n" + "k" * 1000 + ": 1\n" + "k" * 1000 + ": 2\n",  # YAML's longest plain key, twice
        "azure:\n  ? " + "k" * 900_000 + "\n  : 1\n",  # an unknown key, written as an explicit key
    ],
    ids=["bad-value", "duplicate-key", "unknown-key"],
)
def test_yaml_errors_quote_values_shortened(doc: str) -> None:
    with pytest.raises(config.InvalidInput) as err:
        config.loads(doc, "pool.yaml")
    text = str(err.value) + " ".join(str(p) for p in err.value.problems)
    assert any(m in text for m in ("bad value", "duplicate key", "unknown key")), text[:300]
    assert "characters)" in text and "k" * 41 not in text and "9x" * 21 not in text, text[:300]
