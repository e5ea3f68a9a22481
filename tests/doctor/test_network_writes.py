"""The network and DNS writes a test breaks a world with are refused as Azure refuses them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from doctor_helpers import SUB, Served

from agentctl.sandbox.testing import arm_client

NET = f"/subscriptions/{SUB}/resourceGroups/rg-network/providers/Microsoft.Network"


def _network(s: Served) -> Any:
    from azure.mgmt.network import NetworkManagementClient

    return arm_client(s.sb, NetworkManagementClient)


def _dns(s: Served) -> Any:
    from azure.mgmt.privatedns import PrivateDnsManagementClient

    return arm_client(s.sb, PrivateDnsManagementClient)


def _rule(priority: int) -> dict[str, Any]:
    return {
        "properties": {
            "protocol": "Tcp",
            "access": "Deny",
            "direction": "Outbound",
            "priority": priority,
            "destinationAddressPrefix": "*",
            "destinationPortRange": "443",
        }
    }


@pytest.mark.parametrize(
    ("write", "status", "code"),
    [
        (
            lambda s: (
                _network(s)
                .security_rules.begin_create_or_update("rg-network", "nsg-agents", "r", _rule(50))
                .result()
            ),
            400,
            "SecurityRuleInvalidPriority",
        ),
        (
            lambda s: (
                _network(s)
                .route_tables.begin_create_or_update(
                    "rg-network",
                    "rt",
                    {
                        "location": "westeurope",
                        "properties": {
                            "routes": [
                                {
                                    "name": "fw",
                                    "properties": {
                                        "addressPrefix": "0.0.0.0/0",
                                        "nextHopType": "VirtualAppliance",
                                    },
                                }
                            ]
                        },
                    },
                )
                .result()
            ),
            400,
            "InvalidRouteNextHopIpAddress",
        ),
        (
            lambda s: _network(s).network_security_groups.begin_delete("rg-network", "nsg-agents").result(),
            400,
            "InUseNetworkSecurityGroupCannotBeDeleted",
        ),
        (
            lambda s: (
                _network(s)
                .subnets.begin_create_or_update(
                    "rg-network", "vnet-hub", "far", {"properties": {"addressPrefix": "10.99.0.0/24"}}
                )
                .result()
            ),
            400,
            "NetcfgSubnetRangeOutsideVnet",
        ),
        (
            lambda s: (
                _dns(s)
                .virtual_network_links.begin_create_or_update(
                    "rg-network",
                    "privatelink.azurecr.io",
                    "second",
                    {
                        "location": "global",
                        "properties": {
                            "virtualNetwork": {"id": f"{NET}/virtualNetworks/vnet-hub"},
                            "registrationEnabled": False,
                        },
                    },
                )
                .result()
            ),
            409,
            "Conflict",
        ),
    ],
)
def test_refused_writes(
    served: Callable[..., Served], write: Callable[[Served], Any], status: int, code: str
) -> None:
    s = served()
    with pytest.raises(HttpResponseError) as e:
        write(s)
    assert e.value.status_code == status and e.value.error is not None and e.value.error.code == code


def test_writes_take_effect_and_read_back(served: Callable[..., Served]) -> None:
    s = served()
    net = _network(s)
    net.security_rules.begin_create_or_update("rg-network", "nsg-agents", "deny-web", _rule(300)).result()
    nsg = net.network_security_groups.get("rg-network", "nsg-agents")
    assert [r.name for r in nsg.security_rules] == ["deny-https-in", "deny-web"] or "deny-web" in [
        r.name for r in nsg.security_rules
    ]
    assert {r.name for r in nsg.default_security_rules} >= {"AllowInternetOutBound", "DenyAllOutBound"}
    assert [sub.id.rsplit("/", 1)[1] for sub in nsg.subnets] == ["agents"]
    net.security_rules.begin_delete("rg-network", "nsg-agents", "deny-web").result()
    assert "deny-web" not in [
        r.name for r in net.network_security_groups.get("rg-network", "nsg-agents").security_rules
    ]
    nat = net.nat_gateways.get("rg-network", "nat-agents")
    assert [sub.id.rsplit("/", 1)[1] for sub in nat.subnets] == ["agents"]


def test_patches(served: Callable[..., Served]) -> None:
    s = served()
    dns = _dns(s)
    dns.record_sets.update(
        "rg-network",
        "privatelink.azurecr.io",
        "A",
        "acrprivate",
        {"properties": {"aRecords": [{"ipv4Address": "10.10.2.99"}]}},
    )
    record = dns.record_sets.get("rg-network", "privatelink.azurecr.io", "A", "acrprivate")
    assert [a.ipv4_address for a in record.a_records] == ["10.10.2.99"]
    link = dns.virtual_network_links.begin_update(
        "rg-network", "privatelink.azurecr.io", "vnet-hub", {"properties": {"registrationEnabled": True}}
    ).result()
    assert link.registration_enabled is True
    net = _network(s)
    nsg = net.network_security_groups.update_tags(
        "rg-network", "nsg-agents", {"tags": {"owner": "network-team"}}
    )
    assert nsg.tags == {"owner": "network-team"}
