"""Constants shared by the test suites (importable as `testlib`: pytest puts tests/ on the path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentctl.sandbox.server import TOKEN_PATH  # the sandbox's token endpoint: not an API call

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_POOL = REPO / "examples" / "pool.yaml"

READ_ONLY_POSTS = ("/listClusterUserCredential", "/listClusterAdminCredential")


def is_write(entry: dict[str, Any]) -> bool:
    """Whether a sandbox access-log entry (or exchange) changed anything."""
    path = str(entry["path"])
    return (
        entry["method"] in ("POST", "PUT", "PATCH", "DELETE")
        and path != TOKEN_PATH
        and not path.endswith(READ_ONLY_POSTS)
    )
