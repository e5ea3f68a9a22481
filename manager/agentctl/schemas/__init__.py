"""JSON Schemas the project documents: pool.yaml, and the `data` of plan, status and doctor envelopes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def path(name: str) -> Path:
    return HERE / f"{name}.schema.json"


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path(name).read_text())
    return doc
