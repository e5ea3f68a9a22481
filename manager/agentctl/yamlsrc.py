"""Load YAML into plain Python values while remembering where every value came from.

``load(text, source)`` returns ``(value, lines)`` where ``lines`` maps a field path such as
``devops.pool.desiredIdle`` or ``devops.environments[0].name`` to its 1-based line. It refuses
what a careless or hostile file could do to us: oversize input, alias bombs, duplicate keys.
"""

from __future__ import annotations

from typing import Any

from agentctl.errors import InvalidInput, Problem

MAX_BYTES = 1024 * 1024
MAX_NODES = 50_000


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def load(text: str | bytes, source: str) -> tuple[Any, dict[str, int]]:
    import yaml

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
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise InvalidInput(
            f"{source} is not valid YAML",
            problems=[Problem(f"YAML syntax: {e.problem or e.context}", "", line, source)],
        ) from None
    except yaml.YAMLError as e:
        raise _invalid(source, f"YAML syntax: {e}") from None
    lines: dict[str, int] = {}
    if node is None:
        return None, lines
    budget = [MAX_NODES]
    value = _walk(node, "", lines, budget, source, yaml)
    return value, lines


def _walk(node: Any, path: str, lines: dict[str, int], budget: list[int], source: str, yaml: Any) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise _invalid(source, f"document expands to more than {MAX_NODES} values (alias bomb?)")
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _invalid(source, "YAML merge keys (<<) are not supported", key_node.start_mark.line + 1)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _invalid(source, "mapping keys must be plain strings", key_node.start_mark.line + 1)
            key = str(key_node.value)
            child = join(path, key)
            if key in out:
                raise _invalid(source, f"duplicate key '{child}'", key_node.start_mark.line + 1)
            lines[child] = key_node.start_mark.line + 1
            out[key] = _walk(value_node, child, lines, budget, source, yaml)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, join(path, i), lines, budget, source, yaml) for i, item in enumerate(node.value)]
    constructor = yaml.SafeLoader("")
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.YAMLError as e:
        raise _invalid(source, f"bad value: {e}", node.start_mark.line + 1) from None


def _invalid(source: str, message: str, line: int | None = None) -> InvalidInput:
    return InvalidInput(f"{source} is not valid", problems=[Problem(message, "", line, source)])
