"""The sandbox's VMSS allow-list is generated from the official ARM template schema.

The sandbox must not read ``../shared/specs`` at run time, so the knowledge ships as code
(``agentctl/sandbox/arm/vmss_model.py``). This test regenerates it from the newest Compute
schema and fails when the shipped module differs. Regenerate with
``.venv/bin/python tests/sandbox/test_vmss_model.py --write``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO.parent / "shared" / "specs"
SCHEMA = SPECS / "azure-resource-manager-schemas/schemas/2026-03-01/Microsoft.Compute.json"
TARGET = REPO / "manager/agentctl/sandbox/arm/vmss_model.py"
# Resource-level members that are template syntax, not part of a REST body.
TEMPLATE_ONLY = {"apiVersion", "type", "name", "resources"}

HEADER = '''# ruff: noqa: E501
"""Members and enum values Compute accepts in a VMSS PUT body (ComputeRP 2026-03-01).

Generated from the ARM template schema by tests/sandbox/test_vmss_model.py; do not edit.
A type is "string", "integer", "number", "boolean", "any", "enum:<key in ENUMS>",
"[<type>]" (array), "{<type>}" (map) or "#<definition>".
"""

'''


def _branch(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop the template-expression alternative of a ``oneOf``."""
    if "oneOf" in schema:
        alts = [a for a in schema["oneOf"] if not a.get("$ref", "").endswith("/expression")]
        if len(alts) == 1:
            return _branch(alts[0])
    return schema


class _Gen:
    def __init__(self, definitions: dict[str, Any]) -> None:
        self.defs = definitions
        self.types: dict[str, dict[str, str]] = {}
        self.enums: dict[str, list[str]] = {}

    def type_of(self, schema: dict[str, Any], where: str) -> str:
        s = _branch(schema)
        ref = s.get("$ref", "")
        if ref.startswith("#/definitions/"):
            name = ref.rsplit("/", 1)[1]
            self.definition(name)
            return "#" + name
        if ref or "anyOf" in s or "oneOf" in s:
            return "any"  # extension settings and the like: free-form
        if "enum" in s:
            self.enums[where] = [str(v) for v in s["enum"]]
            return "enum:" + where
        kind = s.get("type", "any")
        if kind == "array":
            return "[" + self.type_of(s.get("items", {}), where + "[]") + "]"
        if kind == "object":
            if s.get("properties"):
                name = where.replace(".", "_")
                self.types[name] = {}
                self.types[name] = self.members(s, where)
                return "#" + name
            extra = s.get("additionalProperties")
            return "{" + self.type_of(extra, where + "{}") + "}" if isinstance(extra, dict) else "{any}"
        return str(kind) if kind in ("string", "integer", "number", "boolean") else "any"

    def members(self, schema: dict[str, Any], owner: str) -> dict[str, str]:
        return {k: self.type_of(v, f"{owner}.{k}") for k, v in sorted(schema.get("properties", {}).items())}

    def definition(self, name: str) -> None:
        if name in self.types:
            return
        self.types[name] = {}
        self.types[name] = self.members(self.defs[name], name)


def generate() -> str:
    doc = json.loads(SCHEMA.read_text())
    gen = _Gen(doc["definitions"])
    resource = doc["resourceDefinitions"]["virtualMachineScaleSets"]
    top = {k: v for k, v in resource["properties"].items() if k not in TEMPLATE_ONLY}
    gen.types["VirtualMachineScaleSet"] = gen.members({"properties": top}, "VirtualMachineScaleSet")
    lines = [HEADER, "TYPES: dict[str, dict[str, str]] = {\n"]
    for name in sorted(gen.types):
        lines.append(f"    {name!r}: {{\n")
        lines += [f"        {k!r}: {v!r},\n" for k, v in gen.types[name].items()]
        lines.append("    },\n")
    lines.append("}\n\nENUMS: dict[str, tuple[str, ...]] = {\n")
    for key in sorted(gen.enums):
        lines.append(f"    {key!r}: (\n")
        lines += [f"        {v!r},\n" for v in gen.enums[key]]
        lines.append("    ),\n")
    lines.append("}\n")
    text = "".join(lines).replace("'", '"')
    ruff = Path(sys.executable).with_name("ruff")
    out = subprocess.run(
        [str(ruff), "format", "--stdin-filename", str(TARGET), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return out.stdout


@pytest.mark.skipif(not SCHEMA.exists(), reason="needs ../shared/specs")
def test_shipped_vmss_model_matches_the_official_schema() -> None:
    assert TARGET.read_text() == generate(), "regenerate: python tests/sandbox/test_vmss_model.py --write"


def test_model_knows_the_members_agentctl_sends() -> None:
    from agentctl.sandbox.arm.vmss_model import ENUMS, TYPES

    props = TYPES["VirtualMachineScaleSetProperties"]
    assert props["upgradePolicy"] == "#UpgradePolicy"
    assert props["overprovision"] == "boolean"
    assert "Manual" in ENUMS[TYPES["UpgradePolicy"]["mode"].removeprefix("enum:")]
    assert "overprovisoin" not in props


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        TARGET.write_text(generate())
    else:
        sys.stdout.write(generate())
