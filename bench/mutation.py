"""Mutation score of the planning core: `make mutation` runs mutmut and writes bench/mutation.json.

mutmut changes one thing at a time in the files named by --paths (a flipped boolean, a changed
constant, a key looked up under another name) and runs the fast tests given by --tests against
each change; a change no test notices "survives". Survivors that cannot change behaviour are
listed in bench/mutation-equivalent.txt, by function and changed line, each with its reason; the
score counts them out. Slow (minutes), so not part of CI.

The run happens in build/mutation/ (kept between runs: mutmut only re-tests the functions whose
source changed). mutmut derives module names from file paths under src/, so the package is laid
out there as a link to manager/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PACKAGE_ROOT = "manager"  # the folder that holds the agentctl package
WORK = REPO / "build" / "mutation"
EQUIVALENT = HERE / "mutation-equivalent.txt"
OUTPUT = HERE / "mutation.json"
LINKED = ["tests", "examples", "pipelines", "docs", "README.md"]  # what the tests read besides the package
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
SETTLED = KILLED - {"timeout"}  # a timeout on a busy machine may be one: tried again


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def prepare(paths: list[str], tests: list[str]) -> None:
    """build/mutation/: links to the package and the tests, and pyproject.toml with mutmut's settings."""
    WORK.mkdir(parents=True, exist_ok=True)
    links = {"src": REPO / PACKAGE_ROOT, **{name: REPO / name for name in LINKED}}
    for name, target in links.items():
        link = WORK / name
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(target, WORK))
    mutated = []
    for path in paths:
        if not path.startswith(PACKAGE_ROOT + "/") or not (REPO / path).is_file():
            sys.exit(f"mutation: {path} is not a file under {PACKAGE_ROOT}/")
        mutated.append("src/" + path.removeprefix(PACKAGE_ROOT + "/"))
    settings = "\n".join(
        [
            "",
            "[tool.mutmut]",
            'source_paths = ["src/agentctl"]',
            f"only_mutate = {_toml_list(mutated)}",
            f"pytest_add_cli_args_test_selection = {_toml_list(tests)}",
            f"also_copy = {_toml_list(LINKED[1:])}",
            "use_git_change_detection = false",
            "",
        ]
    )
    # mutmut copies the package's other files (schemas, templates) once and keeps them: a changed
    # one is dropped from its copy so that it is copied again.
    package = REPO / PACKAGE_ROOT
    for source in package.rglob("*"):
        copy = WORK / "mutants" / "src" / source.relative_to(package)
        data = source.is_file() and source.suffix not in (".py", ".pyc")
        stale = data and copy.is_file()
        if stale and copy.read_bytes() != source.read_bytes():
            copy.unlink()
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8") + settings
    target = WORK / "pyproject.toml"
    if not target.exists() or target.read_text(encoding="utf-8") != pyproject:
        target.write_text(pyproject, encoding="utf-8")


def equivalents() -> dict[str, str]:
    """The reviewed list: `function: changed line => reason` per line; # starts a comment."""
    out = {}
    for number, raw in enumerate(EQUIVALENT.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        key, _, reason = raw.rpartition(" => ")
        if not key or not reason.strip():
            sys.exit(f"mutation: {EQUIVALENT.name}:{number}: expected `function: changed line => reason`")
        out[key.strip()] = reason.strip()
    return out


def key(name: str, diff: str) -> str:
    """What the reviewed list names a mutant by: its function and the line it changes (its number
    changes whenever the function does)."""
    function = name.partition("__mutmut_")[0]
    lines = diff.splitlines()
    added = [line[1:].strip() for line in lines if line.startswith("+")]
    changed = added[0] if added else "-" + next((line[1:].strip() for line in lines), "")
    return f"{function}: {changed}"


def results() -> dict[str, str]:
    """Mutant name -> status, from the meta files mutmut keeps next to each mutated file."""
    from mutmut.stats import status_by_exit_code

    return {name: status_by_exit_code[code] for name, (code, _) in _meta().items()}


def _meta() -> dict[str, tuple[int | None, str]]:
    """Mutant name -> (exit code, the source file it mutates, relative to build/mutation)."""
    out = {}
    root = WORK / "mutants"
    for meta in sorted(root.rglob("*.meta")):
        source = str(meta.relative_to(root)).removesuffix(".meta")
        for name, code in json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {}).items():
            out[name] = (code, source)
    return out


def diffs(names: list[str]) -> dict[str, str]:
    """The changed lines of each mutant, as `mutmut show` prints them."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    sources = _meta()
    here = Path.cwd()
    os.chdir(WORK)  # mutmut reads its settings and files from there
    try:
        return {
            name: "\n".join(
                line
                for line in get_diff_for_mutant(name, path=sources[name][1]).splitlines()
                if line[:1] in "+-" and not line.startswith(("+++", "---"))
            )
            for name in names
        }
    finally:
        os.chdir(here)


def report(paths: list[str], tests: list[str], statuses: dict[str, str]) -> dict[str, Any]:
    known = equivalents()
    alive = sorted(n for n, s in statuses.items() if s not in KILLED)
    changed = diffs(alive)
    keys = {n: key(n, changed[n]) for n in alive}
    survivors = [n for n in alive if keys[n] not in known]
    equivalent = [n for n in alive if keys[n] in known]
    killed = sum(s in KILLED for s in statuses.values())
    counted = len(statuses) - len(equivalent)
    return {
        "paths": paths,
        "tests": tests,
        "mutants": len(statuses),
        "killed": killed,
        "equivalent": len(equivalent),
        "survived": len(survivors),
        "score": round(100 * killed / counted, 1) if counted else 0.0,
        "score_counting_equivalent_as_survivors": round(100 * killed / len(statuses), 1) if statuses else 0.0,
        "survivors": [
            {"mutant": n, "status": statuses[n], "key": keys[n], "diff": changed[n]} for n in survivors
        ],
        "equivalent_mutants": [{"mutant": n, "key": keys[n], "reason": known[keys[n]]} for n in equivalent],
        # listed as equivalent but no mutant matches now (killed, or the code changed): review them
        "stale_equivalent_entries": sorted(set(known) - {keys[n] for n in equivalent}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", nargs="+", required=True, help="files of the planning core, in the repo")
    parser.add_argument("--tests", nargs="+", required=True, help="the fast tests that cover them")
    parser.add_argument("--max-children", default="2", help="parallel mutmut workers")
    parser.add_argument("--min-score", type=float, default=90.0, help="exit 1 below this score")
    args = parser.parse_args()
    prepare(args.paths, args.tests)
    env = {**os.environ, "AGENTCTL_SPECS_DIR": str(REPO.parent / "shared" / "specs")}
    mutmut = str(Path(sys.executable).parent / "mutmut")
    # mutmut tests the mutants it has no result for (new, or in a function that changed); then
    # those that survived an earlier run are tried again, against the tests as they are now.
    before = {n for n, s in results().items() if s not in SETTLED}
    for again in (False, True):
        names = sorted(n for n, s in results().items() if n in before and s not in SETTLED) if again else []
        if again and not names:
            break
        cmd = [mutmut, "run", "--max-children", args.max_children, *names]
        run = subprocess.run(cmd, cwd=WORK, env=env, check=False)
        if run.returncode != 0:
            print(f"mutation: mutmut run failed ({run.returncode})", file=sys.stderr)
            return run.returncode
    doc = report(args.paths, args.tests, results())
    OUTPUT.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(
        f"mutation score {doc['score']}% ({doc['killed']} killed of {doc['mutants']} mutants, "
        f"{doc['equivalent']} equivalent, {doc['survived']} survived): {OUTPUT.relative_to(REPO)}"
    )
    for s in doc["survivors"]:
        print(f"  survived: {s['mutant']} ({s['key']})\n    " + s["diff"].replace("\n", "\n    "))
    for entry in doc["stale_equivalent_entries"]:
        print(f"  {EQUIVALENT.name}: no surviving mutant matches `{entry}`: review the entry")
    return 0 if doc["score"] >= args.min_score and not doc["survivors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
