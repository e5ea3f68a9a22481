"""The access log: one JSON line per request, secrets replaced by a visible marker."""

from __future__ import annotations

import json
import ssl
import urllib.request
from pathlib import Path
from typing import Any

from sandbox_helpers import FAST, Arm

from agentctl.sandbox import Sandbox, start
from agentctl.sandbox.accesslog import REDACTED, redacted


def lines(sb: Sandbox) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sb.access_log.read_text().splitlines()]


def test_one_line_per_request_with_the_documented_fields(sb: Sandbox, arm: Arm) -> None:
    arm.resource.resource_groups.get("rg-network")
    arm.resource.resource_groups.create_or_update("rg-agents", {"location": "westeurope", "tags": {"a": "b"}})
    logged = lines(sb)
    assert len(logged) == len(sb.exchanges) == 2
    put = logged[1]
    assert {"time", "method", "path", "query", "status", "operation", "request", "response"} <= set(put)
    assert (put["method"], put["status"], put["operation"]) == ("PUT", 201, "arm.resourcegroups.put")
    assert put["query"] == {"api-version": "2025-04-01"}
    assert put["request"] == {"location": "westeurope", "tags": {"a": "b"}}
    assert put["response"]["id"].endswith("/resourceGroups/rg-agents")
    assert put["requestHeaders"]["authorization"] == REDACTED
    assert sb.token not in sb.access_log.read_text()
    assert sb.exchanges[1]["requestHeaders"]["authorization"] == f"Bearer {sb.token}"  # in memory: as sent
    assert sb.access_log.stat().st_mode & 0o777 == 0o600


def test_token_requests_and_answers_are_redacted(sb: Sandbox) -> None:
    ctx = ssl.create_default_context(cafile=sb.ca_bundle)
    form = (
        f"grant_type=client_credentials&client_id={sb.client_id}&client_secret={sb.client_secret}"
        f"&scope={sb.arm_endpoint}.default"
    ).encode()
    req = urllib.request.Request(
        sb.token_url, data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(req, context=ctx) as resp:
        token = json.load(resp)["access_token"]
    text = sb.access_log.read_text()
    assert sb.client_secret not in text
    assert token not in text
    [line] = lines(sb)
    assert "client_secret=***REDACTED***" in line["request"]
    assert f"client_id={sb.client_id}" in line["request"]
    assert line["response"]["access_token"] == REDACTED
    assert line["response"]["token_type"] == "Bearer"


def test_redaction_rules() -> None:
    kubeconfig = "apiVersion: v1\nusers:\n- user: {client-key-data: abc}\n"
    exchange = {
        "requestHeaders": {"Authorization": "Bearer x", "Accept": "application/json"},
        "request": {
            "authorization": {"parameters": {"kubeconfig": kubeconfig, "clusterContext": "dev"}},
            "properties": {
                "virtualMachineProfile": {"osProfile": {"adminPassword": "p", "customData": "Zm9v"}}
            },
            "note": "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----",
        },
        "responseHeaders": {},
        "response": {"kubeconfigs": [{"name": "clusterUser", "value": "YXBp"}], "count": 1},
    }
    out = redacted(exchange)
    assert out["requestHeaders"] == {"Authorization": REDACTED, "Accept": "application/json"}
    params = out["request"]["authorization"]["parameters"]
    assert params == {"kubeconfig": REDACTED, "clusterContext": "dev"}
    assert out["request"]["properties"]["virtualMachineProfile"]["osProfile"] == {
        "adminPassword": REDACTED,
        "customData": REDACTED,
    }
    assert out["request"]["note"] == REDACTED
    assert out["response"] == {"kubeconfigs": [{"name": "clusterUser", "value": REDACTED}], "count": 1}
    assert (
        exchange["request"]["authorization"]["parameters"]["kubeconfig"] == kubeconfig
    )  # the original is intact


def test_a_sandbox_that_does_not_record_keeps_only_the_log(tmp_path: Path) -> None:
    # `sandbox serve` runs for days: its exchanges go to the access log, not to memory
    sb = start(tmp_path, timing=FAST, record=False)
    try:
        Arm(sb).resource.resource_groups.get("rg-network")
        assert sb.exchanges == [] and len(lines(sb)) == 1
    finally:
        sb.stop()
