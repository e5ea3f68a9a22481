"""deploy-pool on the sandbox: time against the scale set's LRO, and request counts."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from testlib import is_write, pool_files

REPO = Path(__file__).resolve().parents[1]
LRO_SECONDS = 3.0
LATENCY = 0.05


def _requests(sb: Any) -> list[dict[str, Any]]:
    return [e for e in sb.exchanges if e["service"] != "entra"]


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


FLEET_APPLY = 10


def _deploy_fleet(count: int) -> float:
    """Seconds for one command to deploy ``count`` pools from nothing (pools.each_pool, as the CLI
    runs ``deploy-pool -f pools/``), with the timing of ``deploy_lro``."""
    from agentctl import config, pools, sandbox
    from agentctl.cloud import target_of
    from agentctl.sandbox.faults import Timing

    with tempfile.TemporaryDirectory() as tmp:
        specs = [config.load(f) for f in pool_files(Path(tmp), count)]
        sb = sandbox.start(
            Path(tmp) / "sandbox",
            faults=f"*=latency:{LATENCY}",
            timing=Timing(lro_seconds=LRO_SECONDS, lro_retry_after=None),
        )
        try:
            target = target_of(sb, keep=True)
            start = time.perf_counter()
            done = pools.each_pool(
                specs, [target] * count, lambda s, c: pools.deploy(s, target, lambda p: True, c=c)
            )
            seconds = time.perf_counter() - start
        finally:
            sb.stop()
    failed = [o.error for o in done if o.error is not None]
    if failed:
        raise RuntimeError(f"fleet deploy failed: {failed[0].message}")
    return seconds


def fleet_apply(runs: int = 3) -> dict[str, float]:
    """Ten pools deployed from nothing by one command against one pool, medians of interleaved
    runs (target: at most 2)."""
    _deploy_fleet(1)  # imports and connections would otherwise count against the single pool
    ones, manys = [], []
    for _ in range(runs):
        ones.append(_deploy_fleet(1))
        manys.append(_deploy_fleet(FLEET_APPLY))
    one, many = statistics.median(ones), statistics.median(manys)
    return {
        "fleet_apply_ratio": round(many / one, 3),
        "fleet_apply_one_seconds": round(one, 2),
        "fleet_apply_ten_seconds": round(many, 2),
    }
