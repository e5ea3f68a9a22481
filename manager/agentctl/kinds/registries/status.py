"""What ``agentctl status`` shows of the registries."""

from __future__ import annotations

from typing import Any

from agentctl.config import PoolSpec
from agentctl.kinds.base import Clients, Facts
from agentctl.kinds.common import get_in
from agentctl.kinds.registries.desired import (
    NAME,
    ROLE_NAMES,
    ROLES,
    check,
    login_server,
    registry_name,
    role_guid,
    scope_of,
    vnet_id,
)
from agentctl.kinds.registries.facts import Observed, of
from agentctl.kinds.registries.plan import registry_facts


def status(spec: PoolSpec, clients: Clients, facts: Facts, lines: int) -> dict[str, Any]:
    observed: Observed = of(facts)
    items: list[dict[str, Any]] = []
    for reg in spec.registries:
        f = registry_facts(facts, reg)
        here = [a for a in f.assignments if scope_of(a) == reg.id.lower()]
        missing = {
            "zone": None,
            "missingRecords": [],
            "warnings": [f"container registry {reg.id} does not exist"],
        }
        result = check(f.registry, observed.zones, vnet_id(spec)) if f.registry else missing
        items.append(
            {
                "name": registry_name(reg),
                "id": reg.id,
                "exists": f.registry is not None,
                "sku": get_in(f.registry, "sku", "name"),
                "loginServer": login_server(f.registry) if f.registry else None,
                "access": reg.access,
                "role": ROLE_NAMES[reg.access],
                "roleAssigned": any(role_guid(a) == ROLES[reg.access] for a in here),
                "connection": {
                    "name": reg.connection,
                    "exists": f.connection is not None,
                    "scheme": get_in(f.connection, "authorization", "scheme"),
                },
                "dnsZone": result["zone"],
                "missingRecords": result["missingRecords"],
                "warnings": result["warnings"],
            }
        )
    return {NAME: {"items": items, "warnings": [w for item in items for w in item["warnings"]]}}
