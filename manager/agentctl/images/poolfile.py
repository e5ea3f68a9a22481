"""Setting pool.yaml's ``image.version`` in place: one line changed or added, checked by loading it."""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agentctl import config
from agentctl.config import PoolSpec
from agentctl.errors import InvalidInput, Problem


@dataclass(frozen=True)
class PoolFileEdit:
    """What pool.yaml must say so that the next deploy-pool keeps the rolled version."""

    file: str
    line: int | None
    old: str | None  # the pinned version; None: the file does not pin one
    new: str

    def instruction(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.old:
            return f"{where}: change image.version from {self.old} to {self.new}"
        return f"{where}: add `version: {self.new}` under image, next to galleryImageId"


def edited_pool_file(text: str, spec: PoolSpec, version: str) -> str:
    """pool.yaml with image.version set to ``version``: one line changed (or added), comments and
    layout kept. Refuses when the result would not load as the same pool with that version."""
    want = dataclasses.replace(spec, image=dataclasses.replace(spec.image, version=version))
    return set_version(text, spec, "image", spec.image.version, version, want)


def set_version(text: str, spec: PoolSpec, at: str, old: str | None, version: str, want: PoolSpec) -> str:
    """``text`` with the ``version`` of the image at field path ``at`` set: one line changed (or
    added after its galleryImageId), checked by loading the result as ``want``."""
    edit = PoolFileEdit(spec.source, None, old, version)
    lines = text.splitlines(keepends=True)
    index = (spec.line(f"{at}.version" if old else f"{at}.galleryImageId") or 0) - 1
    current = lines[index] if 0 <= index < len(lines) else ""
    if old:
        pattern = re.compile(rf"(\bversion\s*:\s*)([\"']?){re.escape(old)}\2")
        updated, count = pattern.subn(lambda m: f"{m[1]}{m[2]}{version}{m[2]}", current, count=1)
    else:
        m = re.match(r"([ \t]+(?:-[ \t]+)?)galleryImageId[ \t]*:", current)
        count = 1 if m else 0
        eol = "\r\n" if current.endswith("\r\n") else "\n"
        indent = " " * len(m[1]) if m else ""
        updated = current.rstrip("\r\n") + eol + (f"{indent}version: {version}{eol}" if m else "")
    result = "".join([*lines[:index], updated, *lines[index + 1 :]]) if count else text
    try:
        ok = count == 1 and config.loads(result, spec.source) == want
    except InvalidInput:
        ok = False
    if not ok:
        raise InvalidInput(
            f"{spec.source}: cannot set {at}.version in place",
            problems=[
                Problem("edit it by hand", f"{at}.version", index + 1 if index >= 0 else None, spec.source)
            ],
            hint=edit.instruction(),
        )
    return result


def write_pool_file(path: str, text: str) -> None:
    """Replace the file atomically, keeping its permissions."""
    real = Path(path).resolve()
    mode = real.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
