"""Inside a simulated scale set instance: its log files, the pipelines agent extension's status,
and VM Run Command.

The simulated Azure DevOps writes what the agent extension and the agent would log into each
instance's files (``write``) and sets the extension's status (``set_extension``); the instance
view reports that status. Run Command runs the script it is sent with ``bash`` in a temporary
folder, with a minimal environment, a time limit, and a ``PATH`` that starts with shims of the
network and file tools a script reads the VM with (``SHIMS``). The shims answer from a snapshot
of the world's network (``netmodel``: DNS zones and links, NSG rules, routes, NAT) and of the
instance's files, so a change made through ARM changes their answers. Nothing else of the host
is hidden: the script is the caller's, and the sandbox runs it only for a caller holding the
sandbox token on loopback.

The shims: ``getent hosts|ahosts|ahostsv4 NAME``; ``curl`` (``-s -S -o FILE -w FORMAT
--connect-timeout N -m N``, an ``https://`` URL; exit codes 6 cannot resolve, 28 timed out;
``-w`` knows ``%{http_code} %{remote_ip} %{time_namelookup} %{time_connect} %{time_appconnect}
%{time_total} %{ssl_verify_result} %{exitcode}``); ``tail [-q] -n N|-c N FILE...`` (glob patterns
match the instance's files). Run as ``python -m agentctl.sandbox.guest TOOL ARGS``.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentctl.sandbox import netmodel
from agentctl.sandbox.http import iso

State = dict[str, Any]
SHIMS = ("getent", "curl", "tail")
TIME_LIMIT = 60.0  # seconds a script may run
OUTPUT_CAP = 4096  # Run Command returns the last 4096 bytes of each of stdout and stderr
EXTENSION_TYPE = "Microsoft.VisualStudio.Services.TeamServicesAgentLinux"
EXTENSION_LOG = "/var/log/azure/Microsoft.VisualStudio.Services.TeamServicesAgentLinux/extension.log"
AGENT_DIAG = "/agent/_diag"
MAX_LINES = 400  # lines kept per simulated file


def _records(st: State) -> dict[str, Any]:
    section: dict[str, Any] = st.setdefault("guest", {})
    return section


def record(st: State, vm_id: str) -> dict[str, Any]:
    """An instance's files and extension status (made empty on first use)."""
    rec: dict[str, Any] = _records(st).setdefault(vm_id.lower(), {"files": {}, "extension": None})
    return rec


def forget(st: State, vm_ids: list[str]) -> None:
    for vm_id in vm_ids:
        _records(st).pop(vm_id.lower(), None)


def write(st: State, vm_id: str, path: str, lines: list[str], now: float) -> None:
    """Append log lines, stamped as the agent and the extension stamp theirs."""
    stamp = iso(now).replace("+00:00", "Z")
    files: dict[str, str] = record(st, vm_id)["files"]
    kept = (files.get(path, "") + "".join(f"{stamp} {line}\n" for line in lines)).splitlines(keepends=True)
    files[path] = "".join(kept[-MAX_LINES:])


def diag_log(now: float) -> str:
    """The agent's ``_diag`` log of a run started at ``now`` (Agent_YYYYMMDD-HHMMSS-utc.log)."""
    stamp = iso(now)
    return f"{AGENT_DIAG}/Agent_{stamp[:10].replace('-', '')}-{stamp[11:19].replace(':', '')}-utc.log"


def set_extension(st: State, vm_id: str, state: str, message: str, now: float) -> None:
    """``state``: transitioning | succeeded | failed."""
    record(st, vm_id)["extension"] = {"state": state, "message": message, "time": iso(now)}


def extension_views(st: State, vm: dict[str, Any]) -> list[dict[str, Any]]:
    """The instance view's ``extensions``: the agent extension's status, when it has one."""
    ext = record(st, vm["id"])["extension"] if vm["id"].lower() in _records(st) else None
    if not ext:
        return []
    name = next(
        (
            r["name"]
            for r in vm.get("resources") or []
            if str((r.get("properties") or {}).get("type", "")).endswith("TeamServicesAgentLinux")
        ),
        "Microsoft.Azure.DevOps.Pipelines.Agent",
    )
    level = "Error" if ext["state"] == "failed" else "Info"
    display = {"transitioning": "Transitioning", "succeeded": "Provisioning succeeded"}.get(
        ext["state"], "Provisioning failed"
    )
    return [
        {
            "name": name,
            "type": EXTENSION_TYPE,
            "typeHandlerVersion": "1.23.0.0",
            "statuses": [
                {
                    "code": f"ProvisioningState/{ext['state']}",
                    "level": level,
                    "displayStatus": display,
                    "message": ext["message"],
                    "time": ext["time"],
                }
            ],
        }
    ]


# --- Run Command ---------------------------------------------------------------------------------


def _network_snapshot(st: State) -> dict[str, Any]:
    """What the shims need of the state: the network and DNS resources, nothing else (no secret)."""
    keep = ("microsoft.network/",)
    arm = {k: v for k, v in (st.get("arm") or {}).items() if str(v.get("type", "")).lower().startswith(keep)}
    return {"arm": arm}


def run(st: State, vm: dict[str, Any], vmss: dict[str, Any], script: list[str]) -> tuple[int, str, str]:
    """Run ``script`` (lines) as RunShellScript runs it: (exit status, stdout, stderr), each
    output cut to its last ``OUTPUT_CAP`` bytes."""
    subnet, nic_nsg = netmodel.scale_set_network(vmss)
    with tempfile.TemporaryDirectory(prefix="agentctl-runcommand-") as tmp:
        root = Path(tmp)
        shims = root / "bin"
        shims.mkdir()
        world = root / "world.json"
        world.write_text(
            json.dumps(
                {
                    "state": _network_snapshot(st),
                    "subnet": subnet,
                    "nicNsg": nic_nsg,
                    "files": record(st, vm["id"])["files"],
                }
            )
        )
        world.chmod(0o600)
        for tool in SHIMS:
            shim = shims / tool
            shim.write_text(
                f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m agentctl.sandbox.guest {tool} "$@"\n'
            )
            shim.chmod(0o700)
        path = root / "script.sh"
        path.write_text("\n".join(script) + "\n")
        work = root / "work"
        work.mkdir()
        env = {
            "PATH": f"{shims}:/usr/bin:/bin",
            "HOME": str(work),
            "LANG": "C.UTF-8",
            "AGENTCTL_GUEST_WORLD": str(world),
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        try:
            done = subprocess.run(
                ["bash", str(path)],
                cwd=work,
                env=env,
                capture_output=True,
                timeout=TIME_LIMIT,
                start_new_session=True,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace")
            return 124, _tail(out), f"the script ran longer than {TIME_LIMIT:g} s and was stopped\n"
        out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
        return done.returncode, _tail(out), _tail(err)


def _tail(text: str) -> str:
    data = text.encode()
    return data[-OUTPUT_CAP:].decode(errors="ignore") if len(data) > OUTPUT_CAP else text


def result(status: int, out: str, err: str) -> dict[str, Any]:
    """A RunCommandResult as Linux RunShellScript reports it: one status whose message holds
    both outputs."""
    ok = status == 0
    head = "Enable succeeded: " if ok else f"Enable failed: command terminated with exit status={status}"
    return {
        "value": [
            {
                "code": f"ProvisioningState/{'succeeded' if ok else 'failed'}",
                "level": "Info" if ok else "Error",
                "displayStatus": f"Provisioning {'succeeded' if ok else 'failed'}",
                "message": f"{head}\n[stdout]\n{out}\n[stderr]\n{err}",
            }
        ]
    }


# --- the shims ---------------------------------------------------------------------------------


def _load() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(Path(os.environ["AGENTCTL_GUEST_WORLD"]).read_text())
    return doc


def _vnet(world: dict[str, Any]) -> str:
    return str(world.get("subnet") or "").rsplit("/subnets/", 1)[0]


def getent(args: list[str]) -> int:
    if len(args) < 2 or args[0] not in ("hosts", "ahosts", "ahostsv4"):
        sys.stderr.write("getent: the sandbox offers: getent hosts|ahosts|ahostsv4 NAME...\n")
        return 1
    world = _load()
    found_any = False
    for name in args[1:]:
        addresses = netmodel.resolve(world["state"], _vnet(world), name).addresses
        if not addresses:
            continue
        found_any = True
        for i, address in enumerate(addresses):
            if args[0] == "hosts":
                sys.stdout.write(f"{address:<15} {name}\n")
                continue
            for kind in ("STREAM", "DGRAM", "RAW"):
                label = f" {name}" if kind == "STREAM" and i == 0 else ""
                sys.stdout.write(f"{address:<15} {kind}{label}\n")
    return 0 if found_any else 2


_VALUE_OPTIONS = {
    "-o", "--output", "-w", "--write-out", "-m", "--max-time", "--connect-timeout",
    "-H", "--header", "-X", "--request", "-A", "--user-agent", "--retry",
}  # fmt: skip


def curl(args: list[str]) -> int:
    opts: dict[str, str] = {}
    url = ""
    i = 0
    while i < len(args):
        a = args[i]
        if a in _VALUE_OPTIONS and i + 1 < len(args):
            opts[a] = args[i + 1]
            i += 2
            continue
        if not a.startswith("-"):
            url = a
        elif not a.startswith("--") and len(a) > 2 and a[-1] in "ow" and a[1:-1].isalpha():
            opts[f"-{a[-1]}"] = args[i + 1] if i + 1 < len(args) else ""  # -sSo FILE
            i += 1
        i += 1
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    silent_errors = "-s" in args and not any(a in args for a in ("-S", "--show-error", "-sS", "-Ss"))
    world = _load()
    found = netmodel.resolve(world["state"], _vnet(world), host)
    fields = {"http_code": "000", "remote_ip": "", "ssl_verify_result": "0"}
    times = {"time_namelookup": 0.004, "time_connect": 0.0, "time_appconnect": 0.0, "time_total": 0.0}
    code, message = 0, ""
    if not found.addresses:
        code, message = 6, f"Could not resolve host: {host}"
    else:
        verdict = netmodel.reach(world["state"], world["subnet"], host, port, world.get("nicNsg"))
        limit = float(opts.get("--connect-timeout") or opts.get("-m") or opts.get("--max-time") or 300)
        if not verdict.ok:
            code, message = 28, f"Connection timed out after {int(limit * 1000) + 1} milliseconds"
            times["time_total"] = limit
        else:
            private = found.zone is not None
            fields.update(http_code="200", remote_ip=found.addresses[0])
            connect = 0.002 if private else 0.018
            times.update(
                time_connect=times["time_namelookup"] + connect,
                time_appconnect=times["time_namelookup"] + 3 * connect,
                time_total=times["time_namelookup"] + 4 * connect,
            )
    fields["exitcode"] = str(code)
    if message and not silent_errors:
        sys.stderr.write(f"curl: ({code}) {message}\n")
    out = opts.get("-o") or opts.get("--output")
    if code == 0 and out and out != "/dev/null":
        Path(out).write_text("")
    fmt = opts.get("-w") or opts.get("--write-out")
    if fmt:
        text = fmt.replace("\\n", "\n").replace("\\t", "\t")
        for key, value in {**fields, **{k: f"{v:.6f}" for k, v in times.items()}}.items():
            text = text.replace("%{" + key + "}", value)
        sys.stdout.write(text)
    return code


def tail(args: list[str]) -> int:
    count, by_bytes, quiet, names = 10, False, False, []
    i = 0
    while i < len(args):
        if args[i] in ("-n", "-c") and i + 1 < len(args):
            count, by_bytes = int(args[i + 1].lstrip("+")), args[i] == "-c"
            i += 2
            continue
        if args[i] in ("-q", "--quiet", "--silent"):
            quiet = True
        else:
            names.append(args[i])
        i += 1
    files: dict[str, str] = _load()["files"]
    matched: list[str] = []
    status = 0
    for name in names:
        hits = (
            sorted(f for f in files if fnmatch.fnmatchcase(f, name)) if any(c in name for c in "*?[") else []
        )
        hits = hits or ([name] if name in files else [])
        if not hits:
            sys.stderr.write(f"tail: cannot open '{name}' for reading: No such file or directory\n")
            status = 1
        matched += hits
    for n, path in enumerate(matched):
        if len(matched) > 1 and not quiet:
            sys.stdout.write(f"{'' if n == 0 else chr(10)}==> {path} <==\n")
        text = files[path]
        if by_bytes:
            sys.stdout.write(text.encode()[-count:].decode(errors="ignore"))
        else:
            sys.stdout.write("".join(text.splitlines(keepends=True)[-count:]) if count else "")
    return status


def main(argv: list[str]) -> int:
    tools = {"getent": getent, "curl": curl, "tail": tail}
    if not argv or argv[0] not in tools:
        sys.stderr.write(f"usage: python -m agentctl.sandbox.guest {'|'.join(tools)} ARGS\n")
        return 2
    return tools[argv[0]](argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
