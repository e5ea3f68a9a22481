"""Logging set-up and secret redaction.

Every module logs through ``logging.getLogger(__name__)``. Without ``--debug`` only agentctl's
own warnings reach stderr; ``--debug`` sends every record, the HTTP log of the Azure SDKs
included, to stderr. A filter redacts registered secret values and anything that looks
like a credential (bearer/basic tokens, JWTs, PEM blocks, kubeconfig ``*-data`` fields) before
a record is written.
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "***REDACTED***"

_PATTERNS = [
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer|basic)\s+[^\s'\",}]+"),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.S),
    re.compile(
        r"((?:client-certificate|client-key|certificate-authority|token)(?:-data)?['\"]?\s*[:=]\s*['\"]?)"
        r"[^\s'\",}]+"
    ),
]

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Make ``value`` be redacted wherever it would be logged or rendered."""
    if value and len(value) >= 6:
        import json

        # as written, and as it appears inside JSON or a Python repr (newlines escaped)
        forms = {value, json.dumps(value)[1:-1], repr(value)[1:-1]}
        with _lock:
            _secrets.update(forms)


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for s in known:
        if s in text:
            text = text.replace(s, REDACTED)
    for pat in _PATTERNS:
        if pat.groups:
            text = pat.sub(lambda m: (m.group(1) if m.group(1) and m.lastindex else "") + REDACTED, text)
        else:
            text = pat.sub(REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


_handler: logging.Handler | None = None


def configure(debug: bool) -> None:
    """Send log records to stderr, redacted, through one handler on the root logger.

    Without ``debug`` only agentctl's own warnings and errors are written: other libraries'
    records (azure-identity's multi-line credential chain report, say) are dropped, where
    Python's last-resort handler would print each one; the command's error says what failed.
    With ``debug`` every record is written, with time and logger name. Calling it again (tests
    run the CLI many times in one process) replaces the handler.
    """
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = logging.StreamHandler()
    _handler.addFilter(RedactingFilter())
    if debug:
        _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root.setLevel(logging.DEBUG)
        # urllib3 logs full URLs only; azure.core's HTTP policy logs headers (already redacting
        # Authorization) and we filter what remains.
        for noisy in ("urllib3", "msal"):
            logging.getLogger(noisy).setLevel(logging.INFO)
    else:
        _handler.setLevel(logging.WARNING)
        _handler.addFilter(logging.Filter("agentctl"))
    root.addHandler(_handler)
