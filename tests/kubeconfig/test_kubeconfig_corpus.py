"""The broken-kubeconfig corpus: each case is diagnosed with the right code, line and field;
the repairable ones come out of `fix` (and of `agentctl kubeconfig check --fix`) valid and
minified, with their credentials intact."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml
from kubeconfig_corpus import Case, Material, base, corpus, material

from agentctl import kubeconfig as kc
from agentctl.cli import run
from agentctl.errors import EXIT_INVALID

CASES = corpus(material())
REPAIRABLE = [c for c in CASES if c.repairable]


def _ids(case: Case) -> str:
    return case.name


def test_corpus_covers_many_failure_modes() -> None:
    codes = {code for case in CASES for code, *_ in case.expected}
    assert len(CASES) >= 12 and len(codes) >= 20 and len(REPAIRABLE) >= 10


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_diagnosed_with_code_line_and_field(case: Case) -> None:
    findings = kc.check(case.text, "kube.yaml")
    assert {(f.code, f.line, f.field, f.fixable) for f in findings} == case.expected, case.why
    for f in findings:
        where = "kube.yaml" if f.line is None else f"kube.yaml:{f.line}"
        assert f.location == (f"{where} {f.field}" if f.field else where)


def test_the_valid_base_is_clean(m: Material) -> None:
    assert kc.check(base(m), "kube.yaml") == []


@pytest.mark.parametrize("case", REPAIRABLE, ids=_ids)
def test_fix_gives_the_valid_minified_kubeconfig(case: Case, m: Material) -> None:
    fixed, remaining = kc.fix(case.text, "kube.yaml")
    assert remaining == [] and kc.check(fixed, "kube.yaml") == []
    want = yaml.safe_load(base(m))
    del want["preferences"]  # minified: only what the one context needs
    assert yaml.safe_load(fixed) == want  # every certificate, key and token survives intact
    assert "\r" not in fixed and "\t" not in fixed and not fixed.startswith("\ufeff")


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_fix_repairs_exactly_what_check_marks_fixable(case: Case) -> None:
    findings = kc.check(case.text, "kube.yaml")
    try:
        _, remaining = kc.fix(case.text, "kube.yaml")
    except kc.Unreadable:
        assert not any(f.fixable for f in findings)
        return
    assert {(f.code, f.field) for f in remaining} == {(f.code, f.field) for f in findings if not f.fixable}


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_cli_reports_and_repairs(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "kube.yaml"
    src.write_bytes(case.text)
    code, out, _ = _run(["-o", "json", "kubeconfig", "check", str(src)], capsys)
    doc = json.loads(out)
    assert code == EXIT_INVALID and doc["status"] == "error" and doc["data"]["fixed"] is False
    assert {(f["code"], f["line"], f["field"]) for f in doc["data"]["findings"]} == {
        (code_, line, field) for code_, line, field, _ in case.expected
    }
    # the same problems are the envelope's errors, located like any invalid input's
    assert [
        (e["code"], e["message"], e["file"], e.get("line"), e.get("field", "")) for e in doc["errors"]
    ] == [
        (f["code"], f["message"], f["file"], f["line"], f["field"])
        for f in doc["data"]["findings"]
        if f["severity"] == "error"  # warnings are findings, not errors
    ]

    target = tmp_path / "fixed.yaml"
    code, out, _ = _run(
        ["-o", "json", "kubeconfig", "check", str(src), "--fix", "--out", str(target)], capsys
    )
    data = json.loads(out)["data"]
    assert src.read_bytes() == case.text  # --out leaves the original alone
    if case.repairable:
        assert code == 0 and data["fixed"] is True and data["findings"] == []
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert kc.check(target.read_bytes(), "fixed.yaml") == []
    elif not any(fixable for *_, fixable in case.expected):
        assert code == EXIT_INVALID and data["fixed"] is False and not target.exists()


def test_table_output_names_code_location_and_fixability(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], m: Material
) -> None:
    src = tmp_path / "kube.yaml"
    src.write_text(base(m).replace("current-context: aks-dev", "current-context: gone").replace("\n", "\r\n"))
    code, out, _ = _run(["kubeconfig", "check", str(src)], capsys)
    assert code == EXIT_INVALID
    lines = out.splitlines()
    crlf = next(line for line in lines if line.lstrip().startswith("crlf"))
    assert f"{src}:1" in crlf and crlf.rstrip().endswith("yes")
    dangling = next(line for line in lines if "context.current_dangling" in line)
    assert f"{src}:12 current-context" in dangling and dangling.rstrip().endswith("no")
    assert "2 problem(s), 1 fixable with --fix" in out


def test_clean_file_exits_zero_and_is_not_rewritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], m: Material
) -> None:
    src = tmp_path / "kube.yaml"
    src.write_text(base(m))
    before = src.stat().st_mtime_ns
    code, out, _ = _run(["kubeconfig", "check", str(src), "--fix"], capsys)
    assert code == 0 and f"{src}: ok" in out
    assert src.read_text() == base(m) and src.stat().st_mtime_ns == before


def test_fix_in_place_keeps_owner_mode_and_removes_group_access(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], m: Material
) -> None:
    src = tmp_path / "kube.yaml"
    src.write_text(base(m).replace("\n", "\r\n"))
    src.chmod(0o640)
    code, out, err = _run(["kubeconfig", "check", str(src), "--fix"], capsys)
    assert code == 0 and f"wrote {src}; clean" in out
    assert "0640 -> 0600" in err
    assert stat.S_IMODE(src.stat().st_mode) == 0o600 and kc.check(src.read_bytes(), "k") == []
    assert not [p.name for p in tmp_path.iterdir() if p.name != "kube.yaml"]  # no temp file left


def test_fix_in_place_through_a_symlink_rewrites_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], m: Material
) -> None:
    real = tmp_path / "config"
    real.write_bytes(b"\xef\xbb\xbf" + base(m).encode())
    real.chmod(0o600)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    assert _run(["kubeconfig", "check", str(link), "--fix"], capsys)[0] == 0
    assert link.is_symlink() and not real.read_bytes().startswith(b"\xef\xbb\xbf")


def test_context_option_chooses_what_fix_keeps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], m: Material
) -> None:
    two = next(c for c in CASES if c.name == "two-contexts")
    src = tmp_path / "kube.yaml"
    src.write_bytes(two.text)
    code, _, _ = _run(["kubeconfig", "check", str(src), "--fix", "--context", "aks-dev-ops"], capsys)
    doc = yaml.safe_load(src.read_text())
    assert code == 0 and doc["current-context"] == "aks-dev-ops"
    assert [c["name"] for c in doc["contexts"]] == ["aks-dev-ops"] and doc["contexts"][0]["context"][
        "namespace"
    ] == "ops"

    code, _, err = _run(["kubeconfig", "check", str(src), "--fix", "--context", "nope"], capsys)
    assert code == EXIT_INVALID and "no context 'nope'" in err and "aks-dev-ops" in err


def test_fix_with_only_unfixable_problems_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], m: Material
) -> None:
    src = tmp_path / "kube.yaml"
    text = base(m).replace("current-context: aks-dev", "current-context: gone")
    src.write_text(text)
    code, out, _ = _run(["-o", "json", "kubeconfig", "check", str(src), "--fix"], capsys)
    assert code == EXIT_INVALID and json.loads(out)["data"]["fixed"] is False and src.read_text() == text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "x.yaml"], "only apply with --fix"),
        (["--context", "aks-dev"], "only apply with --fix"),
        (["--fix", "--out", "-"], "never written to stdout"),
    ],
)
def test_usage_errors(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], m: Material
) -> None:
    src = tmp_path / "kube.yaml"
    src.write_text(base(m))
    code, out, err = _run(["kubeconfig", "check", str(src), *argv], capsys)
    assert code == 2 and message in err and out == ""
    assert "Traceback" not in err


def test_out_has_no_short_form(tmp_path: Path, capsys: pytest.CaptureFixture[str], m: Material) -> None:
    # -o is the global output format; `--fix -o json` must not write credentials to ./json
    src = tmp_path / "kube.yaml"
    src.write_text(base(m).replace("\n", "\r\n"))
    code, _, err = _run(["kubeconfig", "check", str(src), "--fix", "-o", str(tmp_path / "json")], capsys)
    assert code == 2 and "Invalid value for '--output' / '-o'" in err  # the global option, not --out
    assert not (tmp_path / "json").exists() and b"\r\n" in src.read_bytes()


@pytest.mark.parametrize("name", ["nope.yaml", "."], ids=["missing", "directory"])
def test_missing_file_is_invalid_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, _, err = _run(["kubeconfig", "check", str(tmp_path / name)], capsys)
    assert code == 3 and "cannot read" in err and "Traceback" not in err
