"""The one node walker's guards, as each of its readers (pool.yaml, kubeconfig, sandbox world) reports
them: aliases that nest deeper than MAX_DEPTH without any cycle, which the token-level depth check
cannot see (every line of the text nests two levels at most)."""

from __future__ import annotations

import pytest

from agentctl import kubeconfig, yamlsrc
from agentctl.errors import InvalidInput
from agentctl.sandbox import world
from agentctl.yamlnodes import MAX_DEPTH

# a0 holds x, each next one holds the one before: a70's value nests 72 levels deep.
CHAIN = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 71))


def test_pool_file_reader_refuses_an_alias_chain_too_deep() -> None:
    with pytest.raises(InvalidInput) as e:
        yamlsrc.load(CHAIN, "pool.yaml")
    (problem,) = e.value.problems
    assert problem.message == f"nested deeper than {MAX_DEPTH} levels" and problem.line == 1


def test_world_reader_refuses_an_alias_chain_too_deep() -> None:
    with pytest.raises(InvalidInput) as e:
        world.parse(CHAIN, "w.yaml")
    (problem,) = e.value.problems
    assert problem.message == f"nested deeper than {MAX_DEPTH} levels" and problem.line == 1


def test_kubeconfig_reader_refuses_an_alias_chain_too_deep() -> None:
    (finding,) = kubeconfig.check(CHAIN, "k.yaml")
    assert (finding.code, finding.line) == ("yaml.limit", 1)
    assert "aliases nest too deep" in finding.message


def test_a_chain_within_the_depth_is_read() -> None:
    short = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 60))
    value, lines = yamlsrc.load(short, "pool.yaml")
    assert lines["a59"] == 60
    inner = value["a59"]
    for _ in range(59):
        (inner,) = inner
    assert inner == ["x"]
