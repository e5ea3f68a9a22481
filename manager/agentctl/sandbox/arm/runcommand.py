"""A scale set instance's instance view and VM Run Command.

``GET .../virtualMachines/{instanceId}/instanceView`` is the instance view ``$expand`` gives,
with the extensions' statuses (the pipelines agent extension's, set by the simulated Azure
DevOps). ``POST .../virtualmachines/{instanceId}/runCommand`` with ``commandId``
``RunShellScript`` runs the script (``agentctl.sandbox.guest``) and answers as a long-running
operation (202 with ``Azure-AsyncOperation`` and ``Location``); the Location result is the
``RunCommandResult``.
"""

from __future__ import annotations

from agentctl.sandbox import guest, lro
from agentctl.sandbox.arm import common, compute
from agentctl.sandbox.http import Response, arm_error
from agentctl.sandbox.registry import Ctx, State, arm

INSTANCE = compute.ITEM + "/virtualMachines/{instanceId}"


def _instance(ctx: Ctx) -> tuple[common.Resource, common.Resource]:
    p = ctx.req.params
    vmss_id = common.provider_id(
        p["subscriptionId"], p["resourceGroupName"], compute.TYPE, p["vmScaleSetName"]
    )
    vmss = common.require(ctx, vmss_id)
    vm = common.get(ctx.st, f"{vmss['id']}/virtualMachines/{p['instanceId']}")
    if vm is None:
        raise arm_error(404, "NotFound", "The entity was not found in this Azure location.")
    return vmss, vm


@arm("GET", INSTANCE + "/instanceView", "arm.vmss.vms.instanceview", compute.VERSIONS)
def instance_view(ctx: Ctx) -> Response:
    _, vm = _instance(ctx)
    return Response(200, compute.full_instance_view(ctx.st, vm))


@arm("POST", INSTANCE + "/runCommand", "arm.vmss.vms.runcommand", compute.VERSIONS)
def run_command(ctx: Ctx) -> Response:
    vmss, vm = _instance(ctx)
    body = ctx.req.body if isinstance(ctx.req.body, dict) else {}
    command = body.get("commandId")
    if not command:
        raise arm_error(
            400,
            "InvalidParameter",
            "Required parameter 'commandId' is missing (null).",
            target="commandId",
        )
    if command != "RunShellScript":
        raise arm_error(
            400,
            "InvalidParameter",
            f"The command id '{command}' is not supported for a Linux virtual machine; use RunShellScript.",
            target="commandId",
        )
    if vm["properties"]["provisioningState"] != "Succeeded":
        raise arm_error(
            409,
            "OperationNotAllowed",
            f"The operation requires the VM to be running; instance {vm['instanceId']} is "
            f"{vm['properties']['provisioningState']}.",
        )
    if lro.pending(ctx.st, vm["id"] + "/runCommand"):
        raise arm_error(
            409,
            "Conflict",
            "Run command extension execution is in progress. Please wait for completion before invoking "
            "a run command.",
        )
    script = [str(line) for line in body.get("script") or []]
    status, out, err = guest.run(ctx.st, vm, vmss, script)
    headers = lro.start(
        ctx,
        "vmss.vms.runcommand",
        vm["id"] + "/runCommand",
        provider="Microsoft.Compute",
        location=vmss["location"],
        args={"result": guest.result(status, out, err)},
    )
    return Response(202, None, headers)


@lro.finalizer("vmss.vms.runcommand")
def _done(st: State, op: dict[str, object], ok: bool, now: float) -> None:
    """Nothing changes in ARM; the result waits in the operation for its Location URL."""
