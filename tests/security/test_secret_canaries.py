"""Secret canaries: every command, with --debug, as text and as JSON, with known secret values
around it; none of them may show up where a user, a log collector or another process can read.

Secrets and where they come from:
- a PAT in ``AZDO_PAT`` (every run has it; the adapter test below sends it);
- the sandbox's client secret and every bearer token it minted (read back from its unredacted
  exchanges);
- the cluster credentials the sandbox made for aks-dev (client certificate, key, token) and the
  base64 kubeconfig AKS returned, as the CLI fetches them for the Kubernetes connection;
- any private key (the throwaway SSH key agentctl makes for the scale set, a kubeconfig key).

Places searched: stdout and stderr, the sandbox's access log and endpoints file, every file left
in the run's TMPDIR and HOME and lease folder, the Azure DevOps SDK's cache, and the command line
of any process a command starts.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from faultrig import Rig, spawn

from agentctl.cloud import Target, target_of
from agentctl.devops import DevOps
from agentctl.errors import AuthError
from agentctl.sandbox import connect

PAT = "canary-pat-" + secrets.token_hex(16)
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
SERVER_FILES = {"state.json", "credentials.json", "ca-key.pem", "server.pem"}  # the emulated cloud's own
VARIANTS = {"debug-text": ["--debug"], "debug-json": ["--debug", "-o", "json"]}


def squeeze(text: str) -> str:
    """Text without whitespace or JSON-escaped newlines, so wrapped base64 still matches."""
    return re.sub(r"\s+", "", text.replace("\\n", "").replace("\\r", ""))


def pem_markers(pem: str) -> list[str]:
    """Slices of a PEM's body, as text and as the base64 a kubeconfig holds (headers left out:
    they are alike for every key)."""
    body = squeeze("".join(line for line in pem.splitlines() if not line.startswith("-----")))
    encoded = base64.b64encode(pem.encode()).decode()
    return [body[-40:-8], encoded[len(encoded) // 2 : len(encoded) // 2 + 32]]


def token_markers(jwt: str) -> list[str]:
    return [part for part in jwt.split(".")[1:] if len(part) >= 16]


class Canary:
    """Secrets to look for, and the places to look in."""

    def __init__(self) -> None:
        self.markers: dict[str, str] = {PAT: "AZDO_PAT", base64.b64encode(f":{PAT}".encode()).decode(): "PAT"}
        self.places: list[Path] = []
        self.child_args: list[str] = []

    def add(self, what: str, *values: str) -> None:
        for value in values:
            if value:
                self.markers[squeeze(value)] = what

    def from_sandbox(self, rig: Rig) -> None:
        state = json.loads((rig.dir / "state.json").read_text())
        for creds in state.get("aksCredentials", {}).values():
            self.add("cluster token", creds["token"])
            self.add("cluster client key", *pem_markers(creds["key"]))
            self.add("cluster client certificate", *pem_markers(creds["cert"]))
        self.add("sandbox client secret", rig.sb.client_secret)
        self.add("sandbox token", *token_markers(rig.sb.token))
        for e in rig.sb.exchanges:
            body = e.get("response") if isinstance(e.get("response"), dict) else {}
            self.add("bearer token", *token_markers(str(body.get("access_token") or "")))
            for kc in body.get("kubeconfigs") or []:
                value = str(kc.get("value") or "")
                self.add("AKS kubeconfig (base64)", value[len(value) // 2 : len(value) // 2 + 40])

    def leaks(self) -> list[str]:
        found = []
        for path in self.places:
            files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
            for f in files:
                if f.name in SERVER_FILES:
                    continue
                raw = f.read_text(errors="replace")
                text = squeeze(raw)
                found += [f"{what} in {f}" for marker, what in self.markers.items() if marker in text]
                found += [f"a private key in {f}"] * bool(PRIVATE_KEY.search(raw))
        for args in self.child_args:
            found += [
                f"{what} in a child's arguments" for m, what in self.markers.items() if m in squeeze(args)
            ]
        return found


def children_of(pid: int) -> list[str]:
    """The command lines of the processes whose parent is ``pid``."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(
                    (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
        except (OSError, IndexError, ValueError):
            continue
    return out


def run(rig: Rig, canary: Canary, name: str, argv: list[str]) -> int:
    """agentctl ARGV in a child process with its own TMPDIR, HOME and lease folder, all searched
    afterwards; while it runs, its children's command lines are collected."""
    home = rig.root / "runs" / name
    tmp, run_dir = home / "tmp", home / "run"
    for d in (tmp, run_dir):
        d.mkdir(parents=True, mode=0o700)
    out = home / "output.txt"
    env = {"AZDO_PAT": PAT, "TMPDIR": str(tmp), "HOME": str(home), "XDG_RUNTIME_DIR": str(run_dir)}
    proc = spawn(argv, out, env)
    seen: set[str] = set()
    while proc.is_alive():
        seen.update(children_of(proc.pid))
        time.sleep(0.005)
    proc.join()
    canary.child_args += sorted(seen)
    canary.places += [home]
    return int(proc.exitcode)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_no_command_leaks_a_secret(tmp_path: Path, variant: str) -> None:
    rig = Rig(tmp_path)
    canary = Canary()
    flags = VARIANTS[variant]
    base = ["--sandbox", "--sandbox-dir", str(rig.dir), *flags]
    pool = str(rig.pool)
    codes: dict[str, int] = {}
    try:
        codes["init"] = run(rig, canary, "init", [*flags, "init", str(tmp_path / "new-pool.yaml")])
        codes["validate"] = run(rig, canary, "validate", [*flags, "validate", "-f", pool])
        codes["plan"] = run(rig, canary, "plan", [*base, "plan", "-f", pool])
        deploy = [*base, "deploy-pool", "-f", pool, "--yes", "--wait", "--timeout", "2m"]
        codes["deploy-pool"] = run(rig, canary, "deploy", deploy)
        codes["wait"] = run(rig, canary, "wait", [*base, "wait", "-f", pool, "--timeout", "2m"])
        codes["status"] = run(rig, canary, "status", [*base, "status", "-f", pool])
        codes["doctor"] = run(rig, canary, "doctor", [*base, "doctor", "--probe", "-f", pool])
        _plant_in_vm_logs(rig, f"[INFO] ./config.sh --auth pat --token {PAT} --pool private-agents")
        codes["diagnose"] = run(rig, canary, "diagnose", [*base, "diagnose", "-f", pool])
        codes["image list"] = run(rig, canary, "image", [*base, "image", "list", "-f", pool])
        roll = [*base, "image", "roll", "-f", pool, "--latest", "--recycle-idle", "--yes"]
        codes["image roll"] = run(rig, canary, "roll", roll)
        codes["image prune"] = run(
            rig, canary, "prune", [*base, "image", "prune", "--keep", "1", "-f", pool, "--yes"]
        )
        codes["schema"] = run(rig, canary, "schema", [*flags, "schema"])
        at = ["--at", "2026-12-07T09:00:00Z"]
        codes["standby"] = run(rig, canary, "standby", [*base, "standby", "-f", pool, *at])
        codes["standby show"] = run(rig, canary, "standby-show", [*base, "standby", "show", "-f", pool])
        report = tmp_path / "software-report.json"
        report.write_text('{"image": {"version": "2026.1129.1"}, "tools": []}')
        codes["image diff"] = run(rig, canary, "diff", [*flags, "image", "diff", str(report), str(report)])
        canary.from_sandbox(rig)  # the cluster credentials exist once deploy-pool fetched them
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_bytes(_user_kubeconfig(rig).replace(b"\n", b"\r\n"))
        codes["kubeconfig check"] = run(
            rig, canary, "kubeconfig", [*flags, "kubeconfig", "check", str(kubeconfig)]
        )
        codes["destroy"] = run(rig, canary, "destroy", [*base, "destroy", "-f", pool, "--yes"])
        canary.from_sandbox(rig)  # and every token minted since
        reset = [*flags, "sandbox", "reset", "--dir", str(tmp_path / "other-sandbox")]
        codes["sandbox reset"] = run(rig, canary, "reset", reset)
    finally:
        rig.stop()
    assert codes == {
        "init": 0,
        "validate": 0,
        "plan": 2,
        "deploy-pool": 0,
        "wait": 0,
        "status": 0,
        "doctor": 0,
        "diagnose": 0,
        "image list": 0,
        "image roll": 0,
        "image prune": 0,
        "schema": 0,
        "standby": 0,
        "standby show": 0,
        "image diff": 0,
        "kubeconfig check": 3,
        "destroy": 0,
        "sandbox reset": 0,
    }, codes
    # every command there is ran here, but `sandbox serve` (its own test is below)
    assert set(codes) | {"sandbox serve"} == set(_every_command()), set(_every_command()) ^ set(codes)
    canary.places += [rig.dir, Path(os.environ["AZURE_DEVOPS_CACHE_DIR"])]
    assert len(canary.markers) >= 10  # PAT, client secret, tokens, cluster key, certificate, token...
    assert canary.leaks() == []
    # The searches can find what they look for: the runs' own output names the pool, and the
    # user's kubeconfig (not searched: it is theirs) holds the cluster key.
    assert "private-agents" in (rig.root / "runs" / "status" / "output.txt").read_text()
    assert "--token ***REDACTED***" in (rig.root / "runs" / "diagnose" / "output.txt").read_text()
    assert any(m in squeeze(kubeconfig.read_text()) for m, what in canary.markers.items() if "key" in what)


def _plant_in_vm_logs(rig: Rig, line: str) -> None:
    """A secret in every VM's agent extension log, as a careless configuration script would leave
    it: diagnose reads these logs through Run Command and must not show it."""
    from agentctl.sandbox import guest

    with rig.sb._server.app.store.transaction() as st:
        for rec in st.get("guest", {}).values():
            path = guest.EXTENSION_LOG
            rec["files"][path] = rec["files"].get(path, "") + line + "\n"


def _every_command() -> list[str]:
    """The name of every command the CLI has, subcommands of groups included."""
    import click

    from agentctl.cli import cli

    def walk(group: click.Group, prefix: str) -> list[str]:
        ctx = click.Context(group)
        names = []
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            full = f"{prefix}{name}"
            if isinstance(command, click.Group):
                names += [full] * command.invoke_without_command + walk(command, full + " ")
            else:
                names.append(full)
        return names

    return walk(cli, "")


def _user_kubeconfig(rig: Rig) -> bytes:
    """aks-dev's user kubeconfig, as `az aks get-credentials` would have written it."""
    from agentctl.azure import Arm

    sb = connect(rig.dir)
    assert sb is not None
    return Arm(target_of(sb, keep=False), sb.subscription_id).cluster_kubeconfig("rg-aks", "aks-dev", False)


def test_a_pat_is_never_shown_even_when_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The PAT path of the Azure DevOps adapter with HTTP debug logging on: the sandbox refuses
    Basic authentication (401), and neither the error, the logs nor the access log show the PAT."""
    from agentctl.logs import RedactingFilter, register_secret

    rig = Rig(tmp_path)
    try:
        sb = connect(rig.dir)
        assert sb is not None
        sandbox = target_of(sb, keep=False)
        register_secret(PAT)  # as cloud_target does with AZDO_PAT
        target = Target(
            sandbox.cloud, sandbox.devops_url, sandbox.credential, sandbox.ca_bundle, devops_pat=PAT
        )
        caplog.handler.addFilter(RedactingFilter())
        with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as err:
            DevOps(target, "platform").call("project.get", {"projectId": "platform"})
        canary = Canary()
        refused = [e for e in rig.sb.exchanges if e["status"] == 401]
        assert (
            refused
            and refused[0]["requestHeaders"]["authorization"]
            == "Basic " + base64.b64encode(f":{PAT}".encode()).decode()
        )  # the PAT was sent
        (tmp_path / "seen.txt").write_text(str(err.value.message) + "\n" + caplog.text)
        canary.places += [tmp_path / "seen.txt", rig.dir]
        assert canary.leaks() == []
    finally:
        rig.stop()


def test_sandbox_serve_prints_its_token_and_no_other_secret(tmp_path: Path) -> None:
    """Handing out a token for the emulator is what `sandbox serve` is for (its one JSON line names
    it, see docs/sandbox.md); the token goes to that line only, and no other secret goes anywhere."""
    state = tmp_path / "sandbox"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentctl", "--debug", "-o", "json", "sandbox", "serve", "--dir", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "AZDO_PAT": PAT},
        text=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True).start()
    deadline = time.monotonic() + 30
    while not (state / "endpoints.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    creds = json.loads((state / "credentials.json").read_text())
    assert creds["token"] in "".join(lines) and creds["devopsToken"] in "".join(lines)
    (tmp_path / "serve.txt").write_text("".join(lines) + err)
    (tmp_path / "serve-stderr.txt").write_text(err)
    canary = Canary()
    canary.add("PAT", PAT)
    canary.add("sandbox client secret", creds["clientSecret"])
    canary.add("sandbox signing key", creds["signingKey"])
    canary.places += [tmp_path / "serve.txt", state]
    assert canary.leaks() == []
    token = Canary()
    token.add("sandbox token", *token_markers(creds["token"]))
    token.add("sandbox Azure DevOps token", *token_markers(creds["devopsToken"]))
    token.places += [tmp_path / "serve-stderr.txt"]
    assert token.leaks() == []
