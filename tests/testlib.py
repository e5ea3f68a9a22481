"""Constants shared by the test suites (importable as `testlib`: pytest puts tests/ on the path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_POOL = REPO / "examples" / "pool.yaml"

READ_ONLY_POSTS = ("/listClusterUserCredential", "/listClusterAdminCredential")


def is_write(entry: dict[str, Any]) -> bool:
    """Whether a sandbox access-log entry (or exchange) changed anything."""
    path = str(entry["path"])
    return (
        entry["method"] in ("POST", "PUT", "PATCH", "DELETE")
        and entry.get("service") != "entra"  # signing in changes nothing
        and not path.endswith(READ_ONLY_POSTS)
    )


def pool_files(root: Path, count: int) -> list[Path]:
    """Copies of the example pool, each with its own names (the shared identity and cluster stay)."""
    paths = []
    for i in range(1, count + 1):
        doc = yaml.safe_load(EXAMPLE_POOL.read_text())
        suffix = f"-{i:02}"
        doc["scaleSet"]["name"] += suffix
        devops = doc["devops"]
        devops["pool"]["name"] += suffix
        devops["azureConnection"]["name"] += suffix
        for env in devops.get("environments", []):
            env["name"] += suffix
        for kc in devops.get("kubernetes", []):
            kc["connection"] += suffix
        for reg in doc.get("registries", []):
            reg["connection"] += suffix
        path = root / f"pool{suffix}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        paths.append(path)
    return paths


def facts_of(**fields: Any) -> Any:
    """``Facts`` from keyword fields: the shared ones (project, identity, role_assignments, now) on
    the container, every other one on the scale-set pool's facts; ``kinds`` adds other kinds' facts."""
    from agentctl.kinds import pool
    from agentctl.kinds.base import Facts

    shared = {k: fields.pop(k) for k in ("project", "identity", "role_assignments", "now") if k in fields}
    others = fields.pop("kinds", {})
    return Facts(**shared, kinds={pool.NAME: pool.PoolFacts(**fields), **others})
