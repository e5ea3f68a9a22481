"""The deploy path to a private cluster: environments with approval checks, Kubernetes connections.

``devops.environments`` become Azure DevOps environments (description carrying agentctl's marker)
with an Approval check whose approvers are resolved to identity ids; ``devops.kubernetes`` become
kubeconfig service connections made from the cluster's ARM credentials (repaired, minified and
checked; for ``kubelogin-msi`` converted to the agents' managed identity), with their pipeline
permissions. A connection stores the kubeconfig's fingerprint in ``data`` so a changed kubeconfig
is noticed without reading it back (Azure DevOps never returns it). None of these actions waits
for the scale set: they run while its long-running operation does.

The kubeconfig is a secret: it lives only in ``Facts.extra`` (not in actions, plans or logs) and
is registered with ``agentctl.logs`` for redaction.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentctl import desired
from agentctl.config import Environment, Kubernetes, PoolSpec
from agentctl.errors import AgentctlError, InvalidInput, NotFound, PreconditionFailed, Problem, quoted
from agentctl.plan import CREATE, DELETE, NOOP, UPDATE, Action, Change

if TYPE_CHECKING:
    from collections.abc import Callable

    from agentctl.apply import Context
    from agentctl.observe import Clients, Facts

log = logging.getLogger(__name__)

NAME = "deployPath"
APPROVAL_TYPE_ID = "8c6f20a7-a545-4486-9777-f762fafe0d4d"
FINGERPRINT_KEY = "agentctlKubeconfigSha256"
ENV, CHECK, CONN, PERMS = "environment", "approvalCheck", "kubernetesConnection", "kubernetesPermissions"


@dataclass(frozen=True)
class Prepared:
    """A kubeconfig ready to store in a connection; ``text`` is secret and never shown."""

    server: str
    context: str
    fingerprint: str
    text: str = field(repr=False)


@dataclass
class DeployPathFacts:
    environments: list[dict[str, Any]] = field(default_factory=list)  # named in the file or ours
    checks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # environment id -> Approval checks
    approvers: dict[str, list[str]] = field(default_factory=dict)  # environment name -> identity ids
    connections: list[dict[str, Any]] = field(default_factory=list)  # kubernetes endpoints: named or ours
    permissions: dict[str, dict[str, Any]] = field(default_factory=dict)  # endpoint id -> permissions
    kubeconfigs: dict[str, Prepared] = field(default_factory=dict, repr=False)  # connection name -> it
    errors: list[AgentctlError] = field(default_factory=list)  # raised by plan, ignored by destroy


# --- desired state ---------------------------------------------------------------------------


def environment_description(spec: PoolSpec, env: Environment) -> str:
    return f"{env.description}\n\n{desired.marker(spec)}" if env.description else desired.marker(spec)


def check_body(env: Environment, env_id: str | int, approver_ids: list[str]) -> dict[str, Any]:
    """The Approval check; sent raw because the SDK's model drops ``settings``."""
    return {
        "type": {"id": APPROVAL_TYPE_ID, "name": "Approval"},
        "resource": {"type": "environment", "id": str(env_id), "name": env.name},
        "settings": {
            "approvers": [{"id": i} for i in approver_ids],
            "minRequiredApprovers": env.minApprovers,
            "instructions": env.instructions,
            "requesterCannotBeApprover": env.requesterCannotBeApprover,
            "blockedApprovers": [],
        },
        "timeout": env.timeoutMinutes,
    }


def connection_body(
    spec: PoolSpec, k: Kubernetes, prepared: Prepared, project: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": k.connection,
        "type": "kubernetes",
        "url": prepared.server,
        "description": desired.marker(spec),
        "authorization": {
            "scheme": "Kubernetes",
            "parameters": {"kubeconfig": prepared.text, "clusterContext": prepared.context},
        },
        "data": {
            "authorizationType": "Kubeconfig",
            "acceptUntrustedCerts": "false",
            FINGERPRINT_KEY: prepared.fingerprint,
        },
        "isShared": False,
        "owner": "library",
        "serviceEndpointProjectReferences": [
            {
                "projectReference": {"id": project["id"], "name": project["name"]},
                "name": k.connection,
                "description": desired.marker(spec),
            }
        ],
    }


def check_drift(
    env: Environment, approver_ids: list[str], check: dict[str, Any]
) -> list[tuple[str, Any, Any]]:
    settings = check.get("settings") or {}
    have = settings.get("approvers") or []
    changes: list[tuple[str, Any, Any]] = []
    if sorted(str(a.get("id", "")).lower() for a in have) != sorted(i.lower() for i in approver_ids):
        # like with like: an identity on both sides is shown by the same name on both
        names = {
            str(a.get("id", "")).lower(): a.get("displayName") or a.get("uniqueName") or a.get("id")
            for a in have
        }
        wanted = list(env.approvers)  # one id per approver, in file order, when all resolved
        if len(approver_ids) == len(wanted):
            wanted = [names.get(i.lower(), name) for name, i in zip(wanted, approver_ids, strict=True)]
        changes.append(("approvers", list(names.values()), wanted))
    for label, old, new in (
        ("minApprovers", settings.get("minRequiredApprovers"), env.minApprovers),
        ("instructions", settings.get("instructions") or "", env.instructions),
        (
            "requesterCannotBeApprover",
            bool(settings.get("requesterCannotBeApprover")),
            env.requesterCannotBeApprover,
        ),
        ("timeoutMinutes", check.get("timeout"), env.timeoutMinutes),
    ):
        if old != new:
            changes.append((label, old, new))
    return changes


def connection_drift(prepared: Prepared, endpoint: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    data = endpoint.get("data") or {}
    changes: list[tuple[str, Any, Any]] = []
    if str(endpoint.get("url") or "").rstrip("/") != prepared.server.rstrip("/"):
        changes.append(("url", endpoint.get("url"), prepared.server))
    if data.get("authorizationType") != "Kubeconfig":
        changes.append(("authorizationType", data.get("authorizationType"), "Kubeconfig"))
    stored = str(data.get(FINGERPRINT_KEY) or "")
    if stored != prepared.fingerprint:
        changes.append(("kubeconfig", _short_print(stored), _short_print(prepared.fingerprint)))
    return changes


def _short_print(fingerprint: str) -> str:
    return f"sha256:{fingerprint[:12]}" if fingerprint else "unknown"


# --- observe -----------------------------------------------------------------------------------


def observe(spec: PoolSpec, clients: Clients, facts: Facts) -> DeployPathFacts:
    """Environments, their checks, approver ids, Kubernetes connections and kubeconfigs.

    Problems with the file's references (an unknown approver, a missing cluster, a kubeconfig
    that cannot be made usable) are kept in ``errors``: ``plan`` raises them, ``plan_destroy``
    does not need them.
    """
    dev = clients.devops
    project_id = dev.project["id"]
    envs_wanted, conns_wanted = spec.devops.environments, spec.devops.kubernetes
    out = DeployPathFacts()
    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="observe-deploy") as pool:
        env_list = pool.submit(dev.list_all, "environment.list", {"project": project_id})
        named = [
            pool.submit(dev.list_all, "environment.list", {"project": project_id}, {"name": e.name})
            for e in envs_wanted
        ]
        endpoints = pool.submit(dev.call, "endpoint.list", {"project": project_id}, {"type": "kubernetes"})
        approvers = {
            e.name: pool.submit(_approver_ids, spec, i, e, clients)
            for i, e in enumerate(envs_wanted)
            if e.approvers
        }
        kubes = {
            k.connection: pool.submit(_prepare, spec, i, k, clients, facts)
            for i, k in enumerate(conns_wanted)
        }

        wanted_envs = {e.name.lower() for e in envs_wanted}
        found = [*env_list.result(), *(v for f in named for v in f.result())]
        seen: set[str] = set()
        for e in found:
            mine = e["name"].lower() in wanted_envs or desired.owned(e.get("description"), spec)
            if mine and str(e["id"]) not in seen:
                seen.add(str(e["id"]))
                out.environments.append(e)
        checks = {
            str(e["id"]): pool.submit(_approval_checks, dev, project_id, e["id"]) for e in out.environments
        }

        wanted_conns = {k.connection.lower() for k in conns_wanted}
        out.connections = [
            c
            for c in dev.values(endpoints.result())
            if str(c.get("type", "")).lower() == "kubernetes"
            and (c["name"].lower() in wanted_conns or desired.owned(c.get("description"), spec))
        ]
        perms = {str(c["id"]): pool.submit(dev.permissions, "endpoint", c["id"]) for c in out.connections}

        out.checks = {env_id: c for env_id, f in checks.items() if (c := f.result())}
        out.permissions = {cid: f.result() for cid, f in perms.items()}
        for env_name, ids in approvers.items():
            _collect(out, env_name, ids, out.approvers)
        for conn_name, prepared in kubes.items():
            _collect(out, conn_name, prepared, out.kubeconfigs)
    return out


def _collect(out: DeployPathFacts, name: str, fut: Any, into: dict[str, Any]) -> None:
    try:
        into[name] = fut.result()
    except AgentctlError as e:
        out.errors.append(e)


def _approval_checks(dev: Any, project_id: str, env_id: str | int) -> list[dict[str, Any]]:
    """The environment's Approval checks, oldest first."""
    doc = dev.call(
        "check.list",
        {"project": project_id},
        {"resourceType": "environment", "resourceId": str(env_id), "$expand": "settings"},
    )
    found = [
        c for c in dev.values(doc) if str((c.get("type") or {}).get("id", "")).lower() == APPROVAL_TYPE_ID
    ]
    return sorted(found, key=lambda c: int(c.get("id") or 0))


def approval_check(
    env: Environment, approver_ids: list[str], checks: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The check that stands for ``env``'s approvals, and the Approval checks to delete.

    Checks have no name, so two runs on two machines (which share no lease) can each create one:
    of several, the oldest that already matches the file stands (else the oldest, to be updated),
    and the others that match the file are such duplicates. A check that differs from the file
    was added by hand and stays. With no approvers in the file, every Approval check goes.
    """
    matching = [c for c in checks if not check_drift(env, approver_ids, c)]
    primary = matching[0] if matching else (checks[0] if checks else None)
    extras = matching if env.approvers else checks
    return primary, [c for c in extras if c is not primary]


def _problem(spec: PoolSpec, path: str, message: str) -> Problem:
    return Problem(message, path, spec.line(path), spec.source)


def _approver_ids(spec: PoolSpec, index: int, env: Environment, clients: Clients) -> list[str]:
    """Each approver (e-mail, account or group name) as an identity id, in file order."""
    dev = clients.devops
    path = f"devops.environments[{index}].approvers"
    ids, missing, ambiguous = [], [], []
    for name in env.approvers:
        doc = dev.call(
            "identity.read",
            query={"searchFilter": "General", "filterValue": name, "queryMembership": "None"},
        )
        found = dev.values(doc)
        exact = [i for i in found if name.lower() in _identity_names(i)]
        if len(found) > 1 and exact:
            found = exact
        if not found:
            missing.append(name)
        elif len(found) > 1:
            ambiguous.append(name)
        else:
            ids.append(str(found[0]["id"]))
    if missing:
        raise NotFound(
            f"{path}: no user or group named {', '.join(missing)} in {dev.org_url}",
            hint="use the e-mail address of a user, or the name of a group that has access to the project",
            problems=[_problem(spec, path, f"no user or group named {quoted(n)}") for n in missing],
        )
    if ambiguous:
        raise InvalidInput(
            f"{path}: more than one identity matches {', '.join(ambiguous)}",
            hint="use the e-mail address, or the group's full name such as [project]\\group",
            problems=[_problem(spec, path, f"{quoted(n)} matches more than one identity") for n in ambiguous],
        )
    return ids


def _identity_names(identity: dict[str, Any]) -> set[str]:
    """The names an identity answers to: mail, account, display name (a group's also without [scope]\\)."""
    props = identity.get("properties") or {}
    display = str(identity.get("providerDisplayName") or "")
    names = {display, display.rsplit("\\", 1)[-1]}
    for key in ("Mail", "Account"):
        value = props.get(key)
        names.add(str(value.get("$value") if isinstance(value, dict) else value or ""))
    return {n.lower() for n in names if n}


def _prepare(spec: PoolSpec, index: int, k: Kubernetes, clients: Clients, facts: Facts) -> Prepared:
    """Fetch the cluster's kubeconfig through ARM and make it fit for a service connection."""
    from agentctl import kubeconfig
    from agentctl.azure import Arm
    from agentctl.logs import register_secret

    path = f"devops.kubernetes[{index}]"
    rg, name = k.cluster.resourceGroup, k.cluster.name
    arm = (
        Arm(clients.arm.target, k.cluster.subscription, clients.arm.shared)
        if k.cluster.subscription
        else clients.arm
    )
    cluster = arm.get_cluster(rg, name)
    if cluster is None:
        raise NotFound(
            f"{path}.cluster: AKS cluster {rg}/{name} does not exist",
            problems=[_problem(spec, f"{path}.cluster", f"AKS cluster {rg}/{name} does not exist")],
        )
    local_disabled = bool((cluster.get("properties") or {}).get("disableLocalAccounts"))
    if k.credentials == "admin" and local_disabled:
        raise PreconditionFailed(
            f"{path}.credentials: cluster {name} has local accounts disabled, so it has no admin credentials",
            hint="use `credentials: kubelogin-msi` (Entra sign-in with the agents' managed identity)",
            problems=[
                _problem(
                    spec,
                    f"{path}.credentials",
                    f"cluster {name} has local accounts disabled; use kubelogin-msi",
                )
            ],
        )
    raw = arm.cluster_kubeconfig(rg, name, admin=k.credentials == "admin").decode("utf-8", errors="replace")
    register_secret(raw)
    source = f"kubeconfig of cluster {name} ({path})"
    text = (
        kubeconfig.to_kubelogin_msi(raw, client_id=facts.client_id, source=source)
        if k.credentials == "kubelogin-msi"
        else raw
    )
    fixed, _ = kubeconfig.fix(text, source)
    context, final = kubeconfig.with_namespace(fixed, k.namespace, source)
    register_secret(final)
    remaining = kubeconfig.blocking(kubeconfig.check(final, source))
    if remaining:
        hint = (
            "the cluster signs in through Entra ID: use `credentials: kubelogin-msi`"
            if any(f.code == "exec.interactive" for f in remaining)
            else "the credentials AKS returned cannot be used as they are"
        )
        raise InvalidInput(
            f"{path}: the kubeconfig of cluster {name} is not usable in a service connection",
            hint=hint,
            problems=[f.problem() for f in remaining],
        )
    return Prepared(
        server=kubeconfig.current_server(final, source),
        context=context,
        fingerprint=kubeconfig.fingerprint(final, source),
        text=final,
    )


# --- plan --------------------------------------------------------------------------------------


def plan(spec: PoolSpec, facts: Facts) -> list[Action]:
    dp: DeployPathFacts | None = facts.extra.get(NAME)
    if dp is None:  # not observed: nothing known, nothing to plan
        return []
    if dp.errors:
        raise dp.errors[0]
    actions: list[Action] = []
    envs = {e["name"].lower(): e for e in dp.environments}
    for env in spec.devops.environments:
        actions += _plan_environment(spec, env, envs.pop(env.name.lower(), None), dp)
    for leftover in envs.values():
        if desired.owned(leftover.get("description"), spec):
            actions += _delete_environment(leftover, dp)
    conns = {c["name"].lower(): c for c in dp.connections}
    for k in spec.devops.kubernetes:
        actions += _plan_connection(spec, k, conns.pop(k.connection.lower(), None), dp)
    for leftover in conns.values():
        if desired.owned(leftover.get("description"), spec):
            actions.append(_delete_connection(leftover))
    return actions


def plan_destroy(spec: PoolSpec, facts: Facts) -> list[Action]:
    dp: DeployPathFacts | None = facts.extra.get(NAME)
    if dp is None:
        return []
    actions: list[Action] = []
    for env in dp.environments:
        if desired.owned(env.get("description"), spec):
            actions += _delete_environment(env, dp)
    for conn in dp.connections:
        if desired.owned(conn.get("description"), spec):
            actions.append(_delete_connection(conn))
    return actions


def _changes(items: list[tuple[str, Any, Any]]) -> list[Change]:
    return [Change(f, o, n) for f, o, n in items]


def _plan_environment(
    spec: PoolSpec, env: Environment, observed: dict[str, Any] | None, dp: DeployPathFacts
) -> list[Action]:
    env_key, check_key = f"{ENV}:{env.name}", f"{CHECK}:{env.name}"
    ids = dp.approvers.get(env.name, [])
    if observed is None:
        out = [Action(env_key, CREATE, "environment", env.name)]
        if env.approvers:
            out.append(Action(check_key, CREATE, "approval check", env.name, needs=(env_key,)))
        return out
    if not desired.owned(observed.get("description"), spec):
        raise PreconditionFailed(
            f"environment {quoted(env.name)} exists but agentctl did not create it",
            hint=f"choose another name, or add '{desired.marker(spec)}' to its description to adopt it",
        )
    description = environment_description(spec, env)
    drift = [
        ("name", observed.get("name"), env.name),
        ("description", observed.get("description"), description),
    ]
    drift = [d for d in drift if d[1] != d[2]]  # a name differs only in case: the file's case wins
    data = {"id": observed["id"]}
    out = [Action(env_key, UPDATE if drift else NOOP, "environment", env.name, _changes(drift), data=data)]
    check, extras = approval_check(env, ids, dp.checks.get(str(observed["id"]), []))
    for extra in extras:
        extra_key = f"{check_key}#{extra['id']}"
        out.append(
            Action(extra_key, DELETE, "approval check", f"{env.name} (another)", data={"id": extra["id"]})
        )
    if env.approvers and check is None:
        out.append(Action(check_key, CREATE, "approval check", env.name, needs=(env_key,)))
    elif env.approvers and check is not None:
        diff = check_drift(env, ids, check)
        op = UPDATE if diff else NOOP
        out.append(
            Action(check_key, op, "approval check", env.name, _changes(diff), (env_key,), {"id": check["id"]})
        )
    elif check is not None:
        out.append(Action(check_key, DELETE, "approval check", env.name, data={"id": check["id"]}))
    return out


def _delete_environment(env: dict[str, Any], dp: DeployPathFacts) -> list[Action]:
    name = str(env["name"])
    env_key, check_key = f"{ENV}:{name}", f"{CHECK}:{name}"
    out: list[Action] = []
    for i, check in enumerate(dp.checks.get(str(env["id"]), [])):
        key = check_key if i == 0 else f"{check_key}#{check['id']}"
        out.append(Action(key, DELETE, "approval check", name, data={"id": check["id"]}))
    needs = tuple(a.key for a in out)
    out.append(Action(env_key, DELETE, "environment", name, needs=needs, data={"id": env["id"]}))
    return out


def _plan_connection(
    spec: PoolSpec, k: Kubernetes, observed: dict[str, Any] | None, dp: DeployPathFacts
) -> list[Action]:
    conn_key, perms_key = f"{CONN}:{k.connection}", f"{PERMS}:{k.connection}"
    out: list[Action] = []
    if observed is None:
        out.append(Action(conn_key, CREATE, "Kubernetes connection", k.connection))
        if k.authorizeAllPipelines:
            changes = [Change("allPipelines", False, True)]
            out.append(
                Action(
                    perms_key,
                    CREATE,
                    "pipeline permissions",
                    f"endpoint {k.connection}",
                    changes,
                    (conn_key,),
                )
            )
        return out
    if not desired.owned(observed.get("description"), spec):
        raise PreconditionFailed(
            f"Kubernetes connection {quoted(k.connection)} exists but agentctl did not create it",
            hint="choose another devops.kubernetes[].connection name, or delete the existing connection",
        )
    drift = connection_drift(dp.kubeconfigs[k.connection], observed)
    if observed.get("name") != k.connection:  # differs only in case: the file's case wins
        drift.insert(0, ("name", observed.get("name"), k.connection))
    data = {"id": observed["id"]}
    out.append(
        Action(
            conn_key,
            UPDATE if drift else NOOP,
            "Kubernetes connection",
            k.connection,
            _changes(drift),
            data=data,
        )
    )
    perms = dp.permissions.get(str(observed["id"]), {})
    diff = desired.permissions_drift(k.authorizeAllPipelines, [], perms)
    out.append(
        Action(
            perms_key,
            UPDATE if diff else NOOP,
            "pipeline permissions",
            f"endpoint {k.connection}",
            _changes(diff),
            (conn_key,),
            data,
        )
    )
    return out


def _delete_connection(conn: dict[str, Any]) -> Action:
    name = str(conn["name"])
    return Action(f"{CONN}:{name}", DELETE, "Kubernetes connection", name, data={"id": conn["id"]})


# --- apply -------------------------------------------------------------------------------------


def _instance(a: Action) -> str:
    """The environment or connection an action is about: the part of its key after the kind."""
    return a.key.split(":", 1)[1]


def _facts(ctx: Context) -> DeployPathFacts:
    dp: DeployPathFacts = ctx.facts.extra[NAME]
    return dp


def _environment_spec(ctx: Context, name: str) -> Environment:
    return next(e for e in ctx.spec.devops.environments if e.name == name)


def _kubernetes_spec(ctx: Context, name: str) -> Kubernetes:
    return next(k for k in ctx.spec.devops.kubernetes if k.connection == name)


def _project(ctx: Context) -> dict[str, Any]:
    return {"project": ctx.clients.devops.project["id"]}


def _environment_create(ctx: Context, a: Action) -> None:
    env = _environment_spec(ctx, _instance(a))
    body = {"name": env.name, "description": environment_description(ctx.spec, env)}
    ctx.outputs[a.key] = ctx.clients.devops.call("environment.create", _project(ctx), body=body)


def _environment_update(ctx: Context, a: Action) -> None:
    env = _environment_spec(ctx, _instance(a))
    body = {"name": env.name, "description": environment_description(ctx.spec, env)}
    ctx.clients.devops.call("environment.update", {**_project(ctx), "environmentId": a.data["id"]}, body=body)


def _environment_delete(ctx: Context, a: Action) -> None:
    ctx.clients.devops.call("environment.delete", {**_project(ctx), "environmentId": a.data["id"]})


def _check_body(ctx: Context, a: Action) -> dict[str, Any]:
    name = _instance(a)
    created = ctx.outputs.get(f"{ENV}:{name}")
    observed = next((e for e in _facts(ctx).environments if e["name"].lower() == name.lower()), None)
    target = created or observed
    if not target:
        raise NotFound(f"environment {quoted(name)} is unknown (was its step skipped?)")
    return check_body(_environment_spec(ctx, name), target["id"], _facts(ctx).approvers.get(name, []))


def _check_create(ctx: Context, a: Action) -> None:
    ctx.clients.devops.call("check.create", _project(ctx), body=_check_body(ctx, a))


def _check_update(ctx: Context, a: Action) -> None:
    body = {**_check_body(ctx, a), "id": a.data["id"]}
    ctx.clients.devops.call("check.update", {**_project(ctx), "id": a.data["id"]}, body=body)


def _check_delete(ctx: Context, a: Action) -> None:
    ctx.clients.devops.call("check.delete", {**_project(ctx), "id": a.data["id"]})


def _connection_body(ctx: Context, a: Action) -> dict[str, Any]:
    k = _kubernetes_spec(ctx, _instance(a))
    return connection_body(ctx.spec, k, _facts(ctx).kubeconfigs[k.connection], ctx.clients.devops.project)


def _connection_create(ctx: Context, a: Action) -> None:
    ctx.outputs[a.key] = ctx.clients.devops.call("endpoint.create", body=_connection_body(ctx, a))


def _connection_update(ctx: Context, a: Action) -> None:
    body = {**_connection_body(ctx, a), "id": a.data["id"]}
    ctx.clients.devops.call("endpoint.update", {"endpointId": a.data["id"]}, body=body)


def _connection_delete(ctx: Context, a: Action) -> None:
    dev = ctx.clients.devops
    dev.call("endpoint.delete", {"endpointId": a.data["id"]}, {"projectIds": dev.project["id"]})


def _permissions(ctx: Context, a: Action) -> None:
    name = _instance(a)
    k = _kubernetes_spec(ctx, name)
    endpoint_id = a.data.get("id") or (ctx.outputs.get(f"{CONN}:{name}") or {}).get("id")
    if not endpoint_id:
        raise NotFound(f"Kubernetes connection {quoted(name)} is unknown (was its step skipped?)")
    body = desired.permissions_body(k.authorizeAllPipelines, [])
    ctx.clients.devops.set_permissions("endpoint", endpoint_id, body)


HANDLERS: dict[tuple[str, str], Callable[[Context, Action], None]] = {
    (ENV, CREATE): _environment_create,
    (ENV, UPDATE): _environment_update,
    (ENV, DELETE): _environment_delete,
    (CHECK, CREATE): _check_create,
    (CHECK, UPDATE): _check_update,
    (CHECK, DELETE): _check_delete,
    (CONN, CREATE): _connection_create,
    (CONN, UPDATE): _connection_update,
    (CONN, DELETE): _connection_delete,
    (PERMS, CREATE): _permissions,
    (PERMS, UPDATE): _permissions,
}


# --- status ------------------------------------------------------------------------------------


def status(spec: PoolSpec, clients: Clients, facts: Facts) -> dict[str, Any]:
    dp: DeployPathFacts = facts.extra.get(NAME) or DeployPathFacts()
    envs = {e["name"].lower(): e for e in dp.environments}
    conns = {c["name"].lower(): c for c in dp.connections}
    environments = []
    for env in spec.devops.environments:
        observed = envs.get(env.name.lower())
        ids = dp.approvers.get(env.name)
        checks = dp.checks.get(str(observed["id"]), []) if observed else []
        check, extras = approval_check(env, ids or [], checks)
        environments.append(
            {
                "name": env.name,
                "exists": observed is not None,
                "approvers": list(env.approvers),
                "check": check is not None,
                "checkCurrent": check is not None
                and ids is not None
                and not extras
                and not check_drift(env, ids, check),
            }
        )
    connections = []
    for k in spec.devops.kubernetes:
        endpoint = conns.get(k.connection.lower())
        prepared = dp.kubeconfigs.get(k.connection)
        current = endpoint is not None and prepared is not None and not connection_drift(prepared, endpoint)
        connections.append(
            {
                "name": k.connection,
                "cluster": f"{k.cluster.resourceGroup}/{k.cluster.name}",
                "credentials": k.credentials,
                "exists": endpoint is not None,
                "isReady": (endpoint or {}).get("isReady"),
                "kubeconfigCurrent": current,
            }
        )
    return {
        "environments": environments,
        "connections": connections,
        "problems": [e.message for e in dp.errors],
    }
