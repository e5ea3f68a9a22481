"""Azure DevOps agent pools, queues and elastic (scale set) pools, and what Azure DevOps does
after an elastic pool exists.

Creating an elastic pool checks what the service checks: the name is free, ``desiredIdle <=
maxCapacity``, the AzureRM service connection exists in the project, the scale set exists and
backs no other pool, and the connection can actually reach it: its workload identity must have
a federated credential for the connection's issuer and subject, and a role on the scale set
that allows writing to it.

Then a ticker plays Azure DevOps: after ``timing.scale_delay`` it sets the scale set's capacity
to the standby count (creating instances), adds a node per instance in state ``new``, moves it
to ``startingAgent`` halfway through ``timing.node_idle_delay`` and at its end marks it ``idle``
with its agent online, if the instance can reach what the agent extension needs
(``AGENT_HOSTS``, judged by ``agentctl.sandbox.netmodel``); if not, the node goes to
``failedToStartPendingDelete`` with an error in the pool log, and after another
``node_idle_delay`` Azure DevOps keeps the instance as a ``saved`` node while fewer than
``maxSavedNodeCount`` are saved, else deletes it; either way, the pool being short of its
standby count, it creates a new one. Meanwhile the instance's simulated files get the lines the agent
extension and the agent log, and the extension's status changes (``agentctl.sandbox.guest``).
Instances deleted through ARM lose their nodes and are replaced. The ticker runs against the
clock on every request, so the simulation also advances across processes sharing a state
directory.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from agentctl.sandbox import guest, netmodel
from agentctl.sandbox.arm import authorization, compute, identity
from agentctl.sandbox.arm import common as arm_common
from agentctl.sandbox.devops import common, endpoints, permissions
from agentctl.sandbox.faults import Timing
from agentctl.sandbox.http import Response, devops_error, iso_z
from agentctl.sandbox.registry import Ctx, Env, Location, State, devops, location, ticker

ELASTIC = location(
    Location(
        "dd3c938f-835b-4971-b99a-db75a47aad43",
        "distributedtask",
        "elasticpools",
        "_apis/{area}/{resource}/{poolId}",
        1,
        6.1,
        7.2,
        "7.1",  # released in 7.1 (the 7.1 spec marks it not preview)
    )
)
NODES = location(
    Location(
        "1b232402-5ff0-42ad-9703-d76497835eb6",
        "distributedtask",
        "nodes",
        "_apis/{area}/elasticpools/{poolId}/{resource}/{elasticNodeId}",
        1,
        6.1,
        7.2,
        "7.1",  # released in 7.1 (the 7.1 spec marks it not preview)
    )
)
LOGS = location(
    Location(
        "595b1769-61d5-4076-a72a-98a02105ca9a",
        "distributedtask",
        "logs",
        "_apis/{area}/elasticpools/{poolId}/{resource}",
        1,
        6.1,
        7.2,
        "7.1",  # released in 7.1 (the 7.1 spec marks it not preview)
    )
)
POOLS = location(
    Location(
        "a8c47e17-4d56-4a56-92bb-de7ea7dc65be",
        "distributedtask",
        "pools",
        "_apis/{area}/{resource}/{poolId}",
        1,
        3.0,
        7.2,
        "7.1",
    )
)
QUEUES = location(
    Location(
        "900fa995-c559-4923-aae7-f8424fe4fbea",
        "distributedtask",
        "queues",
        "{project}/_apis/{area}/{resource}/{queueId}",
        1,
        3.2,
        7.2,
        "7.1",
    )
)
# The pipelines agent extension Azure DevOps adds to a scale set it takes for an elastic pool:
# it downloads the agent and registers the VM with the pool.
AGENT_EXTENSION = {
    "name": "Microsoft.Azure.DevOps.Pipelines.Agent",
    "properties": {
        "publisher": "Microsoft.VisualStudio.Services",
        "type": "TeamServicesAgentLinux",
        "typeHandlerVersion": "1.23",
        "autoUpgradeMinorVersion": False,
        "settings": {"isPipelinesAgent": True, "agentFolder": "/agent"},
        "provisionAfterExtensions": [],
    },
}
WRITE_ROLES = {"Owner", "Contributor", "Virtual Machine Contributor"}
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
SETTINGS = {
    "agentInteractiveUI": bool,
    "azureId": str,
    "desiredIdle": int,
    "maxCapacity": int,
    "maxSavedNodeCount": int,
    "orchestrationType": str,
    "osType": str,
    "recycleAfterEachUse": bool,
    "serviceEndpointId": str,
    "serviceEndpointScope": str,
    "timeToLiveMinutes": int,
}


def pools(st: State) -> dict[str, common.Item]:
    return common.section(st, "pools")


def queues(st: State) -> dict[str, common.Item]:
    return common.section(st, "queues")


def elastic(st: State) -> dict[str, common.Item]:
    return common.section(st, "elasticPools")


def _not_found(kind: str, key: Any) -> Exception:
    type_key = "TaskAgentPoolNotFoundException" if kind == "pool" else "TaskAgentQueueNotFoundException"
    what = "Agent pool" if kind == "pool" else "Agent queue"
    return devops_error(404, type_key, f"{what} {key} could not be found.")


def _pool(ctx: Ctx) -> common.Item:
    pid = common.int_param(ctx, "poolId")
    found = pools(ctx.st).get(str(pid))
    if found is None:
        raise _not_found("pool", pid)
    return found


def _elastic(ctx: Ctx) -> common.Item:
    pid = common.int_param(ctx, "poolId")
    found = elastic(ctx.st).get(str(pid))
    if found is None:
        raise devops_error(
            404, "ElasticPoolDoesNotExistException", f"Elastic pool with id {pid} does not exist."
        )
    return found


def pool_reference(pool: common.Item) -> common.Item:
    keys = ("id", "scope", "name", "isHosted", "poolType", "size", "isLegacy", "options")
    return {k: pool[k] for k in keys}


def new_pool(ctx: Ctx, name: str, options: str, auto_provision: bool, hosted: bool = False) -> common.Item:
    return make_pool(ctx.st, name, options, auto_provision, common.caller(ctx), ctx.now, hosted)


def make_pool(
    st: State,
    name: str,
    options: str,
    auto_provision: bool,
    owner: common.Item,
    now: float,
    hosted: bool = False,
) -> common.Item:
    """An agent pool made by ``owner`` (an identity reference)."""
    pid = common.next_id(st, "pool", start=10)
    pool = {
        "createdOn": iso_z(now),
        "autoProvision": auto_provision,
        "autoUpdate": True,
        "autoSize": True,
        "createdBy": owner,
        "owner": owner,
        "id": pid,
        "scope": arm_common.stable_guid(f"pool/{pid}/{name}"),
        "name": name,
        "isHosted": hosted,
        "poolType": "automation",
        "size": 0,
        "isLegacy": False,
        "options": options,
    }
    pools(st)[str(pid)] = pool
    return pool


def new_queue(ctx: Ctx, project_id: str, pool: common.Item) -> common.Item:
    return make_queue(ctx.st, project_id, pool)


def make_queue(st: State, project_id: str, pool: common.Item) -> common.Item:
    qid = common.next_id(st, "queue", start=10)
    queue = {"id": qid, "projectId": project_id, "name": pool["name"], "pool": pool_reference(pool)}
    queues(st)[str(qid)] = queue
    return queue


def _log(st: State, pool_id: int, operation: str, message: str, now: float, level: str = "info") -> None:
    logs: list[common.Item] = common.section(st, "elasticLogs").setdefault(str(pool_id), [])
    logs.append(
        {
            "id": common.next_id(st, "elasticLog"),
            "poolId": pool_id,
            "level": level,
            "operation": operation,
            "message": message,
            "timestamp": iso_z(now),
        }
    )


def _options(recycle: bool) -> str:
    return "elasticPool, singleUseAgents" if recycle else "elasticPool"


def _settings(doc: common.Item, base: common.Item) -> common.Item:
    """Elastic pool settings from a body over ``base``, with the service's value rules."""
    out = dict(base)
    for key, kind in SETTINGS.items():
        if key not in doc or doc[key] is None:
            continue
        value = doc[key]
        if (kind is int and (not isinstance(value, int) or isinstance(value, bool))) or (
            kind is not int and not isinstance(value, kind)
        ):
            raise common.bad_request(f"'{key}' must be a {kind.__name__}.")
        out[key] = value
    for key in ("azureId", "serviceEndpointId", "serviceEndpointScope", "maxCapacity"):
        if out.get(key) in (None, ""):
            raise devops_error(
                400,
                "ArgumentNullException",
                f"Value cannot be null.\r\nParameter name: {key}",
                namespace="System",
            )
    if out["maxCapacity"] < 1:
        raise common.bad_request("The maximum number of virtual machines (maxCapacity) must be at least 1.")
    for key in ("desiredIdle", "maxSavedNodeCount", "timeToLiveMinutes"):
        if out[key] < 0:
            raise common.bad_request(f"'{key}' cannot be negative.")
    if out["desiredIdle"] > out["maxCapacity"]:
        raise common.bad_request(
            f"The number of agents to keep on standby (desiredIdle, {out['desiredIdle']}) cannot be "
            "greater than "
            f"the maximum number of virtual machines in the scale set (maxCapacity, {out['maxCapacity']})."
        )
    out["osType"] = out["osType"].lower()
    out["orchestrationType"] = out["orchestrationType"].lower()
    if out["osType"] not in ("linux", "windows"):
        raise common.bad_request(f"osType '{out['osType']}' is not valid; use linux or windows.")
    if out["orchestrationType"] not in ("uniform", "flexible"):
        raise common.bad_request(
            f"orchestrationType '{out['orchestrationType']}' is not valid; use uniform or flexible."
        )
    return out


def _check_scale_set(ctx: Ctx, settings: common.Item, pool_id: int | None) -> None:
    """The connection exists in the project and can reach a scale set no other pool uses."""
    scope = common.project(ctx, settings["serviceEndpointScope"])
    ep = endpoints.endpoints(ctx.st).get(settings["serviceEndpointId"].lower())
    if ep is None or not any(
        r["projectReference"]["id"] == scope["id"] for r in ep["serviceEndpointProjectReferences"]
    ):
        raise common.bad_request(
            f"Service endpoint {settings['serviceEndpointId']} was not found in project {scope['name']}."
        )
    if ep["type"].lower() != "azurerm":
        raise common.bad_request(
            f"Service endpoint {ep['name']} is not an Azure Resource Manager service connection."
        )
    azure_id = settings["azureId"]
    vmss = arm_common.get(ctx.st, azure_id)
    if vmss is None or vmss["type"] != compute.TYPE:
        raise common.bad_request(f"The virtual machine scale set {azure_id} could not be found.")
    for other in elastic(ctx.st).values():
        if other["azureId"].lower() == azure_id.lower() and other["poolId"] != pool_id:
            raise common.bad_request(
                f"The virtual machine scale set {azure_id} is already used by agent pool {other['poolId']}."
            )
    principal = _federated_principal(ctx, ep)
    if principal is not None and not authorization.role_names_of(ctx.st, principal, vmss["id"]) & WRITE_ROLES:
        raise common.bad_request(
            f"Failed to access the virtual machine scale set with service connection {ep['name']}: The "
            "client "
            f"'{principal}' with object id '{principal}' does not have authorization to perform action "
            f"'Microsoft.Compute/virtualMachineScaleSets/write' over scope '{vmss['id']}' or the scope "
            "is invalid."
        )


def _federated_principal(ctx: Ctx, ep: common.Item) -> str | None:
    """The principal a workload-identity connection signs in as; fails as Entra would when the
    identity has no federated credential for the connection. None for other schemes."""
    if ep["authorization"]["scheme"] != "WorkloadIdentityFederation":
        return None
    params = endpoints.public(ctx, ep)["authorization"]["parameters"]
    client_id = params.get("serviceprincipalid") or ""
    uai = identity.by_client_id(ctx.st, client_id)
    if uai is None:
        raise common.bad_request(
            f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
            f"'{ctx.meta['tenantId']}'."
        )
    issuer, subject = params["workloadIdentityFederationIssuer"], params["workloadIdentityFederationSubject"]
    for fic in identity.credentials_of(ctx.st, uai["id"]):
        p = fic["properties"]
        if p["issuer"] == issuer and p["subject"] == subject and FEDERATION_AUDIENCE in p["audiences"]:
            principal: str = uai["properties"]["principalId"]
            return principal
    raise common.bad_request(
        "AADSTS700213: No matching federated identity record found for presented assertion subject "
        f"'{subject}'. "
        "Check your federated identity credential Subject, Audience and Issuer against the presented "
        "assertion."
    )


@devops(ELASTIC, "POST", "devops.elasticpools.create", key="!poolId")
def create_elastic_pool(ctx: Ctx) -> Response:
    name = ctx.req.arg("poolName")
    if not name:
        raise devops_error(
            400,
            "ArgumentNullException",
            "Value cannot be null.\r\nParameter name: poolName",
            namespace="System",
        )
    defaults = {
        "desiredIdle": 0,
        "maxSavedNodeCount": 0,
        "timeToLiveMinutes": 15,
        "recycleAfterEachUse": False,
        "agentInteractiveUI": False,
        "osType": "linux",
        "orchestrationType": "uniform",
    }
    settings = _settings(common.body(ctx), defaults)
    if any(p["name"].lower() == name.lower() for p in pools(ctx.st).values()):
        raise devops_error(409, "AgentPoolExistsException", f"Agent pool {name} already exists.")
    project_id = ctx.req.arg("projectId")
    project = common.project(ctx, project_id) if project_id else None
    _check_scale_set(ctx, settings, None)
    flag = ctx.req.arg("autoProvisionProjectPools").lower() == "true"
    pool = new_pool(ctx, name, _options(settings["recycleAfterEachUse"]), flag)
    projects = list(common.section(ctx.st, "projects").values()) if flag else []
    if project and all(p["id"] != project["id"] for p in projects):
        projects.append(project)
    made = [new_queue(ctx, p["id"], pool) for p in projects]
    if ctx.req.arg("authorizeAllPipelines").lower() == "true":
        for q in made:
            permissions.authorize_all(ctx, "queue", str(q["id"]))
    ep_pool = {
        **settings,
        "poolId": pool["id"],
        "state": "online",
        "desiredSize": 0,
        "sizingAttempts": 0,
    }
    elastic(ctx.st)[str(pool["id"])] = ep_pool
    _log(
        ctx.st,
        pool["id"],
        "configurationJob",
        f"Elastic pool {name} created for {settings['azureId']}.",
        ctx.now,
    )
    _take_scale_set(ctx.st, ep_pool, ctx.now)
    queue = next((q for q in made if project and q["projectId"] == project["id"]), made[0] if made else None)
    return Response(200, {"agentPool": pool, "agentQueue": queue, "elasticPool": ep_pool})


@devops(ELASTIC, "GET", "devops.elasticpools.get", key="poolId")
def get_elastic_pool(ctx: Ctx) -> Response:
    return Response(200, _elastic(ctx))


@devops(ELASTIC, "GET", "devops.elasticpools.list", key="!poolId")
def list_elastic_pools(ctx: Ctx) -> Response:
    return Response(200, common.wrap(sorted(elastic(ctx.st).values(), key=lambda p: p["poolId"])))


@devops(ELASTIC, "PATCH", "devops.elasticpools.update", key="poolId")
def update_elastic_pool(ctx: Ctx) -> Response:
    current = _elastic(ctx)
    settings = _settings(common.body(ctx), current)
    _check_scale_set(ctx, settings, current["poolId"])
    current.update(settings)
    pool = pools(ctx.st)[str(current["poolId"])]
    pool["options"] = _options(current["recycleAfterEachUse"])
    _log(ctx.st, current["poolId"], "configurationJob", "Elastic pool settings updated.", ctx.now)
    return Response(200, current)


@devops(NODES, "GET", "devops.elasticnodes.list", key="!elasticNodeId")
def list_nodes(ctx: Ctx) -> Response:
    ep = _elastic(ctx)
    state = ctx.req.arg("$state").lower()
    items = common.section(ctx.st, "elasticNodes").get(str(ep["poolId"]), [])
    return Response(200, common.wrap([n for n in items if not state or n["state"].lower() == state]))


@devops(LOGS, "GET", "devops.elasticlogs.list")
def list_logs(ctx: Ctx) -> Response:
    ep = _elastic(ctx)
    top = int(ctx.req.arg("$top") or 200)
    items = common.section(ctx.st, "elasticLogs").get(str(ep["poolId"]), [])
    return Response(200, common.wrap(list(reversed(items))[:top]))


@devops(POOLS, "GET", "devops.pools.get", key="poolId")
def get_pool(ctx: Ctx) -> Response:
    return Response(200, _pool(ctx))


@devops(POOLS, "GET", "devops.pools.list", key="!poolId")
def list_pools(ctx: Ctx) -> Response:
    name, kind = ctx.req.arg("poolName").lower(), ctx.req.arg("poolType").lower()
    ids = {i.strip() for i in ctx.req.arg("poolIds").split(",") if i.strip()}
    out = [
        p
        for p in pools(ctx.st).values()
        if (not name or fnmatch.fnmatchcase(p["name"].lower(), name))
        and (not kind or p["poolType"].lower() == kind)
        and (not ids or str(p["id"]) in ids)
    ]
    return Response(200, common.wrap(sorted(out, key=lambda p: p["id"])))


@devops(POOLS, "DELETE", "devops.pools.delete", key="poolId")
def delete_pool(ctx: Ctx) -> Response:
    pool = _pool(ctx)
    if pool["isHosted"]:
        raise common.bad_request(
            f"Agent pool {pool['name']} is hosted by Azure DevOps and cannot be deleted."
        )
    key = str(pool["id"])
    for section in ("pools", "elasticPools", "elasticNodes", "elasticLogs", "scaleDue"):
        common.section(ctx.st, section).pop(key, None)
    for qid in [q for q, queue in queues(ctx.st).items() if queue["pool"]["id"] == pool["id"]]:
        del queues(ctx.st)[qid]
        common.section(ctx.st, "permissions").pop(f"queue/{qid}", None)
    return Response(204)


def _queue(ctx: Ctx) -> common.Item:
    proj = common.project(ctx)
    qid = common.int_param(ctx, "queueId")
    found = queues(ctx.st).get(str(qid))
    if found is None or found["projectId"] != proj["id"]:
        raise _not_found("queue", qid)
    return found


@devops(QUEUES, "GET", "devops.queues.get", key="queueId")
def get_queue(ctx: Ctx) -> Response:
    return Response(200, _queue(ctx))


@devops(QUEUES, "GET", "devops.queues.list", key="!queueId")
def list_queues(ctx: Ctx) -> Response:
    proj = common.project(ctx)
    names = {
        n.strip().lower()
        for n in (ctx.req.arg("queueNames") or ctx.req.arg("queueName")).split(",")
        if n.strip()
    }
    ids = {i.strip() for i in ctx.req.arg("queueIds").split(",") if i.strip()}
    out = [
        q
        for q in queues(ctx.st).values()
        if q["projectId"] == proj["id"]
        and (not names or any(fnmatch.fnmatchcase(q["name"].lower(), n) for n in names))
        and (not ids or str(q["id"]) in ids)
    ]
    return Response(200, common.wrap(sorted(out, key=lambda q: q["id"])))


@devops(QUEUES, "DELETE", "devops.queues.delete", key="queueId")
def delete_queue(ctx: Ctx) -> Response:
    queue = _queue(ctx)
    del queues(ctx.st)[str(queue["id"])]
    common.section(ctx.st, "permissions").pop(f"queue/{queue['id']}", None)
    return Response(204)


# --- what Azure DevOps does on its own ---------------------------------------------------------


# What a new VM must reach for its agent to come online: the agent extension downloads the agent,
# then the agent registers with the organization.
AGENT_HOSTS = ("download.agent.dev.azure.com", "dev.azure.com")
EXTENSION = "Microsoft.Azure.DevOps.Pipelines.Agent"


AGENT_VERSION = "4.255.0"
AGENT_PACKAGE = (
    f"https://download.agent.dev.azure.com/agent/{AGENT_VERSION}/vsts-agent-linux-x64-{AGENT_VERSION}.tar.gz"
)


def _unreachable(st: State, vmss: common.Item | None) -> str:
    """Why the scale set's VMs cannot bring an agent online ("" when they can)."""
    if vmss is None:
        return ""
    subnet, nic_nsg = netmodel.scale_set_network(vmss)
    if subnet is None:
        return ""
    for host in AGENT_HOSTS:
        verdict = netmodel.reach(st, subnet, host, 443, nic_nsg)
        if not verdict.ok:
            return f"https://{host}: {verdict.reason}"
    return ""


def _vm_id(ep: common.Item, node: common.Item) -> str:
    return f"{ep['azureId']}/virtualMachines/{node['computeId']}"


def _guest_start(st: State, ep: common.Item, node: common.Item, now: float) -> None:
    """The extension starts on a new VM and downloads the agent."""
    vm = _vm_id(ep, node)
    guest.set_extension(st, vm, "transitioning", "Enabling the pipelines agent", now)
    guest.write(
        st,
        vm,
        guest.EXTENSION_LOG,
        [
            "[INFO] Handler enable: the pipelines agent extension starts",
            "[INFO] Python 3 found at /usr/bin/python3; systemd is running",
            f"[INFO] Downloading the agent from {AGENT_PACKAGE}",
        ],
        now,
    )


def _guest_outcome(st: State, ep: common.Item, node: common.Item, why: str, now: float) -> None:
    """What the extension and the agent log once the agent came online or failed (``why``)."""
    vm, org = _vm_id(ep, node), f"https://dev.azure.com/{st['meta'].get('organization', '')}"
    host, reason = why.split(": ", 1) if why else ("", "")
    curl_code = 6 if "does not resolve" in reason else 28
    curl_error = (
        f"curl: (6) Could not resolve host: {host.removeprefix('https://')}"
        if curl_code == 6
        else "curl: (28) Connection timed out after 30001 milliseconds"
    )
    if host.endswith("download.agent.dev.azure.com"):
        guest.write(
            st,
            vm,
            guest.EXTENSION_LOG,
            [
                f"[ERROR] {curl_error}",
                "[ERROR] Failed to download the agent package (3 attempts); giving up",
                "[ERROR] Enable failed: the agent could not be downloaded",
            ],
            now,
        )
        guest.set_extension(
            st,
            vm,
            "failed",
            f"Enable failed: could not download the agent from {AGENT_PACKAGE}: {curl_error}",
            now,
        )
        return
    guest.write(
        st,
        vm,
        guest.EXTENSION_LOG,
        [
            f"[INFO] Extracted the agent {AGENT_VERSION} to /agent",
            f"[INFO] Configuring the agent: --url {org} --pool {pools(st)[str(ep['poolId'])]['name']} "
            "--auth pat --token ***",
        ],
        now,
    )
    diag = guest.diag_log(now)
    if why:
        error = (
            f"Name or service not known ({host.removeprefix('https://')}:443)"
            if curl_code == 6
            else f"Connection timed out ({host.removeprefix('https://')}:443)"
        )
        guest.write(
            st,
            vm,
            diag,
            [
                f"[INFO AgentProcess] Agent package vsts-agent-linux-x64-{AGENT_VERSION}.",
                f"[ERR  VisualStudioServices] GET request to {org}/_apis/connectionData failed.",
                f"[ERR  Terminal] System.Net.Http.HttpRequestException: {error}",
                "[ERR  AgentProcess] Agent configuration failed.",
            ],
            now,
        )
        guest.write(st, vm, guest.EXTENSION_LOG, ["[ERROR] Enable failed: agent configuration failed"], now)
        guest.set_extension(
            st, vm, "failed", f"Enable failed: the agent could not connect to {org}: {error}", now
        )
        return
    guest.write(
        st,
        vm,
        diag,
        [
            f"[INFO AgentProcess] Agent package vsts-agent-linux-x64-{AGENT_VERSION}.",
            f"[INFO ConfigurationManager] Connected to {org}; agent {node['name']} registered.",
            "[INFO Terminal] Listening for Jobs",
        ],
        now,
    )
    guest.write(st, vm, guest.EXTENSION_LOG, ["[INFO] Enable succeeded: the agent is running"], now)
    guest.set_extension(st, vm, "succeeded", "Enable succeeded: the agent is running", now)


def _fail_node(st: State, ep: common.Item, node: common.Item, why: str, now: float) -> None:
    node.update(state="failedToStartPendingDelete", agentState="none", stateChangedOn=iso_z(now))
    _guest_outcome(st, ep, node, why, now)
    # The service knows what the extension reported, not why the network refused it.
    reported = (guest.record(st, _vm_id(ep, node)).get("extension") or {}).get("message") or "failed"
    _log(
        st,
        ep["poolId"],
        "configurationJob",
        f"Failed to start the agent on {node['name']}: the VM extension {EXTENSION} reported: "
        f"{reported}. The VM will be deleted.",
        now,
        "error",
    )


def _sync_nodes(st: State, ep: common.Item, live: list[common.Item], timing: Timing, now: float) -> None:
    """One node per live instance; new nodes come online after ``node_idle_delay``."""
    key = str(ep["poolId"])
    nodes: list[common.Item] = common.section(st, "elasticNodes").setdefault(key, [])
    timers: dict[str, float] = common.section(st, "nodeTimers")
    by_instance = {vm["instanceId"]: vm for vm in live}
    for node in [n for n in nodes if n["computeId"] not in by_instance]:
        nodes.remove(node)
        timers.pop(str(node["id"]), None)
        guest.forget(st, [_vm_id(ep, node)])
        _log(st, ep["poolId"], "deleteVMs", f"Node {node['name']} was removed from the scale set.", now)
    known = {n["computeId"] for n in nodes}
    for iid, vm in by_instance.items():
        if iid in known:
            continue
        nid = common.next_id(st, "elasticNode")
        nodes.append(
            {
                "id": nid,
                "name": vm["properties"]["osProfile"]["computerName"],
                "poolId": ep["poolId"],
                "computeId": iid,
                "computeState": "healthy",
                "agentState": "none",
                "state": "new",
                "desiredState": "none",
                "stateChangedOn": iso_z(now),
            }
        )
        timers[str(nid)] = now + timing.node_idle_delay / 2
    vmss = arm_common.get(st, ep["azureId"])
    for node in list(nodes):
        due = timers.get(str(node["id"]))
        if due is not None and due <= now and node["state"] == "new":
            node.update(state="startingAgent", stateChangedOn=iso_z(due))
            _guest_start(st, ep, node, due)
            due = timers[str(node["id"])] = due + timing.node_idle_delay / 2
        if due is None or due > now:
            continue
        if node["state"] == "startingAgent":
            why = _unreachable(st, vmss)
            if why:
                _fail_node(st, ep, node, why, due)
                timers[str(node["id"])] = due + timing.node_idle_delay
                continue
            node.update(state="idle", agentState="online", stateChangedOn=iso_z(due))
            node["agentId"] = common.next_id(st, "agent")
            timers.pop(str(node["id"]))
            _guest_outcome(st, ep, node, "", due)
        elif node["state"] == "failedToStartPendingDelete" and vmss is not None:
            if sum(n["state"] == "saved" for n in nodes) < ep["maxSavedNodeCount"]:
                node.update(state="saved", stateChangedOn=iso_z(due))
                timers.pop(str(node["id"]))
                _log(
                    st,
                    ep["poolId"],
                    "configurationJob",
                    f"Saved {node['name']} for investigation (maxSavedNodeCount "
                    f"{ep['maxSavedNodeCount']}): its agent failed to start.",
                    now,
                )
                continue
            compute.remove_instances(st, vmss, [node["computeId"]])
            guest.forget(st, [_vm_id(ep, node)])
            nodes.remove(node)
            timers.pop(str(node["id"]))
            _log(st, ep["poolId"], "deleteVMs", f"Deleted {node['name']}: its agent failed to start.", now)
    pool = pools(st).get(key)
    if pool is not None:
        pool["size"] = sum(1 for n in nodes if "agentId" in n)


def _take_scale_set(st: State, ep: common.Item, now: float) -> None:
    """Put the agent extension in the pool's scale set model (again, if someone took it out)."""
    vmss = arm_common.get(st, ep["azureId"])
    if vmss is not None and compute.ensure_extension(vmss, AGENT_EXTENSION):
        _log(st, ep["poolId"], "configurationJob", f"Added the agent extension to {vmss['name']}.", now)


@ticker
def simulate(st: State, env: Env, now: float) -> None:
    due: dict[str, float] = common.section(st, "scaleDue")
    for key, ep in elastic(st).items():
        vmss = arm_common.get(st, ep["azureId"])
        if vmss is None or vmss["properties"]["provisioningState"] == "Deleting":
            if ep["state"] != "offline":
                ep.update(state="offline", offlineSince=iso_z(now))
                _log(
                    st,
                    ep["poolId"],
                    "sizingJob",
                    f"The scale set {ep['azureId']} was not found.",
                    now,
                    "error",
                )
            _sync_nodes(st, ep, [], env.timing, now)
            continue
        ep["state"] = "online"
        ep.pop("offlineSince", None)
        if vmss["properties"]["provisioningState"] != "Succeeded":
            continue
        _take_scale_set(st, ep, now)
        live = [
            vm
            for vm in compute.instances(st, vmss["id"])
            if vm["properties"]["provisioningState"] != "Deleting"
        ]
        saved = sum(n["state"] == "saved" for n in common.section(st, "elasticNodes").get(key, []))
        target = min(ep["desiredIdle"] + saved, ep["maxCapacity"])  # saved VMs do not stand by
        if len(live) == target:
            due.pop(key, None)
        elif key not in due:
            due[key] = now + env.timing.scale_delay
        elif due[key] <= now:
            del due[key]
            compute.scale_to(st, vmss, target, now)
            ep["desiredSize"] = target
            operation = "increaseCapacity" if target > len(live) else "deleteVMs"
            _log(
                st,
                ep["poolId"],
                operation,
                f"Scaled {vmss['name']} from {len(live)} to {target} instances.",
                now,
            )
            live = [
                vm
                for vm in compute.instances(st, vmss["id"])
                if vm["properties"]["provisioningState"] != "Deleting"
            ]
        _sync_nodes(st, ep, live, env.timing, now)
