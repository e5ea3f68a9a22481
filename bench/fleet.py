"""`agentctl status` over a fleet: 20 pools in one call against 1 pool, and the CLI's peak memory.

Twenty copies of examples/pool.yaml (their own scale set, pool, connections and environment) are
deployed on one sandbox; then the CLI, as a user runs it, reads `status -f p01.yaml ... -f
p20.yaml` and `status -f p01.yaml`, interleaved, with 50 ms on every request as a stand-in for
the network. The figure is the ratio of the medians (target: at most 2).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from testlib import pool_files

REPO = Path(__file__).resolve().parents[1]
FLEET = 20  # the sandbox's identity takes 20 federated credentials, as Azure's does
LATENCY = 0.05
RUNS = 3


# Runs agentctl and, at exit, writes its peak resident memory (VmHWM, which exec resets; the
# rusage of a child also counts the parent it was forked from) to the file named first.
PEAK = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(out, "w").write(line.split()[1])
atexit.register(peak)
sys.argv[0] = "agentctl"
runpy.run_module("agentctl", run_name="__main__")
"""


def _timed(args: list[str], peak_file: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one CLI process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(peak_file), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"agentctl {' '.join(args)} exited {done.returncode}: {done.stderr.decode()}")
    return seconds, int(peak_file.read_text()) / 1024


def status_fleet() -> dict[str, float]:
    from agentctl import config, pools, sandbox
    from agentctl.cloud import target_of
    from agentctl.sandbox import endpoints
    from agentctl.sandbox.faults import Timing

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = pool_files(root, FLEET)
        sb = sandbox.start(root / "sandbox", timing=Timing(lro_seconds=0.0, lro_retry_after=0))
        try:
            target = target_of(sb, keep=True)
            with ThreadPoolExecutor(max_workers=4) as workers:
                done = workers.map(lambda f: pools.deploy(config.load(f), target, lambda plan: True), files)
                assert all(d["applied"] for d in done)
            endpoints.write(sb)
            sb.configure(faults=f"*=latency:{LATENCY}")
            cli = ["--sandbox", "--sandbox-dir", str(sb.state_dir), "status"]
            peak = root / "peak"
            one: list[tuple[float, float]] = []
            many: list[tuple[float, float]] = []
            _timed([*cli, "-f", str(files[0])], peak)  # warm the file cache and bytecode
            for _ in range(RUNS):
                one.append(_timed([*cli, "-f", str(files[0])], peak))
                many.append(_timed([*cli, *(a for f in files for a in ("-f", str(f)))], peak))
        finally:
            sb.stop()
    return _figures(one, many)


def _figures(one: list[tuple[float, float]], many: list[tuple[float, float]]) -> dict[str, Any]:
    t1 = statistics.median(s for s, _ in one)
    tn = statistics.median(s for s, _ in many)
    return {
        "status_fleet_ratio": round(tn / t1, 3),
        "status_one_seconds": round(t1, 2),
        "status_fleet_seconds": round(tn, 2),
        "status_one_peak_rss_mb": round(max(m for _, m in one), 1),
        "status_fleet_peak_rss_mb": round(max(m for _, m in many), 1),
    }
