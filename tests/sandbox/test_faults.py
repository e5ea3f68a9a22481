"""Injected faults reach the real clients as the services would send them."""

from __future__ import annotations

import json
import ssl
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.mgmt.resource.resources import ResourceManagementClient
from msrest.exceptions import ClientRequestError
from sandbox_helpers import FAST, Arm, vmss_body

from agentctl.errors import InvalidInput
from agentctl.sandbox import Fault, Sandbox, Timing, start
from agentctl.sandbox.faults import parse, parse_timing
from agentctl.sandbox.testing import arm_client, devops_connection

RG = "rg-agents"


def statuses(sb: Sandbox, operation: str) -> list[int | None]:
    return [x["status"] for x in sb.exchanges if x["operation"] == operation]


def no_retries(sb: Sandbox) -> Arm:
    return Arm(sb, retry_total=0)


def test_429_with_retry_after_is_retried_by_the_sdk(sb: Sandbox, arm: Arm) -> None:
    sb.configure(faults="arm.resourcegroups.get=429:1,count=1")
    began = time.monotonic()
    assert arm.resource.resource_groups.get("rg-network").name == "rg-network"
    assert time.monotonic() - began >= 1.0  # the client waited as Retry-After said
    assert statuses(sb, "arm.resourcegroups.get") == [429, 200]
    throttled = next(x for x in sb.exchanges if x["status"] == 429)
    assert throttled["responseHeaders"]["Retry-After"] == "1"
    assert throttled["response"]["error"]["code"] == "TooManyRequests"


def test_persistent_429_surfaces_as_an_arm_error(sb: Sandbox) -> None:
    sb.configure(faults=[Fault("429", "arm.resourcegroups.get", value=0)])
    with pytest.raises(HttpResponseError) as e:
        no_retries(sb).resource.resource_groups.get("rg-network")
    assert e.value.status_code == 429
    assert e.value.error.code == "TooManyRequests"  # type: ignore[union-attr]


@pytest.mark.parametrize(("kind", "code"), [("500", "InternalServerError"), ("503", "ServiceUnavailable")])
def test_server_errors(sb: Sandbox, arm: Arm, kind: str, code: str) -> None:
    sb.configure(faults=f"arm.resourcegroups.get={kind},count=1")
    assert arm.resource.resource_groups.get("rg-network").name == "rg-network"  # retried
    assert statuses(sb, "arm.resourcegroups.get") == [int(kind), 200]
    sb.configure(faults=f"arm.resourcegroups.get={kind}")
    with pytest.raises(HttpResponseError) as e:
        no_retries(sb).resource.resource_groups.get("rg-network")
    assert (e.value.status_code, e.value.error.code) == (int(kind), code)  # type: ignore[union-attr]


def test_dropped_connection(sb: Sandbox, arm: Arm) -> None:
    sb.configure(faults="arm.resourcegroups.get=drop,count=1")
    assert arm.resource.resource_groups.get("rg-network").name == "rg-network"
    assert statuses(sb, "arm.resourcegroups.get") == [None, 200]
    sb.configure(faults="arm.resourcegroups.get=drop")
    with pytest.raises((ServiceResponseError, ServiceRequestError)):
        no_retries(sb).resource.resource_groups.get("rg-network")


def test_latency(sb: Sandbox, arm: Arm) -> None:
    arm.resource.resource_groups.get("rg-network")
    sb.configure(faults="arm.*=latency:0.4")
    began = time.monotonic()
    arm.resource.resource_groups.get("rg-network")
    assert time.monotonic() - began >= 0.4
    assert sb.exchanges[-1]["durationMs"] >= 400


def _vmss(arm: Arm) -> Any:
    arm.resource.resource_groups.create_or_update(RG, {"location": "westeurope"})
    return arm.compute.virtual_machine_scale_sets.begin_create_or_update(RG, "vmss-agents", vmss_body())


def test_lro_ending_in_failed(sb: Sandbox, arm: Arm) -> None:
    sb.configure(faults="arm.vmss.put=lro-fail,count=1")
    with pytest.raises(HttpResponseError) as e:
        _vmss(arm).result()
    assert "AllocationFailed" in str(e.value)
    vmss = arm.compute.virtual_machine_scale_sets.get(RG, "vmss-agents")
    assert vmss.properties.provisioning_state == "Failed"
    assert _vmss(arm).result().properties.provisioning_state == "Succeeded"  # the next attempt works


def test_slow_lro_and_retry_after(sb: Sandbox, arm: Arm) -> None:
    sb.configure(faults="arm.vmss.put=lro-slow:1.2;arm.vmss.put=lro-retry-after:1")
    began = time.monotonic()
    poller = _vmss(arm)
    assert poller.result().properties.provisioning_state == "Succeeded"
    assert time.monotonic() - began >= 1.2
    put = next(x for x in sb.exchanges if x["operation"] == "arm.vmss.put")
    assert put["responseHeaders"]["Retry-After"] == "1"
    polls = [x for x in sb.exchanges if x["operation"] == "arm.operations.get"]
    assert polls[0]["response"]["status"] == "InProgress"
    assert polls[0]["responseHeaders"]["Retry-After"] == "1"
    assert len(polls) <= 3  # the client honoured Retry-After instead of polling every 50 ms


def test_retry_after_from_timing(tmp_path: Path) -> None:
    sb = start(tmp_path, timing=Timing(lro_seconds=0.05, lro_retry_after=0))
    try:
        arm = Arm(sb)
        _vmss(arm).result()
        put = next(x for x in sb.exchanges if x["operation"] == "arm.vmss.put")
        assert put["responseHeaders"]["Retry-After"] == "0"
    finally:
        sb.stop()


def test_probability_is_seeded(tmp_path: Path) -> None:
    def outcomes(run: int) -> list[int]:
        sb = start(tmp_path / str(run), timing=FAST, faults="seed=7;arm.resourcegroups.get=500,p=0.5")
        try:
            client = no_retries(sb).resource.resource_groups
            seen = []
            for _ in range(12):
                try:
                    client.get("rg-network")
                    seen.append(200)
                except HttpResponseError as e:
                    seen.append(e.status_code or 0)
            return seen
        finally:
            sb.stop()

    first = outcomes(1)
    assert first == outcomes(2)
    assert {200, 500} == set(first)


def test_counts_are_consumed(sb: Sandbox) -> None:
    sb.configure(faults="arm.resourcegroups.get=503,count=2")
    client = no_retries(sb).resource.resource_groups
    for _ in range(2):
        with pytest.raises(HttpResponseError):
            client.get("rg-network")
    assert client.get("rg-network").name == "rg-network"


def test_devops_faults(sb: Sandbox, devops: Any) -> None:
    """msrest (urllib3) retries 5xx, and 429 when it carries Retry-After, as the service sends it."""
    core = devops.get_core_client()
    core.get_projects()
    sb.configure(faults="devops.projects.list=503,count=1")
    assert [p.name for p in core.get_projects()] == ["platform"]
    assert statuses(sb, "devops.projects.list") == [200, 503, 200]
    unavailable = next(x for x in sb.exchanges if x["status"] == 503)["response"]
    assert unavailable["typeKey"] == "VssServiceUnavailableException"
    sb.configure(faults="devops.*=429:1,count=1")
    began = time.monotonic()
    assert [p.name for p in core.get_projects()] == ["platform"]
    assert time.monotonic() - began >= 1.0
    throttled = next(x for x in sb.exchanges if x["status"] == 429)
    assert (throttled["response"]["typeKey"], throttled["responseHeaders"]["Retry-After"]) == (
        "RequestBlockedException",
        "1",
    )
    sb.configure(faults="devops.projects.get=500")
    fresh = devops_connection(sb).clients_v7_1.get_core_client()
    fresh.config.retry_policy.backoff_factor = 0  # keep the test quick; the retries still run out
    with pytest.raises(ClientRequestError):
        fresh.get_project("platform")
    assert statuses(sb, "devops.projects.get") == [500] * 4


def test_token_lifetime(tmp_path: Path) -> None:
    sb = start(tmp_path, timing=Timing(token_lifetime=1))
    try:
        ctx = ssl.create_default_context(cafile=sb.ca_bundle)
        body = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "scope": f"{sb.arm_endpoint}.default",
            }
        ).encode()
        req = urllib.request.Request(
            sb.token_url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        with urllib.request.urlopen(req, context=ctx) as resp:
            doc = json.load(resp)
        assert (doc["token_type"], doc["expires_in"]) == ("Bearer", 1)
        client = arm_client(sb, ResourceManagementClient, token=doc["access_token"])
        assert client.resource_groups.get("rg-network").name == "rg-network"
        time.sleep(2.05)  # past its expiry (a whole second after the one it was issued in)
        with pytest.raises(HttpResponseError) as e:
            client.resource_groups.get("rg-network")
        assert e.value.error.code == "ExpiredAuthenticationToken"  # type: ignore[union-attr]
    finally:
        sb.stop()


def test_rule_syntax() -> None:
    plan = parse(["arm.vmss.put=429:2,count=1;seed=5", "devops.*=latency:0.1,p=0.25"])
    assert plan.seed == 5
    assert [(f.kind, f.operation, f.value, f.count, f.probability) for f in plan.faults] == [
        ("429", "arm.vmss.put", 2.0, 1, 1.0),
        ("latency", "devops.*", 0.1, None, 0.25),
    ]
    for bad in ("arm.vmss.put", "x=teapot", "x=500,often=1", "x=500,p=2"):
        with pytest.raises(InvalidInput) as e:
            parse([bad], "--fault")
        assert "--fault: bad fault rule" in e.value.message
    timing = parse_timing("lro=2,retry-after=1,idle=0.5")
    assert (timing.lro_seconds, timing.lro_retry_after, timing.node_idle_delay) == (2.0, 1, 0.5)
    with pytest.raises(InvalidInput):
        parse_timing("lro=-1")


def test_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTCTL_SANDBOX_FAULTS", "arm.resourcegroups.get=500")
    monkeypatch.setenv("AGENTCTL_SANDBOX_TIMING", "token=120")
    sb = start(tmp_path)
    try:
        with pytest.raises(HttpResponseError) as e:
            no_retries(sb).resource.resource_groups.get("rg-network")
        assert e.value.status_code == 500
    finally:
        sb.stop()
