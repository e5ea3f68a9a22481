"""Load YAML into plain Python values while remembering where every value came from.

``load(text, source)`` returns ``(value, lines)`` where ``lines`` maps a field path such as
``devops.pool.desiredIdle`` or ``devops.environments[0].name`` to its 1-based line. It refuses
what a careless or hostile file could do to us: oversize input, alias bombs, duplicate keys.
"""

from __future__ import annotations

from typing import Any

import yaml

from agentctl.errors import InvalidInput, Problem, quoted
from agentctl.yamlnodes import MAX_BYTES, MAX_DEPTH, MERGE_TAG, NodeLimit, TooDeep, Walker, compose, line_of


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def load(text: str | bytes, source: str) -> tuple[Any, dict[str, int]]:
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise _invalid(source, f"file is larger than {MAX_BYTES // 1024} KiB")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise _invalid(source, f"not UTF-8 text (byte {e.start})") from None
    if len(text) > MAX_BYTES:
        raise _invalid(source, f"file is larger than {MAX_BYTES // 1024} KiB")
    try:
        node = compose(text)
    except TooDeep as e:
        raise _invalid(source, f"nested deeper than {MAX_DEPTH} levels", e.line) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise InvalidInput(
            f"{source} is not valid YAML",
            problems=[Problem(f"YAML syntax: {e.problem or e.context}", "", line, source)],
        ) from None
    except yaml.YAMLError as e:
        raise _invalid(source, f"YAML syntax: {e}") from None
    if node is None:
        return None, {}
    walker = _Values(source)
    try:
        return walker.walk(node), walker.lines
    except NodeLimit as e:
        raise _invalid(source, e.message, e.line) from None


class _Values(Walker):
    """Plain values: typed scalars, mappings of string keys (no merge keys, no duplicates)."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self.constructor = yaml.SafeLoader("")

    def mapping(self, node: yaml.Node, path: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = line_of(key_node)
            if key_node.tag == MERGE_TAG:
                raise _invalid(self.source, "YAML merge keys (<<) are not supported", line)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _invalid(self.source, "mapping keys must be plain strings", line)
            key = str(key_node.value)
            child = join(path, key)
            if key in out:
                raise _invalid(self.source, f"duplicate key {quoted(child)}", line)
            self.lines[child] = line
            out[key] = self.walk(value_node, child, depth + 1)
        return out

    def scalar(self, node: yaml.Node, path: str) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception:  # PyYAML's typed constructors raise all kinds on odd input (!!int '')
            kind = str(node.tag).rsplit(":", 1)[-1]  # the exception may hold the whole value: not shown
            raise _invalid(self.source, f"bad value {quoted(node.value)} for {kind}", line_of(node)) from None


def _invalid(source: str, message: str, line: int | None = None) -> InvalidInput:
    return InvalidInput(f"{source} is not valid", problems=[Problem(message, "", line, source)])
