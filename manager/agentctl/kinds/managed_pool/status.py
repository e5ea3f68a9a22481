"""What ``agentctl status`` shows of a managed pool: its provisioning state, its agents (state and
image version, from the pool's resource details), usage against maximum concurrency, and the
standby in force now with its next change."""

from __future__ import annotations

from collections import Counter
from typing import Any

from agentctl import standby
from agentctl.config import PoolSpec
from agentctl.kinds.base import Clients, Facts
from agentctl.kinds.managed_pool import desired
from agentctl.kinds.managed_pool.facts import of


def _standby(spec: PoolSpec, facts: Facts) -> dict[str, Any]:
    wanted = spec.devops.pool.standby
    automatic = getattr(wanted, "automatic", None)
    if automatic:
        return {"automatic": automatic, "now": None, "next": None}
    week = spec.standby_week()
    change = standby.next_change(week, facts.now)
    return {
        "automatic": None,
        "now": standby.count_at(week, facts.now),
        "next": {"at": change[0].isoformat(), "agents": change[1]} if change else None,
    }


def status(spec: PoolSpec, c: Clients, facts: Facts, lines: int) -> dict[str, Any]:
    if spec.managed is None:
        return {}
    mine = of(facts)
    pool = mine.pool
    agents = c.arm.managed.agents(str(pool["id"])) if pool is not None else []
    props = (pool or {}).get("properties") or {}
    return {
        "managedPool": {
            "name": spec.devops.pool.name,
            "exists": pool is not None,
            "provisioningState": props.get("provisioningState"),
            "maximumConcurrency": props.get("maximumConcurrency"),
            "inUse": len(agents),
            "agents": [
                {
                    "name": a.get("name"),
                    "status": (a.get("properties") or {}).get("status"),
                    "image": (a.get("properties") or {}).get("image"),
                    "imageVersion": (a.get("properties") or {}).get("imageVersion"),
                }
                for a in agents
            ],
            "states": dict(Counter(str((a.get("properties") or {}).get("status")) for a in agents)),
            "images": {
                gid: versions[-1] if versions else None for gid, versions in mine.image_versions.items()
            },
            "standby": _standby(spec, facts),
            "agentPool": {"exists": mine.agent_pool is not None, "id": (mine.agent_pool or {}).get("id")},
            "devCenterProject": desired.project_id(spec),
        }
    }
