"""Offline checks of the Azure Pipelines YAML under ``pipelines/``: the official schema, template
and repository references, and the rules for the shell the pipelines run.

The official schema (``service-schema.json``) is written for the Azure Pipelines editor, which reads
YAML differently from a plain JSON Schema validator. This module reads it the same way:

- every scalar is text, as Azure Pipelines sees it; text that spells a YAML boolean or number also
  satisfies ``type: boolean`` / ``integer`` / ``number``, and a macro or template expression
  (``$(...)``, ``${{ ... }}``, ``$[ ... ]``) satisfies any scalar type, because it is replaced later;
- entries under a ``${{ if/elseif/else/each/insert }}`` key are hoisted into the enclosing mapping or
  sequence; any other ``${{ ... }}`` key is a key whose name is computed and stays a key;
- ``firstProperty`` (the key that must come first, e.g. ``task`` in a task step) is enforced;
- ``required`` is dropped from each task's ``inputs`` (the specs README explains why); everything
  else, including ``additionalProperties: false`` on inputs and the enums, is kept.

Keys are compared case-sensitively and input aliases are not accepted: write the canonical names.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, ValidationError, validators
from jsonschema.protocols import Validator

Where = tuple[str | int, ...]

REPO = Path(__file__).resolve().parents[2]
PIPELINES = REPO / "pipelines"
PIPELINE_FILES = sorted(path for path in PIPELINES.rglob("*") if path.suffix in (".yml", ".yaml"))


def path_id(path: Path) -> str:
    """Test id of a pipeline file: its path in the repository."""
    return path.relative_to(REPO).as_posix()


EXPRESSION = re.compile(r"^\s*(\$\{\{.*\}\}|\$\[.*\]|\$\(.*\))\s*$", re.DOTALL)
TEMPLATE_KEY = re.compile(r"^\$\{\{\s*(if|elseif|else|each|insert)\b.*\}\}$", re.DOTALL)
YAML_BOOLEAN = re.compile(r"^(true|false|yes|no|on|off|y|n)$", re.IGNORECASE)
YAML_INTEGER = re.compile(r"^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o?[0-7_]+)$")
YAML_NUMBER = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")


class PipelineFileError(Exception):
    """A pipeline file that cannot be read as Azure Pipelines YAML (message names file and line)."""


@dataclass(frozen=True)
class Doc:
    """One YAML file: its data (hoisted, scalars as text) and the line of every node."""

    path: Path
    data: Any
    lines: Mapping[Where, int]

    def line(self, where: Where) -> int:
        """Line of the node at ``where``, or of its nearest ancestor that has one."""
        for end in range(len(where), -1, -1):
            if where[:end] in self.lines:
                return self.lines[where[:end]]
        return 1

    def at(self, where: Where) -> str:
        """``file:line: field.path`` for messages."""
        field = ".".join(str(part) for part in where) or "(document)"
        return f"{self.path}:{self.line(where)}: {field}"


def load(path: Path) -> Doc:
    """Read a pipeline file the way the Azure Pipelines editor does (see the module docstring)."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else 1
        raise PipelineFileError(f"{path}:{line}: not valid YAML: {err.problem}") from None
    lines: dict[Where, int] = {}
    data = {} if node is None else _build(node, (), lines, path)
    return Doc(path, data, lines)


def _build(node: yaml.Node, where: Where, lines: dict[Where, int], path: Path) -> Any:
    lines.setdefault(where, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(node, where, lines, path)
    if isinstance(node, yaml.SequenceNode):
        items: list[Any] = []
        for item in node.value:
            hoisted = _hoisted_value(item)
            if isinstance(hoisted, yaml.SequenceNode):
                for inner in hoisted.value:
                    items.append(_build(inner, (*where, len(items)), lines, path))
            elif isinstance(hoisted, yaml.MappingNode):
                items.append(_build(hoisted, (*where, len(items)), lines, path))
            else:
                items.append(_build(item, (*where, len(items)), lines, path))
        return items
    return node.value


def _build_mapping(
    node: yaml.MappingNode, where: Where, lines: dict[Where, int], path: Path
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    literal: set[str] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise PipelineFileError(f"{path}:{key_node.start_mark.line + 1}: a mapping key must be text")
        key = key_node.value
        if TEMPLATE_KEY.match(key):
            if isinstance(value_node, yaml.MappingNode):
                result.update(_build_mapping(value_node, where, lines, path))
            continue
        if key in literal:
            raise PipelineFileError(f"{path}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
        literal.add(key)
        lines[(*where, key)] = key_node.start_mark.line + 1
        result[key] = _build(value_node, (*where, key), lines, path)
    return result


def _hoisted_value(item: yaml.Node) -> yaml.Node | None:
    """The value of a sequence item ``- ${{ each/if ... }}: value``, else None."""
    if isinstance(item, yaml.MappingNode) and item.value:
        key_node, value_node = item.value[0]
        if isinstance(key_node, yaml.ScalarNode) and TEMPLATE_KEY.match(key_node.value):
            value: yaml.Node = value_node
            return value
    return None


def _scalar(pattern: re.Pattern[str]) -> Any:
    def check(_checker: Any, instance: Any) -> bool:
        return isinstance(instance, str) and bool(pattern.match(instance) or EXPRESSION.match(instance))

    return check


def _first_property(
    validator: Validator, names: list[str], instance: Any, _schema: Any
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "object") and instance:
        first = next(iter(instance))
        if first not in names:
            yield ValidationError(f"the first key must be {' or '.join(names)}, not {first!r}")


PipelineValidator = validators.extend(
    Draft7Validator,
    validators={"firstProperty": _first_property},
    type_checker=Draft7Validator.TYPE_CHECKER.redefine_many(
        {"boolean": _scalar(YAML_BOOLEAN), "integer": _scalar(YAML_INTEGER), "number": _scalar(YAML_NUMBER)}
    ),
)


def schema_validator(schema_file: Path) -> Validator:
    """A validator for ``service-schema.json`` with ``required`` dropped from each task's inputs."""
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    for task in schema["definitions"]["task"]["anyOf"]:
        task["properties"].get("inputs", {}).pop("required", None)
    validator: Validator = PipelineValidator(schema)
    return validator


def require(found: bool, what: str) -> None:
    """Skip when a prerequisite is missing on a developer machine; fail in CI, where it must be there."""
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing in CI")
        pytest.skip(f"{what} is missing")


def official_schema() -> Path:
    """``service-schema.json`` in the specs folder: $AGENTCTL_SPECS_DIR, else ../shared/specs."""
    specs = Path(os.environ.get("AGENTCTL_SPECS_DIR") or REPO.parent / "shared" / "specs")
    schema = specs / "azure-pipelines" / "service-schema.json"
    require(schema.is_file(), f"{schema} (set AGENTCTL_SPECS_DIR to the shared specs folder)")
    return schema


@cache
def official_validator() -> Validator:
    """The validator for the official schema, built once per test process (the schema is 1.6 MB)."""
    return schema_validator(official_schema())


def schema_problems(validator: Validator, doc: Doc) -> list[str]:
    """One ``file:line: field: message`` per schema violation, pointing at the most specific cause."""
    return [_describe(doc, _deepest(error)) for error in validator.iter_errors(doc.data)]


def _deepest(error: ValidationError) -> ValidationError:
    """Follow anyOf/oneOf failures into the alternative that got furthest into the document.

    An alternative that fails on its first key (another step kind, another task name) is not the
    one the author meant; among the rest, the one with the fewest errors, then the deepest, is.
    """
    while error.context and not _alternative_values(error):
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant = [errs for errs in branches.values() if not any(_rejects_kind(e, error) for e in errs)]
        closest = min(meant or branches.values(), key=lambda errs: (len(errs), -_depth(errs)))
        error = max(closest, key=lambda e: len(e.absolute_path))
    return error


def _depth(errors: list[ValidationError]) -> int:
    return max(len(error.absolute_path) for error in errors)


def _alternative_values(error: ValidationError) -> bool:
    """True when the alternatives are just allowed values for this node (e.g. the known task names)."""
    return all(
        sub.validator in ("enum", "const", "pattern") and sub.absolute_path == error.absolute_path
        for sub in error.context
    )


def _rejects_kind(sub: ValidationError, parent: ValidationError) -> bool:
    """True when ``sub`` says the object is another kind: a missing/wrong first key or task name."""
    depth = len(parent.absolute_path)
    if sub.validator in ("firstProperty", "type") and len(sub.absolute_path) == depth:
        return True
    if sub.validator == "required" and len(sub.absolute_path) == depth:
        missing = {name for name in sub.validator_value if name not in sub.instance}
        return bool(missing & set(sub.schema.get("firstProperty", [])))
    return sub.validator in ("pattern", "enum") and list(sub.absolute_path)[depth:] == ["task"]


def _describe(doc: Doc, error: ValidationError) -> str:
    where = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        where = (*where, next((key for key in error.instance if key not in known), ""))
    return f"{doc.at(where)}: {error.message[:300]}"


def template_problems(doc: Doc, repo: Path) -> list[str]:
    """Each ``template:`` reference names a file here, and passes only parameters it declares,
    all the ones it requires, with values of the declared type and among the allowed values."""
    problems = []
    for where, ref, passed in template_calls(doc):
        at = doc.at((*where, "template"))
        if "@" in ref or "$" in ref:
            problems.append(f"{at}: template {ref!r} is not a plain path in this repository")
            continue
        target = repo / ref[1:] if ref.startswith("/") else doc.path.parent / ref
        if not target.is_file():
            problems.append(f"{at}: template {ref!r} does not exist ({target})")
            continue
        declared = declared_parameters(load(target))
        problems += [
            f"{at}: {target.name} declares no parameter {name!r}" for name in passed if name not in declared
        ]
        for name, spec in declared.items():
            if name in passed:
                problems += [f"{at}: parameter {name}: {p}" for p in _argument_problems(spec, passed[name])]
            elif "default" not in spec:
                problems.append(f"{at}: {target.name} requires parameter {name!r}")
    return problems


def template_calls(doc: Doc) -> Iterator[tuple[Where, str, dict[str, Any]]]:
    """Every ``template:`` reference: where it is, the path, the parameters passed."""
    for where, node in walk(doc.data):
        if isinstance(node, dict) and isinstance(node.get("template"), str):
            passed = node.get("parameters", {})
            yield where, node["template"], passed if isinstance(passed, dict) else {}


def declared_parameters(doc: Doc) -> dict[str, dict[str, Any]]:
    """A template's parameters by name (list form; the old mapping form gives name: default)."""
    declared = doc.data.get("parameters", []) if isinstance(doc.data, dict) else []
    if isinstance(declared, dict):
        return {name: {"default": default} for name, default in declared.items()}
    return {spec["name"]: spec for spec in declared if isinstance(spec, dict) and "name" in spec}


def _argument_problems(spec: dict[str, Any], value: Any) -> list[str]:
    if isinstance(value, str) and EXPRESSION.match(value):
        return []
    kind = spec.get("type", "string")
    scalar = {"boolean": YAML_BOOLEAN, "number": YAML_NUMBER, "string": re.compile("")}.get(kind)
    if scalar and not (isinstance(value, str) and scalar.match(value)):
        return [f"{value!r} is not a {kind}"]
    if "values" in spec and value not in spec["values"]:
        return [f"{value!r} is not one of {spec['values']}"]
    return []


# Macros for the checked-out repository: a path after them is a repository path.
REPO_ROOT_MACROS = (
    "$(Build.SourcesDirectory)/",
    "$(System.DefaultWorkingDirectory)/",
    "$(Build.Repository.LocalPath)/",
)
FILE_SUFFIXES = {".yml", ".yaml", ".hcl", ".sh", ".json", ".md", ".py", ".toml"}
TOKEN_SEPARATORS = re.compile(r"[\s\"'(),=]+")


def repo_paths(doc: Doc, repo: Path) -> Iterator[tuple[Where, str]]:
    """Repository paths named in a pipeline's text (template references excepted): tokens with a
    slash that start at a top-level entry of the repository or end in a file suffix. Tokens with a
    macro or expression (other than the repository root) are not paths we can check."""
    top = {entry.name for entry in repo.iterdir()}
    for where, node in walk(doc.data):
        if not isinstance(node, str) or where[-1:] == ("template",):
            continue
        for token in TOKEN_SEPARATORS.split(_strip_repo_root(node)):
            token = token.removeprefix("./").rstrip("/")
            if "/" not in token or token.startswith(("/", "-")) or any(c in token for c in "$:*{}"):
                continue
            if token.split("/")[0] in top or Path(token).suffix in FILE_SUFFIXES:
                yield where, token


def _strip_repo_root(text: str) -> str:
    for macro in REPO_ROOT_MACROS:
        text = text.replace(macro, "")
    return text


def repo_path_problems(doc: Doc, repo: Path, produced: Mapping[str, str]) -> list[str]:
    """Each repository path exists, or lies in a directory that ``produced`` declares as written by
    a build step (path -> the repository file that writes it, which must exist)."""
    problems = []
    for where, token in repo_paths(doc, repo):
        producer = next(
            (produced[out] for out in produced if token == out or token.startswith(out + "/")), None
        )
        if producer is not None and not (repo / producer).is_file():
            problems.append(f"{doc.at(where)}: {token} is written by {producer}, which does not exist")
        elif producer is None and not (repo / token).exists():
            problems.append(f"{doc.at(where)}: {token} does not exist in the repository")
    return problems


MAKE_CALL = re.compile(
    r"(?:^|[;&|(]|\b(?:then|do|else))[ \t]*make(?=\s|$)((?:[ \t]+[^\s;&|)]+)*)", re.MULTILINE
)
MAKE_RULE = re.compile(r"^([A-Za-z0-9][\w.-]*(?:[ \t]+[A-Za-z0-9][\w.-]*)*)[ \t]*::?(?!=)", re.MULTILINE)
MAKE_OPTIONS_WITH_ARGUMENT = {"-C", "-f", "-I", "-o", "-W"}


def make_targets_called(text: str) -> list[str]:
    """Targets of the ``make ...`` commands in a script (options and VAR=value skipped)."""
    targets = []
    for call in MAKE_CALL.finditer(text):
        words = iter(call.group(1).split())
        for word in words:
            if word in MAKE_OPTIONS_WITH_ARGUMENT:
                next(words, None)
            elif re.fullmatch(r"[A-Za-z][\w.-]*", word):
                targets.append(word)
    return targets


def makefile_targets(makefile: Path) -> set[str]:
    return {
        target for rule in MAKE_RULE.findall(makefile.read_text(encoding="utf-8")) for target in rule.split()
    }


@dataclass(frozen=True)
class Script:
    """A shell script a pipeline runs: inline (``bash``/``script``/``inlineScript``) or a file."""

    origin: str
    text: str
    env: Mapping[str, str]
    inline: bool


def scripts(doc: Doc, repo: Path) -> Iterator[Script]:
    for where, node in walk(doc.data):
        if not isinstance(node, dict):
            continue
        env, inputs = _mapping(node.get("env")), _mapping(node.get("inputs"))
        for key, text in [("bash", node.get("bash")), ("script", node.get("script"))]:
            if isinstance(text, str):
                yield Script(doc.at((*where, key)), text, env, inline=True)
        if isinstance(inputs.get("inlineScript"), str):
            yield Script(doc.at((*where, "inputs", "inlineScript")), inputs["inlineScript"], env, inline=True)
        for key in ("scriptPath", "filePath"):
            if not isinstance(inputs.get(key), str):
                continue
            path = _strip_repo_root(inputs[key])
            if (repo / path).is_file():
                yield Script(path, (repo / path).read_text(encoding="utf-8"), env, inline=False)


def _mapping(node: Any) -> dict[str, Any]:
    return node if isinstance(node, dict) else {}


SECRET_MACROS = ("$(System.AccessToken)",)
SECRET_NAMES = {"AZDO_PAT", "SYSTEM_ACCESSTOKEN"}
AZURE_MACRO = re.compile(r"\$\([A-Za-z_][\w.]*\)|\$\{\{")
XTRACE = re.compile(r"^\s*(set\s+(-[a-wyz]*x|-o\s+xtrace)|bash\s+-\w*x)", re.MULTILINE)
STRICT_MODE = re.compile(r"\A(\s*(#[^\n]*)?\n)*\s*set -euo pipefail\s*$", re.MULTILINE)


def script_problems(script: Script) -> list[str]:
    """House rules for shell: strict mode first, no xtrace, no secret in the script's own text or
    use (agentctl reads its credentials from the environment), no Azure macros in inline scripts."""
    problems = []
    if not STRICT_MODE.match(script.text):
        problems.append(f"{script.origin}: the first command must be `set -euo pipefail`")
    if XTRACE.search(script.text):
        problems.append(f"{script.origin}: xtrace would print secrets from the environment")
    secrets = SECRET_NAMES | {name for name, value in script.env.items() if value in SECRET_MACROS}
    for name in sorted(secrets):
        if re.search(rf"\$\{{?{name}\b", script.text):
            problems.append(
                f"{script.origin}: uses secret ${name}; let the program read it from its environment"
            )
    if script.inline and AZURE_MACRO.search(script.text):
        problems.append(
            f"{script.origin}: Azure replaces $(...) and ${{{{ }}}} in the script text before bash runs it;"
            " pass values through env"
        )
    return problems


def secret_macro_problems(doc: Doc) -> list[str]:
    """A secret macro may only be mapped whole into a step's ``env``, never placed in text."""
    problems = []
    for where, node in walk(doc.data):
        if not isinstance(node, str):
            continue
        for macro in SECRET_MACROS:
            if macro in node and not (len(where) >= 2 and where[-2] == "env" and node == macro):
                problems.append(f"{doc.at(where)}: {macro} outside a step's env mapping")
    return problems


def walk(data: Any, where: Where = ()) -> Iterator[tuple[Where, Any]]:
    """Every node with its location, depth first."""
    yield where, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk(value, (*where, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, (*where, index))


EACH_KEY = re.compile(r"^\$\{\{\s*each\s+(\w+)\s+in\s+parameters\.(\w+)\s*\}\}$")
EXPANSION = re.compile(r"\$\{\{\s*(?:join\('([^']*)',\s*)?(?:parameters\.)?(\w+)\)?\s*\}\}")


def template_arguments(path: Path, template: str) -> Iterator[dict[str, str]]:
    """The parameters a pipeline passes to ``template``, expanded with the pipeline's parameter
    defaults, once per item of any ``${{ each x in parameters.y }}`` around the call."""
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    defaults = {name: spec.get("default") for name, spec in declared_parameters(Doc(path, raw, {})).items()}
    yield from _calls(raw, template, defaults)


def _calls(node: Any, template: str, values: dict[str, Any]) -> Iterator[dict[str, str]]:
    if isinstance(node, list):
        for item in node:
            yield from _calls(item, template, values)
    elif isinstance(node, dict):
        if node.get("template") == template:
            yield {key: _expand(value, values) for key, value in node.get("parameters", {}).items()}
        for key, value in node.items():
            each = EACH_KEY.match(key)
            for item in values[each.group(2)] if each else [None]:
                yield from _calls(value, template, {**values, each.group(1): item} if each else values)


def _expand(text: str, values: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        separator, name = match.groups()
        if name not in values:
            raise KeyError(f"cannot expand {match.group(0)!r}: no parameter or loop variable {name!r}")
        found = values[name]
        return separator.join(found) if separator is not None else str(found)

    return EXPANSION.sub(value, text)
