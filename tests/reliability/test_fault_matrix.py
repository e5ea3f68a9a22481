"""The fault matrix: deploy-pool, status and destroy under throttling, server errors, dropped
connections and long-running operations that fail or outlast the timeout.

Each cell: the command runs with the fault injected; it either copes (retries) or stops with
exit 1 and an error that names what failed and what to do; then a rerun without the fault ends
in exactly the state of a clean run (same resources, nothing twice).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faultrig import COMMANDS, Reference, Rig, args, cell, converge, duplicates, retries, snapshot, writes

REQUEST_FAULTS = {"429": "429:1", "500": "500", "503": "503", "drop": "drop"}  # 429 with Retry-After: 1
LRO_OPS = {"deploy-pool": "arm.vmss.put", "destroy": "arm.vmss.delete"}
LRO_TIMEOUT = "0.5"


def request_rules(ref: Reference, kind: str) -> str:
    """Each kind of request the command sends meets the fault once. Throttling (which waits
    a second each time) hits each kind of write once and the first two reads of each service."""
    if kind == "429":
        kinds = list(dict.fromkeys(ref.writes))
        return ";".join(f"{op}=429:1,count={1 if op in kinds else 2}" for op in [*kinds, "arm.*", "devops.*"])
    return ";".join(f"{op}={REQUEST_FAULTS[kind]},count=1" for op in ref.operations)


def lro_rules(command: str, fault: str) -> str:
    op = LRO_OPS[command]
    if fault == "lro-failed":
        return f"{op}=lro-fail,count=1"
    return f"{op}=lro-slow:2,count=1;{op}=lro-retry-after:1,count=1"


def check_failure(code: int, doc: dict[str, Any], plan_keys: set[str] | None) -> str:
    """A run that did not cope: exit 1, an error naming what failed, and a hint. Returns the step."""
    assert code == 1, doc
    (err,) = doc["errors"]
    assert err["message"] and err.get("hint"), err
    if err["code"] == "apply.failed":
        assert plan_keys is None or err["step"] in plan_keys, err
        assert "failed" in err["message"] and "again" in err["hint"], err
        return str(err["step"])
    return str(err["message"].split(":", 1)[0])  # a read before the plan: the message names it


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("fault", list(REQUEST_FAULTS))
def test_request_faults(
    rig: Rig, reference: dict[str, Reference], command: str, fault: str, record_property: Any
) -> None:
    if command != "deploy-pool":
        assert rig.cli("deploy-pool", "--yes")[0] == 0
    rig.faults(request_rules(reference[command], fault))
    mark = rig.mark()
    code, doc = rig.cli(*args(command))
    faulted = rig.since(mark)
    rig.faults("")
    assert any(e["status"] in (None, 429, 500, 503) for e in faulted)
    step = "" if code == 0 else check_failure(code, doc, None)
    if command == "status":
        assert code == 0 and writes(faulted) == [], doc
    converge(rig, command, reference[command])
    record_property("matrix", cell(fault, command, retries(faulted), step))


@pytest.mark.parametrize("command", ["deploy-pool", "destroy"])
@pytest.mark.parametrize("fault", ["lro-failed", "lro-timeout"])
def test_lro_faults(
    rig: Rig,
    reference: dict[str, Reference],
    command: str,
    fault: str,
    monkeypatch: pytest.MonkeyPatch,
    record_property: Any,
) -> None:
    if command != "deploy-pool":
        assert rig.cli("deploy-pool", "--yes")[0] == 0
    rig.faults(lro_rules(command, fault))
    monkeypatch.setenv("AGENTCTL_LRO_TIMEOUT", LRO_TIMEOUT)
    code, doc = rig.cli(*args(command))
    monkeypatch.delenv("AGENTCTL_LRO_TIMEOUT")
    rig.faults("")
    assert check_failure(code, doc, {"scaleSet"}) == "scaleSet"
    message = doc["errors"][0]["message"]
    assert ("still running after 0.5 s" if fault == "lro-timeout" else "Failed") in message, message
    converge(rig, command, reference[command])
    record_property("matrix", cell(fault, command, 0, "scaleSet"))


@pytest.mark.parametrize("fault", ["lro-failed", "lro-timeout"])
def test_status_reports_a_failed_or_running_scale_set(
    rig: Rig,
    reference: dict[str, Reference],
    fault: str,
    monkeypatch: pytest.MonkeyPatch,
    record_property: Any,
) -> None:
    """status during (or after) a deploy whose scale set operation failed or runs long: it shows
    the state as it is, writes nothing, and shows the clean state once deploy-pool converged."""
    rig.faults(lro_rules("deploy-pool", fault))
    monkeypatch.setenv("AGENTCTL_LRO_TIMEOUT", LRO_TIMEOUT)
    assert rig.cli("deploy-pool", "--yes")[0] == 1
    monkeypatch.delenv("AGENTCTL_LRO_TIMEOUT")
    rig.faults("")
    mark = rig.mark()
    code, doc = rig.cli("status")
    assert code == 0 and writes(rig.since(mark)) == [], doc
    expected = "Failed" if fault == "lro-failed" else "Creating"
    assert doc["data"]["scaleSet"]["provisioningState"] == expected
    assert rig.cli("deploy-pool", "--yes")[0] == 0
    converge(rig, "status", reference["status"])
    record_property("matrix", cell(fault, "status", 0))


def test_snapshot_sees_duplicates(tmp_path: Path) -> None:
    """The end-state comparison would catch a second service connection of the same name."""
    import json

    rig = Rig(tmp_path)
    try:
        assert rig.cli("deploy-pool", "--yes")[0] == 0
        state = json.loads((rig.dir / "state.json").read_text())
        eps = state["devops"]["endpoints"]
        first = next(iter(eps.values()))
        eps["copy"] = {**first, "id": "copy"}
        (tmp_path / "copy").mkdir()
        (tmp_path / "copy" / "state.json").write_text(json.dumps(state))
        assert duplicates(snapshot(tmp_path / "copy")) == [
            next(line for line in rig.snapshot() if line.startswith(f"endpoint {first['name']} "))
        ]
    finally:
        rig.stop()


@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan"])
def test_bad_lro_timeout_is_refused_before_any_write(
    rig: Rig, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTCTL_LRO_TIMEOUT", value)
    mark = rig.mark()
    code, doc = rig.cli("deploy-pool", "--yes")
    assert code == 2 and "AGENTCTL_LRO_TIMEOUT" in doc["errors"][0]["message"], doc
    assert writes(rig.since(mark)) == []


def test_a_create_whose_answer_is_lost_is_not_sent_again(rig: Rig, reference: dict[str, Reference]) -> None:
    """A POST may have been done when its connection drops: the run stops at that step (the
    rerun observes first) instead of sending it again, which could make a second check."""
    rig.faults("devops.checks.create=drop,count=1")
    mark = rig.mark()
    code, doc = rig.cli("deploy-pool", "--yes")
    rig.faults("")
    assert check_failure(code, doc, None) == "approvalCheck:private-aks-dev"
    assert [e["operation"] for e in rig.since(mark)].count("devops.checks.create") == 1
    converge(rig, "deploy-pool", reference["deploy-pool"])
