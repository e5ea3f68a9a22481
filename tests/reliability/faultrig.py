"""A sandbox served from the test process, reached by the CLI as a running server.

    rig = Rig(tmp_path)                 # sandbox with fast LROs, endpoints.json written
    rig.faults("arm.vmss.put=429:1,count=1")
    code, doc = rig.cli("deploy-pool", "--yes")
    rig.snapshot()                      # what exists, normalised: a Counter of lines

``Tripwire`` is the rig's fault plan: besides the injected faults, it calls a hook when a
request for an operation arrives (before the handler runs), so a test can kill a CLI process
at an exact step. ``spawn`` runs the CLI in a child process forked from a server that has
imported the SDKs once, so killing one costs milliseconds instead of a cold start.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import multiprocessing
import os
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentctl import sandbox
from agentctl.cli import run
from agentctl.sandbox import endpoints
from agentctl.sandbox.faults import REQUEST_KINDS, FaultPlan, Timing, parse
from testlib import EXAMPLE_POOL, is_write

# LROs end at the first poll, and their Retry-After: 0 makes the client poll at once.
FAST = Timing(lro_seconds=0.0, lro_retry_after=0, scale_delay=0.05, node_idle_delay=0.1)
FAULT_STATUSES = (None, 429, 500, 503)  # None: the connection was dropped
ELASTIC_SETTINGS = ("maxCapacity", "desiredIdle", "timeToLiveMinutes", "recycleAfterEachUse")
PRELOAD = [  # what a CLI run imports (the forkserver skips names that do not import)
    "agentctl.cli.pool",
    "agentctl.kubeconfig",
    "agentctl.pools",
    "agentctl.kinds",
    "azure.core.pipeline.transport",
    "azure.core.rest._requests_basic",
    "azure.devops.client",
    "azure.mgmt.authorization.v2022_04_01",
    "azure.mgmt.compute",
    "azure.mgmt.containerregistry",
    "azure.mgmt.containerservice",
    "azure.mgmt.msi.v2024_11_30",
    "azure.mgmt.network",
    "azure.mgmt.privatedns",
    "azure.mgmt.resource.resources",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.ciphers",
    "cryptography.hazmat.primitives.serialization",
    "cryptography.x509",
    "faultrig",
]


@dataclass
class Tripwire(FaultPlan):
    """A fault plan that also reports each arriving request's operation to ``hook``."""

    hook: Callable[[str], None] | None = None

    def pick(self, operation: str, kinds: Any) -> list[Any]:
        if self.hook is not None and tuple(kinds) == REQUEST_KINDS:
            self.hook(operation)
        return super().pick(operation, kinds)


class Rig:
    def __init__(self, root: Path, pool_text: str | None = None) -> None:
        self.root = root
        self.dir = root / "sandbox"
        self.pool = root / "pool.yaml"
        root.mkdir(parents=True, exist_ok=True)
        self.pool.write_text(pool_text or EXAMPLE_POOL.read_text())
        self.plan = Tripwire()
        self.sb = sandbox.start(self.dir, faults=self.plan, timing=FAST)
        endpoints.write(self.sb)

    def stop(self) -> None:
        self.plan.hook = None
        self.sb.stop()

    def faults(self, rules: str) -> None:
        """Replace the injected faults (counts start afresh); '' for none."""
        self.plan.faults[:] = parse([rules]).faults

    def argv(self, *args: str, pool: Path | None = None) -> list[str]:
        command, *rest = args
        where = ["--sandbox", "--sandbox-dir", str(self.dir), "-o", "json"]
        return [*where, command, "-f", str(pool or self.pool), *rest]

    def cli(self, *args: str, pool: Path | None = None) -> tuple[int, dict[str, Any]]:
        """Run ``agentctl -o json COMMAND -f POOL ARGS`` in this process (POOL: the rig's)."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(self.argv(*args, pool=pool))
        assert "Traceback" not in out.getvalue() + err.getvalue(), err.getvalue()
        return code, json.loads(out.getvalue())

    def mark(self) -> int:
        return len(self.sb.exchanges)

    def since(self, mark: int) -> list[dict[str, Any]]:
        return [e for e in self.sb.exchanges[mark:] if e["service"] != "entra"]

    def snapshot(self) -> Counter[str]:
        self.sb.flush()
        return snapshot(self.dir)


def cell(fault: str, command: str, retried: int | None = None, failed_step: str = "") -> dict[str, Any]:
    """A fault matrix cell, recorded as the ``matrix`` user property (see conftest.py)."""
    return {"fault": fault, "command": command, "retries": retried, "failed_step": failed_step}


def retries(exchanges: list[dict[str, Any]]) -> int:
    """Requests sent again after a faulted answer (429, 500, 503 or a dropped connection)."""
    count = 0
    for i, e in enumerate(exchanges):
        if e["status"] in FAULT_STATUSES:
            same = (e["method"], e["path"], json.dumps(e["query"], sort_keys=True))
            count += any(
                (later["method"], later["path"], json.dumps(later["query"], sort_keys=True)) == same
                for later in exchanges[i + 1 :]
            )
    return count


def writes(exchanges: list[dict[str, Any]]) -> list[str]:
    return [f"{e['method']} {e['path']}" for e in exchanges if is_write(e)]


# --- clean runs to compare with -----------------------------------------------------------------

COMMANDS = ("deploy-pool", "status", "destroy")
TIMING_DEPENDENT = {"pool": ("nodes", "state", "offlineSince"), "scaleSet": ("capacity", "instances")}


@dataclass
class Reference:
    """What a clean run of a command sent and left."""

    snapshot: Counter[str]
    operations: list[str]  # every operation it sent, in first-seen order
    writes: list[str]  # the operations of its writes, in order, repeats kept
    status: dict[str, Any]  # status's data, normalised (status only)


def args(command: str) -> tuple[str, ...]:
    return (command,) if command == "status" else (command, "--yes")


def stable(data: dict[str, Any]) -> dict[str, Any]:
    """Status data without what Azure DevOps changes on its own clock (nodes, capacity, logs)."""
    out = {k: v for k, v in data.items() if k != "logs"}
    for part, keys in TIMING_DEPENDENT.items():
        out[part] = {k: v for k, v in data[part].items() if k not in keys}
    return out


def references(root: Path) -> dict[str, Reference]:
    """Clean runs of deploy-pool, status and destroy, one after the other, on a fresh sandbox."""
    rig = Rig(root)
    refs: dict[str, Reference] = {}
    try:
        for command in COMMANDS:
            mark = rig.mark()
            code, doc = rig.cli(*args(command))
            assert code == 0, doc
            sent = rig.since(mark)
            ops = list(dict.fromkeys(e["operation"] for e in sent))
            wrote = [e["operation"] for e in sent if is_write(e)]
            data = stable(doc["data"]) if command == "status" else {}
            refs[command] = Reference(rig.snapshot(), ops, wrote, data)
    finally:
        rig.stop()
    assert not duplicates(refs["deploy-pool"].snapshot), duplicates(refs["deploy-pool"].snapshot)
    return refs


def converge(rig: Rig, command: str, ref: Reference) -> None:
    """The command, run again without faults, ends where the clean run did."""
    code, doc = rig.cli(*args(command))
    assert code == 0, doc
    snap = rig.snapshot()
    assert not duplicates(snap), duplicates(snap)
    assert snap == ref.snapshot, (snap - ref.snapshot, ref.snapshot - snap)
    if command == "status":
        assert stable(doc["data"]) == ref.status, (stable(doc["data"]), ref.status)


# --- the normalised end state ------------------------------------------------------------------


def snapshot(state_dir: Path) -> Counter[str]:
    """One line per resource that matters, ids replaced by names, timing-dependent values left
    out (instances, capacity, node counts: Azure DevOps changes them on its own clock). A
    duplicate shows as a count of 2."""
    st = json.loads((state_dir / "state.json").read_text())
    dv = st["devops"]
    endpoint_names = {eid: ep["name"] for eid, ep in dv.get("endpoints", {}).items()}
    pools = {str(pid): p["name"] for pid, p in dv.get("pools", {}).items()}
    envs = {str(eid): e["name"] for eid, e in dv.get("environments", {}).items()}

    def named(text: str) -> str:
        for key, name in endpoint_names.items():
            text = text.replace(key, f"<{name}>")
        return text

    out: Counter[str] = Counter()
    for rid, r in st["arm"].items():
        if "/virtualmachines/" in rid:
            continue
        props = r.get("properties") or {}
        tags = sorted((r.get("tags") or {}).items())
        line = f"arm {rid} state={props.get('provisioningState')} tags={tags}"
        if "issuer" in props:
            line += named(f" issuer={props['issuer']} subject={props['subject']}")
        if "virtualMachineProfile" in props:
            line += f" model={_model(props['virtualMachineProfile'])} sku={r['sku']['name']}"
        out[line] += 1
    for ra in st.get("roleAssignments", {}).values():
        p = ra["properties"]
        out[f"role {p['scope']} {p['roleDefinitionId']} {p['principalId']} {p.get('description')}"] += 1
    for ep in dv.get("endpoints", {}).values():
        scheme = ep["authorization"]["scheme"]
        out[f"endpoint {ep['name']} {ep['type']} {scheme} {ep.get('description')}"] += 1
    for p in dv.get("pools", {}).values():
        out[f"pool {p['name']} {p.get('options')}"] += 1
    for q in dv.get("queues", {}).values():
        out[f"queue {q['projectId']} {q['name']} pool={q['pool']['name']}"] += 1
    for e in dv.get("elasticPools", {}).values():
        settings = {k: e[k] for k in ELASTIC_SETTINGS}
        pool, ep = pools.get(str(e["poolId"])), endpoint_names.get(e["serviceEndpointId"])
        out[f"elastic {pool} {e['azureId'].lower()} {ep} {settings}"] += 1
    for e in dv.get("environments", {}).values():
        out[f"environment {e['name']} {e.get('description')}"] += 1
    for c in dv.get("checks", {}).values():
        res = c["resource"]
        target = envs.get(str(res["id"]), "?") if res["type"] == "environment" else res["id"]
        settings = json.dumps(c.get("settings"), sort_keys=True)
        out[f"check {res['type']} {target} {c['type']['name']} {settings}"] += 1
    for key, perm in dv.get("permissions", {}).items():
        out[named(f"permission {key} {json.dumps(perm, sort_keys=True)}")] += 1
    return out


def _model(profile: dict[str, Any]) -> str:
    """The scale set model without the SSH key (a throwaway key differs on every run)."""
    doc = json.loads(json.dumps(profile))
    ssh = (doc.get("osProfile") or {}).get("linuxConfiguration", {}).get("ssh") or {}
    for key in ssh.get("publicKeys", []):
        key["keyData"] = "<key>"
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]


def duplicates(snap: Counter[str]) -> list[str]:
    return [line for line, n in snap.items() if n > 1]


# --- CLI processes: forked from a server that imported the SDKs once --------------------------------

_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(PRELOAD)


def _child(argv: list[str], env: dict[str, str], out: str) -> None:
    os.environ.update(env)
    tempfile.tempdir = None  # TMPDIR may have changed: ask again
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.exit(run(argv))


def spawn(argv: list[str], out: Path, env: dict[str, str] | None = None) -> Any:
    """Start ``agentctl ARGV`` in a child process (a multiprocessing Process) with ``env`` added;
    its stdout and stderr go to ``out``."""
    proc = _FORKS.Process(target=_child, args=(argv, env or {}, str(out)))
    proc.start()
    return proc


class Killer:
    """Runs the CLI in a child process and SIGKILLs it when the n-th request of ``operation``
    arrives at the sandbox, before the sandbox handles it (so the write lands, the answer never)."""

    def __init__(self, rig: Rig, operation: str, nth: int = 1) -> None:
        self.rig, self.operation, self.left = rig, operation, nth
        self.proc: Any = None
        self.fired = threading.Event()
        self._lock = threading.Lock()

    def _hook(self, operation: str) -> None:
        with self._lock:
            if operation != self.operation or self.fired.is_set() or self.proc is None:
                return
            self.left -= 1
            if self.left == 0:
                self.proc.kill()  # the request goes on: the sandbox handles it, nobody reads the answer
                self.fired.set()

    def run(self, *args: str, timeout: float = 60) -> int:
        """The child's exit code (-9 when killed)."""
        self.rig.plan.hook = self._hook
        try:
            self.proc = spawn(self.rig.argv(*args), self.rig.root / "child.out")
            self.proc.join(timeout)
        finally:
            self.rig.plan.hook = None
        if self.proc.exitcode is None:
            self.proc.kill()
            self.proc.join(5)
        return int(self.proc.exitcode)
