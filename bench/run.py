"""Benchmarks: `make bench` prints a table and writes bench/results.json.

Each figure is a ratio (or a count) measured in one run on this machine, never a timed
assertion in the tests. Add a benchmark by writing a function that returns a dict of figures
and listing it in BENCHMARKS.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _median_runtime(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold_start(runs: int = 15) -> dict[str, float]:
    """`agentctl --help` against `python -c "import click, rich.console"`, interleaved."""
    baseline = [sys.executable, "-c", "import click, rich.console"]
    cli = [sys.executable, "-m", "agentctl", "--help"]
    _median_runtime(cli, 2)  # warm the file cache and bytecode
    base_t, cli_t = [], []
    for _ in range(runs):
        base_t.append(_median_runtime(baseline, 1))
        cli_t.append(_median_runtime(cli, 1))
    b, c = statistics.median(base_t), statistics.median(cli_t)
    return {
        "cold_start_ratio": round(c / b, 3),
        "cold_start_ms": round(c * 1000, 1),
        "baseline_ms": round(b * 1000, 1),
    }


def sandbox_start(runs: int = 5) -> dict[str, float]:
    """`agentctl sandbox serve`: seconds from launch to its endpoints line (interpreter included),
    and the in-process `sandbox.start()` on a fresh state dir (CA and world generated)."""
    import signal
    import tempfile

    from agentctl import sandbox

    launch, inproc = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "agentctl", "sandbox", "serve", "--dir", tmp],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            assert proc.stdout is not None
            proc.stdout.readline()
            launch.append(time.perf_counter() - start)
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            sb = sandbox.start(tmp)
            inproc.append(time.perf_counter() - start)
            sb.stop()
    return {
        "sandbox_serve_ready_seconds": round(statistics.median(launch), 3),
        "sandbox_start_seconds": round(statistics.median(inproc), 3),
    }


def peak_rss() -> dict[str, float]:
    """Peak resident memory of this process (which ran the in-process benchmarks), in MiB."""
    import resource

    return {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


sys.path[:0] = [str(HERE), str(REPO / "tests")]
from deploy import deploy_lro, fleet_apply  # noqa: E402
from fleet import status_fleet  # noqa: E402
from wait import wait_polling  # noqa: E402

BENCHMARKS: list[Callable[[], dict[str, float]]] = [
    cold_start,
    sandbox_start,
    deploy_lro,
    fleet_apply,
    status_fleet,
    wait_polling,
    peak_rss,
]


def main() -> None:
    results: dict[str, float] = {}
    for bench in BENCHMARKS:
        results.update(bench())
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
