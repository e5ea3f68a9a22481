"""Error types with stable codes and the exit codes they map to.

Every failure a user can cause or meet is an ``AgentctlError``; the CLI turns it into a
clean message (or a JSON error entry) and its exit code. Anything else is a bug and shows
a traceback only with ``--debug``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CHANGES = 2  # `plan`: changes pending
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_AUTH = 4
EXIT_NOT_FOUND = 5
EXIT_DECLINED = 6  # "no" at a confirmation: nothing was changed
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it
QUOTE_LIMIT = 40  # characters of an offending value an error message shows


def quoted(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as an error message quotes it: in quotes, with control, bidi and zero-width
    characters escaped, and cut to ``limit`` characters (saying how long it was), so a huge
    scalar is never echoed whole. Every error that quotes an input value goes through here."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


SIGN_IN_HINT = (
    "sign in with `az login` (azure.credential: default or cli), or set azure.credential in the pool "
    "file: managed-identity (AZURE_CLIENT_ID picks a user-assigned identity) or workload-identity "
    "(AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE); default also reads a service "
    "principal from AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET. Azure DevOps takes a "
    "PAT from AZDO_PAT instead, when it is set"
)


@dataclass
class Problem:
    """One thing wrong with an input, with where it is."""

    message: str
    field: str = ""
    line: int | None = None
    file: str = ""

    def where(self) -> str:
        loc = self.file
        if self.line is not None:
            loc = f"{loc}:{self.line}" if loc else f"line {self.line}"
        return loc

    def __str__(self) -> str:
        head = self.where()
        body = f"{self.field}: {self.message}" if self.field else self.message
        return f"{head}: {body}" if head else body

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.field:
            out["field"] = self.field
        if self.file:
            out["file"] = self.file
        if self.line is not None:
            out["line"] = self.line
        return out


class AgentctlError(Exception):
    """Base of all expected failures."""

    code = "agentctl.failed"
    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str = "", problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems: list[Problem] = problems or []

    def to_dicts(self) -> list[dict[str, Any]]:
        if self.problems:
            hint = {"hint": self.hint} if self.hint else {}
            return [{"code": self.code, **p.to_dict(), **hint} for p in self.problems]
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return [out]


class UsageError(AgentctlError):
    code = "usage"
    exit_code = EXIT_USAGE


class InvalidInput(AgentctlError):
    """pool.yaml, a kubeconfig or another input file is wrong."""

    code = "input.invalid"
    exit_code = EXIT_INVALID


class AuthError(AgentctlError):
    code = "auth.failed"
    exit_code = EXIT_AUTH


class NotFound(AgentctlError):
    """A resource the configuration relies on does not exist (or a precondition is unmet)."""

    code = "resource.not_found"
    exit_code = EXIT_NOT_FOUND


class PreconditionFailed(NotFound):
    code = "precondition.failed"


class ScopeNotFound(NotFound):
    """The subscription or Azure DevOps organization a pool file names does not exist (or cannot be
    seen); ``field`` is the pool file's field that names it."""

    code = "scope.not_found"

    def __init__(self, message: str, *, field: str, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.field = field


class ApplyFailed(AgentctlError):
    """A step of the apply graph failed; ``step`` names it."""

    code = "apply.failed"
    exit_code = EXIT_FAILED

    def __init__(
        self, message: str, *, step: str = "", hint: str = "", cause: AgentctlError | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.step = step
        self.cause = cause.code if cause else ""
        if isinstance(cause, AuthError):  # a permission is missing: exit 4, as everywhere else
            self.exit_code = EXIT_AUTH

    def to_dicts(self) -> list[dict[str, Any]]:
        out = super().to_dicts()
        if self.step:
            out[0]["step"] = self.step
        if self.cause:
            out[0]["cause"] = self.cause
        return out


class InternalError(AgentctlError):
    """A bug in agentctl, shown without a traceback unless --debug."""

    code = "internal"
    exit_code = EXIT_FAILED


class Interrupted(AgentctlError):
    """The user pressed Ctrl-C (or closed the confirmation prompt); ``finished`` lists the steps
    (plan action keys) that were done before agentctl stopped."""

    code = "interrupted"
    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str, *, hint: str = "", finished: list[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.finished = finished

    def to_dicts(self) -> list[dict[str, Any]]:
        out = super().to_dicts()
        if self.finished is not None:
            out[0]["finished"] = self.finished
        return out


class CloudError(AgentctlError):
    """Azure or Azure DevOps answered with an error we cannot handle."""

    code = "cloud.error"
    exit_code = EXIT_FAILED


@dataclass
class Collected:
    """Problems gathered while checking an input, raised together."""

    file: str = ""
    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, field: str = "", line: int | None = None) -> None:
        self.problems.append(Problem(message, field, line, self.file))

    def raise_if_any(self, what: str = "") -> None:
        if self.problems:
            self.problems.sort(key=lambda p: p.line or 0)
            n = len(self.problems)
            title = what or f"{self.file or 'input'} is invalid"
            raise InvalidInput(f"{title} ({n} problem{'s' if n > 1 else ''})", problems=self.problems)
