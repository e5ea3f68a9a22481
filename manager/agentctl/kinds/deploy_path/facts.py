"""The deploy path's facts: environments and their Approval checks, approver ids, Kubernetes
connections, their permissions, and the kubeconfigs fetched through ARM and made fit for a
connection. Read-only."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agentctl.config import Environment, Kubernetes, PoolSpec
from agentctl.errors import AgentctlError, InvalidInput, NotFound, PreconditionFailed, Problem, quoted
from agentctl.kinds.base import Clients, Facts
from agentctl.kinds.common import owned

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


def of(facts: Facts) -> DeployPathFacts | None:
    """The deploy path's part of ``facts`` (None: not observed)."""
    found: DeployPathFacts | None = facts.kinds.get(NAME)
    return found


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
            mine = e["name"].lower() in wanted_envs or owned(e.get("description"), spec)
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
            and (c["name"].lower() in wanted_conns or owned(c.get("description"), spec))
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
    _check_usable(final, source, f"{path}: the kubeconfig of cluster {name}")
    return Prepared(
        server=kubeconfig.current_server(final, source),
        context=context,
        fingerprint=kubeconfig.fingerprint(final, source),
        text=final,
    )


def _check_usable(final: str, source: str, what: str) -> None:
    """Stop when the kubeconfig still has what a service connection cannot use."""
    from agentctl import kubeconfig

    remaining = kubeconfig.blocking(kubeconfig.check(final, source))
    if remaining:
        hint = (
            "the cluster signs in through Entra ID: use `credentials: kubelogin-msi`"
            if any(f.code == "exec.interactive" for f in remaining)
            else "the credentials AKS returned cannot be used as they are"
        )
        raise InvalidInput(
            f"{what} is not usable in a service connection",
            hint=hint,
            problems=[f.problem() for f in remaining],
        )
