"""`deploy-pool --wait`, `agentctl wait` and `agentctl diagnose` on the sandbox's worlds, and the
pure parts of waiting and forensics with tables."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from doctor_helpers import Served

from agentctl import forensics, waiting
from agentctl.cli import run
from agentctl.cli.wait import duration
from agentctl.errors import UsageError
from agentctl.logs import REDACTED
from agentctl.output import Renderer
from agentctl.sandbox import Timing

# slow enough that a poll (0.25 s) sees every state: new, startingAgent, then idle or failed
STEPPED = Timing(lro_seconds=0.05, scale_delay=0.05, node_idle_delay=2.0)
STATES = ("new", "startingAgent", "idle")


def _cli(s: Served, capsys: Any, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["--sandbox", "--sandbox-dir", str(s.dir), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_deploy_wait_piped_shows_each_change_and_exits_0(served: Callable[..., Served], capsys: Any) -> None:
    s = served(None, STEPPED)
    code, out, err = _cli(s, capsys, "deploy-pool", "-f", str(s.pool), "--yes", "--wait", "--timeout", "60s")
    assert code == 0, out + err
    changes = re.findall(r"node (\S+): (?:(\w+) -> )?(\w+) \(after", err)
    assert [c[2] for c in changes] == list(STATES)  # one line per state change, in order
    assert [c[1] for c in changes] == ["", "new", "startingAgent"]
    assert "1 of 1 standby agent(s) online after" in out


def test_deploy_wait_on_a_terminal_draws_a_live_table(
    served: Callable[..., Served], capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    s = served(None, STEPPED)
    shown = io.StringIO()
    console = Console(file=shown, force_terminal=True, color_system=None, width=150)
    monkeypatch.setattr(Renderer, "err", property(lambda self: console))
    code, out, _ = _cli(s, capsys, "deploy-pool", "-f", str(s.pool), "--yes", "--wait", "--timeout", "1m")
    assert code == 0 and "1 of 1 standby agent(s) online" in out
    screen = shown.getvalue()
    assert "Waiting for agents" in screen and "\x1b[" in screen  # redrawn in place
    drawn = [state for state in STATES if re.search(rf"vmss-agents000000\s+│\s+{state}\s", screen)]
    assert drawn == list(STATES)
    assert "node vmss-agents000000:" not in screen  # no log lines on a terminal


def test_wait_json_is_one_envelope(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    assert _cli(s, capsys, "deploy-pool", "-f", str(s.pool), "--yes")[0] == 0
    code, out, err = _cli(s, capsys, "-o", "json", "wait", "-f", str(s.pool))
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "ok" and doc["data"]["status"] == "online"
    assert doc["data"]["desiredIdle"] == 1 and doc["data"]["nodes"][0]["state"] == "idle"
    assert "node " not in err


def test_no_standby_waits_for_nothing(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    s.pool.write_text(s.pool.read_text().replace("desiredIdle: 1", "desiredIdle: 0"))
    started = time.monotonic()
    code, out, _ = _cli(s, capsys, "deploy-pool", "-f", str(s.pool), "--yes", "--wait")
    assert code == 0
    assert "no standby agent is in force (desiredIdle 0); nothing to wait for." in out
    assert time.monotonic() - started < 30


def test_no_egress_world_exits_1_naming_the_download_host(served: Callable[..., Served], capsys: Any) -> None:
    s = served("no-egress.yaml", STEPPED)
    started = time.monotonic()
    code, out, _ = _cli(
        s, capsys, "-o", "json", "deploy-pool", "-f", str(s.pool), "--yes", "--wait", "--timeout", "1m"
    )
    assert time.monotonic() - started < 60
    doc = json.loads(out)
    assert code == 1 and doc["status"] == "error"
    wait = doc["data"]["wait"]
    assert wait["status"] == "failed" and "failedToStartPendingDelete" in wait["reason"]
    codes = [e["code"] for e in doc["errors"]]
    assert codes[0] == "wait.node_failed" and "cause.egress_download_blocked" in codes
    (node,) = wait["diagnosis"]["nodes"]
    assert [h["state"] for h in node["history"]] == ["new", "startingAgent", "failedToStartPendingDelete"]
    assert node["instance"]["extension"]["code"] == "ProvisioningState/failed"
    assert "curl: (28) Connection timed out" in wait["diagnosis"]["logs"]["output"]
    cause = wait["diagnosis"]["causes"][0]
    assert cause["code"] == "egress_download_blocked" and "download.agent.dev.azure.com" in cause["cause"]


def test_nsg_deny_through_arm_fails_the_wait(served: Callable[..., Served], capsys: Any) -> None:
    s = served(None, STEPPED)
    s.deny_outbound("deny-devops", "AzureDevOps", 100)
    code, out, _ = _cli(s, capsys, "deploy-pool", "-f", str(s.pool), "--yes", "--wait", "--timeout", "1m")
    assert code == 1
    assert "likely cause (egress_download_blocked)" in out and "`agentctl doctor` names the rule" in out
    # the service logs what the extension reported, never the network's reason: doctor names the rule
    assert "deny-devops" not in out
    code, out, _ = _cli(s, capsys, "doctor", "-f", str(s.pool))
    assert code == 5 and "deny-devops" in out


def test_timeout_exits_1_with_a_diagnosis(served: Callable[..., Served], capsys: Any) -> None:
    s = served(None, Timing(lro_seconds=0.05, scale_delay=0.05, node_idle_delay=600))
    assert _cli(s, capsys, "deploy-pool", "-f", str(s.pool), "--yes")[0] == 0
    started = time.monotonic()
    code, out, _ = _cli(s, capsys, "-o", "json", "wait", "-f", str(s.pool), "--timeout", "2s")
    assert time.monotonic() - started < 20
    doc = json.loads(out)
    assert code == 1 and doc["errors"][0]["code"] == "wait.timeout"
    assert doc["data"]["status"] == "timeout" and "0 of 1 standby agent(s) online" in doc["data"]["reason"]
    assert doc["data"]["diagnosis"]["logs"] is None  # nothing failed, nothing idle: no VM to ask
    assert "maxSavedNodeCount 1 keeps failed VMs" in doc["data"]["diagnosis"]["notes"][0]


def test_piped_wait_says_it_is_still_waiting(
    served: Callable[..., Served], capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI log never stays silent: without a change, a line every STILL_RUNNING_EVERY seconds."""
    monkeypatch.setattr("agentctl.cli.wait.STILL_RUNNING_EVERY", 0.5)
    s = served(None, Timing(lro_seconds=0.05, scale_delay=0.05, node_idle_delay=600))
    assert _cli(s, capsys, "deploy-pool", "-f", str(s.pool), "--yes")[0] == 0
    code, _, err = _cli(s, capsys, "wait", "-f", str(s.pool), "--timeout", "3s")
    assert code == 1
    assert len(re.findall(r"^still waiting for agents \(\d+ s\)$", err, re.M)) >= 2


def test_diagnose_without_a_kept_machine_says_max_saved_keeps_one(
    served: Callable[..., Served], capsys: Any
) -> None:
    s = served()
    s.pool.write_text(s.pool.read_text().replace("maxSavedNodeCount: 1", "maxSavedNodeCount: 0"))
    assert _cli(s, capsys, "deploy-pool", "-f", str(s.pool), "--yes", "--wait")[0] == 0
    code, out, _ = _cli(s, capsys, "-o", "json", "diagnose", "-f", str(s.pool))
    data = json.loads(out)["data"]
    assert code == 0 and data["causes"] == [] and data["nodes"] == []
    assert "set devops.pool.maxSavedNodeCount to 1" in data["notes"][0]
    assert "no known pattern matched" in data["notes"][1]
    assert "Listening for Jobs" in data["logs"]["output"]  # the idle node's logs, as raw evidence


def test_diagnose_no_egress_names_the_cause(served: Callable[..., Served], capsys: Any) -> None:
    s = served("no-egress.yaml")
    assert _cli(s, capsys, "deploy-pool", "-f", str(s.pool), "--yes")[0] == 0
    deadline = time.monotonic() + 20
    node = re.compile(r"node vmss-agents000000: (saved|failedToStartPendingDelete); since 20\d\d-")
    out = ""
    # the pool log names the failure as soon as it happens; the node may be between its failure and
    # being kept (saved) or replaced: ask again until a failed node is there to examine
    while time.monotonic() < deadline and not ("likely cause" in out and node.search(out)):
        code, out, _ = _cli(s, capsys, "diagnose", "-f", str(s.pool))
        assert code == 0
    assert "likely cause (egress_download_blocked): blocked egress to the agent download host" in out
    assert node.search(out), out


def test_usage_errors() -> None:
    with pytest.raises(UsageError):
        duration("soon")
    with pytest.raises(UsageError):
        duration("0s")
    assert [duration(t) for t in ("90", "90s", "15m", "1h30m")] == [90, 90, 900, 5400]


def test_timeout_without_wait_is_a_usage_error(capsys: Any) -> None:
    assert run(["deploy-pool", "--timeout", "1m", "--yes"]) == 2
    assert "--timeout goes with --wait" in capsys.readouterr().err


# --- pure parts ---------------------------------------------------------------------------------


def node(name: str, state: str, agent: str = "none") -> dict[str, Any]:
    return {"name": name, "state": state, "agentState": agent}


@pytest.mark.parametrize(
    ("desired", "nodes", "saved", "expected"),
    [
        (1, [node("a", "idle", "online")], set(), "online"),
        (1, [node("a", "idle", "enabled, online")], set(), "online"),
        (2, [node("a", "idle", "online"), node("b", "startingAgent")], set(), "waiting"),
        (1, [node("a", "assigned", "online")], set(), "online"),
        (1, [node("a", "idle", "none")], set(), "waiting"),
        (1, [node("a", "failedToStartPendingDelete"), node("b", "idle", "online")], set(), "failed"),
        (1, [node("a", "unhealthyVm")], set(), "failed"),
        (1, [node("a", "saved"), node("b", "new")], {"a"}, "waiting"),  # kept from before the wait
        (1, [node("a", "saved"), node("b", "new")], set(), "failed"),
    ],
)
def test_verdict(desired: int, nodes: list[dict[str, Any]], saved: set[str], expected: str) -> None:
    assert waiting.verdict(desired, nodes, saved)[0] == expected


def test_changes_and_watch_with_a_fake_clock() -> None:
    polls = iter(
        [
            [],
            [node("a", "new")],
            [node("a", "new")],
            [node("a", "startingAgent")],
            [node("a", "idle", "online"), node("b", "new")],
        ]
    )
    now = [0.0]
    seen: list[list[waiting.Change]] = []
    w = waiting.watch(
        lambda: next(polls),
        1,
        300,
        lambda changes, nodes: seen.append(changes),
        interval=10,
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )
    assert (w.status, w.polls, w.seconds) == ("online", 5, 40)
    assert [[(c.node, c.old, c.new) for c in found] for found in seen] == [
        [],
        [("a", None, "new")],
        [],
        [("a", "new", "startingAgent")],
        [("a", "startingAgent", "idle"), ("b", None, "new")],
    ]
    assert waiting.changes({"a": "idle"}, [], 5) == [waiting.Change("a", "idle", "removed", 5)]


def test_watch_times_out() -> None:
    now = [0.0]
    w = waiting.watch(
        lambda: [node("a", "new")],
        1,
        25,
        lambda changes, nodes: None,
        interval=10,
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )
    assert (w.status, w.polls, w.seconds) == ("timeout", 4, 25)  # reads at 0, 10, 20 and 25 s
    assert w.reason == "0 of 1 standby agent(s) online after 25 s (timeout 25 s)"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("curl: (6) Could not resolve host: download.agent.dev.azure.com", "dns_failure"),
        (
            "System.Net.Http.HttpRequestException: Name or service not known (dev.azure.com:443)",
            "dns_failure",
        ),
        ("curl: (60) SSL certificate problem: unable to get local issuer certificate", "tls_interception"),
        ("The remote certificate is invalid: UntrustedRoot", "tls_interception"),
        (
            "Failed to connect to download.agent.dev.azure.com port 443: Connection timed out",
            "egress_download_blocked",
        ),
        ("Enable failed: could not download the agent from https://x", "egress_download_blocked"),
        (
            "[ERR  VisualStudioServices] GET request to https://dev.azure.com/o/_apis/connectionData failed.",
            "egress_organization_blocked",
        ),
        (
            "Failed to connect to dev.azure.com port 443 after 5000 ms: Timeout was reached",
            "egress_organization_blocked",
        ),
        ("VS30063: You are not authorized to access https://dev.azure.com/contoso", "registration_denied"),
        ("Response status code does not indicate success: 401 (Unauthorized).", "registration_denied"),
        ("Agent is already configured: /agent/.agent exists", "agent_folder_baked"),
        ("tar: vsts-agent: Cannot write: No space left on device", "disk_full"),
        ("/var/lib/waagent/x/enable.sh: line 3: python3: command not found", "python_missing"),
        ("System has not been booted with systemd as init system (PID 1). Can't operate.", "systemd_missing"),
        (
            "VMExtensionProvisioningError: Failed to download the extension package",
            "extension_download_failed",
        ),
    ],
)
def test_causes_match_known_patterns(line: str, code: str) -> None:
    (first, *_) = forensics.causes([{"source": "log", "text": f"2026-12-04T10:00:00Z noise\n{line}\n"}])
    assert first["code"] == code and first["evidence"] == f"log: {line}"


def test_no_pattern_no_cause_and_the_host_is_named() -> None:
    assert forensics.causes([{"source": "log", "text": "Listening for Jobs\nall fine at 10:40:37.401"}]) == []
    (dns,) = forensics.causes([{"source": "x", "text": "curl: (6) Could not resolve host: acr.azurecr.io"}])
    assert dns["cause"] == "DNS: the VM cannot resolve acr.azurecr.io"


def test_scrub_redacts_and_cuts() -> None:
    text = "./config.sh --url https://dev.azure.com/o --auth pat --token s3cr3tvalue1234 --pool p\n"
    text += "download?sv=2022&sig=abcDEF123%3D&se=1 Authorization: Bearer eyJabcdefgh.eyJabcdefgh.sig\n"
    out = forensics.scrub(text + "x" * 5000)
    assert "s3cr3tvalue1234" not in out and "abcDEF123" not in out and "eyJabcdefgh" not in out
    full = forensics.scrub(text)
    assert full.count(REDACTED) >= 3 and "--pool p" in full
    assert len(out) == forensics.TEXT_CAP + 3 and out.startswith("...")


def test_sandbox_logs_a_registration_failure_that_names_the_organization() -> None:
    """The download reaches its host but the organization does not answer: the agent's _diag log
    has the failed connectionData request, and forensics names the organization."""
    from agentctl.sandbox import guest
    from agentctl.sandbox.devops import pools as sim

    st: dict[str, Any] = {"meta": {"organization": "contoso"}, "devops": {"pools": {"10": {"name": "p"}}}}
    ep = {
        "poolId": 10,
        "azureId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/v",
    }
    node = {"name": "v000000", "computeId": "0"}
    sim._guest_start(st, ep, node, 1000.0)
    sim._guest_outcome(st, ep, node, "https://dev.azure.com: denied by rule deny-org", 1001.0)
    files = guest.record(st, f"{ep['azureId']}/virtualMachines/0")["files"]
    (diag,) = [p for p in files if p.startswith(guest.AGENT_DIAG)]
    assert diag == "/agent/_diag/Agent_19700101-001641-utc.log"
    assert "GET request to https://dev.azure.com/contoso/_apis/connectionData failed" in files[diag]
    found = forensics.causes([{"source": path, "text": text} for path, text in files.items()])
    assert [c["code"] for c in found] == ["egress_organization_blocked"]
    assert "--token ***" in files[guest.EXTENSION_LOG]  # the simulated extension never logs a secret
