"""Reading PyYAML's node tree with the guards every reader of an untrusted YAML file needs.

``compose(text)`` parses one document into nodes, refusing nesting deeper than ``MAX_DEPTH``
(``TooDeep``) before either composer recurses. ``Walker`` visits the nodes in document order,
remembers the line of every field path, and stops (``NodeLimit``) when aliases expand to more
than ``MAX_NODES`` values, when an alias refers to the value that contains it, or when aliases
nest deeper than ``MAX_DEPTH``. Each reader subclasses it for what it builds from a scalar and
from a mapping, and words the limits its own way; ``MAX_BYTES`` bounds the text it accepts.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_BYTES = 1024 * 1024
MAX_NODES = 50_000
MAX_DEPTH = 64
MERGE_TAG = "tag:yaml.org,2002:merge"


class TooDeep(Exception):
    """The text nests collections deeper than ``MAX_DEPTH`` (found at ``line``)."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class NodeLimit(Exception):
    """A walk stopped by a guard: ``kind`` is ``size``, ``cycle`` or ``depth``; ``line`` where."""

    MESSAGES = {
        "size": f"expands to more than {MAX_NODES} values (an alias bomb?)",
        "cycle": "an alias refers to the value that contains it",
        "depth": f"nested deeper than {MAX_DEPTH} levels",
    }

    def __init__(self, kind: str, line: int) -> None:
        super().__init__(self.MESSAGES[kind])
        self.kind = kind
        self.line = line
        self.message = self.MESSAGES[kind]


def compose(text: str) -> yaml.Node | None:
    """The node tree of a one-document YAML text (None when empty).

    Nesting deeper than MAX_DEPTH is refused first, from the token stream (``TooDeep``): both
    composers recurse once per level. libyaml reads it when PyYAML has it; text it rejects is
    read again by PyYAML's own parser, whose errors say more (``yaml.YAMLError``).
    """
    if yaml.__with_libyaml__:
        try:
            return _compose(text, yaml.CSafeLoader)
        except TooDeep:
            raise
        except yaml.YAMLError:
            pass
    return _compose(text, yaml.SafeLoader)


def _compose(text: str, loader: Any) -> yaml.Node | None:
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
    node: yaml.Node | None = yaml.compose(text, Loader=loader)
    return node


def line_of(node: yaml.Node) -> int:
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


class Walker:
    """Visits a node tree within the guards; ``lines`` maps each field path to its first line.

    Subclasses build the values: ``scalar`` and ``mapping`` (which walks each value with
    ``walk(value_node, child_path, depth + 1)``); ``sequence`` builds a list unless overridden.
    """

    def __init__(self) -> None:
        self.lines: dict[str, int] = {}
        self._budget = MAX_NODES
        self._open: set[int] = set()  # the collections being walked: an alias back to one is a cycle

    def walk(self, node: yaml.Node, path: str = "", depth: int = 0) -> Any:
        line = line_of(node)
        self._budget -= 1
        if self._budget < 0:
            raise NodeLimit("size", line)
        if id(node) in self._open:
            raise NodeLimit("cycle", line)
        if depth > MAX_DEPTH:
            raise NodeLimit("depth", line)
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return self.sequence(node, path, depth)
            return self.mapping(node, path, depth)
        finally:
            self._open.discard(id(node))

    def sequence(self, node: yaml.Node, path: str, depth: int) -> Any:
        return [self.walk(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(node.value)]

    def mapping(self, node: yaml.Node, path: str, depth: int) -> Any:
        raise NotImplementedError

    def scalar(self, node: yaml.Node, path: str) -> Any:
        raise NotImplementedError
