"""Apply: run a plan's actions as a dependency graph, independent ones concurrently.

The only code that writes. Each action's handler builds its payload from the spec (through
``desired``) and from what earlier actions returned (a new connection's id and issuer, a new
pool's queue). A failure stops new actions from starting, lets running ones finish, and names
the failed step; every step is idempotent, so the next run continues where this one stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentctl import desired, resources
from agentctl.config import PoolSpec
from agentctl.errors import AgentctlError, ApplyFailed, CloudError, Interrupted
from agentctl.observe import Clients, Facts
from agentctl.plan import NOOP, Action, Plan

log = logging.getLogger(__name__)

Event = Callable[[Action, str], None]  # (action, "start" | "done" | "failed")


@dataclass
class Outcome:
    key: str
    op: str
    kind: str
    name: str
    status: str  # done | failed | not started
    seconds: float = 0.0
    error: str = ""


@dataclass
class Context:
    spec: PoolSpec
    facts: Facts
    clients: Clients
    outputs: dict[str, Any] = field(default_factory=dict)

    def pool_identity(self) -> dict[str, Any]:
        made = self.outputs.get("poolIdentity") or self.facts.pool_identity
        if not made:
            raise CloudError("the pool-management identity is unknown (was its step skipped?)")
        return dict(made)

    def principal(self, whose: str) -> str:
        """The principal id of the agents' identity or of the pool-management identity."""
        if whose == "pool":
            return str((self.pool_identity().get("properties") or {}).get("principalId") or "")
        return self.facts.principal_id

    def connection(self) -> dict[str, Any]:
        conn = self.outputs.get("azureConnection") or self.facts.azure_connection
        if not conn:
            raise CloudError("the service connection is unknown (was its step skipped?)")
        return dict(conn)


def apply(
    plan: Plan,
    spec: PoolSpec,
    facts: Facts,
    clients: Clients,
    on_event: Event | None = None,
    stop: Callable[[], bool] | None = None,
) -> list[Outcome]:
    """Run the plan; once ``stop()`` is true no step starts, running ones finish, and
    ``Interrupted`` lists the steps done."""
    stopping = stop or (lambda: False)
    ctx = Context(spec, facts, clients)
    notify = on_event or (lambda a, s: None)
    in_plan = {a.key for a in plan.pending}
    pending = {a.key: a for a in plan.pending}
    done: set[str] = set()
    outcomes = {a.key: Outcome(a.key, a.op, a.kind, a.name, "not started") for a in plan.pending}
    failure: tuple[Action, Exception] | None = None
    started: dict[str, float] = {}

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="apply") as pool:
        running: dict[Future[None], Action] = {}
        while pending or running:
            if failure is None and not stopping():
                for key, action in list(pending.items()):
                    if all(n in done or n not in in_plan for n in action.needs):
                        del pending[key]
                        started[key] = time.monotonic()
                        notify(action, "start")
                        running[pool.submit(_execute, ctx, action)] = action
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                action = running.pop(fut)
                out = outcomes[action.key]
                out.seconds = round(time.monotonic() - started[action.key], 2)
                try:
                    fut.result()
                except Exception as e:  # reported below, after running steps finish
                    out.status, out.error = "failed", getattr(e, "message", str(e))
                    notify(action, "failed")
                    failure = failure or (action, e)
                else:
                    out.status = "done"
                    done.add(action.key)
                    notify(action, "done")
    if failure is not None:
        action, err = failure
        if not isinstance(err, AgentctlError):
            raise err
        label = f"{action.op} {action.kind} {action.name}"
        raise ApplyFailed(
            f"{label} failed: {err.message.removeprefix(label + ': ')}",
            step=action.key,
            hint=err.hint
            or "fix the cause, then run the same command again: it continues where this run stopped",
            cause=err,
        )
    if pending and stopping():
        raise Interrupted(
            f"interrupted: {len(done)} of {len(in_plan)} step(s) finished, {len(pending)} not started",
            hint="run the same command again: it observes what exists and does only what is left",
            finished=sorted(done),
        )
    return list(outcomes.values())


def _execute(ctx: Context, action: Action) -> None:
    kind = action.key.split(":", 1)[0]
    handler = HANDLERS.get((kind, action.op))
    for module in resources.kinds():
        handler = handler or module.HANDLERS.get((kind, action.op))
    if handler is None:
        raise CloudError(f"no handler for {action.op} {kind}")
    log.info("%s %s %s", action.op, action.kind, action.name)
    handler(ctx, action)


# --- handlers --------------------------------------------------------------------------------


def _resource_group(ctx: Context, a: Action) -> None:
    spec = ctx.spec
    ctx.clients.arm.put_resource_group(spec.azure.resourceGroup, spec.azure.location, desired.tags(spec))


def ssh_public_key(spec: PoolSpec) -> str:
    """The configured key, or a throwaway one whose private half is dropped at once."""
    key = spec.scaleSet.sshPublicKey
    if key and key.startswith(("ssh-", "ecdsa-")):
        return key.strip()
    if key:
        path = Path(key).expanduser()
        if not path.is_absolute() and spec.source:
            path = Path(spec.source).parent / path
        return path.read_text().strip()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public.decode() + " agentctl-throwaway"


def _scale_set_create(ctx: Context, a: Action) -> None:
    spec = ctx.spec
    body = desired.scale_set_body(spec, ssh_public_key(spec))
    ctx.outputs["scaleSet"] = ctx.clients.arm.put_scale_set(
        spec.azure.resourceGroup, spec.scaleSet.name, body
    )


def _scale_set_update(ctx: Context, a: Action) -> None:
    spec, arm = ctx.spec, ctx.clients.arm
    if "put" in a.data:  # recover a failed scale set: the whole model again, same SSH key
        body = desired.scale_set_body(spec, a.data["put"] or ssh_public_key(spec))
        observed = ctx.facts.scale_set or {}
        body["sku"]["capacity"] = observed.get("sku", {}).get("capacity", 0)
        desired.keep_extensions(body, observed)
        arm.put_scale_set(spec.azure.resourceGroup, spec.scaleSet.name, body)
    else:
        arm.patch_scale_set(spec.azure.resourceGroup, spec.scaleSet.name, a.data["patch"])


def _scale_set_delete(ctx: Context, a: Action) -> None:
    ctx.clients.arm.delete_scale_set(ctx.spec.azure.resourceGroup, ctx.spec.scaleSet.name)


def _identity_create(ctx: Context, a: Action) -> None:
    rg, name = desired.identity_parts(desired.pool_identity_id(ctx.spec))
    ctx.outputs["poolIdentity"] = ctx.clients.arm.put_identity(rg, name, desired.identity_body(ctx.spec))


def _identity_delete(ctx: Context, a: Action) -> None:
    ctx.clients.arm.delete_identity(*desired.identity_parts(desired.pool_identity_id(ctx.spec)))


def _role_create(ctx: Context, a: Action) -> None:
    principal = a.data.get("principalId") or ctx.principal(a.data.get("principal", "agents"))
    scope, role_id = a.data["scope"], a.data["roleId"]
    name = a.data.get("name") or desired.role_assignment_name(scope, principal, role_id)
    try:
        ctx.clients.arm.put_role_assignment(scope, name, role_id, principal, desired.marker(ctx.spec))
    except CloudError as e:
        if "RoleAssignmentExists" not in e.message:
            raise
        log.info("an equivalent role assignment exists already: %s", e.message)


def _role_delete(ctx: Context, a: Action) -> None:
    ctx.clients.arm.delete_role_assignment(a.data["scope"], a.data["name"])


def _connection_body(ctx: Context) -> dict[str, Any]:
    target = ctx.clients.devops.target
    return desired.connection_body(
        ctx.spec,
        ctx.facts.project,
        ctx.facts.tenant_id,
        str((ctx.pool_identity().get("properties") or {}).get("clientId") or ""),
        target.cloud.connection_environment,
        target.cloud.arm_endpoint,
    )


def _connection_create(ctx: Context, a: Action) -> None:
    dev = ctx.clients.devops
    created = dev.call("endpoint.create", body=_connection_body(ctx))
    ctx.outputs["azureConnection"] = dev.wait_ready(created["id"])


def _connection_update(ctx: Context, a: Action) -> None:
    dev = ctx.clients.devops
    conn = ctx.connection()
    body = {**_connection_body(ctx), "id": conn["id"]}
    dev.call("endpoint.update", {"endpointId": conn["id"]}, body=body)
    ctx.outputs["azureConnection"] = dev.wait_ready(conn["id"])


def _connection_delete(ctx: Context, a: Action) -> None:
    dev = ctx.clients.devops
    dev.call("endpoint.delete", {"endpointId": a.data["id"]}, {"projectIds": dev.project["id"]})


def _fic_put(ctx: Context, a: Action) -> None:
    issuer, subject = desired.wif_issuer_subject(ctx.connection())
    if not issuer or not subject:
        raise CloudError("the service connection did not return its workload identity issuer and subject")
    rg, name = desired.identity_parts(desired.pool_identity_id(ctx.spec))
    ctx.clients.arm.put_federated_credential(rg, name, a.name, issuer, subject)


def _fic_delete(ctx: Context, a: Action) -> None:
    rg, name = a.data["identity"]
    ctx.clients.arm.delete_federated_credential(rg, name, a.name)


def _pool_create(ctx: Context, a: Action) -> None:
    spec, dev = ctx.spec, ctx.clients.devops
    project_id = dev.project["id"]
    query = {
        "poolName": spec.devops.pool.name,
        "authorizeAllPipelines": str(spec.devops.pool.authorizeAllPipelines).lower(),
        "autoProvisionProjectPools": "false",
        "projectId": project_id,
    }
    body = desired.elastic_pool_body(spec, ctx.connection()["id"], project_id, ctx.facts.now)
    ctx.outputs["pool"] = dev.call("elastic.create", query=query, body=body)


def _pool_update(ctx: Context, a: Action) -> None:
    assert ctx.facts.agent_pool is not None
    dev = ctx.clients.devops
    body = {
        **desired.elastic_settings(ctx.spec, ctx.facts.now),
        "serviceEndpointId": ctx.connection()["id"],
        "serviceEndpointScope": dev.project["id"],
    }
    dev.call("elastic.update", {"poolId": ctx.facts.agent_pool["id"]}, body=body)


def _pool_delete(ctx: Context, a: Action) -> None:
    ctx.clients.devops.call("pool.delete", {"poolId": a.data["id"]})


def _permissions(ctx: Context, a: Action) -> None:
    created = ctx.outputs.get("pool") or {}
    queue = created.get("agentQueue") or ctx.facts.queue
    if not queue:
        raise CloudError(f"the project queue of pool {ctx.spec.devops.pool.name} was not found")
    pool = ctx.spec.devops.pool
    body = desired.permissions_body(pool.authorizeAllPipelines, pool.pipelines, ctx.facts.queue_permissions)
    ctx.clients.devops.set_permissions("queue", queue["id"], body)


HANDLERS: dict[tuple[str, str], Callable[[Context, Action], None]] = {
    ("resourceGroup", "create"): _resource_group,
    ("poolIdentity", "create"): _identity_create,
    ("poolIdentity", "delete"): _identity_delete,
    ("scaleSet", "create"): _scale_set_create,
    ("scaleSet", "update"): _scale_set_update,
    ("scaleSet", "delete"): _scale_set_delete,
    ("roleAssignment", "create"): _role_create,
    ("roleAssignment", "delete"): _role_delete,
    ("azureConnection", "create"): _connection_create,
    ("azureConnection", "update"): _connection_update,
    ("azureConnection", "delete"): _connection_delete,
    ("federatedCredential", "create"): _fic_put,
    ("federatedCredential", "update"): _fic_put,
    ("federatedCredential", "delete"): _fic_delete,
    ("pool", "create"): _pool_create,
    ("pool", "update"): _pool_update,
    ("pool", "delete"): _pool_delete,
    ("poolPermissions", "create"): _permissions,
    ("poolPermissions", "update"): _permissions,
}
assert all(op != NOOP for _, op in HANDLERS)
