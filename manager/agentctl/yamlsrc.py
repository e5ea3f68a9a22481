"""Load YAML into plain Python values while remembering where every value came from.

``load(text, source)`` returns ``(value, lines)`` where ``lines`` maps a field path such as
``devops.pool.desiredIdle`` or ``devops.environments[0].name`` to its 1-based line. It refuses
what a careless or hostile file could do to us: oversize input, alias bombs, duplicate keys.
"""

from __future__ import annotations

from typing import Any

from agentctl.errors import InvalidInput, Problem, quoted

MAX_BYTES = 1024 * 1024
MAX_NODES = 50_000
MAX_DEPTH = 64


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
    lines: dict[str, int] = {}
    if node is None:
        return None, lines
    walker = _Walker(source, lines, yaml)
    return walker.walk(node, "", ()), lines


class TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def compose(text: str) -> Any:
    """The node tree of a one-document YAML text (None when empty).

    Nesting deeper than MAX_DEPTH is refused first, from the token stream (``TooDeep``): both
    composers recurse once per level. libyaml reads it when PyYAML has it; text it rejects is
    read again by PyYAML's own parser, whose errors say more (``yaml.YAMLError``).
    """
    import yaml

    if yaml.__with_libyaml__:
        try:
            return _compose(text, yaml.CSafeLoader)
        except TooDeep:
            raise
        except yaml.YAMLError:
            pass
    return _compose(text, yaml.SafeLoader)


def _compose(text: str, loader: Any) -> Any:
    import yaml

    opens = (
        yaml.BlockMappingStartToken,
        yaml.BlockSequenceStartToken,
        yaml.FlowMappingStartToken,
        yaml.FlowSequenceStartToken,
    )
    closes = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
    depth = 0
    for token in yaml.scan(text, Loader=loader):
        if isinstance(token, opens):
            depth += 1
            if depth > MAX_DEPTH:
                raise TooDeep(token.start_mark.line + 1)
        elif isinstance(token, closes):
            depth -= 1
    return yaml.compose(text, Loader=loader)


class _Walker:
    """Turns composed nodes into values, bounded in size, depth and alias cycles."""

    def __init__(self, source: str, lines: dict[str, int], yaml: Any) -> None:
        self.source = source
        self.lines = lines
        self.yaml = yaml
        self.budget = MAX_NODES
        self.constructor = yaml.SafeLoader("")

    def walk(self, node: Any, path: str, stack: tuple[int, ...]) -> Any:
        line = node.start_mark.line + 1
        self.budget -= 1
        if self.budget < 0:
            raise _invalid(self.source, f"document expands to more than {MAX_NODES} values (alias bomb?)")
        if id(node) in stack:
            raise _invalid(self.source, "an alias refers to the value that contains it", line)
        if len(stack) >= MAX_DEPTH:
            raise _invalid(self.source, f"nested deeper than {MAX_DEPTH} levels", line)
        self.lines.setdefault(path, line)
        return _walk(self, node, path, (*stack, id(node)))


def _walk(w: _Walker, node: Any, path: str, stack: tuple[int, ...]) -> Any:
    yaml, source, lines = w.yaml, w.source, w.lines
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
                raise _invalid(source, f"duplicate key {quoted(child)}", key_node.start_mark.line + 1)
            lines[child] = key_node.start_mark.line + 1
            out[key] = w.walk(value_node, child, stack)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [w.walk(item, join(path, i), stack) for i, item in enumerate(node.value)]
    try:
        return w.constructor.construct_object(node, deep=True)
    except Exception:  # PyYAML's typed constructors raise all kinds on odd input (!!int '')
        kind = str(node.tag).rsplit(":", 1)[-1]  # the exception may hold the whole value: not shown
        raise _invalid(
            source, f"bad value {quoted(node.value)} for {kind}", node.start_mark.line + 1
        ) from None


def _invalid(source: str, message: str, line: int | None = None) -> InvalidInput:
    return InvalidInput(f"{source} is not valid", problems=[Problem(message, "", line, source)])
