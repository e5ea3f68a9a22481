"""Reading a kubeconfig: bytes -> text -> YAML nodes -> plain values with the line of every field.

What is wrong with the bytes themselves (encoding, BOM, CRLF, wrapped base64, tabs) becomes a
``Finding`` (most of them fixable); what stops reading raises ``Blocked`` with the findings so far.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace
from typing import Any

import yaml

from agentctl.kubeconfig.findings import Finding, Unreadable
from agentctl.yamlnodes import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    MERGE_TAG,
    NodeLimit,
    TooDeep,
    Walker,
    compose,
    line_of,
)

_TYPED = {"tag:yaml.org,2002:" + t for t in ("null", "bool", "int", "float")}
_DATA_KEY = r"(?:certificate-authority|client-certificate|client-key)-data"
_WRAP_HEAD = re.compile(rf"^(\s*(?:-\s+)?{_DATA_KEY}\s*:\s+)([A-Za-z0-9+/=]+)\s*$")
_WRAP_TAIL = re.compile(r"^\s*[A-Za-z0-9+/=]+\s*$")


class Blocked(Exception):
    """Reading stopped; ``findings`` say why (and what was found before)."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(findings[-1].message if findings else "blocked")
        self.findings = findings


@dataclass
class Loaded:
    data: Any
    lines: dict[str, int]  # field path -> 1-based line
    findings: list[Finding]
    wrapped: set[int]  # lines whose base64 value continued on the following lines


def load(raw: str | bytes, source: str) -> Loaded:
    found: list[Finding] = []
    try:
        text = _newlines(_decoded(raw, source, found), source, found)
        text, wrapped = _unwrapped(text)
        data, lines = _parsed_untabbed(text, source, found)
    except Blocked as stop:
        raise Blocked([*(replace(f, fixable=False) for f in found), *stop.findings]) from None
    return Loaded(data, lines, found, wrapped)


def _decoded(raw: str | bytes, source: str, found: list[Finding]) -> str:
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "replace"))
    if size > MAX_BYTES:
        raise Blocked([Finding("file.too_large", f"is larger than {MAX_BYTES // 1024} KiB", source)])
    if isinstance(raw, str):
        text = raw
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise Blocked(
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
            raise Blocked([Finding("encoding.invalid", message, source, line)]) from None
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
    except Blocked as stop:
        tabbed = [n for n, line in enumerate(text.split("\n"), 1) if "\t" in _indent(line)]
        if not tabbed:
            raise
        readings = []
        for width in (2, 4, 8):
            try:
                readings.append(_parsed(_expand_tabs(text, width), source))
            except Blocked:
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
        node = compose(text)
        if node is None:
            raise Blocked([Finding("kubeconfig.empty", "is empty", source)])
        walker = _Values(source)
        return walker.walk(node), walker.lines, walker.findings
    except NodeLimit as e:
        raise Blocked([_limit(source, _LIMITS[e.kind], e.line)]) from None
    except TooDeep as e:
        raise Blocked([_limit(source, f"nests deeper than {MAX_DEPTH} levels", e.line)]) from None
    except yaml.reader.ReaderError as e:  # a character YAML forbids
        where = text.count("\n", 0, e.position) + 1
        message = "holds a control character YAML does not allow"
        raise Blocked([Finding("yaml.syntax", message, source, where)]) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise Blocked([Finding("yaml.syntax", _yaml_problem(e), source, line)]) from None


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


# The limits in a kubeconfig finding's words.
_LIMITS = {
    "size": f"expands to more than {MAX_NODES} values (a YAML bomb?)",
    "cycle": "aliases nest too deep or refer to themselves",
    "depth": "aliases nest too deep or refer to themselves",
}


class _Values(Walker):
    """Plain values: scalars as text unless typed (null, bool, int, float); merge keys applied."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.constructor = yaml.SafeLoader("")
        self.source = source
        self.findings: list[Finding] = []

    def scalar(self, node: yaml.Node, path: str) -> Any:
        if node.tag in _TYPED:
            try:
                return self.constructor.construct_object(node)
            except Exception:  # PyYAML's typed constructors raise all kinds on odd input (!!int '')
                return node.value
        return node.value

    def mapping(self, node: yaml.Node, path: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = line_of(key_node)
            if key_node.tag == MERGE_TAG:
                merge = self.walk(value_node, path, depth + 1)
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
                raise Blocked([Finding("yaml.duplicate_key", message, self.source, line, child)])
            self.lines[child] = line
            out[key_node.value] = self.walk(value_node, child, depth + 1)
        return {**merged, **out}


def _join(path: str, key: str) -> str:
    key = key if len(key) <= 40 else key[:12] + "…"
    return f"{path}.{key}" if path else key


def document(text: str | bytes, source: str) -> dict[str, Any]:
    try:
        loaded = load(text, source)
    except Blocked as stop:
        raise Unreadable(
            f"{source} cannot be read as a kubeconfig", problems=[f.problem() for f in stop.findings]
        ) from None
    if not isinstance(loaded.data, dict):
        raise Unreadable(f"{source} is not a kubeconfig: its top level is not a mapping")
    return loaded.data
