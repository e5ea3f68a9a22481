"""What a kubeconfig check reports: ``Finding``s (stable code, file:line, field path), never a value."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agentctl.errors import InvalidInput, Problem


@dataclass(frozen=True)
class Finding:
    """One problem in a kubeconfig, located by line and field path; never carries a secret value.

    ``severity`` is ``error`` (the file should not be used as it is: exit 3) or ``warning`` (worth
    knowing, such as a plugin the file makes kubectl run, but not wrong in itself)."""

    code: str
    message: str
    file: str
    line: int | None = None
    field: str = ""
    fixable: bool = False
    severity: str = "error"

    @property
    def blocking(self) -> bool:
        return self.severity == "error"

    @property
    def location(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where} {self.field}" if self.field else where

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "location": self.location,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "fixable": self.fixable,
            "severity": self.severity,
        }

    def problem(self) -> Problem:
        return Problem(f"{self.message} [{self.code}]", self.field, self.line, self.file)

    def to_error(self) -> dict[str, Any]:
        """The finding as an entry of a JSON envelope's ``errors``, under its own code."""
        return {"code": self.code, **Problem(self.message, self.field, self.line, self.file).to_dict()}


class Unreadable(InvalidInput):
    """The text cannot be read as a kubeconfig at all, so nothing can be repaired or converted."""

    code = "kubeconfig.unreadable"


@dataclass
class Report:
    """The findings of one file as the checks add them, each at the line of its field path."""

    source: str
    lines: dict[str, int]  # field path -> 1-based line
    wrapped: set[int] = dataclasses.field(default_factory=set)  # lines whose base64 continued below
    found: list[Finding] = dataclasses.field(default_factory=list)
    now: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))

    def add(self, code: str, path: str, message: str, fixable: bool = False, severity: str = "error") -> None:
        self.found.append(Finding(code, message, self.source, self.line(path), path, fixable, severity))

    def line(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest parent below the top (for missing fields)."""
        while path and path not in self.lines:
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get(path) if path else None
