"""`deploy-pool --wait`: what polling costs while waiting, against what throttling allows.

A pool is deployed on a sandbox whose nodes take an hour to come online; then `agentctl wait`'s
core polls it. Every request sent while waiting is counted by service; the steady state (after
the first poll, which also finds the pool and discovers routes) gives the requests per poll, and
from the default poll interval the requests per minute of one pool and of 20 pools at once.
Then one diagnosis (agentctl diagnose) of a node that failed to start (the no-egress world) is
counted the same way: its ARM requests are the instance view, the Run Command and its polls.

Budget for 20 pools waiting at once, all on one identity:
- Azure DevOps: at most 200 requests a minute. Azure DevOps throttles an identity on TSTUs (200
  in any 5-minute window) rather than on a request count; a GET of a pool's nodes is among the
  cheapest calls, and 200 a minute keeps a wait from being what runs an identity into delays.
- Azure Resource Manager: 0 requests while waiting (its read limits, per subscription and
  principal, are left to the commands that need ARM); a diagnosis reads a few instance views and
  runs one Run Command.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
POOLS = 20
DEVOPS_BUDGET_PER_MINUTE = 200
ARM_BUDGET_PER_POLL = 0
POLLS = 12
INTERVAL = 0.1  # seconds between polls here; the figures per minute use waiting.POLL


def _count(exchanges: list[dict[str, Any]], service: str) -> int:
    return sum(1 for e in exchanges if e["service"] == service)


def wait_polling() -> dict[str, float]:
    from agentctl import config, forensics, pools, sandbox, waiting
    from agentctl.cloud import target_of
    from agentctl.sandbox.faults import Timing

    spec = config.load(REPO / "examples" / "pool.yaml")
    marks: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        sb = sandbox.start(tmp, timing=Timing(lro_seconds=0.05, scale_delay=0.05, node_idle_delay=3600))
        try:
            target = target_of(sb, keep=True)
            pools.deploy(spec, target, confirm=lambda plan: True)
            start = len(sb.exchanges)
            found = waiting.run(
                spec,
                target,
                timeout=POLLS * INTERVAL,
                on_change=lambda changes, nodes: marks.append(len(sb.exchanges)),
                interval=INTERVAL,
            )
            steady = sb.exchanges[marks[0] : marks[-1]]
            polls = len(marks) - 1
            first = sb.exchanges[start : marks[0]]
        finally:
            sb.stop()
    with tempfile.TemporaryDirectory() as tmp:  # a diagnosis of a node that failed to start
        world = REPO / "manager" / "agentctl" / "sandbox" / "worlds" / "no-egress.yaml"
        sb = sandbox.start(
            tmp, world=world, timing=Timing(lro_seconds=0.05, scale_delay=0.05, node_idle_delay=1)
        )
        try:
            target = target_of(sb, keep=True)
            pools.deploy(spec, target, confirm=lambda plan: True)
            failed = waiting.run(
                spec, target, timeout=60, on_change=lambda changes, nodes: None, interval=INTERVAL
            )
            before = len(sb.exchanges)
            diagnosed = forensics.gather(spec, target)
            diagnosis = sb.exchanges[before:]
        finally:
            sb.stop()
    assert failed["status"] == "failed" and diagnosed["causes"], diagnosed
    assert found["status"] == "timeout", found
    devops_per_poll = _count(steady, "devops") / polls
    arm_per_poll = _count(steady, "arm") / polls
    per_minute = devops_per_poll * 60 / waiting.POLL
    return {
        "wait_first_poll_requests": float(len(first) - _count(first, "entra")),
        "wait_devops_requests_per_poll": round(devops_per_poll, 2),
        "wait_arm_requests_per_poll": round(arm_per_poll, 2),
        "wait_poll_interval_seconds": waiting.POLL,
        "wait_requests_per_minute_one_pool": round(per_minute, 1),
        "wait_requests_per_minute_20_pools": round(per_minute * POOLS, 1),
        "wait_devops_budget_per_minute_20_pools": float(DEVOPS_BUDGET_PER_MINUTE),
        "wait_within_budget": float(
            per_minute * POOLS <= DEVOPS_BUDGET_PER_MINUTE and arm_per_poll <= ARM_BUDGET_PER_POLL
        ),
        "diagnose_arm_requests": float(_count(diagnosis, "arm")),
        "diagnose_devops_requests": float(_count(diagnosis, "devops")),
    }


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    print(wait_polling())
