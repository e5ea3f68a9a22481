"""`agentctl doctor` for a managed pool: what would stop Managed DevOps Pools from creating it or
its agents, read with the managed pool kind's own observe (reads only): the resource providers, the
subnet's delegation, the DevOpsInfrastructure service principal's roles, and the quota.
"""

from __future__ import annotations

from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.doctor import ERROR, WARNING, Finding
from agentctl.kinds.managed_pool import desired
from agentctl.kinds.managed_pool.facts import ManagedFacts
from agentctl.kinds.managed_pool.plan import SERVICE, delegations, holds, may


def check(spec: PoolSpec, target: Target) -> list[Finding]:
    from agentctl import pools
    from agentctl.kinds import managed_pool
    from agentctl.kinds.base import Facts

    c = pools.clients(spec, target)
    c.arm.connect()
    c.devops.connect()
    return findings(spec, managed_pool.observe(spec, c, Facts()))


def findings(spec: PoolSpec, mine: ManagedFacts) -> list[Finding]:
    """Pure: the findings of what the managed pool's observe read."""
    out = [
        Finding(
            "provider.not_registered",
            WARNING,
            f"/subscriptions/{spec.azure.subscription}/providers/{ns}",
            f"resource provider {ns} is {state}",
            "deploy-pool registers it (Contributor on the subscription needed), or: "
            f"az provider register -n {ns} --subscription {spec.azure.subscription}",
        )
        for ns, state in mine.providers.items()
        if state and state != "Registered"
    ]
    out += _subnet(spec, mine)
    out += _roles(spec, mine)
    usage = mine.usage
    if usage is not None and mine.sku_cores:
        own = mine.sku_cores * int(((mine.pool or {}).get("properties") or {}).get("maximumConcurrency") or 0)
        free = int(usage.get("limit") or 0) - int(usage.get("currentValue") or 0) + own
        need = mine.sku_cores * desired.mp(spec).maximumConcurrency
        if need > free:
            out.append(
                Finding(
                    "quota.managed_pool",
                    ERROR,
                    str((usage.get("name") or {}).get("value")),
                    f"{need} vCPUs needed, {free} left",
                    "lower managedPool.maximumConcurrency, or request more Managed DevOps Pools quota",
                )
            )
    return out


def _subnet(spec: PoolSpec, mine: ManagedFacts) -> list[Finding]:
    have = delegations(mine.subnet)
    if have == {SERVICE}:
        return []
    if have:
        return [
            Finding(
                "subnet.delegated_elsewhere",
                ERROR,
                spec.network.subnetId,
                f"the subnet is delegated to {', '.join(sorted(have))}",
                "use a subnet delegated to Microsoft.DevOpsInfrastructure/pools alone",
            )
        ]
    fixable = may(mine, desired.vnet_id(spec), "Microsoft.Network/virtualNetworks/subnets/write")
    return [
        Finding(
            "subnet.not_delegated",
            WARNING if fixable else ERROR,
            spec.network.subnetId,
            f"the subnet is not delegated to {SERVICE}",
            "deploy-pool delegates it (Network Contributor on the virtual network needed), or: "
            f"az network vnet subnet update --ids {spec.network.subnetId} --delegations {SERVICE}",
        )
    ]


def _roles(spec: PoolSpec, mine: ManagedFacts) -> list[Finding]:
    sp = desired.mp(spec).servicePrincipalObjectId
    if not sp:
        return [
            Finding(
                "managed.service_principal_unknown",
                WARNING,
                desired.SERVICE_APP_ID,
                "the DevOpsInfrastructure service principal's roles cannot be checked",
                "set managedPool.servicePrincipalObjectId: az ad sp show --id "
                f"{desired.SERVICE_APP_ID} --query id -o tsv",
            )
        ]
    out = []
    for scope, role in desired.service_roles(spec):
        if not holds(mine.service_roles.get(scope, []), scope, role):
            name = desired.ROLE_NAMES[role]
            fixable = may(mine, scope, "Microsoft.Authorization/roleAssignments/write")
            out.append(
                Finding(
                    "managed.service_role_missing",
                    WARNING if fixable else ERROR,
                    scope,
                    f"the DevOpsInfrastructure service principal lacks {name} here",
                    f"deploy-pool grants it (it needs Owner or User Access Administrator here), or: az role "
                    f"assignment create --assignee-object-id {sp} --assignee-principal-type ServicePrincipal "
                    f'--role "{name}" --scope {scope}',
                )
            )
    return out
