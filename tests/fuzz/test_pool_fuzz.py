"""Hostile pool.yaml: mutated valid files, random YAML and random bytes never make agentctl
crash, and never let it write.

Offline (the bulk): `agentctl validate` answers exit 0 (valid) or exit 3 with every problem
located (file, and line or field). On the sandbox (a bounded subset): a file that does not
validate makes `deploy-pool --yes` stop with exit 3 before any request is sent; one that does
validate is only planned, and `plan` writes nothing whatever the answers. YAML bombs, deep
nesting and oversize files are refused by the loader's budgets, before any work grows with them.

POOL_FUZZ_EXAMPLES raises the number of examples for a long run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agentctl.cli import run
from agentctl.yamlnodes import MAX_BYTES, MAX_DEPTH, MAX_NODES
from testlib import EXAMPLE_POOL, is_write

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
from faultrig import Rig

EXAMPLE = yaml.safe_load(EXAMPLE_POOL.read_text())
EXAMPLES = int(os.environ.get("POOL_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
ON_SANDBOX = settings(FUZZ, max_examples=max(12, EXAMPLES // 10))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "0", "yes", "~", "1e9", "-1", "2026-13-45", "/subscriptions/x", "a" * 300]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from paths(v, (*prefix, i))


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The example pool with a few values replaced, removed or added."""
    doc = json.loads(json.dumps(EXAMPLE))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from([p for p in paths(doc) if p]))
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[where[-1]] = draw(values)
        elif action == "delete":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        if not isinstance(doc, dict) or not doc:
            break
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=draw(st.booleans()))


@st.composite
def mild(draw: st.DrawFn) -> str:
    """The example pool with one or two leaf values changed to others of the same type: mostly
    valid files, some naming what does not exist."""
    doc = json.loads(json.dumps(EXAMPLE))
    leaves = [p for p in paths(doc) if p and not isinstance(_at(doc, p), dict | list)]
    for where in draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=2, unique=True)):
        old = _at(doc, where)
        new: Any = draw(
            st.booleans()
            if isinstance(old, bool)
            else st.integers(0, 20)
            if isinstance(old, int)
            else st.sampled_from(["agents-b", "vmss-b", "westeurope", str(old).upper(), str(old) + "x"])
        )
        _at(doc, where[:-1])[where[-1]] = new
    return yaml.safe_dump(doc, sort_keys=False)


def _at(doc: Any, where: tuple[Any, ...]) -> Any:
    for key in where:
        doc = doc[key]
    return doc


SNIPPETS = [
    b"\t",
    b"\r\n",
    b": ",
    b"- ",
    b"&a ",
    b"*a",
    b"<<: *a",
    b"'",
    b'"',
    b"{",
    b"[",
    b"!!int ",
    b"\x00",
    b"\xff",
]


@st.composite
def spliced(draw: st.DrawFn) -> bytes:
    """The example's bytes with snippets of YAML syntax (and junk) inserted or bytes cut out."""
    data = bytearray(EXAMPLE_POOL.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        if draw(st.booleans()):
            data[at:at] = draw(st.sampled_from(SNIPPETS) | st.binary(min_size=1, max_size=8))
        else:
            del data[at : at + draw(st.integers(1, 20))]
    return bytes(data)


def validate(tmp: Path, content: bytes) -> tuple[int, dict[str, Any]]:
    path = tmp / "pool.yaml"
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["-o", "json", "validate", "-f", str(path)])
    assert "Traceback" not in out.getvalue() + err.getvalue()
    doc = json.loads(out.getvalue())
    check(code, doc, path)
    return code, doc


def check(code: int, doc: dict[str, Any], path: Path) -> None:
    """Exit 0, or exit 3 with every problem naming the file and, where there is one, the place."""
    assert code in (0, 3), doc
    if code == 3:
        assert doc["errors"], doc
        for e in doc["errors"]:
            assert e["code"] != "internal", e
            assert e.get("file") == str(path), e
            assert e["message"], e


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(text=mutated())
def test_mutated_pool_files(tmp: Path, text: str) -> None:
    code, doc = validate(tmp, text.encode())
    if code == 3:  # a value a field cannot take is reported at the field
        assert any("field" in e or "line" in e for e in doc["errors"]), doc


@FUZZ
@given(doc=values)
def test_random_yaml_documents(tmp: Path, doc: Any) -> None:
    code, out = validate(tmp, yaml.safe_dump(doc).encode())
    assert code == 3, out  # nothing random is a pool


@FUZZ
@given(data=st.binary(max_size=3000) | spliced())
def test_random_bytes(tmp: Path, data: bytes) -> None:
    validate(tmp, data)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("sandbox"))
    yield r
    r.stop()


@ON_SANDBOX
@given(text=st.one_of(mild(), mild(), mutated(), spliced().map(lambda b: b.decode("utf-8", "replace"))))
def test_hostile_files_on_the_sandbox_never_write(rig: Rig, text: str) -> None:
    rig.pool.write_text(text)
    code, _ = validate(rig.root, text.encode())
    event(f"validate: exit {code}")
    command = ("plan",) if code == 0 else ("deploy-pool", "--yes")
    mark = rig.mark()
    answer, doc = rig.cli(*command)  # fails on a traceback
    assert [e["path"] for e in rig.since(mark) if is_write(e)] == []
    assert all(e["code"] != "internal" for e in doc["errors"]), doc
    if code == 3:
        assert answer == 3 and rig.since(mark) == [], doc  # refused before a single request


def test_billion_laughs_is_refused(tmp: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    code, doc = validate(tmp, "\n".join(lines).encode())
    assert code == 3 and f"more than {MAX_NODES} values" in doc["errors"][0]["message"]


@pytest.mark.parametrize("opener", ["[", "{a: ", "- "])
def test_deep_nesting_is_refused_at_its_line(tmp: Path, opener: str) -> None:
    block = "".join("  " * i + "-\n" for i in range(300))  # indentation: 300 levels is 90 KB
    text = block if opener == "- " else "pool:\n  x: " + opener * 5000
    code, doc = validate(tmp, text.encode())
    assert code == 3 and f"deeper than {MAX_DEPTH}" in doc["errors"][0]["message"], doc
    assert doc["errors"][0]["line"] >= 1


def test_oversize_file_is_refused(tmp: Path) -> None:
    text = EXAMPLE_POOL.read_text() + "#" * MAX_BYTES
    code, doc = validate(tmp, text.encode())
    assert code == 3 and "larger than" in doc["errors"][0]["message"]


def test_the_example_is_valid(tmp: Path) -> None:
    """The mutations start from a file that validates, so a refusal is the mutation's doing."""
    assert validate(tmp, EXAMPLE_POOL.read_bytes())[0] == 0
