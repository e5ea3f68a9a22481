"""Scripts agentctl runs on a scale set instance through VM Run Command, and reading their output.

The scripts are files of the package (``templates/probe.sh``, ``templates/collect-logs.sh``):
shellcheck-clean, using only what the agent image has, sending no credential. Run Command
returns the last 4096 bytes of each output, so the scripts keep theirs short.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from importlib import resources
from typing import Any

from agentctl.errors import CloudError

TIMEOUT = 600.0  # seconds to wait for one Run Command
_LINUX = re.compile(r"\[stdout\]\n(?P<out>.*?)\n?\[stderr\]\n(?P<err>.*)\Z", re.S)


@dataclass
class Output:
    ok: bool  # the script exited 0
    stdout: str
    stderr: str


def script(name: str, **values: str | list[str]) -> str:
    """A packaged script with its inputs (``NAME=...  # agentctl sets this`` lines) set, quoted."""
    body = resources.files("agentctl").joinpath(f"templates/{name}").read_text()
    for key, value in values.items():
        text = f"({' '.join(map(shlex.quote, value))})" if isinstance(value, list) else shlex.quote(value)
        line = re.compile(rf"^{key}=.*# agentctl sets this$", re.M)
        if not line.search(body):
            raise ValueError(f"templates/{name} has no input {key}")
        body = line.sub(f"{key}={text}".replace("\\", "\\\\"), body, count=1)
    return body


def output(statuses: list[dict[str, Any]]) -> Output:
    """stdout and stderr from a RunCommandResult's statuses: Linux puts both in one
    ``ProvisioningState/*`` message (``Enable succeeded: [stdout] ... [stderr] ...``); Windows
    reports ``ComponentStatus/StdOut/*`` and ``ComponentStatus/StdErr/*``."""
    out = err = ""
    ok = True
    for s in statuses:
        code, message = str(s.get("code") or ""), str(s.get("message") or "")
        if "/StdOut/" in code:
            out = message
        elif "/StdErr/" in code:
            err = message
        elif code.startswith("ProvisioningState/"):
            ok = ok and code.endswith("/succeeded")
            found = _LINUX.search(message)
            if found:
                out, err = found.group("out"), found.group("err")
            elif not ok:
                err = message
    if not statuses:
        raise CloudError("Run Command returned no status", hint="run the same command again")
    return Output(ok, out, err)
