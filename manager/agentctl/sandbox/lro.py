"""ARM long-running operations.

A write that Azure runs asynchronously answers at once (201/200/202) with an
``Azure-AsyncOperation`` URL (status resource: InProgress -> Succeeded | Failed) and a
``Location`` URL (202 while running, then the result). The operation is data in the state (so
it completes across processes); when its due time passes, the ticker applies the finalizer its
action registered, which sets ``provisioningState`` or removes what was deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from agentctl.sandbox.arm import common
from agentctl.sandbox.http import Response, arm_error, iso
from agentctl.sandbox.registry import Ctx, Env, State, arm, ticker

# action -> fn(state, operation, succeeded, now)
Finalizer = Callable[[State, dict[str, Any], bool, float], None]
FINALIZERS: dict[str, Finalizer] = {}

DEFAULT_ERROR = {
    "code": "InternalExecutionError",
    "message": "An internal execution error occurred. Please retry later.",
}


def finalizer(action: str) -> Callable[[Finalizer], Finalizer]:
    def register(fn: Finalizer) -> Finalizer:
        FINALIZERS[action] = fn
        return fn

    return register


def _urls(ctx: Ctx, op: dict[str, Any]) -> tuple[str, str]:
    base = (
        f"{ctx.env.base}subscriptions/{ctx.meta['subscriptionId']}/providers/{op['provider']}"
        f"/locations/{op['location']}"
    )
    query = f"?api-version={ctx.req.api_version}"
    return f"{base}/operations/{op['id']}{query}", f"{base}/operationResults/{op['id']}{query}"


def _retry_after(op: dict[str, Any]) -> dict[str, str]:
    return {"Retry-After": str(op["retryAfter"])} if op.get("retryAfter") is not None else {}


def start(
    ctx: Ctx,
    action: str,
    resource_id: str,
    *,
    provider: str,
    location: str,
    error: dict[str, str] | None = None,
    args: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Begin an operation; return the headers of the response that starts it."""
    duration, failed, retry_after = ctx.lro_shape()
    op = {
        "id": str(uuid.uuid4()),
        "action": action,
        "resourceId": resource_id,
        "provider": provider,
        "location": location.replace(" ", "").lower(),
        "start": ctx.now,
        "due": ctx.now + duration,
        "failed": failed,
        "error": error or DEFAULT_ERROR,
        "retryAfter": retry_after,
        "status": "InProgress",
        "args": args or {},
    }
    ctx.st.setdefault("operations", {})[op["id"]] = op
    status_url, result_url = _urls(ctx, op)
    return {"Azure-AsyncOperation": status_url, "Location": result_url, **_retry_after(op)}


def pending(st: State, resource_id: str) -> bool:
    """Whether an operation on this resource is still running."""
    rid = resource_id.lower()
    return any(
        o["status"] == "InProgress" and o["resourceId"].lower() == rid
        for o in st.get("operations", {}).values()
    )


@ticker
def complete_due(st: State, env: Env, now: float) -> None:
    for op in sorted(st.get("operations", {}).values(), key=lambda o: o["due"]):
        if op["status"] == "InProgress" and op["due"] <= now:
            op["status"] = "Failed" if op["failed"] else "Succeeded"
            op["end"] = op["due"]
            FINALIZERS[op["action"]](st, op, not op["failed"], now)


def _operation(ctx: Ctx) -> dict[str, Any]:
    op: dict[str, Any] | None = ctx.st.get("operations", {}).get(ctx.req.params["operationId"])
    if op is None or op["provider"].lower() != ctx.req.params["provider"].lower():
        raise arm_error(404, "NotFound", f"The operation '{ctx.req.params['operationId']}' was not found.")
    return op


@arm(
    "GET",
    "/subscriptions/{subscriptionId}/providers/{provider}/locations/{location}/operations/{operationId}",
    "arm.operations.get",
    None,
)
def operation_status(ctx: Ctx) -> Response:
    op = _operation(ctx)
    body: dict[str, Any] = {"startTime": iso(op["start"]), "status": op["status"], "name": op["id"]}
    if op["status"] != "InProgress":
        body["endTime"] = iso(op["end"])
    if op["status"] == "Failed":
        body["error"] = op["error"]
    return Response(200, body, _retry_after(op) if op["status"] == "InProgress" else {})


@arm(
    "GET",
    "/subscriptions/{subscriptionId}/providers/{provider}/locations/{location}/operationResults/{operationId}",
    "arm.operationresults.get",
    None,
)
def operation_result(ctx: Ctx) -> Response:
    op = _operation(ctx)
    if op["status"] == "InProgress":
        return Response(202, None, {"Location": _urls(ctx, op)[1], **_retry_after(op)})
    if op["status"] == "Failed":
        raise arm_error(400, op["error"]["code"], op["error"]["message"])
    if "result" in op["args"]:  # an action's own answer (Run Command's output)
        return Response(200, op["args"]["result"])
    result = common.get(ctx.st, op["resourceId"]) if op["action"].endswith(".put") else None
    return Response(200, common.view(ctx.st, result)) if result else Response(204)
