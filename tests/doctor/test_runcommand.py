"""The sandbox's VM Run Command and instance view: the script runs with shims that answer from the
world's network model, the answers change when the network changes through ARM, and the bodies
conform to the Compute spec (every exchange of these tests is checked by the ``served`` fixture)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from doctor_helpers import SUB, Served

from agentctl import cloud, runshell
from agentctl.azure import Arm
from agentctl.errors import CloudError
from conformance.spec_check import load_for_tests

RG, VMSS = "rg-agents", "vmss-agents"
RUN_PATH = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{VMSS}"
    "/virtualmachines/{iid}/runCommand"
)


def _deployed(s: Served, capsys: Any, state: str = "idle") -> tuple[Arm, str]:
    """The pool deployed, one node in ``state``; an ARM client and that node's instance id."""
    assert s.cli(capsys, "deploy-pool", "-f", str(s.pool), "--yes")[0] == 0
    arm = Arm(cloud.sandbox_target(str(s.dir), None), SUB)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        _, doc = s.cli(capsys, "status", "-f", str(s.pool))
        if state in doc["data"]["pool"]["nodes"]:
            instances = doc["data"]["scaleSet"]["instances"]
            return arm, str(instances[0]["instanceId"])
        time.sleep(0.05)
    raise AssertionError(f"no node reached {state}")


def _run(arm: Arm, iid: str, script: str) -> runshell.Output:
    return runshell.output(arm.run_shell_script(RG, VMSS, iid, script, 30))


def test_run_command_runs_bash_with_the_models_answers(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    arm, iid = _deployed(s, capsys)
    out = _run(
        arm,
        iid,
        'set -u\necho "path=$PATH" | cut -d: -f2-\necho to-stderr >&2\n'
        "getent hosts dev.azure.com\ngetent hosts nowhere.privatelink.azurecr.io || echo nx=$?\n"
        "curl -sS -o /dev/null -w '%{http_code} %{remote_ip}' https://dev.azure.com/; echo \" rc=$?\"",
    )
    assert out.ok
    lines = out.stdout.splitlines()
    assert lines[0] == "/usr/bin:/bin"  # after the shims, then only the system's folders
    assert lines[1].split() == ["203.0.113.10", "dev.azure.com"]
    assert lines[2] == "nx=2"  # getent's "not found"
    assert lines[3] == "200 203.0.113.10 rc=0"
    assert out.stderr.strip() == "to-stderr"


def test_nsg_deny_through_arm_changes_the_answers(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    arm, iid = _deployed(s, capsys)
    probe = "curl -sS -o /dev/null https://download.agent.dev.azure.com/ ; echo rc=$?"
    assert _run(arm, iid, probe).stdout.strip() == "rc=0"
    from azure.mgmt.network import NetworkManagementClient

    from agentctl.sandbox.testing import arm_client

    net = arm_client(s.sb, NetworkManagementClient)
    subnet = net.subnets.get("rg-network", "vnet-hub", "agents")
    nsg_id = subnet.network_security_group.id
    nsg_rg, nsg_name = nsg_id.split("/")[4], nsg_id.rsplit("/", 1)[1]
    net.security_rules.begin_create_or_update(
        nsg_rg,
        nsg_name,
        "deny-internet",
        {
            "properties": {
                "protocol": "*",
                "access": "Deny",
                "direction": "Outbound",
                "priority": 100,
                "sourceAddressPrefix": "*",
                "sourcePortRange": "*",
                "destinationAddressPrefix": "Internet",
                "destinationPortRange": "*",
            }
        },
    ).result()
    out = _run(arm, iid, probe)
    assert out.stdout.strip() == "rc=28"
    assert "Connection timed out" in out.stderr


def test_tail_reads_the_instances_simulated_logs(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    arm, iid = _deployed(s, capsys)
    out = _run(arm, iid, runshell.script("collect-logs.sh", BYTES="3000"))
    assert "== extension" in out.stdout and "== agent" in out.stdout
    assert "Enable succeeded: the agent is running" in out.stdout
    assert "Listening for Jobs" in out.stdout
    view = arm.instance_view(RG, VMSS, iid) or {}
    (ext,) = view["extensions"]
    assert ext["type"] == "Microsoft.VisualStudio.Services.TeamServicesAgentLinux"
    assert ext["statuses"][0]["code"] == "ProvisioningState/succeeded"


def test_no_egress_world_logs_the_download_failure(served: Callable[..., Served], capsys: Any) -> None:
    s = served("no-egress.yaml")
    arm, iid = _deployed(s, capsys, state="failedToStartPendingDelete")
    view = arm.instance_view(RG, VMSS, iid) or {}
    status = view["extensions"][0]["statuses"][0]
    assert status["code"] == "ProvisioningState/failed" and status["level"] == "Error"
    assert "could not download the agent" in status["message"]
    out = _run(arm, iid, runshell.script("collect-logs.sh", BYTES="1800"))
    assert "curl: (28) Connection timed out" in out.stdout
    assert "tail: cannot open '/agent/_diag/Agent_*.log'" in out.stdout  # the agent never ran


def test_run_command_result_and_instance_view_conform_to_the_spec(
    served: Callable[..., Served], capsys: Any
) -> None:
    """The Location result is not checked by the exchange check (ARM's generic result URL): check
    the body against the runCommand operation's own 200 response."""
    s = served()
    _, iid = _deployed(s, capsys)
    from agentctl.sandbox import guest

    body = guest.result(0, "hello", "")
    exchange = {
        "method": "POST",
        "path": RUN_PATH.format(iid=iid),
        "query": {"api-version": "2024-07-01"},
        "status": 200,
        "request": {"commandId": "RunShellScript", "script": ["echo hello"]},
        "response": body,
    }
    index = load_for_tests()
    assert index.check_exchange(exchange) == []
    bad = {**exchange, "response": {"value": [{"code": 1}]}}
    assert index.check_exchange(bad)  # the check can fail
    assert runshell.output(body["value"]) == runshell.Output(True, "hello", "")


def test_run_command_errors(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    arm, iid = _deployed(s, capsys)
    with pytest.raises(CloudError, match="InvalidParameter"):
        _powershell(arm, iid)
    # the runCommand swagger declares no error response (no ``default``); Compute answers a
    # CloudError all the same, so this one exchange stays out of the conformance check
    s.sb.exchanges[:] = [
        x for x in s.sb.exchanges if not (x["operation"] == "arm.vmss.vms.runcommand" and x["status"] == 400)
    ]
    assert arm.instance_view(RG, VMSS, "999") is None  # not found is an answer


def _powershell(arm: Arm, iid: str) -> None:
    from agentctl.azure.errors import translated

    with translated("run"):
        arm.compute.virtual_machine_scale_set_vms.begin_run_command(
            RG, VMSS, iid, {"commandId": "RunPowerShellScript", "script": ["dir"]}
        )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (
            [
                {
                    "code": "ProvisioningState/succeeded",
                    "message": "Enable succeeded: \n[stdout]\na\nb\n\n[stderr]\nwarn\n",
                }
            ],
            runshell.Output(True, "a\nb\n", "warn\n"),
        ),
        (
            [
                {"code": "ComponentStatus/StdOut/succeeded", "message": "Hello World!"},
                {"code": "ComponentStatus/StdErr/succeeded", "message": ""},
            ],
            runshell.Output(True, "Hello World!", ""),
        ),
        (
            [
                {
                    "code": "ProvisioningState/failed",
                    "message": "Enable failed: \n[stdout]\n\n[stderr]\nboom\n",
                }
            ],
            runshell.Output(False, "", "boom\n"),
        ),
    ],
)
def test_output_reads_both_result_shapes(statuses: list[dict[str, Any]], expected: runshell.Output) -> None:
    assert runshell.output(statuses) == expected
