"""Check recorded HTTP exchanges against the official ARM and Azure DevOps specs.

The specs live in the shared specs folder (``AGENTCTL_SPECS_DIR``, else ``<repo>/../shared/specs``);
its README says what each file is. Usage from any test under ``tests/``::

    from conformance.spec_check import SpecIndex, assert_conforms, load_for_tests, specs_dir

    assert_conforms(sandbox.exchanges)        # AssertionError listing all problems; skips without the specs
    index = load_for_tests()                  # the cached index; a skip (a failure under $CI) without specs
    problems = index.check_exchange(exchange) # list of messages, [] = conforms
    index.classify(exchange)                  # the spec Operation, a Skipped(reason), or None

An exchange is a dict with ``method``, ``path``, ``query`` (dict), ``status``, ``request`` and ``response``
(parsed JSON bodies or None) and optionally ``headers`` or ``requestHeaders`` (request headers, for the
Azure DevOps ``Accept: application/json;api-version=...``). Other keys are ignored, so ``Sandbox.exchanges``
and the lines of the sandbox's ``access.jsonl`` both work; a value redacted there is not checked.

Rules (the specs are read as Draft 4 / Swagger 2.0):
- An object schema that declares ``properties`` and no ``additionalProperties`` is closed: any other
  member is reported as an unknown property, not only type and enum errors.
- Polymorphism (Swagger ``discriminator``, e.g. Managed DevOps Pools' ``kind``): a value of a base type is
  checked against the subtype its discriminator names (``x-ms-discriminator-value``, else the definition
  name, among the definitions of the same file whose ``allOf`` names the base); an unknown value is an error.
- ``readOnly`` members are allowed in responses and ignored in requests (Azure ignores them there).
  ``x-nullable: true`` allows null; otherwise null is an error, except in Azure DevOps bodies (the vsts
  specs never state nullability and the service sends null members).
- A request is checked only when the service accepted it (status below 400; or no status, the connection
  dropped): rejecting a bad request is what the real service does, and negative tests send bad requests.
- Compute scale sets and gallery image versions: the SDK speaks newer api-versions than the swagger, so
  their ``properties`` are also checked against the newest ARM JSON Schema, and a problem there counts
  only when both documents reject the value at that place (or above it).
- Azure DevOps: list responses are wrapped as ``{"count": n, "value": [...]}``; a 204 without body is
  accepted where the spec declares a 200 without schema; error bodies are not in the specs; a few .NET
  types have another wire shape (DEVOPS_WIRE_SHAPES); check-configuration ``settings``, missing from the
  spec, must match the shape of the spec's own examples for that check type.
- ARM asynchronous-operation status URLs are checked against the ARM common OperationStatusResult.
- Routes: ARM paths (``/subscriptions/...``, ``/providers/...``) ignore the api-version (the SDKs are newer
  than the swagger); Azure DevOps paths start with the organization and use the 7.1 spec, else 7.2
  (7.2 first when the request says so). Anything else is "no spec operation" unless listed in SKIPPED.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentctl.logs import REDACTED

log = logging.getLogger(__name__)

Json = Any
Exchange = Mapping[str, Any]

ARM_SCHEMA_URL = "https://schema.management.azure.com/schemas/"
HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
DEVOPS_VERSIONS = ("7.1", "7.2")

# Newest ARM JSON Schema definition that also judges the `properties` of these swagger definitions.
ARM_OVERLAYS: dict[str, str] = {
    "virtualMachineScaleSet.json#/definitions/VirtualMachineScaleSetProperties": (
        "2026-03-01/Microsoft.Compute.json#/definitions/VirtualMachineScaleSetProperties"
    ),
    "virtualMachineScaleSet.json#/definitions/VirtualMachineScaleSetUpdateProperties": (
        "2026-03-01/Microsoft.Compute.json#/definitions/VirtualMachineScaleSetProperties"
    ),
    "gallery.json#/definitions/GalleryImageVersionProperties": (
        "2025-12-03/Microsoft.Compute.json#/definitions/GalleryImageVersionProperties"
    ),
}

# Members known only to an api-version newer than both the swagger and the newest ARM JSON Schema:
# (ARM definition name, member path below it, reason). Empty until one is proven needed.
NEWER_THAN_SPECS: tuple[tuple[str, str, str], ...] = ()

# Check-configuration `settings` members the service accepts beyond those in the spec's own examples.
CHECK_SETTINGS_BEYOND_EXAMPLES: dict[str, tuple[dict[str, Json], str]] = {
    "approval": (
        {"requesterCannotBeApprover": {"type": "boolean"}},
        "sent by Microsoft's own Terraform provider (microsoft/terraform-provider-azuredevops, "
        "resource_check_approval.go) and read back from the service",
    ),
}

# Azure DevOps definitions whose wire shape differs from the .NET class the spec was generated from.
DEVOPS_WIRE_SHAPES: dict[str, tuple[Json, str]] = {
    "ReferenceLinks": (
        {
            "type": "object",
            "additionalProperties": {"type": "object", "properties": {"href": {"type": "string"}}},
        },
        'serialized as its `links` dictionary: {"self": {"href": ...}, ...}',
    ),
    "PropertiesCollection": (
        {"type": "object", "additionalProperties": {}},
        "a property bag, serialized as a dict",
    ),
    "JObject": ({"type": "object", "additionalProperties": {}}, "Newtonsoft JObject: any JSON object"),
    "JToken": ({}, "Newtonsoft JToken: any JSON value"),
}

# Exchanges that have no operation in the specs, on purpose: (method or "*", path regex, reason).
SKIPPED: tuple[tuple[str, str, str], ...] = (
    ("*", r"/sandbox(/.*)?", "sandbox-only endpoint (control), not an Azure API"),
    (
        "*",
        r"/[^/]+/oauth2/v2\.0/token|/[^/]+/v2\.0/\.well-known/openid-configuration|/common/discovery/instance",
        "Microsoft Entra ID sign-in (OAuth 2.0 / OpenID Connect), not an ARM or Azure DevOps API",
    ),
    (
        "GET",
        r"/api/retail/prices",
        "the public Azure Retail Prices API has no spec in the shared specs folder",
    ),
    ("OPTIONS", r"/[^/]+/_apis/?", "Azure DevOps route discovery; not in vsts-rest-api-specs"),
    (
        "GET",
        r"/[^/]+/_apis/resourceareas(/.*)?",
        "Azure DevOps resource-area discovery; not in vsts-rest-api-specs",
    ),
    ("GET", r"/[^/]+/_apis/connectiondata", "Azure DevOps connection data; not in vsts-rest-api-specs"),
    ("*", r"/[^/]+/_apis/identities(/.*)?", "the Identities API spec is not in the shared specs folder"),
    ("*", r"/[^/]+/_apis/projects(/.*)?", "the Core (projects) API spec is not in the shared specs folder"),
    (
        "*",
        r"/.+/providers/microsoft\.authorization/roledefinitions(/.*)?",
        "the role definitions swagger is not in the shared specs folder",
    ),
)


# ARM long-running-operation URLs have no operation in a provider swagger. The Azure-AsyncOperation status
# body is ARM's common OperationStatusResult; the Location result answers 202 without body while running,
# then the original operation's result (its body is checked where the client reads the resource) or 204.
ARM_ASYNC_TYPES = "common-types/resource-management/v5/types.json"
_ARM_ERROR = {"schema": {"$ref": "#/definitions/ErrorResponse"}}
_ARM_STATUS = {"200": {"schema": {"$ref": "#/definitions/OperationStatusResult"}}, "default": _ARM_ERROR}
_ARM_RESULT = {"200": {"schema": {}}, "202": {}, "204": {}, "default": _ARM_ERROR}
ARM_ASYNC_OPERATIONS = {
    "operations": _ARM_STATUS,
    "operationStatuses": _ARM_STATUS,
    "asyncoperations": _ARM_STATUS,
    "operationResults": _ARM_RESULT,
}

_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "null": (type(None),),
}


def specs_dir() -> Path:
    """The shared specs folder: $AGENTCTL_SPECS_DIR, else <repo>/../shared/specs."""
    env = os.environ.get("AGENTCTL_SPECS_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    repo = next(p for p in here.parents if (p / "pyproject.toml").is_file())
    return repo.parent / "shared" / "specs"


@dataclass(frozen=True)
class Operation:
    """One operation of a spec file: the route a request is matched to."""

    method: str
    template: str
    file: Path
    spec: Json = field(repr=False, compare=False)
    params: tuple[Json, ...] = field(repr=False, compare=False)
    pattern: re.Pattern[str] = field(repr=False, compare=False)
    devops_version: str = ""

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", f"{self.method} {self.template}"))

    def rank(self, query: Mapping[str, Json]) -> tuple[int, ...]:
        """How closely the operation fits a matching request: literal segments, then query parameters."""
        segments = self.template.split("?")[0].strip("/").split("/")
        required = [p["name"].lower() for p in self.params if p.get("in") == "query" and p.get("required")]
        present = sum(name in query for name in required)
        return sum("{" not in s for s in segments), -len(segments), present, present - len(required)

    def matches(self, method: str, path: str, query: Mapping[str, Json]) -> bool:
        """Same method and path, and the query has the keys an `x-ms-paths` template names after `?`."""
        keys = re.findall(r"[?&]([^=&]+)=", self.template)
        return (
            method == self.method
            and bool(self.pattern.fullmatch(path))
            and all(k.lower() in query for k in keys)
        )


@dataclass(frozen=True)
class Skipped:
    """An exchange deliberately not checked, and why."""

    reason: str


@dataclass(frozen=True)
class _Problem:
    loc: str
    message: str
    origins: tuple[str, ...]

    def render(self) -> str:
        return f"{self.loc or '(body)'}: {self.message} (spec: {', '.join(self.origins)})"


def _below(loc: str, ancestor: str) -> bool:
    """Whether `loc` is `ancestor` or inside it."""
    return loc == ancestor or not ancestor or loc.startswith((ancestor + ".", ancestor + "["))


def _child(loc: str, name: str) -> str:
    return f"{loc}.{name}" if loc else name


def _is_expression(schema: Json) -> bool:
    return isinstance(schema, dict) and str(schema.get("$ref", "")).endswith(
        "common/definitions.json#/definitions/expression"
    )


class _Documents:
    """Loads spec files on demand and resolves $refs (relative paths and ARM schema URLs)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._docs: dict[Path, Json] = {}

    def load(self, path: Path) -> Json:
        if path not in self._docs:
            self._docs[path] = json.loads(path.read_text(encoding="utf-8"))
        return self._docs[path]

    def resolve(self, ref: str, base: Path) -> tuple[Path, str, Json]:
        target, _, pointer = ref.partition("#")
        if target.startswith(ARM_SCHEMA_URL):
            path = self.root / "azure-resource-manager-schemas" / "schemas" / target[len(ARM_SCHEMA_URL) :]
        elif target:
            path = Path(os.path.normpath(base.parent / target))
        else:
            path = base
        node = self.load(path)
        for part in filter(None, pointer.split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return path, pointer, node

    def display(self, path: Path) -> str:
        """Short file name for messages: the basename for ARM swagger, else from the version folder on."""
        parts = path.relative_to(self.root).parts
        if parts[0] == "azure-rest-api-specs":
            return path.name
        if parts[0] == "vsts-rest-api-specs":
            return "/".join(parts[3:])
        return "/".join(parts[-2:])


@dataclass(frozen=True)
class _At:
    """Where a schema lives: its file (for relative refs) and the nearest definition (for messages)."""

    file: Path
    origin: str


class _Walk:
    """Validates one JSON value against a swagger / JSON Schema node and collects located problems."""

    def __init__(self, index: SpecIndex, request: bool) -> None:
        self.index = index
        self.docs = index.docs
        self.request = request
        self.problems: list[_Problem] = []

    def sub(self) -> _Walk:
        return _Walk(self.index, self.request)

    def problem(self, loc: str, message: str, at: _At) -> None:
        self.problems.append(_Problem(loc, message, (at.origin,)))

    def ref(self, ref: str, value: Json, loc: str, at: _At) -> None:
        path, pointer, target = self.docs.resolve(ref, at.file)
        target_at = _At(path, f"{self.docs.display(path)}#{pointer}")
        basename_key = f"{path.name}#{pointer}"
        if basename_key in ARM_OVERLAYS and isinstance(value, dict):
            self.overlay(target, value, loc, target_at, ARM_OVERLAYS[basename_key])
        elif self.index.is_devops(path) and pointer.removeprefix("/definitions/") in DEVOPS_WIRE_SHAPES:
            self.check(DEVOPS_WIRE_SHAPES[pointer.removeprefix("/definitions/")][0], value, loc, target_at)
        elif self.index.is_devops(path) and pointer == "/definitions/CheckConfiguration":
            self.check_configuration(target, value, loc, target_at)
        elif "discriminator" in target and isinstance(value, dict):
            self.polymorphic(path, pointer, target, value, loc, target_at)
        else:
            self.check(target, value, loc, target_at)

    def polymorphic(
        self, path: Path, pointer: str, base: Json, value: dict[str, Json], loc: str, at: _At
    ) -> None:
        """A Swagger base type with a `discriminator`: check against the subtype its value names."""
        prop = base["discriminator"]
        kinds = self.index.subtypes(path, pointer)
        if not kinds or prop not in value:
            self.check(base, value, loc, at)  # no subtypes, or the missing discriminator is reported
            return
        name = value[prop]
        if name not in kinds:
            message = f"value {repr(name)[:60]} names no subtype (one of {', '.join(sorted(kinds))})"
            self.problem(_child(loc, prop), message, at)
            return
        sub_pointer = kinds[name]
        self.check(
            self.docs.resolve(f"#{sub_pointer}", path)[2],
            value,
            loc,
            _At(path, f"{self.docs.display(path)}#{sub_pointer}"),
        )

    def check(self, schema: Json, value: Json, loc: str, at: _At) -> None:
        if value == REDACTED:
            return  # replaced by the sandbox access log: its content is unknown
        if value is None and (schema.get("x-nullable") is True or self.index.is_devops(at.file)):
            return  # the vsts specs never state nullability, and the service sends null members
        if "$ref" in schema:
            self.ref(schema["$ref"], value, loc, at)
            return
        branches = [b for b in schema.get("oneOf", schema.get("anyOf", [])) if not _is_expression(b)]
        if branches:
            self.one_of(branches, value, loc, at)
            return
        types = schema.get("type")
        allowed = [types] if isinstance(types, str) else list(types or [])
        if not allowed and ("properties" in schema or "allOf" in schema or "additionalProperties" in schema):
            allowed = ["object"]
        if not allowed and "items" in schema:
            allowed = ["array"]
        if allowed and not any(self.is_type(value, t) for t in allowed):
            self.problem(loc, f"expected {' or '.join(allowed)}, got {self.type_name(value)}", at)
            return
        if isinstance(value, dict) and (not allowed or "object" in allowed):
            self.object(schema, value, loc, at)
        elif isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                self.check(schema["items"], item, f"{loc}[{i}]", at)
        self.scalar(schema, value, loc, at)

    @staticmethod
    def is_type(value: Json, name: str) -> bool:
        if isinstance(value, bool) and name in ("integer", "number"):
            return False
        return isinstance(value, _PYTHON_TYPES.get(name, (object,)))

    @staticmethod
    def type_name(value: Json) -> str:
        return next((name for name, types in _PYTHON_TYPES.items() if type(value) in types), "null")

    def one_of(self, branches: list[Json], value: Json, loc: str, at: _At) -> None:
        attempts: list[list[_Problem]] = []
        for branch in branches:
            walk = self.sub()
            walk.check(branch, value, loc, at)
            if not walk.problems:
                return
            attempts.append(walk.problems)
        fewest = min(attempts, key=len)
        self.problems.extend(fewest)

    def members(self, schema: Json, at: _At) -> tuple[dict[str, tuple[Json, _At]], set[str], Json]:
        """Members declared by an object schema and its allOf ancestors: properties, required, additional."""
        properties: dict[str, tuple[Json, _At]] = {}
        required: set[str] = set()
        additional: Json = None
        for part in schema.get("allOf", []):
            part_at = at
            if "$ref" in part:
                path, pointer, part = self.docs.resolve(part["$ref"], at.file)
                part_at = _At(path, f"{self.docs.display(path)}#{pointer}")
            inherited, inherited_required, inherited_additional = self.members(part, part_at)
            properties.update(inherited)
            required |= inherited_required
            additional = inherited_additional if additional is None else additional
        properties.update({name: (sub, at) for name, sub in schema.get("properties", {}).items()})
        required |= set(schema.get("required", []))
        if "additionalProperties" in schema:
            additional = schema["additionalProperties"]
        return properties, required, additional

    def object(self, schema: Json, value: dict[str, Json], loc: str, at: _At) -> None:
        properties, required, additional = self.members(schema, at)
        for name, item in value.items():
            if name in properties:
                sub, sub_at = properties[name]
                if not (self.request and sub.get("readOnly")):
                    self.check(sub, item, _child(loc, name), sub_at)
            elif isinstance(additional, dict):
                self.check(additional, item, _child(loc, name), at)
            elif additional is not True and (properties or additional is False):
                self.problem(_child(loc, name), "unknown property", at)
        for name in sorted(required - value.keys()):
            sub, sub_at = properties.get(name, ({}, at))
            if not (self.request and sub.get("readOnly")):
                self.problem(_child(loc, name), "required property missing", sub_at)

    def scalar(self, schema: Json, value: Json, loc: str, at: _At) -> None:
        # An x-ms-enum with modelAsString is extensible: a service may answer values newer than
        # the spec's list (VM sizes, for one). Requests keep to the listed ones.
        extensible = not self.request and (schema.get("x-ms-enum") or {}).get("modelAsString") is True
        if "enum" in schema and value not in schema["enum"] and not extensible:
            shown = repr(value)[:60]
            self.problem(loc, f"value {shown} is not one of {', '.join(map(str, schema['enum']))}", at)
        if isinstance(value, str):
            self.string(schema, value, loc, at)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            low, high = _INT_RANGES.get(schema.get("format", ""), (None, None))
            low = schema.get("minimum", low)
            high = schema.get("maximum", high)
            if (low is not None and value < low) or (high is not None and value > high):
                self.problem(loc, f"number out of range [{low}, {high}]", at)
        elif isinstance(value, list) and not schema.get("minItems", 0) <= len(value) <= schema.get(
            "maxItems", len(value)
        ):
            self.problem(loc, f"array length {len(value)} outside the allowed range", at)

    def string(self, schema: Json, value: str, loc: str, at: _At) -> None:
        fmt = schema.get("format")
        if fmt == "date-time" and not _DATE_TIME.fullmatch(value):
            self.problem(loc, "not a date-time", at)
        elif fmt == "uuid" and not _UUID.fullmatch(value):
            self.problem(loc, "not a uuid", at)
        elif fmt == "byte":
            try:
                base64.b64decode(value, validate=True)
            except binascii.Error:
                self.problem(loc, "not base64 (format: byte)", at)
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            self.problem(loc, f"string length {len(value)} outside the allowed range", at)
        pattern = schema.get("pattern")
        if pattern and not _regex(pattern).search(value):
            self.problem(loc, f"does not match pattern {pattern}", at)

    def overlay(self, schema: Json, value: Json, loc: str, at: _At, arm_ref: str) -> None:
        """Check against the swagger and the newest ARM JSON Schema; keep what both reject."""
        swagger = self.sub()
        swagger.check(schema, value, loc, at)
        arm = self.sub()
        arm_file, pointer = arm_ref.split("#")
        arm_path = self.index.root / "azure-resource-manager-schemas" / "schemas" / arm_file
        arm.check({"$ref": f"#{pointer}"}, value, loc, _At(arm_path, arm_ref))
        arm_name = pointer.rsplit("/", 1)[-1]

        def confirmed(mine: _Problem, others: list[_Problem]) -> bool:
            return any(_below(mine.loc, other.loc) for other in others)

        # Where both reject the same place: the newest schema's message, unless only the swagger knows the
        # member (a read-only one, say), and both pointers.
        kept: dict[str, _Problem] = {}
        for mine, others in ((arm.problems, swagger.problems), (swagger.problems, arm.problems)):
            for p in mine:
                if not confirmed(p, others) or _newer_than_specs(arm_name, p.loc[len(loc) :].lstrip(".")):
                    continue
                first = kept.setdefault(p.loc, p)
                if first is not p:
                    message = p.message if first.message == "unknown property" else first.message
                    kept[p.loc] = _Problem(p.loc, message, p.origins + first.origins)
        self.problems.extend(kept.values())

    def check_configuration(self, schema: Json, value: Json, loc: str, at: _At) -> None:
        """CheckConfiguration plus `settings`, which the spec lacks: judged by the spec's own examples."""
        if not isinstance(value, dict):
            self.check(schema, value, loc, at)
            return
        self.check(schema, {k: v for k, v in value.items() if k != "settings"}, loc, at)
        kind = value["type"] if isinstance(value.get("type"), dict) else {}
        found = self.index.check_settings(kind)
        settings_loc = _child(loc, "settings")
        if found is None:
            if "settings" in value:
                label = kind.get("name") or kind.get("id")
                self.problem(settings_loc, f"no example of settings for check type {label!r}", at)
            return
        settings_schema, settings_at = found
        if "settings" in value:
            self.check(settings_schema, value["settings"], settings_loc, settings_at)
        elif self.request:
            self.problem(settings_loc, "required for this check type", settings_at)


def _generic(template: str) -> bool:
    """Generic ARM operations (by id, any resource of any provider) would match every path and hide
    unknown ones. A template that names a provider only to read its registration, or that ends in
    literal segments after the resource (the permissions at a resource), is specific."""
    segments = template.split("?")[0].strip("/").split("/")
    literal = [s for s in segments if "{" not in s]
    if not literal:
        return True
    if "{resourceProviderNamespace}" not in template:
        return False
    return "{parentResourcePath}" in template and "{" in segments[-1]


@functools.cache
def _regex(pattern: str) -> re.Pattern[str]:
    """An ECMA-262 pattern in Python: a hyphen right after a class escape is literal there."""
    return re.compile(re.sub(r"(\\[wdsWDS])-", r"\1\\-", pattern))


def _newer_than_specs(definition: str, member: str) -> bool:
    return any(d == definition and _below(member, m) for d, m, _ in NEWER_THAN_SPECS)


def _schema_of_example(value: Json) -> Json:
    """A closed JSON schema with the shape of an example value (null or an empty list: anything)."""
    if isinstance(value, dict):
        return {"type": "object", "properties": {k: _schema_of_example(v) for k, v in value.items()}}
    if isinstance(value, list):
        items: Json = None
        for item in value:
            items = _merge_schemas(items, _schema_of_example(item))
        return {"type": "array", "items": items or {}}
    if value is None:
        return {}
    return {"type": _Walk.type_name(value)}


def _merge_schemas(a: Json, b: Json) -> Json:
    if a is None:
        return b
    if not a or not b or a.get("type") != b.get("type"):
        return {}
    if a["type"] == "object":
        merged = dict(a["properties"])
        for name, sub in b["properties"].items():
            merged[name] = _merge_schemas(merged.get(name), sub)
        return {"type": "object", "properties": merged}
    if a["type"] == "array":
        return {"type": "array", "items": _merge_schemas(a["items"] or None, b["items"] or None) or {}}
    return a


class SpecIndex:
    """The operations of the specs folder, and the checks of exchanges against them."""

    def __init__(self, root: Path) -> None:
        if not (root / "azure-rest-api-specs").is_dir() or not (root / "vsts-rest-api-specs").is_dir():
            raise FileNotFoundError(f"specs folder not found or incomplete: {root}")
        self.root = root
        self.docs = _Documents(root)
        self.arm_operations: list[Operation] = []
        self.devops_operations: list[Operation] = []
        self._check_types: dict[str, str] = {}  # check type id or name, lower case -> name
        self._settings: dict[str, tuple[Json, _At]] = {}  # check type name -> settings schema
        self._subtypes: dict[tuple[Path, str], dict[str, str]] = {}
        self._index_arm()
        self._index_devops()
        self._index_check_settings()

    @classmethod
    def load(cls, root: Path) -> SpecIndex:
        """The index of `root`, built once per process."""
        return _load(root.resolve())

    # ---- indexing -------------------------------------------------------------------------------

    def is_devops(self, path: Path) -> bool:
        return path.is_relative_to(self.root / "vsts-rest-api-specs")

    def _operations(self, file: Path, devops_version: str = "") -> Iterator[Operation]:
        doc = self.docs.load(file)
        for template, item in {**doc.get("paths", {}), **doc.get("x-ms-paths", {})}.items():
            if _generic(template):
                continue
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                if method in item:
                    params = tuple(
                        self._deref(p, file) for p in [*shared, *item[method].get("parameters", [])]
                    )
                    pattern = self._pattern(template, params)
                    yield Operation(
                        method.upper(), template, file, item[method], params, pattern, devops_version
                    )

    def _deref(self, node: Json, file: Path) -> Json:
        """A parameter or response object, following its $ref."""
        return self.docs.resolve(node["$ref"], file)[2] if "$ref" in node else node

    @staticmethod
    def _pattern(template: str, params: tuple[Json, ...]) -> re.Pattern[str]:
        multi = {p["name"] for p in params if p.get("in") == "path" and p.get("x-ms-skip-url-encoding")}
        parts = re.split(r"(\{[^}]+\})", template.split("?")[0].rstrip("/"))
        # a path parameter inserted as is may hold slashes, or nothing at all: an SDK sends the empty
        # parent path of a top-level resource as ``Microsoft.X//type/name``
        regex = "".join(
            (".*" if part[1:-1] in multi else "[^/]+") if part.startswith("{") else re.escape(part)
            for part in parts
        )
        return re.compile(regex + "/?", re.IGNORECASE)

    def _index_arm(self) -> None:
        spec_root = self.root / "azure-rest-api-specs" / "specification"
        for file in sorted(spec_root.rglob("*.json")):
            if "examples" not in file.parts and "paths" in self.docs.load(file):
                self.arm_operations.extend(self._operations(file))
        types = spec_root / ARM_ASYNC_TYPES
        for kind, responses in ARM_ASYNC_OPERATIONS.items():
            template = f"/subscriptions/{{s}}/providers/{{namespace}}/locations/{{location}}/{kind}/{{id}}"
            spec = {"operationId": f"ArmAsync_{kind}", "responses": responses}
            pattern = self._pattern(template, ())
            self.arm_operations.append(Operation("GET", template, types, spec, (), pattern))

    def _index_devops(self) -> None:
        spec_root = self.root / "vsts-rest-api-specs" / "specification"
        for version in DEVOPS_VERSIONS:
            for file in sorted(spec_root.glob(f"*/{version}/*.json")):
                self.devops_operations.extend(self._operations(file, version))

    def _index_check_settings(self) -> None:
        spec_root = self.root / "vsts-rest-api-specs" / "specification" / "approvalsAndChecks"
        for file in sorted(spec_root.glob("*/httpExamples/*/*.json")):
            origin = f"{self.docs.display(file)}#/parameters/body/settings"
            for body in _bodies(self.docs.load(file)):
                kind = body.get("type")
                if not (isinstance(kind, dict) and kind.get("name") and "settings" in body):
                    continue
                name = str(kind["name"]).lower()
                self._check_types.update({name: name, str(kind.get("id", name)).lower(): name})
                schema, at = self._settings.get(name, (None, _At(file, origin)))
                self._settings[name] = (_merge_schemas(schema, _schema_of_example(body["settings"])), at)
        for name, (extra, _reason) in CHECK_SETTINGS_BEYOND_EXAMPLES.items():
            schema, at = self._settings[name]
            self._settings[name] = ({**schema, "properties": {**schema["properties"], **extra}}, at)

    def subtypes(self, path: Path, pointer: str) -> dict[str, str]:
        """Discriminator value -> definition pointer of the subtypes of `pointer` declared in `path`.

        Swagger 2.0: a subtype names its base in `allOf` and its value in `x-ms-discriminator-value`
        (by default, its definition name).
        """
        key = (path, pointer)
        if key not in self._subtypes:
            found = {}
            for name, definition in self.docs.load(path).get("definitions", {}).items():
                parents = [part.get("$ref") for part in definition.get("allOf", [])]
                if f"#{pointer}" in parents:
                    found[str(definition.get("x-ms-discriminator-value", name))] = f"/definitions/{name}"
            self._subtypes[key] = found
        return self._subtypes[key]

    def check_settings(self, kind: Json) -> tuple[Json, _At] | None:
        """The settings schema learnt from the examples for a check type ({id, name}), if any."""
        for key in (kind.get("id"), kind.get("name")):
            name = self._check_types.get(str(key).lower())
            if name:
                return self._settings[name]
        return None

    # ---- routing --------------------------------------------------------------------------------

    def classify(self, exchange: Exchange) -> Operation | Skipped | None:
        """The spec operation for an exchange, a deliberate skip, or None when nothing describes it."""
        method = str(exchange["method"]).upper()
        path = str(exchange["path"]).split("?", 1)[0]
        query = _query(exchange)
        for skip_method, regex, reason in SKIPPED:
            if skip_method in ("*", method) and re.fullmatch(regex, path, re.IGNORECASE):
                return Skipped(reason)
        if re.match(r"/(subscriptions|providers)/", path, re.IGNORECASE):
            return self._best(self.arm_operations, method, path, query)
        version = _devops_api_version(exchange)
        preferred = sorted(DEVOPS_VERSIONS, key=lambda v: (not version.startswith(v), v))
        for devops_version in preferred:
            ops = [op for op in self.devops_operations if op.devops_version == devops_version]
            found = self._best(ops, method, path, query)
            if found:
                return found
        return None

    @staticmethod
    def _best(
        operations: Iterable[Operation], method: str, path: str, query: Mapping[str, Json]
    ) -> Operation | None:
        matches = [op for op in operations if op.matches(method, path, query)]
        return max(matches, key=lambda op: op.rank(query), default=None)

    # ---- checking -------------------------------------------------------------------------------

    def check_exchange(self, exchange: Exchange) -> list[str]:
        """Problems of one exchange against the specs, each naming the JSON path and the spec pointer."""
        method = str(exchange["method"]).upper()
        head = f"{method} {exchange['path']}"
        found = self.classify(exchange)
        if isinstance(found, Skipped):
            log.debug("not checked: %s: %s", head, found.reason)
            return []
        if found is None:
            return [f"no spec operation for {head}"]
        status = exchange.get("status")
        problems = []
        if status is None or int(status) < 400:
            problems += [f"{head} request: {p}" for p in self._check_request(found, exchange)]
        if status is not None:
            checked = self._check_response(found, exchange, int(status))
            problems += [f"{head} response {status}: {p}" for p in checked]
        return problems

    def _check_request(self, op: Operation, exchange: Exchange) -> list[str]:
        query = _query(exchange)
        at = _At(op.file, f"{self.docs.display(op.file)} {op.operation_id}")
        problems = [
            f"query parameter {p['name']}: required but missing (spec: {at.origin})"
            for p in op.params
            if p.get("in") == "query"
            and p.get("required")
            and p["name"] != "api-version"
            and p["name"].lower() not in query
        ]
        body_param = next((p for p in op.params if p.get("in") == "body"), None)
        body = exchange.get("request")
        if body_param is None:
            if body not in (None, b"", ""):
                problems.append(f"(body): the operation takes no body (spec: {at.origin})")
            return problems
        if body is None:
            if body_param.get("required"):
                problems.append(f"(body): required body missing (spec: {at.origin})")
            return problems
        walk = _Walk(self, request=True)
        walk.check(body_param["schema"], body, "", at)
        return problems + [p.render() for p in walk.problems]

    def _check_response(self, op: Operation, exchange: Exchange, status: int) -> list[str]:
        responses = op.spec.get("responses", {})
        at = _At(op.file, f"{self.docs.display(op.file)} {op.operation_id}")
        body = exchange.get("response")
        declared = responses.get(str(status))
        if declared is None and op.devops_version:
            if status >= 400:
                return []  # Azure DevOps error bodies are not in the specs
            if status == 204 and "200" in responses and "schema" not in responses["200"]:
                declared = responses["200"]
        if declared is None and status >= 400:
            declared = responses.get("default")
        if declared is None:
            return [f"status {status} is not declared (declared: {', '.join(responses)}) (spec: {at.origin})"]
        declared = self._deref(declared, op.file)
        schema = declared.get("schema")
        if schema is None:
            if body in (None, "", b""):
                return []
            return [f"(body): the spec declares no body for status {status} (spec: {at.origin})"]
        if body is None:
            return [f"(body): missing, the spec declares one for status {status} (spec: {at.origin})"]
        walk = _Walk(self, request=False)
        if op.devops_version and self._is_array(schema, op.file):
            return self._check_devops_list(walk, schema, body, at)
        walk.check(schema, body, "", at)
        return [p.render() for p in walk.problems]

    def _is_array(self, schema: Json, file: Path) -> bool:
        if "$ref" in schema:
            path, _, schema = self.docs.resolve(schema["$ref"], file)
            return self._is_array(schema, path)
        return bool(schema.get("type") == "array")

    @staticmethod
    def _check_devops_list(walk: _Walk, schema: Json, body: Json, at: _At) -> list[str]:
        if not (
            isinstance(body, dict) and set(body) == {"count", "value"} and isinstance(body["value"], list)
        ):
            return [f"(body): expected the Azure DevOps list wrapper {{count, value}} (spec: {at.origin})"]
        problems = []
        if body["count"] != len(body["value"]):
            problems.append(
                f"count: {body['count']!r} but value has {len(body['value'])} items (spec: {at.origin})"
            )
        walk.check(schema, body["value"], "value", at)
        return problems + [p.render() for p in walk.problems]


@functools.cache
def _load(root: Path) -> SpecIndex:
    return SpecIndex(root)


def _query(exchange: Exchange) -> dict[str, Json]:
    return {str(k).lower(): v for k, v in (exchange.get("query") or {}).items()}


def _devops_api_version(exchange: Exchange) -> str:
    version = _query(exchange).get("api-version")
    if isinstance(version, list):
        version = version[0] if version else None
    if version:
        return str(version)
    sent = exchange.get("headers") or exchange.get("requestHeaders") or {}
    headers = {k.lower(): v for k, v in sent.items()}
    found = re.search(r"api-version=([\w.-]+)", str(headers.get("accept", "")))
    return found.group(1) if found else ""


def _bodies(example: Json) -> Iterator[Json]:
    """The request and response bodies of an httpExamples file."""
    body = example.get("parameters", {}).get("body")
    if isinstance(body, dict):
        yield body
    for response in example.get("responses", {}).values():
        if isinstance(response.get("body"), dict):
            yield response["body"]


def load_for_tests() -> SpecIndex:
    """The index of specs_dir(); a pytest skip when the folder is missing (a failure when $CI is set)."""
    import pytest

    root = specs_dir()
    if not (root / "azure-rest-api-specs").is_dir():
        message = f"shared specs folder not found at {root} (set AGENTCTL_SPECS_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return SpecIndex.load(root)


def assert_conforms(exchanges: Iterable[Exchange], index: SpecIndex | None = None) -> None:
    """Raise AssertionError listing every problem of every exchange against the specs."""
    index = index or load_for_tests()
    exchanges = list(exchanges)
    problems = [p for exchange in exchanges for p in index.check_exchange(exchange)]
    if problems:
        raise AssertionError(
            f"{len(problems)} spec conformance problem(s) in {len(exchanges)} exchange(s):\n"
            + "\n".join(problems)
        )
