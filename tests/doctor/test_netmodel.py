"""The sandbox's network model: what a VM in a subnet reaches and what a VNet resolves, from the
world's resources (the simulated agents and doctor --probe answer from it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentctl.sandbox import netmodel, seed, world
from agentctl.sandbox.arm import common, netsec

SUB = "11111111-2222-3333-4444-555555555555"
NET = f"/subscriptions/{SUB}/resourceGroups/rg-network/providers/Microsoft.Network"
AGENTS = f"{NET}/virtualNetworks/vnet-hub/subnets/agents"
HUB = f"{NET}/virtualNetworks/vnet-hub"
WORLDS = Path(__file__).resolve().parents[2] / "manager" / "agentctl" / "sandbox" / "worlds"


def state(name: str = "default.yaml") -> dict[str, Any]:
    return seed.seed(world.load(WORLDS / name), 0.0)


def test_default_world_reaches_through_the_nat_gateway() -> None:
    verdict = netmodel.reach(state(), AGENTS, "download.agent.dev.azure.com")
    assert verdict.ok and "nat-agents" in verdict.reason


def test_private_subnet_without_nat_reaches_nothing_public() -> None:
    verdict = netmodel.reach(state("no-egress.yaml"), AGENTS, "dev.azure.com")
    assert not verdict.ok and "defaultOutboundAccess" in verdict.reason


def test_a_deny_rule_and_a_route_to_none() -> None:
    st = state()
    nsg = f"{NET}/networkSecurityGroups/nsg-agents"
    rule = {
        "priority": 300,
        "direction": "Outbound",
        "access": "Deny",
        "protocol": "Tcp",
        "destinationAddressPrefix": "AzureDevOps",
        "destinationPortRange": "443",
    }
    common.put(st, netsec.security_rule(nsg, "deny-devops", rule))
    assert not netmodel.reach(st, AGENTS, "dev.azure.com").ok
    assert netmodel.reach(st, AGENTS, "login.microsoftonline.com").ok  # not an AzureDevOps host
    assert netmodel.reach(st, AGENTS, "dev.azure.com", port=80).ok
    table = common.put(st, netsec.route_table(SUB, "rg-network", "rt-agents", "westeurope"))
    common.put(
        st, netsec.route(table["id"], "blackhole", {"addressPrefix": "0.0.0.0/0", "nextHopType": "None"})
    )
    common.resources(st)[AGENTS.lower()]["properties"]["routeTable"] = {"id": table["id"]}
    verdict = netmodel.reach(st, AGENTS, "login.microsoftonline.com")
    assert not verdict.ok and "blackhole" in verdict.reason


@pytest.mark.parametrize(
    ("name", "addresses", "private"),
    [
        # the public name is a CNAME to acrprivate.privatelink.azurecr.io, which the linked zone answers
        ("acrprivate.azurecr.io", ["10.10.2.10"], True),
        ("acrprivate.westeurope.data.azurecr.io", ["10.10.2.11"], True),
        ("acrprivate.privatelink.azurecr.io", ["10.10.2.10"], True),
        ("nothere.privatelink.azurecr.io", [], True),  # NXDOMAIN in the linked zone
        ("dev.azure.com", [netmodel.PUBLIC_ADDRESS], False),
    ],
)
def test_resolution_from_the_hub(name: str, addresses: list[str], private: bool) -> None:
    found = netmodel.resolve(state(), HUB, name)
    assert found.addresses == addresses and (found.zone is not None) is private


def test_cluster_api_server_resolves_only_where_its_zone_is_linked() -> None:
    st = state("dns-not-linked.yaml")
    cluster = next(
        r
        for r in common.resources(st).values()
        if r["name"] == "aks-dev" and "managedclusters" in r["type"].lower()
    )
    fqdn = cluster["properties"]["privateFQDN"]
    assert netmodel.resolve(st, HUB, fqdn).addresses == []
    assert netmodel.resolve(st, f"{NET}/virtualNetworks/vnet-aks", fqdn).addresses[0].startswith("10.20.2.")
    verdict = netmodel.reach(st, AGENTS, fqdn)
    assert not verdict.ok and "does not resolve" in verdict.reason
