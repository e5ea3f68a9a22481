"""The rules that keep the engine and the resource kinds apart (docs/architecture.md): kinds never
import the engine, the engine names no resource type, files and functions stay readable."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from agentctl import kinds
from agentctl.kinds.base import Action, Context

PACKAGE = Path(kinds.__file__).resolve().parent.parent
ENGINE = [PACKAGE / f"{m}.py" for m in ("observe", "plan", "apply")]
KIND_FILES = sorted((PACKAGE / "kinds").rglob("*.py"))
# Words of Azure and Azure DevOps resources; the engine's identifiers and strings hold none of them.
RESOURCE_WORDS = re.compile(
    r"scale|elastic|pool|queue|connection|endpoint|identity|role|registr|environment|kube|"
    r"cluster|gallery|image|subnet|network|credential|resource_?group|microsoft\.|arm\b|devops",
    re.IGNORECASE,
)
ALLOWED = {"PoolSpec", "ThreadPoolExecutor"}  # the spec's type; the standard library's


def _imports(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


@pytest.mark.parametrize("path", KIND_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_kind_never_imports_the_engine(path: Path) -> None:
    engine = {"agentctl.plan", "agentctl.apply", "agentctl.observe"}
    found = {i for i in _imports(ast.parse(path.read_text())) if i in engine}
    assert not found, f"{path.name} imports {sorted(found)}"


def _words(tree: ast.AST) -> set[str]:
    """Identifiers, attribute names and string constants (docstrings included)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out |= set(re.findall(r"[\w.]+", node.value))
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            out.add(node.name)
    return out - ALLOWED


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: p.name)
def test_the_engine_names_no_resource_type(path: Path) -> None:
    named = sorted(w for w in _words(ast.parse(path.read_text())) if RESOURCE_WORDS.search(w))
    assert not named, f"{path.name} mentions {named}"


def test_the_rule_sees_a_resource_type() -> None:
    """The check above would fail an engine that called a pool's API (guards the guard)."""
    code = 'def observe(spec, clients):\n    return clients.arm.get_scale_set("rg", "vmss")\n'
    assert {"get_scale_set"} <= {w for w in _words(ast.parse(code)) if RESOURCE_WORDS.search(w)}


def test_no_file_outside_the_sandbox_is_over_500_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if "sandbox" not in p.relative_to(PACKAGE).parts and (n := len(p.read_text().splitlines())) > 500
    }
    assert not long


@pytest.mark.parametrize("path", [*ENGINE, *KIND_FILES], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_functions_of_the_engine_and_kinds_are_short_or_say_why(path: Path) -> None:
    long = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and node.end_lineno and node.end_lineno - node.lineno >= 60:
            reason = ast.get_docstring(node) or ""
            if "on purpose" not in reason:
                long.append(f"{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long


def test_every_kind_is_ordered_after_what_it_needs() -> None:
    order = [k.NAME for k in kinds.ordered()]
    assert sorted(order) == sorted(k.NAME for k in kinds.ALL)
    for kind in kinds.ALL:
        assert all(order.index(need) < order.index(kind.NAME) for need in kind.NEEDS)


class _Kind:
    def __init__(self, name: str, needs: tuple[str, ...], handlers: tuple[str, ...] = ()) -> None:
        self.NAME, self.NEEDS = name, needs
        self.HANDLERS = {(h, "create"): _noop for h in handlers}


def _noop(ctx: Context, a: Action) -> None:
    return None


def test_ordering_follows_needs_not_the_listed_order() -> None:
    a, b, c = _Kind("a", ("c",)), _Kind("b", ()), _Kind("c", ("b",))
    assert [k.NAME for k in kinds.ordered((a, b, c))] == ["b", "c", "a"]  # type: ignore[arg-type]


def test_waves_group_kinds_whose_needs_are_met() -> None:
    root, a, b, c = _Kind("root", ()), _Kind("a", ("root",)), _Kind("b", ("root",)), _Kind("c", ("a", "b"))
    got = kinds.waves((c, b, a, root))  # type: ignore[arg-type]
    assert [[k.NAME for k in wave] for wave in got] == [["root"], ["a", "b"], ["c"]]


@pytest.mark.parametrize(
    "given, message",
    [
        ((_Kind("a", ("b",)), _Kind("b", ("a",))), "need each other"),
        ((_Kind("a", ("missing",)),), "needs missing"),
    ],
)
def test_a_cycle_or_an_unknown_need_is_refused(given: tuple[_Kind, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kinds.ordered(given)  # type: ignore[arg-type]


def test_two_kinds_never_handle_the_same_action_type() -> None:
    assert len(kinds.handlers()) == sum(len(k.HANDLERS) for k in kinds.ALL)
    twice = (_Kind("a", (), ("thing",)), _Kind("b", (), ("thing",)))
    with pytest.raises(ValueError, match="handles what another does"):
        kinds.handlers(twice)  # type: ignore[arg-type]
