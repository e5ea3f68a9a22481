"""deploy-pool on the sandbox: time against the scale set's LRO, and request counts."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from testlib import TOKEN_PATH, is_write

REPO = Path(__file__).resolve().parents[1]
LRO_SECONDS = 3.0
LATENCY = 0.05


def _requests(sb: Any) -> list[dict[str, Any]]:
    return [e for e in sb.exchanges if e["path"] != TOKEN_PATH]


def _deploy(lro_seconds: float) -> tuple[float, list[dict[str, Any]], list[dict[str, Any]]]:
    """Fresh deploy, then a no-op deploy; returns (fresh seconds, fresh requests, no-op requests)."""
    from agentctl import config, pools, sandbox
    from agentctl.cloud import target_of
    from agentctl.sandbox.faults import Timing

    spec = config.load(REPO / "examples" / "pool.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        sb = sandbox.start(
            tmp, faults=f"*=latency:{LATENCY}", timing=Timing(lro_seconds=lro_seconds, lro_retry_after=None)
        )
        try:
            target = target_of(sb, keep=True)
            start = time.perf_counter()
            pools.deploy(spec, target, confirm=lambda plan: True)
            seconds = time.perf_counter() - start
            fresh = _requests(sb)
            pools.deploy(spec, target, confirm=lambda plan: True)
            noop = _requests(sb)[len(fresh) :]
        finally:
            sb.stop()
    return seconds, fresh, noop


def deploy_lro() -> dict[str, float]:
    """The ratio of a fresh deploy with a 3 s scale set LRO (no Retry-After, 50 ms per request)
    to the LRO plus the same deploy's request overhead measured with an instant LRO (after a first
    deploy that only warms up: imports and connections would otherwise count as overhead)."""
    _deploy(0.0)
    overhead, _, _ = _deploy(0.0)
    seconds, fresh, noop = _deploy(LRO_SECONDS)
    return {
        "deploy_lro_ratio": round(seconds / (LRO_SECONDS + overhead), 3),
        "deploy_seconds": round(seconds, 2),
        "deploy_overhead_seconds": round(overhead, 2),
        "fresh_apply_requests": len(fresh),
        "noop_apply_requests": len(noop),
        "noop_apply_writes": sum(is_write(e) for e in noop),
    }
