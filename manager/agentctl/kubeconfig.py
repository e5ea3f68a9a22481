"""Check, repair, minify and convert kubeconfig files without ever showing their secrets.

``check(text, source)`` lists every ``Finding`` (stable code, message, file:line and field path,
whether ``fix`` can repair it). ``fix`` repairs what is safe and keeps only the chosen context;
``to_kubelogin_msi`` turns an Entra (AKS AAD) kubeconfig into one that signs in with a managed
identity; ``minify``, ``current_server`` and ``fingerprint`` serve the service-connection code.

Messages name fields, lengths and dates, never a value: certificates, keys and tokens stay in
the file. Pure: no network, no Azure SDK. See docs/kubeconfig.md for the list of codes.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import difflib
import hashlib
import json
import logging
import posixpath
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from agentctl import yamlsrc
from agentctl.errors import InvalidInput, Problem, quoted
from agentctl.yamlsrc import MAX_BYTES as MAX_BYTES
from agentctl.yamlsrc import MAX_DEPTH, MAX_NODES

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from cryptography.x509 import Certificate

log = logging.getLogger(__name__)

# The Entra application id of the AKS AAD server (the same in every tenant).
AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"

_TAG = "tag:yaml.org,2002:"
_TYPED = {_TAG + t for t in ("null", "bool", "int", "float")}
_DATA_KEY = r"(?:certificate-authority|client-certificate|client-key)-data"
_WRAP_HEAD = re.compile(rf"^(\s*(?:-\s+)?{_DATA_KEY}\s*:\s+)([A-Za-z0-9+/=]+)\s*$")
_WRAP_TAIL = re.compile(r"^\s*[A-Za-z0-9+/=]+\s*$")
_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_PEM_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_INTERACTIVE_LOGINS = {"devicecode", "interactive"}
_CREDENTIAL_KEYS = (
    "token",
    "tokenFile",
    "client-certificate-data",
    "client-certificate",
    "client-key-data",
    "client-key",
    "exec",
    "auth-provider",
    "username",
)
_FILE_KEYS = {
    "certificate-authority": "certificate-authority-data",
    "client-certificate": "client-certificate-data",
    "client-key": "client-key-data",
    "tokenFile": "token",
}


@dataclass(frozen=True)
class Finding:
    """One problem in a kubeconfig, located by line and field path; never carries a secret value.

    ``severity`` is ``error`` (the file should not be used as it is: exit 3) or ``warning`` (worth
    knowing, such as a plugin the file makes kubectl run, but not wrong in itself)."""

    code: str
    message: str
    file: str
    line: int | None = None
    field: str = ""
    fixable: bool = False
    severity: str = "error"

    @property
    def blocking(self) -> bool:
        return self.severity == "error"

    @property
    def location(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where} {self.field}" if self.field else where

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "location": self.location,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "fixable": self.fixable,
            "severity": self.severity,
        }

    def problem(self) -> Problem:
        return Problem(f"{self.message} [{self.code}]", self.field, self.line, self.file)

    def to_error(self) -> dict[str, Any]:
        """The finding as an entry of a JSON envelope's ``errors``, under its own code."""
        return {"code": self.code, **Problem(self.message, self.field, self.line, self.file).to_dict()}


class Unreadable(InvalidInput):
    """The text cannot be read as a kubeconfig at all, so nothing can be repaired or converted."""

    code = "kubeconfig.unreadable"


def check(text: str | bytes, source: str) -> list[Finding]:
    """Every problem found in ``text`` (the content of ``source``), warnings included; never raises."""
    try:
        loaded = _load(text, source)
    except _Blocked as stop:
        return stop.findings
    findings = [*loaded.findings, *_Checker(loaded, source).run()]
    log.debug("%s: %d finding(s) %s", source, len(findings), sorted({f.code for f in findings}))
    return findings


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings that make a kubeconfig unusable as it is (warnings left out)."""
    return [f for f in findings if f.blocking]


def fix(text: str | bytes, source: str, context: str | None = None) -> tuple[str, list[Finding]]:
    """Repair what is safe and keep only ``context`` (default: the current or only one).

    Returns the repaired YAML and the findings that remain in it. Raises ``Unreadable`` when
    the text cannot be parsed, and ``InvalidInput`` when ``context`` is not in the file.
    """
    fixed = _dump(_prepared(text, source, context))
    remaining = check(fixed, source)
    log.debug("%s: repaired, %d finding(s) remain", source, len(remaining))
    return fixed, remaining


def minify(text: str | bytes, context: str | None = None, source: str = "kubeconfig") -> str:
    """Only ``context`` (default: the current one) with its cluster and user; nothing else changed."""
    data = _document(text, source)
    picked = _picked(data, _select(data, context, source))
    if picked is None:
        raise InvalidInput(
            f"{source}: no usable context to keep",
            hint="set current-context or name a context whose cluster and user are defined",
        )
    return _dump(picked.minified(data))


def with_namespace(text: str | bytes, namespace: str, source: str = "kubeconfig") -> tuple[str, str]:
    """The current context's name, and the config with that context's default namespace set."""
    data = _document(text, source)
    current = str(data.get("current-context") or "")
    for entry in data.get("contexts") or []:
        if isinstance(entry, dict) and entry.get("name") == current:
            if not isinstance(entry.get("context"), dict):
                entry["context"] = {}
            entry["context"]["namespace"] = namespace
    return current, _dump(data)


def current_server(text: str | bytes, source: str = "kubeconfig") -> str:
    """The API server URL of the current context."""
    data = _document(text, source)
    picked = _picked(data, _select(data, None, source))
    server = picked.cluster["cluster"].get("server") if picked else None
    if not isinstance(server, str) or not _is_url(server):
        raise InvalidInput(f"{source}: the current context has no valid server URL")
    return server


def fingerprint(text: str | bytes, source: str = "kubeconfig") -> str:
    """A stable sha256 of the repaired, minified config: equal for equivalent kubeconfigs."""
    canonical = json.dumps(_prepared(text, source, None), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def to_kubelogin_msi(text: str | bytes, client_id: str, source: str = "kubeconfig") -> str:
    """Turn an Entra exec (or legacy azure auth-provider) kubeconfig into a managed-identity one.

    Same result as ``kubelogin convert-kubeconfig -l msi --client-id <client_id>`` on the current
    context, minified: ``kubelogin get-token --login msi --server-id <id> --client-id <client_id>``.
    """
    if not _GUID.fullmatch(client_id):
        raise InvalidInput(f"managed identity client id {quoted(client_id)} is not a GUID")
    data = _document(text, source)
    picked = _picked(data, _select(data, None, source))
    if picked is None:
        raise InvalidInput(f"{source}: no usable current context to convert")
    data = picked.minified(data)
    _repair(data)
    server_id = _entra_server_id(picked.user["user"])
    if server_id is None:
        raise InvalidInput(
            f"{source}: user {quoted(picked.user['name'])} does not sign in through Entra ID",
            hint="kubelogin-msi converts the kubelogin exec or azure auth-provider kubeconfigs of Entra AKS",
        )
    picked.user["user"] = {"exec": _msi_exec(server_id, client_id)}
    converted = _dump(data)
    remaining = blocking(check(converted, source))
    if remaining:
        raise InvalidInput(
            f"{source}: the converted kubeconfig is not usable", problems=[f.problem() for f in remaining]
        )
    return converted


# --- reading: bytes -> text -> YAML nodes -> plain values with the line of every field ---------


class _Blocked(Exception):
    """Reading stopped; ``findings`` say why (and what was found before)."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(findings[-1].message if findings else "blocked")
        self.findings = findings


@dataclass
class _Loaded:
    data: Any
    lines: dict[str, int]  # field path -> 1-based line
    findings: list[Finding]
    wrapped: set[int]  # lines whose base64 value continued on the following lines


def _load(raw: str | bytes, source: str) -> _Loaded:
    found: list[Finding] = []
    try:
        text = _newlines(_decoded(raw, source, found), source, found)
        text, wrapped = _unwrapped(text)
        data, lines = _parsed_untabbed(text, source, found)
    except _Blocked as stop:
        raise _Blocked([*(replace(f, fixable=False) for f in found), *stop.findings]) from None
    return _Loaded(data, lines, found, wrapped)


def _decoded(raw: str | bytes, source: str, found: list[Finding]) -> str:
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "replace"))
    if size > MAX_BYTES:
        raise _Blocked([Finding("file.too_large", f"is larger than {MAX_BYTES // 1024} KiB", source)])
    if isinstance(raw, str):
        text = raw
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise _Blocked(
                [Finding("encoding.invalid", "starts like UTF-16 but is not UTF-16 text", source, 1)]
            ) from None
        found.append(
            Finding(
                "encoding.utf16",
                "is UTF-16 text (as PowerShell 5 `>` writes it); kubeconfig readers expect UTF-8",
                source,
                1,
                fixable=True,
            )
        )
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            line = raw.count(b"\n", 0, e.start) + 1
            message = f"is not UTF-8 text (byte {e.start + 1} is invalid)"
            raise _Blocked([Finding("encoding.invalid", message, source, line)]) from None
    if text.startswith("\ufeff"):
        found.append(Finding("bom", "starts with a byte-order mark (BOM)", source, 1, fixable=True))
        text = text[1:]
    return text


def _newlines(text: str, source: str, found: list[Finding]) -> str:
    if "\r" not in text:
        return text
    first = text.count("\n", 0, text.index("\r")) + 1
    crlf = text.count("\r\n")
    message = f"has Windows (CRLF) line endings on {crlf} line(s)" if crlf else "has CR line endings"
    found.append(Finding("crlf", message, source, first, fixable=True))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _unwrapped(text: str) -> tuple[str, set[int]]:
    """Join base64 lines that a copy-paste wrapped below a ``*-data`` key; keep line numbers."""
    lines = text.split("\n")
    wrapped: set[int] = set()
    i = 0
    while i < len(lines):
        head = _WRAP_HEAD.match(lines[i])
        end = i + 1
        while head and end < len(lines) and _WRAP_TAIL.match(lines[end]):
            end += 1
        if head and end > i + 1:
            lines[i] = head.group(1) + head.group(2) + "".join(line.strip() for line in lines[i + 1 : end])
            lines[i + 1 : end] = [""] * (end - i - 1)
            wrapped.add(i + 1)
        i = end
    return "\n".join(lines), wrapped


def _parsed_untabbed(text: str, source: str, found: list[Finding]) -> tuple[Any, dict[str, int]]:
    """Parse; if that fails and tabs indent some lines, accept the tab width only if it cannot matter."""
    try:
        data, lines, more = _parsed(text, source)
    except _Blocked as stop:
        tabbed = [n for n, line in enumerate(text.split("\n"), 1) if "\t" in _indent(line)]
        if not tabbed:
            raise
        readings = []
        for width in (2, 4, 8):
            try:
                readings.append(_parsed(_expand_tabs(text, width), source))
            except _Blocked:
                continue
        same = bool(readings) and all(r[0] == readings[0][0] for r in readings)
        message = f"indents {len(tabbed)} line(s) with tabs, which YAML forbids"
        if not same:
            message += "; the intended indentation is unclear, replace them with spaces by hand"
        found.append(Finding("tabs", message, source, tabbed[0], fixable=same))
        if not same:
            raise stop from None
        data, lines, more = readings[0]
    found.extend(more)
    return data, lines


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _expand_tabs(text: str, width: int) -> str:
    out = []
    for line in text.split("\n"):
        lead = _indent(line)
        out.append(lead.expandtabs(width) + line[len(lead) :])
    return "\n".join(out)


def _parsed(text: str, source: str) -> tuple[Any, dict[str, int], list[Finding]]:
    try:
        node = yamlsrc.compose(text)
        if node is None:
            raise _Blocked([Finding("kubeconfig.empty", "is empty", source)])
        walker = _Walker(source)
        return walker.value(node, "", 0), walker.lines, walker.findings
    except yamlsrc.TooDeep as e:
        raise _Blocked([_limit(source, f"nests deeper than {MAX_DEPTH} levels", e.line)]) from None
    except yaml.reader.ReaderError as e:  # a character YAML forbids
        where = text.count("\n", 0, e.position) + 1
        message = "holds a control character YAML does not allow"
        raise _Blocked([Finding("yaml.syntax", message, source, where)]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise _Blocked([Finding("yaml.syntax", _yaml_problem(e), source, line)]) from None


def _yaml_problem(e: yaml.MarkedYAMLError) -> str:
    text = e.problem or e.context or "is not valid YAML"
    if e.problem and e.context:
        started = e.context_mark and e.problem_mark and e.context_mark.line != e.problem_mark.line
        where = f" (line {e.context_mark.line + 1})" if started and e.context_mark else ""
        text = f"{e.context}{where}, {e.problem}"
    # PyYAML quotes what it found; keep short tokens, never a long (possibly secret) one.
    return re.sub(r"'[^']{9,}'|\"[^\"]{9,}\"", "'…'", text)


def _limit(source: str, message: str, line: int | None) -> Finding:
    return Finding("yaml.limit", message, source, line)


class _Walker:
    """Turns composed nodes into plain values; records lines; bounds alias expansion."""

    def __init__(self, source: str) -> None:
        self.constructor = yaml.SafeLoader("")
        self.source = source
        self.lines: dict[str, int] = {}
        self.findings: list[Finding] = []
        self.visits = 0
        self.open: set[int] = set()

    def value(self, node: yaml.Node, path: str, depth: int) -> Any:
        line = node.start_mark.line + 1
        self.visits += 1
        if self.visits > MAX_NODES:
            raise _Blocked(
                [_limit(self.source, f"expands to more than {MAX_NODES} values (a YAML bomb?)", line)]
            )
        if depth > MAX_DEPTH or id(node) in self.open:
            raise _Blocked([_limit(self.source, "aliases nest too deep or refer to themselves", line)])
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.ScalarNode):
            if node.tag in _TYPED:
                try:
                    return self.constructor.construct_object(node)
                except Exception:  # PyYAML's typed constructors raise all kinds on odd input (!!int '')
                    return node.value
            return node.value
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(node.value)]
            return self.mapping(node, path, depth)
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.Node, path: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _TAG + "merge":
                merge = self.value(value_node, path, depth + 1)
                for part in merge if isinstance(merge, list) else [merge]:
                    if isinstance(part, dict):
                        merged = {**part, **merged}
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.findings.append(
                    Finding("kubeconfig.structure", "a key is not a plain string", self.source, line, path)
                )
                continue
            child = _join(path, key_node.value)
            if key_node.value in out:
                message = "this key appears twice in the same mapping; kubectl rejects the file"
                raise _Blocked([Finding("yaml.duplicate_key", message, self.source, line, child)])
            self.lines[child] = line
            out[key_node.value] = self.value(value_node, child, depth + 1)
        return {**merged, **out}


def _join(path: str, key: str) -> str:
    key = key if len(key) <= 40 else key[:12] + "…"
    return f"{path}.{key}" if path else key


def _document(text: str | bytes, source: str) -> dict[str, Any]:
    try:
        loaded = _load(text, source)
    except _Blocked as stop:
        raise Unreadable(
            f"{source} cannot be read as a kubeconfig", problems=[f.problem() for f in stop.findings]
        ) from None
    if not isinstance(loaded.data, dict):
        raise Unreadable(f"{source} is not a kubeconfig: its top level is not a mapping")
    return loaded.data


# --- the kubeconfig model: named clusters, contexts and users ----------------------------------


@dataclass
class _Entry:
    path: str  # e.g. clusters[0]
    item: dict[str, Any]
    name: str  # "" when missing
    body: dict[str, Any] | None  # item[inner] when it is a mapping


def _entries(data: dict[str, Any], section: str, inner: str) -> tuple[list[_Entry], list[tuple[str, str]]]:
    """The entries of a section, and (path, message) for each malformed one."""
    raw = data.get(section)
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [(section, f"{section} must be a list")]
    entries: list[_Entry] = []
    problems: list[tuple[str, str]] = []
    for i, item in enumerate(raw):
        path = f"{section}[{i}]"
        if not isinstance(item, dict):
            problems.append((path, f"must be a mapping with name and {inner}"))
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name:
            problems.append((f"{path}.name", "has no name"))
            name = ""
        body = item.get(inner)
        if not isinstance(body, dict):
            problems.append((f"{path}.{inner}", f"has no {inner} mapping"))
            body = None
        entries.append(_Entry(path, item, name, body))
    return entries, problems


def _named(data: dict[str, Any], section: str, inner: str, name: Any) -> _Entry | None:
    found = (e for e in _entries(data, section, inner)[0] if e.name and e.name == name and e.body is not None)
    return next(found, None)


def _select(data: dict[str, Any], context: str | None, source: str) -> str | None:
    """The context to keep: the named one, else current-context, else the only one."""
    names = [e.name for e in _entries(data, "contexts", "context")[0] if e.name]
    if context is not None:
        if context not in names:
            raise InvalidInput(
                f"{source} has no context {quoted(context)}",
                hint=f"its contexts: {', '.join(names) or 'none'}",
            )
        return context
    current = data.get("current-context")
    if isinstance(current, str) and current in names:
        return current
    if current in (None, "") and len(names) == 1:
        return names[0]
    return None


@dataclass
class _Picked:
    name: str
    cluster: dict[str, Any]
    context: dict[str, Any]
    user: dict[str, Any]

    def minified(self, data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {k: data[k] for k in ("apiVersion", "kind") if k in data}
        out.update(
            {
                "clusters": [self.cluster],
                "contexts": [self.context],
                "current-context": self.name,
                "users": [self.user],
            }
        )
        return out


def _picked(data: dict[str, Any], name: str | None) -> _Picked | None:
    """The context ``name`` with its cluster and user, if all three exist."""
    context = _named(data, "contexts", "context", name) if name else None
    if name is None or context is None or context.body is None:
        return None
    cluster = _named(data, "clusters", "cluster", context.body.get("cluster"))
    user = _named(data, "users", "user", context.body.get("user"))
    if cluster is None or user is None:
        return None
    return _Picked(name, cluster.item, context.item, user.item)


def _prepared(text: str | bytes, source: str, context: str | None) -> dict[str, Any]:
    """Parsed, minified to the chosen context when it resolves, and repaired."""
    data = _document(text, source)
    name = _select(data, context, source)
    picked = _picked(data, name)
    if picked is not None:
        data = picked.minified(data)
    elif name is not None:
        data["current-context"] = name
    _repair(data)
    return data


def _repair(data: dict[str, Any]) -> None:
    """Strip copy-paste whitespace from base64 fields and tokens; base64-encode raw PEM."""
    for section, inner, keys in (
        ("clusters", "cluster", ("certificate-authority-data",)),
        ("users", "user", ("client-certificate-data", "client-key-data", "token")),
    ):
        for entry in _entries(data, section, inner)[0]:
            body = entry.body or {}
            for key in keys:
                if isinstance(body.get(key), str):
                    body[key] = _clean(body[key], key)


def _clean(value: str, key: str) -> str:
    if key != "token" and value.lstrip().startswith("-----BEGIN"):
        return base64.b64encode(value.strip().encode() + b"\n").decode()
    return "".join(value.split())


class _Dumper(yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: dict[str, Any]) -> str:
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1 << 30)
    return text


# --- checks ------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, loaded: _Loaded, source: str) -> None:
        self.data = loaded.data
        self.lines = loaded.lines
        self.wrapped = loaded.wrapped
        self.source = source
        self.found: list[Finding] = []
        self.now = datetime.now(UTC)

    def add(self, code: str, path: str, message: str, fixable: bool = False, severity: str = "error") -> None:
        self.found.append(Finding(code, message, self.source, self.line(path), path, fixable, severity))

    def line(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest parent below the top (for missing fields)."""
        while path and path not in self.lines:
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get(path) if path else None

    def run(self) -> list[Finding]:
        data = self.data
        if not isinstance(data, dict):
            self.add("kubeconfig.structure", "", "the top level is not a mapping of kubeconfig fields")
            return self.found
        for key, want in (("apiVersion", "v1"), ("kind", "Config")):
            if key in data and data[key] != want:
                self.add("kubeconfig.kind", key, f"{key} must be {want!r}")
        clusters = self.section(data, "clusters", "cluster")
        contexts = self.section(data, "contexts", "context")
        users = self.section(data, "users", "user")
        for entry in clusters:
            self.cluster(entry)
        for entry in users:
            self.user(entry)
        cluster_names = {e.name for e in clusters if e.name}
        user_names = {e.name for e in users if e.name}
        for entry in contexts:
            self.context(entry, cluster_names, user_names)
        self.current(data, contexts)
        if max(len(clusters), len(contexts), len(users)) > 1:
            picked = _picked(data, _select(data, None, self.source))
            message = (
                f"holds {len(contexts)} contexts, {len(clusters)} clusters and {len(users)} users; "
                "a service connection should carry only the context it uses"
            )
            if picked is None:
                message += " (set current-context, or pick one with --context)"
            self.add("kubeconfig.not_minified", "contexts", message, fixable=picked is not None)
        return self.found

    def section(self, data: dict[str, Any], section: str, inner: str) -> list[_Entry]:
        entries, problems = _entries(data, section, inner)
        for path, message in problems:
            self.add("kubeconfig.structure", path, message)
        seen: set[str] = set()
        for entry in entries:
            if entry.name in seen:
                self.add(
                    "name.duplicate", f"{entry.path}.name", f"{inner} name {quoted(entry.name)} is used twice"
                )
            if entry.name:
                seen.add(entry.name)
        return entries

    def context(self, entry: _Entry, clusters: set[str], users: set[str]) -> None:
        if entry.body is None:
            return
        for key, known in (("cluster", clusters), ("user", users)):
            ref = entry.body.get(key)
            path = f"{entry.path}.context.{key}"
            if not isinstance(ref, str) or not ref:
                self.add(f"context.{key}_missing", path, f"context {quoted(entry.name)} names no {key}")
            elif ref not in known:
                message = f"context {quoted(entry.name)} uses {key} {quoted(ref)}, which is not defined"
                self.add(f"context.{key}_missing", path, message)

    def current(self, data: dict[str, Any], contexts: list[_Entry]) -> None:
        names = [e.name for e in contexts if e.name]
        current = data.get("current-context")
        if not names:
            self.add("context.none", "contexts", "defines no context")
        elif current in (None, ""):
            chosen = _select(data, None, self.source)
            how = (
                f"--fix sets it to the only context {quoted(chosen)}" if chosen else "pick one with --context"
            )
            self.add(
                "context.current_missing",
                "current-context",
                f"current-context is not set; {how}",
                chosen is not None,
            )
        elif current not in names:
            self.add(
                "context.current_dangling",
                "current-context",
                f"current-context names {quoted(current)}, which is not defined (contexts: "
                f"{', '.join(quoted(n) for n in names)}); pick one with --fix --context "
                f"{quoted(difflib.get_close_matches(str(current), names, n=1, cutoff=0)[0])}",
            )

    def cluster(self, entry: _Entry) -> None:
        if entry.body is None:
            return
        base = f"{entry.path}.cluster"
        body = entry.body
        server = body.get("server")
        if not isinstance(server, str) or not server.strip():
            self.add("server.missing", f"{base}.server", f"cluster {quoted(entry.name)} has no server URL")
        elif not _is_url(server):
            message = "server is not an http(s) URL with a host (a stray space, quote or missing https://?)"
            self.add("server.invalid", f"{base}.server", message)
        elif urlsplit(server).scheme == "http":
            message = "the server URL is http://: credentials and traffic would cross the network unencrypted"
            self.add("server.http", f"{base}.server", message)
        self.file_references(base, body)
        if "certificate-authority-data" in body:
            path = f"{base}.certificate-authority-data"
            pem = self.pem(path, body["certificate-authority-data"])
            if pem is not None:
                self.certificate(path, pem)
        has_ca = "certificate-authority-data" in body or "certificate-authority" in body
        if body.get("insecure-skip-tls-verify") is True and has_ca:
            message = "insecure-skip-tls-verify together with a CA certificate: kubectl refuses the pair"
            self.add("cluster.insecure_with_ca", f"{base}.insecure-skip-tls-verify", message)
        elif body.get("insecure-skip-tls-verify") is True:
            message = (
                "insecure-skip-tls-verify turns off the check of the server's certificate: anyone on the "
                "path can pose as the cluster and take the credentials; give certificate-authority-data"
            )
            self.add("cluster.insecure_skip_tls_verify", f"{base}.insecure-skip-tls-verify", message)

    def user(self, entry: _Entry) -> None:
        if entry.body is None:
            return
        base = f"{entry.path}.user"
        body = entry.body
        self.file_references(base, body)
        cert: Certificate | None = None
        key: PrivateKeyTypes | None = None
        if "client-certificate-data" in body:
            path = f"{base}.client-certificate-data"
            pem = self.pem(path, body["client-certificate-data"])
            cert = self.certificate(path, pem) if pem is not None else None
        if "client-key-data" in body:
            path = f"{base}.client-key-data"
            pem = self.pem(path, body["client-key-data"])
            key = self.private_key(path, pem) if pem is not None else None
        if cert is not None and key is not None and not _same_public_key(cert, key):
            self.add(
                "key.mismatch",
                f"{base}.client-key-data",
                "the client key does not belong to the client certificate",
            )
        has_cert = "client-certificate-data" in body or "client-certificate" in body
        has_key = "client-key-data" in body or "client-key" in body
        if has_cert != has_key:
            which = (
                "a client certificate but no client key"
                if has_cert
                else "a client key but no client certificate"
            )
            self.add("user.incomplete", base, f"user {quoted(entry.name)} has {which}")
        token = body.get("token")
        if isinstance(token, str) and token.strip() and "".join(token.split()) != token:
            self.add("token.wrapped", f"{base}.token", "the token holds line breaks or spaces", fixable=True)
        self.exec_plugin(f"{base}.exec", body.get("exec"))
        provider = body.get("auth-provider")
        self.auth_provider(f"{base}.auth-provider", provider)
        if isinstance(provider, dict) and provider.get("name") == "azure":
            message = (
                "the azure auth-provider (removed in kubectl 1.26) signs in with a device code, "
                "which a pipeline cannot do; use credentials: kubelogin-msi"
            )
            self.add("exec.interactive", f"{base}.auth-provider", message)
        if not any(body.get(k) for k in _CREDENTIAL_KEYS):
            message = (
                f"user {quoted(entry.name)} has no credentials (token, certificate, exec, auth-provider)"
            )
            self.add("user.no_credentials", base, message)

    def exec_plugin(self, path: str, plugin: Any) -> None:
        if plugin is None:
            return
        command = plugin.get("command") if isinstance(plugin, dict) else None
        args = plugin.get("args") if isinstance(plugin, dict) else None
        if not isinstance(plugin, dict) or not isinstance(command, str) or not command.strip():
            self.add("kubeconfig.structure", path, "exec needs a command")
            return
        if args is not None and not isinstance(args, list):
            self.add("kubeconfig.structure", f"{path}.args", "exec args must be a list")
            return
        message = (
            f"exec plugin {quoted(command)}: kubectl runs this program on the agent whenever the "
            "connection is used (agentctl never runs it); make sure it is the one you expect"
        )
        self.add("user.exec", f"{path}.command", message, severity="warning")
        if plugin.get("interactiveMode") == "Always":
            message = "interactiveMode Always needs a terminal, which a pipeline does not have"
            self.add("exec.interactive", f"{path}.interactiveMode", message)
        login = _kubelogin_login(plugin)
        if login in _INTERACTIVE_LOGINS:
            message = (
                f"kubelogin --login {login} waits for a person to sign in, which a pipeline cannot do; "
                "use credentials: kubelogin-msi"
            )
            self.add("exec.interactive", f"{path}.args", message)

    def auth_provider(self, path: str, provider: Any) -> None:
        """Name the auth-provider plugin (agentctl never runs it) and any command it would run."""
        if provider is None:
            return
        name = provider.get("name") if isinstance(provider, dict) else None
        if not isinstance(name, str) or not name.strip():
            self.add("kubeconfig.structure", path, "auth-provider needs a name")
            return
        message = f"auth-provider plugin {quoted(name)} signs in for kubectl (agentctl never runs it)"
        self.add("user.auth_provider", f"{path}.name", message, severity="warning")
        config = provider.get("config")
        command = config.get("cmd-path") if isinstance(config, dict) else None
        if command is not None:
            message = (
                f"cmd-path {quoted(command)} makes kubectl run a program on the agent to get a token "
                "(agentctl never runs it); the gcp provider that reads it left kubectl in 1.26"
            )
            self.add("user.cmd_path", f"{path}.config.cmd-path", message)

    def file_references(self, base: str, body: dict[str, Any]) -> None:
        for key, embedded in _FILE_KEYS.items():
            if body.get(key):
                message = f"{key} points to a file on this machine; a service connection needs {embedded}"
                self.add("file.reference", f"{base}.{key}", message)

    def pem(self, path: str, value: Any) -> bytes | None:
        """The PEM bytes a ``*-data`` field holds, reporting how it is broken."""
        if not isinstance(value, str) or not value.strip():
            self.add("base64.invalid", path, "is empty" if value in (None, "") else "is not base64 text")
            return None
        if value.lstrip().startswith("-----BEGIN"):
            self.add(
                "base64.raw_pem", path, "holds PEM text where the base64 of the PEM belongs", fixable=True
            )
            return value.strip().encode() + b"\n"
        compact = "".join(value.split())
        if compact != value or self.lines.get(path) in self.wrapped:
            message = "the base64 is broken by line breaks or spaces (wrapped by a copy-paste)"
            self.add("base64.wrapped", path, message, fixable=True)
        try:
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            self.add("base64.invalid", path, _not_base64(compact))
            return None

    def certificate(self, path: str, pem: bytes) -> Certificate | None:
        from cryptography import x509

        if b"-----BEGIN CERTIFICATE-----" not in pem:
            self.add("cert.not_pem", path, _not_pem(pem, "a PEM certificate"))
            return None
        try:
            cert = x509.load_pem_x509_certificates(pem)[0]
        except ValueError:
            self.add("cert.not_pem", path, "holds a PEM block that is not a valid X.509 certificate")
            return None
        expiry = cert.not_valid_after_utc
        if expiry < self.now:
            self.add("cert.expired", path, f"the certificate expired on {expiry:%Y-%m-%d %H:%M} UTC")
        return cert

    def private_key(self, path: str, pem: bytes) -> PrivateKeyTypes | None:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        if not _PEM_KEY.search(pem):
            self.add("key.not_pem", path, _not_pem(pem, "a PEM private key"))
            return None
        try:
            return load_pem_private_key(pem, password=None)
        except TypeError:
            self.add(
                "key.encrypted",
                path,
                "the private key is encrypted with a passphrase, which kubectl cannot use",
            )
        except (ValueError, UnsupportedAlgorithm):
            self.add("key.not_pem", path, "holds a PEM block that is not a valid private key")
        return None


def _is_url(server: str) -> bool:
    if any(ch.isspace() for ch in server):
        return False
    try:
        parts = urlsplit(server)
        return parts.scheme in ("https", "http") and bool(parts.hostname)
    except ValueError:
        return False


def _not_base64(compact: str) -> str:
    bad = next((i for i, ch in enumerate(compact) if ch not in _B64_ALPHABET), None)
    if bad is not None:
        urlsafe = " (URL-safe base64?)" if compact[bad] in "-_" else ""
        return f"is not base64: character {bad + 1} is outside the base64 alphabet{urlsafe}"
    if len(compact) % 4:
        return f"is not base64: {len(compact)} characters is not a multiple of 4 (cut short, or padding lost)"
    return "is not valid base64 (padding in the middle?)"


def _not_pem(decoded: bytes, what: str) -> str:
    head = decoded.lstrip()
    label = _PEM_LABEL.match(head)
    if label:
        return f"holds a PEM {label.group(1).decode()} where {what} belongs (fields swapped?)"
    if head.startswith(b"LS0tLS1"):
        return f"decodes to base64 text again, not {what} (encoded twice?)"
    if head[:1] == b"\x30":
        return f"decodes to binary DER, not {what}"
    return f"does not decode to {what}"


def _same_public_key(cert: Certificate, key: PrivateKeyTypes) -> bool:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return bool(cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki))


# --- Entra (kubelogin) ---------------------------------------------------------------------------


def _flag(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg[len(name) + 1 :]
    return None


def _kubelogin_args(plugin: Any) -> list[str] | None:
    """The args of a kubelogin exec plugin, or None when the plugin is something else."""
    if not isinstance(plugin, dict):
        return None
    command = posixpath.basename(str(plugin.get("command", "")).replace("\\", "/"))
    if "kubelogin" not in command.lower():
        return None
    args = plugin.get("args")
    return [str(a) for a in args] if isinstance(args, list) else []


def _kubelogin_login(plugin: Any) -> str | None:
    """The login mode of a kubelogin plugin (its default is devicecode), or None for other plugins."""
    args = _kubelogin_args(plugin)
    if args is None:
        return None
    login = _flag(args, "--login", "-l")
    env = plugin.get("env")
    for item in env if isinstance(env, list) and login is None else []:
        if isinstance(item, dict) and item.get("name") == "AAD_LOGIN_METHOD":
            login = str(item.get("value"))
    return login or "devicecode"


def _entra_server_id(user: dict[str, Any]) -> str | None:
    args = _kubelogin_args(user.get("exec"))
    if args is not None:
        return _flag(args, "--server-id") or AKS_SERVER_ID
    provider = user.get("auth-provider")
    if isinstance(provider, dict) and provider.get("name") == "azure":
        config = provider.get("config")
        server_id = config.get("apiserver-id") if isinstance(config, dict) else None
        return str(server_id) if server_id else AKS_SERVER_ID
    return None


def _msi_exec(server_id: str, client_id: str) -> dict[str, Any]:
    return {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "kubelogin",
        "args": ["get-token", "--login", "msi", "--server-id", server_id, "--client-id", client_id],
        "env": None,
        "installHint": "kubelogin is required: https://azure.github.io/kubelogin/install.html",
        "interactiveMode": "Never",
        "provideClusterInfo": False,
    }
