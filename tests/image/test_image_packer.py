"""The Packer templates, offline: parsed with python-hcl2 and checked against the attribute lists of the
azure-arm builder and the provisioners (shared/specs/packer), plus variables, scripts and `packer fmt`."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
from imagekit import IMAGE_DIR, IMAGE_TESTS, PACKER_DIR, REPO, SCRIPTS, need_tool, specs_dir

TEMPLATES = {p.name: hcl2.load(p.open()) for p in sorted(PACKER_DIR.glob("*.pkr.hcl"))}
VAR_FILES = {p.name: hcl2.load(p.open()) for p in sorted(PACKER_DIR.glob("*.pkrvars.hcl"))}

# Packer core's own block bodies (hcl2template: types.build.go, types.variables.go), which the attribute
# list does not cover.
BUILD_KEYS = {
    "name",
    "description",
    "sources",
    "source",
    "provisioner",
    "error-cleanup-provisioner",
    "post-processor",
    "post-processors",
    "hcp_packer_registry",
}
VARIABLE_KEYS = {"type", "default", "description", "sensitive", "nullable", "validation"}
VALIDATION_KEYS = {"condition", "error_message"}
DYNAMIC_KEYS = {"for_each", "iterator", "labels", "content"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    root = specs_dir()
    if root is None:
        if os.environ.get("CI"):
            pytest.fail("shared/specs/packer is missing (set AGENTCTL_SPECS_DIR)")
        pytest.skip("shared/specs/packer is not available here (set AGENTCTL_SPECS_DIR)")
    return json.loads((root / "packer" / "packer-attributes.json").read_text())


def unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def is_block(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
    )


def fields(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if not k.startswith("__")}


def labelled(blocks: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """(label, body) of blocks with one label, e.g. provisioner "shell" { ... }."""
    return [(unquote(label), body) for block in blocks for label, body in fields(block).items()]


def top(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(file, block body) of every top-level block of a kind, across the templates."""
    return [(name, block) for name, doc in TEMPLATES.items() for block in doc.get(kind, [])]


LITERAL_TYPES = {
    "string": str,
    "bool": bool,
    "number": (int, float),
    "list(string)": list,
    "list(number)": list,
    "map(string)": dict,
}


def spec_problems(body: dict[str, Any], spec: dict[str, Any], where: str) -> list[str]:
    """Attributes and blocks of BODY unknown to SPEC, deprecated, in the wrong syntax or of the wrong type."""
    problems: list[str] = []
    deprecated = set(spec.get("deprecated", []))
    for key, value in fields(body).items():
        at = f"{where}.{key}"
        if key in deprecated:
            problems.append(f"{at} is deprecated")
        if key == "dynamic":
            for name, dynamic in labelled(value):
                if name not in spec["blocks"]:
                    problems.append(f"{where}: dynamic block of unknown block {name}")
                    continue
                problems += [f"{at} {name}: unknown {k}" for k in fields(dynamic) if k not in DYNAMIC_KEYS]
                for content in dynamic.get("content", []):
                    problems += spec_problems(content, spec["blocks"][name], f"{at}.{name}")
        elif is_block(value):
            if key not in spec["blocks"]:
                problems.append(f"{at} is not a known block")
                continue
            if not spec["blocks"][key]["list"] and len(value) > 1:
                problems.append(f"{at} may appear only once")
            for block in value:
                problems += spec_problems(block, spec["blocks"][key], at)
        elif key in spec["blocks"]:
            problems.append(f"{at} is a block: write `{key} {{ ... }}`, not `{key} = ...`")
        elif key not in spec["attributes"]:
            problems.append(f"{at} is not a known attribute")
        elif key.startswith("packer_"):
            problems.append(f"{at} is set by Packer core, not by templates")
        else:
            literal = unquote(value)
            expected = LITERAL_TYPES.get(spec["attributes"][key])
            is_expression = isinstance(literal, str) and literal.startswith("${") and literal.endswith("}")
            if expected and not is_expression and not isinstance(literal, expected):
                problems.append(f"{at} should be {spec['attributes'][key]}, got {value!r}")
    return problems


def test_the_spec_checker_catches_mistakes(spec: dict[str, Any]) -> None:
    azure = spec["builders"]["azure-arm"]
    bad = {
        "vm_sise": '"Standard_D4s_v5"',
        "private_virtual_network_with_public_ip": '"false"',
        "azure_tag": {"name": '"a"', "value": '"b"'},
        "shared_image_gallery_destination": [
            {
                "replication_regions": ['"westeurope"'],
                "target_region": [{"region": '"x"', "__is_block__": True}],
                "__is_block__": True,
            }
        ],
        "spot": [{"__is_block__": True}, {"__is_block__": True}],
    }
    assert sorted(spec_problems(bad, azure, "source")) == [
        "source.azure_tag is a block: write `azure_tag { ... }`, not `azure_tag = ...`",
        "source.private_virtual_network_with_public_ip should be bool, got '\"false\"'",
        "source.shared_image_gallery_destination.replication_regions is deprecated",
        "source.shared_image_gallery_destination.target_region.region is not a known attribute",
        "source.spot may appear only once",
        "source.vm_sise is not a known attribute",
    ]


def test_top_level_blocks_are_known_and_split_by_file(spec: dict[str, Any]) -> None:
    labels = spec["top_level_blocks"]["labels"]
    expected_files = {
        "packer": "plugins.pkr.hcl",
        "variable": "variables.pkr.hcl",
        "locals": "variables.pkr.hcl",
        "source": "source.pkr.hcl",
        "build": "build.pkr.hcl",
    }
    for name, doc in TEMPLATES.items():
        for kind, blocks in fields(doc).items():
            assert kind in labels, f"{name}: unknown top-level block {kind}"
            assert expected_files[kind] == name, (
                f"{kind} blocks belong in {expected_files[kind]}, found in {name}"
            )
            for block in blocks:
                depth, body = 0, fields(block)
                while len(labels[kind]) > depth:
                    assert len(body) == 1, f"{name}: {kind} needs labels {labels[kind]}"
                    body, depth = fields(next(iter(body.values()))), depth + 1


def test_one_source_and_one_build_for_both_ubuntu_releases() -> None:
    assert [(f, list(b)) for f, b in top("source")] == [("source.pkr.hcl", ['"azure-arm"'])]
    builds = top("build")
    assert len(builds) == 1
    assert [unquote(s) for s in builds[0][1]["sources"]] == ["source.azure-arm.ubuntu"]
    assert sorted(VAR_FILES) == ["ubuntu-22.04.pkrvars.hcl", "ubuntu-24.04.pkrvars.hcl"]


def source_body() -> dict[str, Any]:
    ((_, block),) = top("source")
    return block['"azure-arm"']['"ubuntu"']


def build_body() -> dict[str, Any]:
    ((_, block),) = top("build")
    return block


def test_source_uses_only_azure_arm_attributes(spec: dict[str, Any]) -> None:
    assert spec_problems(source_body(), spec["builders"]["azure-arm"], "source.azure-arm.ubuntu") == []


def test_build_and_provisioners_use_only_known_attributes(spec: dict[str, Any]) -> None:
    build = build_body()
    assert set(fields(build)) <= BUILD_KEYS
    problems = []
    for kind, body in labelled(build["provisioner"]):
        assert kind in spec["provisioners"], f"unknown provisioner {kind}"
        problems += spec_problems(body, spec["provisioners"][kind], f"provisioner.{kind}")
    assert problems == []


def test_plugin_is_pinned_to_the_version_of_the_attribute_list(spec: dict[str, Any]) -> None:
    ((_, packer),) = top("packer")
    assert set(fields(packer)) <= set(spec["packer_block"]["attributes"]) | set(
        spec["packer_block"]["blocks"]
    )
    assert re.fullmatch(r">= ?1\.1[0-9]\.0", unquote(packer["required_version"]))
    (plugins,) = packer["required_plugins"]
    assert fields(plugins) == {
        "azure": {
            "source": '"github.com/hashicorp/azure"',
            "version": f'"= {spec["source"]["packer-plugin-azure"]["tag"][1:]}"',
        }
    }


def test_variables_are_declared_used_and_complete() -> None:
    variables = dict(labelled([b for _, b in top("variable")]))
    for name, body in variables.items():
        assert set(fields(body)) <= VARIABLE_KEYS, name
        assert unquote(body.get("description", "")), f"variable {name} has no description"
        for validation in body.get("validation", []):
            assert set(fields(validation)) == VALIDATION_KEYS
    outside = json.dumps(
        [doc for name, doc in TEMPLATES.items() if name != "variables.pkr.hcl"]
        + [b for _, b in top("locals")]
    )
    used = set(re.findall(r"\bvar\.([A-Za-z_]\w*)", outside))
    assert used == set(variables), (
        f"declared but unused: {set(variables) - used}; undeclared: {used - set(variables)}"
    )
    locals_ = {k for _, b in top("locals") for k in fields(b)}
    assert set(re.findall(r"\blocal\.([A-Za-z_]\w*)", outside)) == locals_


def test_var_files_set_the_same_declared_variables() -> None:
    variables = dict(labelled([b for _, b in top("variable")]))
    keys = {name: set(fields(doc)) for name, doc in VAR_FILES.items()}
    first, second = keys.values()
    assert first == second
    assert first <= set(variables)
    for name, doc in VAR_FILES.items():
        assert name == f"ubuntu-{unquote(doc['ubuntu_version'])}.pkrvars.hcl"


def test_required_azure_inputs_are_documented() -> None:
    variables = dict(labelled([b for _, b in top("variable")]))
    required = {name for name, body in variables.items() if "default" not in body}
    from_env = required - set(next(iter(VAR_FILES.values())))
    assert from_env == {"location", "gallery_resource_group", "gallery_name"}
    docs = (REPO / "docs" / "image.md").read_text()
    for name in from_env:
        assert f"PKR_VAR_{name}" in docs


def provisioners() -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            kind,
            {
                k: unquote(v) if not isinstance(v, list) else [unquote(i) for i in v]
                for k, v in fields(b).items()
            },
        )
        for kind, b in labelled(build_body()["provisioner"])
    ]


def local_path(value: str) -> Path:
    return Path(value.replace("${path.root}", str(PACKER_DIR))).resolve()


def test_every_referenced_script_exists_and_every_script_runs() -> None:
    shell_scripts: list[Path] = []
    for kind, body in provisioners():
        for key in ("script", "scripts"):
            values = body.get(key, [])
            shell_scripts += [local_path(v) for v in ([values] if isinstance(values, str) else values)]
        if kind == "file" and body.get("direction") != "download":
            assert local_path(body["source"]) == IMAGE_DIR
    missing = [str(p) for p in shell_scripts if not p.is_file()]
    assert missing == []
    names = [p.name for p in shell_scripts]
    every = {p.name for p in SCRIPTS.glob("*.sh") if p.name != "lib.sh"}
    assert every <= set(names), f"scripts the build never runs: {every - set(names)}"
    assert names[0] == "configure-apt.sh" and names[-1] == "cleanup.sh"
    assert names.index("validate.sh") > max(names.index(n) for n in every - {"cleanup.sh"})
    assert names.index("software-report.sh") == names.index("validate.sh") + 1


def test_software_report_is_downloaded_where_build_sh_looks() -> None:
    lib = (SCRIPTS / "lib.sh").read_text()
    state_dir = re.search(r"IMAGE_STATE_DIR=\$\{IMAGE_STATE_DIR:-([^}]+)\}", lib).group(1)
    downloads = [b for kind, b in provisioners() if kind == "file" and b.get("direction") == "download"]
    assert [(b["source"], b["destination"]) for b in downloads] == [
        (f"{state_dir}/software-report.{ext}", f"${{local.report_dir}}/software-report.{ext}")
        for ext in ("json", "md")
    ]
    ((_, locals_),) = top("locals")
    assert (
        unquote(locals_["report_dir"])
        == "${var.artifacts_dir}/${var.gallery_image_name}/${local.image_version}"
    )
    assert (
        "report=$artifacts_dir/$image_name/$version/software-report.json"
        in (REPO / "images" / "build.sh").read_text()
    )


def test_gallery_publishing_private_network_and_auth_are_wired_to_variables() -> None:
    source = source_body()
    assert source["private_virtual_network_with_public_ip"] is False
    for name in (
        "virtual_network_name",
        "virtual_network_subnet_name",
        "virtual_network_resource_group_name",
        "use_azure_cli_auth",
        "subscription_id",
        "vm_size",
        "image_offer",
        "image_sku",
    ):
        assert source[name] == f"${{var.{name}}}"
    assert source["client_id"] == "${var.managed_identity_client_id}"
    assert not {"client_secret", "client_cert_path", "client_jwt", "managed_image_name"} & set(source)
    (gallery,) = source["shared_image_gallery_destination"]
    assert gallery["image_version"] == "${local.image_version}"
    assert gallery["target_region"][0]["name"] == "${var.location}"
    (dynamic,) = gallery["dynamic"]
    assert list(fields(dynamic)) == ['"target_region"']


def test_default_version_is_date_based() -> None:
    ((_, locals_),) = top("locals")
    expression = locals_["image_version"]
    assert 'formatdate(\\"YYYY\\", timestamp())' in json.dumps(expression)
    assert "parseint(formatdate" in expression and "%s.%d.1" in expression


# Packer's HCL2 functions (developer.hashicorp.com/packer/docs/templates/hcl_templates/functions):
# Terraform has more (tonumber, tostring, ...), and python-hcl2 parses any name, so a call Packer
# does not know is only caught here or by `packer validate` at bake time.
PACKER_FUNCTIONS = frozenset(
    {
        "abs",
        "ceil",
        "floor",
        "log",
        "max",
        "min",
        "parseint",
        "pow",
        "signum",
        "chomp",
        "endswith",
        "format",
        "formatlist",
        "indent",
        "join",
        "lower",
        "regex",
        "regex_replace",
        "regexall",
        "replace",
        "split",
        "startswith",
        "strcontains",
        "strrev",
        "substr",
        "title",
        "trim",
        "trimprefix",
        "trimspace",
        "trimsuffix",
        "upper",
        "chunklist",
        "coalesce",
        "coalescelist",
        "compact",
        "concat",
        "contains",
        "distinct",
        "element",
        "flatten",
        "index",
        "keys",
        "length",
        "lookup",
        "merge",
        "range",
        "reverse",
        "setintersection",
        "setproduct",
        "setunion",
        "slice",
        "sort",
        "sum",
        "values",
        "zipmap",
        "base64decode",
        "base64encode",
        "base64gzip",
        "csvdecode",
        "jsondecode",
        "jsonencode",
        "textdecodebase64",
        "textencodebase64",
        "urlencode",
        "yamldecode",
        "yamlencode",
        "abspath",
        "basename",
        "dirname",
        "file",
        "fileexists",
        "fileset",
        "pathexpand",
        "templatefile",
        "formatdate",
        "legacy_isotime",
        "legacy_strftime",
        "timeadd",
        "timestamp",
        "bcrypt",
        "md5",
        "rsadecrypt",
        "sha1",
        "sha256",
        "sha512",
        "uuidv4",
        "uuidv5",
        "cidrhost",
        "cidrnetmask",
        "cidrsubnet",
        "cidrsubnets",
        "can",
        "convert",
        "try",
    }
)
TYPE_CONSTRUCTORS = frozenset({"list", "map", "set", "object", "tuple", "optional"})


def test_templates_call_only_functions_packer_has() -> None:
    calls: set[str] = set()
    for path in sorted((REPO / "packer").glob("*.pkr.hcl")):
        code = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
        calls |= set(re.findall(r"\b([a-z_][a-z0-9_]*)\(", code)) - TYPE_CONSTRUCTORS
    assert calls and calls <= PACKER_FUNCTIONS, sorted(calls - PACKER_FUNCTIONS)


def test_packer_fmt_check_passes() -> None:
    packer = need_tool("packer")
    help_text = subprocess.run([packer, "fmt", "-h"], capture_output=True, text=True, check=False)
    recursive = ["-recursive"] if "-recursive" in help_text.stdout + help_text.stderr else []
    result = subprocess.run(
        [packer, "fmt", "-check", "-diff", *recursive, str(PACKER_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_carries_a_packer_the_templates_accept() -> None:
    """The nightly bakes on agents booted from this image, so the toolset pins a Packer that meets
    required_version (installed from HashiCorp's signed apt repository)."""
    ((_, packer),) = top("packer")
    minimum = re.sub(r"[^0-9.]", "", unquote(packer["required_version"]))
    tool = json.loads((IMAGE_DIR / "toolset.json").read_text(encoding="utf-8"))["tools"]["packer"]
    assert tool["install"] == "apt" and tool["repository"]["url"] == "https://apt.releases.hashicorp.com"
    assert tool["repository"]["key_fingerprint"] == "798AEC654E5C15428C8E42EEAA16FCBCA621E701"
    assert tuple(map(int, tool["version"].split("."))) >= tuple(map(int, minimum.split(".")))


def test_the_scripts_get_the_image_identity_and_the_mirror() -> None:
    """The software report names the image definition and version; the mirror reaches lib.sh."""
    [env] = [b["environment_vars"] for kind, b in provisioners() if "scripts" in b]
    assert {e.split("=", 1)[0]: e.split("=", 1)[1] for e in env} == {
        "IMAGE_DIR": "${local.image_dir}",
        "IMAGE_VERSION": "${local.image_version}",
        "IMAGE_NAME": "${var.gallery_image_name}",
        "IMAGE_MIRROR_URL": "${var.download_mirror_url}",
    }
    report = (IMAGE_TESTS / "software-report.sh").read_text()
    assert '"${IMAGE_NAME:-unknown}"' in report and '"${IMAGE_VERSION:-unknown}"' in report
