"""Two software reports of the agent image compared: what `images/ubuntu/tests/software-report.sh`
wrote for an old and a new image version (software-report.json), section by section.

``compare`` is pure and table-tested; ``load_report`` is the only I/O (one file, or a folder such as
a downloaded nightly artifact that holds exactly one software-report.json).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentctl.errors import InvalidInput, Problem

log = logging.getLogger(__name__)

REPORT_NAME = "software-report.json"

# section -> (what a row's version is, whether a report may lack the section: older reports do)
SECTIONS: dict[str, tuple[str, bool]] = {
    "tools": ("installed", False),
    "apt_packages": ("installed", True),
    "ubuntu_packages": ("installed", True),
    "container_images": ("digest", True),
}


@dataclass(frozen=True)
class Row:
    section: str
    name: str
    old: str | None
    new: str | None

    @property
    def change(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "unchanged" if self.old == self.new else "changed"


def _row_key(section: str, row: dict[str, Any]) -> str:
    """A row's identity in its section: the name, and for a container image its tag as well."""
    tag = row.get("tag") if section == "container_images" else None
    return f"{row['name']}:{tag}" if tag else str(row["name"])


def check_report(doc: Any, source: str) -> dict[str, dict[str, str]]:
    """The report's sections as name -> version, or InvalidInput naming each malformed field."""
    problems: list[Problem] = []

    def bad(field: str, message: str) -> None:
        problems.append(Problem(message, field=field, file=source))

    if not isinstance(doc, dict):
        raise InvalidInput(
            f"{source}: not a software report", problems=[Problem("not a JSON object", file=source)]
        )
    image = doc.get("image")
    if not isinstance(image, dict) or not isinstance(image.get("version"), str):
        bad("image.version", "missing or not a string")
    sections: dict[str, dict[str, str]] = {}
    for section, (version_field, optional) in SECTIONS.items():
        rows = doc.get(section)
        if rows is None and optional:
            continue
        if not isinstance(rows, list):
            bad(section, "missing or not a list")
            continue
        found: dict[str, str] = {}
        for index, row in enumerate(rows):
            where = f"{section}[{index}]"
            if not isinstance(row, dict) or not isinstance(row.get("name"), str) or not row["name"]:
                bad(f"{where}.name", "missing or not a string")
            elif not isinstance(row.get(version_field), str):
                bad(f"{where}.{version_field}", "missing or not a string")
            elif (key := _row_key(section, row)) in found:
                bad(f"{where}.name", f"'{key}' is listed twice")
            else:
                found[key] = row[version_field]
        sections[section] = found
    if problems:
        raise InvalidInput(f"{source} is not a valid software report", problems=problems)
    return sections


def load_report(path: str) -> dict[str, Any]:
    """The report at PATH (a file, or a folder holding exactly one software-report.json)."""
    p = Path(path)
    if p.is_dir():
        found = sorted(p.rglob(REPORT_NAME))
        if len(found) != 1:
            raise InvalidInput(
                f"{path}: a folder must hold exactly one {REPORT_NAME}, it holds {len(found)}",
                hint="name the report file itself",
            )
        p = found[0]
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInput(f"{p}: cannot read it ({err})") from None
    except json.JSONDecodeError as err:
        raise InvalidInput(
            f"{p} is not a valid software report",
            problems=[Problem(f"not JSON: {err.msg}", line=err.lineno, file=str(p))],
        ) from None
    log.debug("read software report %s", p)
    return {"source": str(p), "report": doc}


def _image(doc: dict[str, Any], source: str) -> dict[str, Any]:
    image = doc["image"]
    return {"source": source, "version": image["version"], "name": image.get("name"), "os": image.get("os")}


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What changed from OLD to NEW (as load_report returns them): each added, removed or changed row
    with its versions, unchanged rows counted per section, and the totals."""
    before = check_report(old["report"], old["source"])
    after = check_report(new["report"], new["source"])
    rows: list[Row] = []
    for section in SECTIONS:
        a, b = before.get(section, {}), after.get(section, {})
        rows += [Row(section, name, a.get(name), b.get(name)) for name in sorted(a.keys() | b.keys())]
    totals = {
        kind: sum(r.change == kind for r in rows) for kind in ("added", "removed", "changed", "unchanged")
    }
    return {
        "old": _image(old["report"], old["source"]),
        "new": _image(new["report"], new["source"]),
        "changes": [
            {"section": r.section, "name": r.name, "change": r.change, "old": r.old, "new": r.new}
            for r in rows
            if r.change != "unchanged"
        ],
        "unchanged": {s: sum(r.section == s and r.change == "unchanged" for r in rows) for s in SECTIONS},
        "totals": totals,
    }
