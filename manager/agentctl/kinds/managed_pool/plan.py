"""The managed pool's plan: a pure function from (spec, facts) to the actions that converge its
resources: resource group, Dev Center and project (when agentctl makes them), the subnet's
delegation, the service principal's roles, the pool, and the pipeline permissions on the queue
the service makes.

Drift is a PATCH of the changed fields; nothing forces a re-create except the region (a pool
cannot move: the plan refuses and says so). A pool whose last operation failed is PUT again whole.

Backend switch (scale set to managed pool): the elastic pool's Azure DevOps pool has the managed
pool's name, and the subnet must be free to be delegated, so the managed pool is created after the
scale-set pool (``pool``) and its scale set (``scaleSet``) are deleted; everything the managed
pool needs (Dev Center, project, roles) is made before, in parallel with those deletes.
"""

from __future__ import annotations

from typing import Any

from agentctl.config import PoolSpec
from agentctl.errors import PreconditionFailed, Problem, quoted
from agentctl.kinds.base import CREATE, DELETE, NOOP, UPDATE, Action, Facts, changes
from agentctl.kinds.common import marker, queue_permissions, resource_group, scope_of
from agentctl.kinds.managed_pool import desired
from agentctl.kinds.managed_pool.facts import ManagedFacts, of, owned

SERVICE = "Microsoft.DevOpsInfrastructure/pools"
ROLE_DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions"


def _refuse(spec: PoolSpec, message: str, hint: str, path: str) -> PreconditionFailed:
    """A refusal that names the file's field (and its line)."""
    problem = Problem(message, path, spec.line(path), spec.source)
    return PreconditionFailed(message, hint=hint, problems=[problem])


DELEGATION = "Microsoft.DevOpsInfrastructure.pools"


def plan(spec: PoolSpec, facts: Facts) -> list[Action]:
    """The actions that make the managed pool match the spec (or, with another backend selected,
    remove what this file's managed pool left)."""
    mine = of(facts)
    if spec.managed is None:
        return _removal(spec, mine)
    _check_prerequisites(spec, mine)
    actions = [resource_group(spec, mine.resource_group), *_providers(mine)]
    actions += _dev_center(spec, mine, tuple(a.key for a in actions if a.op != NOOP))
    actions += _delegation(spec, mine)
    actions += _service_roles(spec, mine)
    actions.append(_pool(spec, mine, tuple(a.key for a in actions if a.op != NOOP)))
    actions += queue_permissions(
        "managedPoolPermissions", spec, mine.queue, mine.queue_permissions, ("managedPool",)
    )
    return actions


def _check_prerequisites(spec: PoolSpec, mine: ManagedFacts) -> None:
    """Stop before any write when the subscription cannot hold the pool: not enough quota for the
    sku family."""
    problems = []
    usage, m = mine.usage, desired.mp(spec)
    if usage is not None and mine.sku_cores:
        own = mine.sku_cores * int(((mine.pool or {}).get("properties") or {}).get("maximumConcurrency") or 0)
        free = int(usage.get("limit") or 0) - int(usage.get("currentValue") or 0) + own
        need = mine.sku_cores * m.maximumConcurrency
        if need > free:
            family = (usage.get("name") or {}).get("value")
            problems.append(
                Problem(
                    f"{m.maximumConcurrency} agents of {m.sku} need {need} vCPUs of {family}; the quota "
                    f"leaves {free}: lower it, or ask for more Managed DevOps Pools quota in "
                    f"{spec.azure.location}",
                    "managedPool.maximumConcurrency",
                    spec.line("managedPool.maximumConcurrency"),
                    spec.source,
                )
            )
    if problems:
        raise PreconditionFailed(
            "the subscription cannot hold this managed pool yet",
            hint="fix what each problem names",
            problems=problems,
        )


def _providers(mine: ManagedFacts) -> list[Action]:
    """The resource providers the pool and its Dev Center need, registered in the subscription."""
    return [
        Action(
            f"provider:{ns}",
            UPDATE,
            "resource provider",
            ns,
            changes([("registrationState", state, "Registered")]),
        )
        for ns, state in mine.providers.items()
        if state and state != "Registered"
    ]


def _dev_center(spec: PoolSpec, mine: ManagedFacts, before: tuple[str, ...]) -> list[Action]:
    if not desired.makes_dev_center(spec):
        return []
    out = []
    for key, what, found, rid, needs in (
        (
            "devCenter",
            "dev center",
            mine.dev_center,
            desired.dev_center_id(spec),
            ("resourceGroup", *(k for k in before if k == "provider:Microsoft.DevCenter")),
        ),
        ("devCenterProject", "Dev Center project", mine.project, desired.project_id(spec), ("devCenter",)),
    ):
        name = rid.rsplit("/", 1)[1]
        if found is not None and not owned(found, spec):
            raise PreconditionFailed(
                f"{what} {name} exists in {spec.azure.resourceGroup} but is not this pool's",
                hint="name it in managedPool.devCenterProject to use it, or choose another devops.pool.name",
            )
        out.append(Action(key, NOOP if found else CREATE, what, name, needs=needs))
    return out


def delegations(subnet: dict[str, Any] | None) -> set[str]:
    props = (subnet or {}).get("properties") or {}
    return {str((d.get("properties") or {}).get("serviceName") or "") for d in props.get("delegations") or []}


def _delegation(spec: PoolSpec, mine: ManagedFacts) -> list[Action]:
    """The subnet delegated to Managed DevOps Pools, and to nothing else."""
    have = delegations(mine.subnet)
    name = spec.network.subnetId.rsplit("/", 1)[1]
    if have == {SERVICE}:
        return [Action("subnetDelegation", NOOP, "subnet delegation", name)]
    if have:
        raise _refuse(
            spec,
            f"subnet {name} is delegated to {', '.join(sorted(have))}; a managed pool needs a subnet "
            f"delegated to {SERVICE} alone",
            "use another subnet in network.subnetId, or remove that delegation first",
            "network.subnetId",
        )
    vnet = desired.vnet_id(spec)
    if not may(mine, vnet, "Microsoft.Network/virtualNetworks/subnets/write"):
        raise _refuse(
            spec,
            f"subnet {name} is not delegated to {SERVICE}, and you may not change it",
            "ask who administers the network (Network Contributor on it) to run: az network vnet subnet "
            f"update --ids {spec.network.subnetId} --delegations {SERVICE}",
            "network.subnetId",
        )
    # it must be free: after a scale set of this file in it is gone (a backend switch)
    change = changes([("delegations", [], [SERVICE])])
    return [Action("subnetDelegation", UPDATE, "subnet delegation", name, change, needs=("scaleSet",))]


def holds(assignments: list[dict[str, Any]], scope: str, role: str) -> bool:
    for a in assignments:
        held, role_id = scope_of(a), str((a.get("properties") or {}).get("roleDefinitionId") or "").lower()
        covers = scope.lower() == held or scope.lower().startswith(held.rstrip("/") + "/")
        if covers and role_id.rsplit("/", 1)[-1] in {role, *desired.SUPERSETS}:
            return True
    return False


def _service_roles(spec: PoolSpec, mine: ManagedFacts) -> list[Action]:
    """Reader and Network Contributor on the virtual network, Reader on each gallery image, for the
    DevOpsInfrastructure service principal (when the file gives its object id)."""
    sp = desired.mp(spec).servicePrincipalObjectId
    if not sp:
        return []
    out, refused = [], []
    for scope, role in desired.service_roles(spec):
        have = holds(mine.service_roles.get(scope, []), scope, role)
        if not have and not may(mine, scope, "Microsoft.Authorization/roleAssignments/write"):
            refused.append(
                f"az role assignment create --assignee-object-id {sp} --assignee-principal-type "
                f'ServicePrincipal --role "{desired.ROLE_NAMES[role]}" --scope {scope}'
            )
        name = f"{desired.ROLE_NAMES[role]} on {scope.rsplit('/', 1)[1]}"
        data = {
            "scope": scope,
            "roleId": f"/subscriptions/{spec.azure.subscription}{ROLE_DEFINITIONS}/{role}",
            "principalId": sp,
        }
        out.append(
            Action(
                f"serviceRole:{role}@{scope.lower()}",
                NOOP if have else CREATE,
                "role assignment",
                name,
                data=data,
            )
        )
    if refused:
        raise _refuse(
            spec,
            "the DevOpsInfrastructure service principal lacks roles the pool needs, and you may not grant "
            "them (Owner or User Access Administrator needed)",
            "ask an owner to run: " + "; ".join(refused),
            "managedPool.servicePrincipalObjectId",
        )
    return out


def may(mine: ManagedFacts, scope: str, action: str) -> bool:
    """Whether the caller may do ``action`` at ``scope`` (True when its permissions were not read)."""
    from agentctl.doctor.access import allowed

    found = mine.caller_permissions.get(scope)
    return found is None or allowed(found, action)


def _pool(spec: PoolSpec, mine: ManagedFacts, before: tuple[str, ...]) -> Action:
    name, pool = spec.devops.pool.name, mine.pool
    needs = tuple(
        k
        for k in before
        if k.split(":")[0]
        in ("resourceGroup", "provider", "devCenterProject", "subnetDelegation", "serviceRole")
    )
    warnings = (
        []
        if desired.mp(spec).servicePrincipalObjectId
        else ["the service principal's roles are not checked: set managedPool.servicePrincipalObjectId"]
    )
    delegated = (
        any(k == "subnetDelegation" for k in before)
        or ((pool or {}).get("tags") or {}).get(desired.TAG_DELEGATED) == "true"
    )
    if pool is None:
        return Action(
            "managedPool",
            CREATE,
            "managed pool",
            name,
            needs=needs + _switch(spec, mine),
            data={"delegated": delegated, "warnings": warnings},
        )
    if not owned(pool, spec):
        raise PreconditionFailed(
            f"managed pool {name} exists in {spec.azure.resourceGroup} but agentctl did not create it",
            hint="choose another devops.pool.name, or tag it managed-by=agentctl and agentctl-pool to "
            "adopt it",
        )
    where = str(pool.get("location") or "")
    if where.replace(" ", "").lower() != spec.azure.location:
        raise _refuse(
            spec,
            f"managed pool {name} is in {where}; a pool cannot move to {spec.azure.location}",
            "destroy it with the file as it was, then deploy again in the new region",
            "azure.location",
        )
    drift, patch = desired.drift(spec, pool, delegated)
    data: dict[str, Any] = {"patch": patch, "delegated": delegated, "warnings": warnings}
    if ((pool.get("properties") or {}).get("provisioningState")) == "Failed":
        drift.append(("provisioningState", "Failed", "Succeeded"))
        data["put"] = True
    return Action("managedPool", UPDATE if drift else NOOP, "managed pool", name, changes(drift), needs, data)


def _switch(spec: PoolSpec, mine: ManagedFacts) -> tuple[str, ...]:
    """An Azure DevOps pool of this name that is not the managed pool's: the scale-set pool of a
    backend switch, deleted first (the service makes its own pool of the name)."""
    if mine.agent_pool is None:
        return ()
    if not spec.has("scaleSet"):
        raise _refuse(
            spec,
            f"agent pool {quoted(spec.devops.pool.name)} exists in Azure DevOps, and a managed pool "
            "makes its own pool of that name",
            "to switch a scale-set pool to a managed pool, keep the scaleSet section (and "
            "devops.azureConnection) in the file until the switch has run: agentctl removes the "
            "scale-set pool first; else choose another devops.pool.name",
            "devops.pool.name",
        )
    return ("pool", "scaleSet")


def plan_destroy(spec: PoolSpec, facts: Facts) -> list[Action]:
    return _removal(spec, of(facts))


def _removal(spec: PoolSpec, mine: ManagedFacts) -> list[Action]:
    """Delete, pool first, only what agentctl made: the pool (with the Azure DevOps pool and queues
    the service made), the subnet's delegation when agentctl made it, the service principal's roles
    it granted, and the Dev Center and project it created."""
    pool = mine.pool if mine.pool is not None and owned(mine.pool, spec) else None
    out = [Action("managedPool", DELETE, "managed pool", str(pool.get("name")))] if pool else []
    after = ("managedPool",) if out else ()
    delegated = ((pool or {}).get("tags") or {}).get(desired.TAG_DELEGATED) == "true"
    if delegated and SERVICE in delegations(mine.subnet):
        name = str((mine.subnet or {}).get("name") or "subnet")
        data = {"subnetId": str((mine.subnet or {}).get("id") or "")}
        out.append(Action("subnetDelegation", DELETE, "subnet delegation", name, needs=after, data=data))
    out += _role_deletes(spec, mine, after)
    if mine.project is not None and owned(mine.project, spec):
        name, data = str(mine.project.get("name")), {"id": mine.project["id"]}
        out.append(Action("devCenterProject", DELETE, "Dev Center project", name, needs=after, data=data))
    if mine.dev_center is not None and owned(mine.dev_center, spec):
        first = ("devCenterProject",) if any(a.key == "devCenterProject" for a in out) else after
        name, data = str(mine.dev_center.get("name")), {"id": mine.dev_center["id"]}
        out.append(Action("devCenter", DELETE, "dev center", name, needs=first, data=data))
    return out


def _role_deletes(spec: PoolSpec, mine: ManagedFacts, after: tuple[str, ...]) -> list[Action]:
    """The service principal's role assignments agentctl made (its marker is their description)."""
    out = []
    for scope, assignments in mine.service_roles.items():
        for a in assignments:
            ours = (a.get("properties") or {}).get("description") == marker(spec)
            if ours and scope_of(a) == scope.lower():
                label = f"on {scope.rsplit('/', 1)[1]}"
                data = {"scope": scope, "name": str(a["name"])}
                key = f"serviceRole:{a['name']}"
                out.append(Action(key, DELETE, "role assignment", label, needs=after, data=data))
    return out
