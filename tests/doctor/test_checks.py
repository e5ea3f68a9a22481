"""The checks as pure functions: facts in, findings out."""

from __future__ import annotations

from typing import Any

import pytest

from agentctl import config, dnscheck, egress
from agentctl.doctor import access, network, platform
from agentctl.doctor.gather import Facts, cluster_zone, latest
from agentctl.kinds.pool import desired
from testlib import EXAMPLE_POOL

SPEC = config.load(str(EXAMPLE_POOL))
HOSTS = {h.name: h for h in egress.required_hosts(SPEC)}
CONTRIBUTOR = {
    "actions": ["*"],
    "notActions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write"],
}


@pytest.mark.parametrize(
    ("permissions", "action", "allowed"),
    [
        ([{"actions": ["*"]}], "Microsoft.Network/virtualNetworks/subnets/join/action", True),
        ([CONTRIBUTOR], "Microsoft.Compute/virtualMachineScaleSets/write", True),
        ([CONTRIBUTOR], "Microsoft.Authorization/roleAssignments/write", False),
        (
            [CONTRIBUTOR, {"actions": ["Microsoft.Authorization/*"]}],
            "Microsoft.Authorization/roleAssignments/write",
            True,
        ),
        ([{"actions": ["*/read"]}], "Microsoft.Compute/galleries/images/versions/read", True),
        ([{"actions": ["*/read"]}], "Microsoft.Compute/virtualMachineScaleSets/write", False),
        (
            [{"actions": ["Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"]}],
            "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
            True,
        ),
        (
            [{"actions": ["microsoft.network/*"]}],
            "Microsoft.Network/virtualNetworks/subnets/join/action",
            True,
        ),
        ([], "Microsoft.Compute/virtualMachineScaleSets/write", False),
    ],
)
def test_permission_matching(permissions: list[dict[str, Any]], action: str, allowed: bool) -> None:
    assert access.allowed(permissions, action) is allowed


def _nsg(*rules: tuple[str, int, str, str, str]) -> dict[str, Any]:
    return {
        "properties": {
            "securityRules": [
                {
                    "name": name,
                    "properties": {
                        "priority": priority,
                        "access": access_,
                        "direction": "Outbound",
                        "protocol": "Tcp",
                        "destinationAddressPrefix": dest,
                        "destinationPortRange": port,
                    },
                }
                for name, priority, access_, dest, port in rules
            ]
        }
    }


@pytest.mark.parametrize(
    ("rules", "host", "denied_by"),
    [
        ((), "dev.azure.com", None),  # AllowInternetOutBound
        ((("deny-web", 200, "Deny", "Internet", "443"),), "dev.azure.com", "deny-web"),
        (
            (
                ("allow-devops", 100, "Allow", "AzureDevOps", "443"),
                ("deny-web", 200, "Deny", "Internet", "443"),
            ),
            "dev.azure.com",
            None,
        ),
        (
            (
                ("allow-devops", 100, "Allow", "AzureDevOps", "443"),
                ("deny-web", 200, "Deny", "Internet", "443"),
            ),
            "login.microsoftonline.com",
            "deny-web",
        ),
        ((("deny-http", 200, "Deny", "Internet", "80"),), "dev.azure.com", None),
        ((("deny-storage", 200, "Deny", "Storage.WestEurope", "*"),), egress.AGENT_TOOLS, "deny-storage"),
        ((("deny-storage", 200, "Deny", "Storage", "400-500"),), "dev.azure.com", None),
        ((("deny-all", 4000, "Deny", "*", "*"),), "dev.azure.com", "deny-all"),
    ],
)
def test_outbound_rules(rules: tuple[Any, ...], host: str, denied_by: str | None) -> None:
    verdict = network.nsg_denies(_nsg(*rules), HOSTS[host])
    assert (verdict[0] if verdict else None) == denied_by


def _subnet(prefix: str, used: int, own: int = 0) -> Facts:
    scale_set = desired.scale_set_id(SPEC)
    configs = [{"id": f"/x/nic{i}/ipConfigurations/ip"} for i in range(used)]
    configs += [
        {"id": f"{scale_set}/virtualMachines/{i}/networkInterfaces/nic/ipConfigurations/ip"}
        for i in range(own)
    ]
    return Facts(
        subnet={"properties": {"addressPrefix": prefix, "ipConfigurations": configs}},
        vnet={"location": "westeurope"},
    )


@pytest.mark.parametrize(
    ("prefix", "used", "own", "short"),
    [
        ("10.0.0.0/24", 0, 0, False),
        ("10.0.0.0/28", 0, 0, True),  # 16 - 5 = 11 free < maxCapacity 10 + headroom 2
        ("10.0.0.0/27", 15, 0, False),  # 32 - 5 - 15 = 12
        ("10.0.0.0/27", 16, 0, True),
        ("10.0.0.0/27", 10, 6, False),  # the pool's own instances count in maxCapacity already
    ],
)
def test_subnet_capacity(prefix: str, used: int, own: int, short: bool) -> None:
    codes = [f.code for f in network.check_subnet(SPEC, _subnet(prefix, used, own))]
    assert ("subnet.too_small" in codes) is short


def test_delegated_subnet_and_other_region() -> None:
    facts = _subnet("10.0.0.0/24", 0)
    assert facts.subnet is not None
    facts.subnet["properties"]["delegations"] = [
        {"properties": {"serviceName": "Microsoft.DevOpsInfrastructure/pools"}}
    ]
    facts.vnet = {"location": "northeurope"}
    codes = sorted(f.code for f in network.check_subnet(SPEC, facts))
    assert codes == ["subnet.delegated", "subnet.region"]


@pytest.mark.parametrize(
    ("profile", "fqdn", "expected"),
    [
        (
            {"enablePrivateCluster": True, "privateDNSZone": "system"},
            "aks-1a.0f.privatelink.westeurope.azmk8s.io",
            ("0f.privatelink.westeurope.azmk8s.io", "aks-1a"),
        ),
        (
            {"enablePrivateCluster": True},
            "aks-1a.0f.privatelink.westeurope.azmk8s.io",
            ("0f.privatelink.westeurope.azmk8s.io", "aks-1a"),
        ),
        (
            {"enablePrivateCluster": True, "privateDNSZone": "none"},
            "aks-1a.0f.privatelink.westeurope.azmk8s.io",
            None,
        ),
        ({"enablePrivateCluster": False}, "", None),
        (
            {
                "enablePrivateCluster": True,
                "privateDNSZone": "/subscriptions/s/resourceGroups/dns/providers/Microsoft.Network"
                "/privateDnsZones/privatelink.westeurope.azmk8s.io",
            },
            "aks-1a.privatelink.westeurope.azmk8s.io",
            ("privatelink.westeurope.azmk8s.io", "aks-1a"),
        ),
    ],
)
def test_cluster_zone(profile: dict[str, Any], fqdn: str, expected: tuple[str, str] | None) -> None:
    assert cluster_zone({"properties": {"apiServerAccessProfile": profile, "privateFQDN": fqdn}}) == expected


def test_latest_skips_versions_excluded_from_latest() -> None:
    def v(name: str, excluded: bool) -> dict[str, Any]:
        return {"name": name, "properties": {"publishingProfile": {"excludeFromLatest": excluded}}}

    chosen = latest([v("1.0.0", False), v("1.1.0", False), v("1.2.0", True)])
    assert chosen is not None and chosen["name"] == "1.1.0"
    assert latest([v("1.2.0", True)]) is None


REG_ID = (
    f"/subscriptions/{SPEC.azure.subscription}/resourceGroups/rg-acr"
    "/providers/Microsoft.ContainerRegistry/registries/acrprivate"
)
REG_SPEC = config.loads(EXAMPLE_POOL.read_text() + f"registries:\n  - id: {REG_ID}\n    connection: acr\n")
REGISTRY = {
    "name": "acrprivate",
    "location": "westeurope",
    "properties": {
        "loginServer": "acrprivate.azurecr.io",
        "dataEndpointHostNames": ["acrprivate.westeurope.data.azurecr.io"],
    },
}
HUB = SPEC.network.subnetId.rsplit("/subnets/", 1)[0].lower()


@pytest.mark.parametrize(
    ("vnets", "records", "dns_servers", "codes"),
    [
        ({HUB}, {"acrprivate", "acrprivate.westeurope.data"}, [], []),
        ({HUB}, {"acrprivate"}, [], [("dns.registry_record_missing", "error")]),
        (
            {"/other/vnet"},
            {"acrprivate", "acrprivate.westeurope.data"},
            [],
            [("dns.registry_not_linked", "error")],
        ),
        # peered to a hub with custom DNS: doctor cannot see what the servers answer
        ({"/other/vnet"}, {"acrprivate"}, ["10.0.0.4"], [("dns.registry_unverified", "warning")]),
        (None, set(), ["10.0.0.4"], [("dns.registry_not_linked", "error")]),  # no zone at all
    ],
)
def test_registry_dns(
    vnets: set[str] | None, records: set[str], dns_servers: list[str], codes: list[tuple[str, str]]
) -> None:
    zones = (
        [
            dnscheck.Zone(
                "/subscriptions/s/resourceGroups/dns/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io",
                "privatelink.azurecr.io",
                vnets,
                records,
            )
        ]
        if vnets is not None
        else []
    )
    facts = Facts(
        registries={REG_ID.lower(): REGISTRY},
        zones=zones,
        vnet={"location": "westeurope", "properties": {"dhcpOptions": {"dnsServers": dns_servers}}},
    )
    found = network.check_dns(REG_SPEC, facts)
    assert [(f.code, f.severity) for f in found if f.code.startswith("dns.registry")] == codes


def _version(
    name: str, regions: list[str], state: str = "Succeeded", excluded: bool = False
) -> dict[str, Any]:
    return {
        "id": f"{SPEC.image.galleryImageId}/versions/{name}",
        "name": name,
        "properties": {
            "provisioningState": state,
            "publishingProfile": {
                "excludeFromLatest": excluded,
                "targetRegions": [{"name": r} for r in regions],
            },
        },
    }


SKU = {
    "name": "Standard_D4s_v5",
    "capabilities": [{"name": "vCPUs", "value": "4"}, {"name": "HyperVGenerations", "value": "V1"}],
}


@pytest.mark.parametrize(
    ("image", "versions", "chosen", "codes"),
    [
        ({"osType": "Linux", "hyperVGeneration": "V1"}, ["1.0.0"], _version("1.0.0", ["West Europe"]), []),
        (
            {"osType": "Linux", "hyperVGeneration": "V1"},
            ["1.0.0"],
            _version("1.0.0", ["northeurope"]),
            ["image.not_replicated"],
        ),
        (
            {"osType": "Linux", "hyperVGeneration": "V1"},
            ["1.0.0"],
            _version("1.0.0", ["westeurope"], "Failed"),
            ["image.not_provisioned"],
        ),
        (
            {"osType": "Linux", "hyperVGeneration": "V2"},
            ["1.0.0"],
            _version("1.0.0", ["westeurope"]),
            ["image.generation"],
        ),
        (
            {"osType": "Windows", "hyperVGeneration": "V1"},
            ["1.0.0"],
            _version("1.0.0", ["westeurope"]),
            ["image.os_type"],
        ),
        ({"osType": "Linux", "hyperVGeneration": "V1"}, ["1.0.0"], None, ["image.no_latest"]),
        (
            {"osType": "Linux", "hyperVGeneration": "V1"},
            ["1.0.0", "1.1.0"],
            _version("1.0.0", ["westeurope"]),
            ["image.newest_excluded"],
        ),
    ],
)
def test_image(
    image: dict[str, str], versions: list[str], chosen: dict[str, Any] | None, codes: list[str]
) -> None:
    facts = Facts(
        image={"properties": image},
        versions=[{"name": v} for v in versions],
        version=chosen,
        skus=[SKU],
    )
    assert [f.code for f in platform.check_image(SPEC, facts)] == codes


@pytest.mark.parametrize(
    ("current", "limit", "own", "short"),
    [(0, 40, 0, False), (1, 40, 0, True), (8, 40, 2, False), (9, 40, 2, True)],
)
def test_quota(current: int, limit: int, own: int, short: bool) -> None:
    usage = {"name": {"value": "standardDSv5Family"}, "currentValue": current, "limit": limit}
    sku = {**SKU, "family": "standardDSv5Family", "restrictions": []}
    facts = Facts(skus=[sku], usages=[usage], scale_set={"sku": {"capacity": own}} if own else None)
    assert [f.code for f in platform.check_quota(SPEC, facts)] == (["quota.short"] if short else [])


NSG_ID = (
    "/subscriptions/s/resourceGroups/rg-network/providers/Microsoft.Network/networkSecurityGroups/nic-nsg"
)
RT_ID = "/subscriptions/s/resourceGroups/rg-network/providers/Microsoft.Network/routeTables/rt"


def _route(prefix: str, hop: str) -> dict[str, Any]:
    return {
        "name": "r",
        "properties": {"addressPrefix": prefix, "nextHopType": hop, "nextHopIpAddress": "10.0.0.4"},
    }


def _egress_facts(subnet: dict[str, Any], **kw: Any) -> Facts:
    return Facts(subnet={"properties": subnet}, **kw)


@pytest.mark.parametrize(
    ("facts", "codes"),
    [
        # the NIC's group counts too (named in the scale set's network configuration)
        (
            _egress_facts(
                {"natGateway": {"id": "/nat"}},
                nat_gateway={"id": "/nat", "name": "nat"},
                scale_set={
                    "properties": {
                        "virtualMachineProfile": {
                            "networkProfile": {
                                "networkInterfaceConfigurations": [
                                    {"properties": {"networkSecurityGroup": {"id": NSG_ID}}}
                                ]
                            }
                        }
                    }
                },
                nsgs={NSG_ID.lower(): _nsg(("deny-all-out", 100, "Deny", "*", "*"))},
            ),
            [("egress.nsg_denies", "error"), ("egress.nat_gateway", "info")],
        ),
        (
            _egress_facts(
                {"routeTable": {"id": RT_ID}, "defaultOutboundAccess": False},
                route_table={"properties": {"routes": [_route("0.0.0.0/0", "VirtualAppliance")]}},
            ),
            [("egress.via_appliance", "warning"), ("egress.hosts", "info")],
        ),
        (
            _egress_facts(
                {"routeTable": {"id": RT_ID}},
                route_table={"properties": {"routes": [_route("0.0.0.0/0", "None")]}},
            ),
            [("egress.route_drops", "error")],
        ),
        (
            # a route for one service tag only: the others leave by default outbound access
            _egress_facts(
                {"routeTable": {"id": RT_ID}},
                route_table={"properties": {"routes": [_route("AzureActiveDirectory", "None")]}},
            ),
            [("egress.route_drops", "error")],
        ),
        (_egress_facts({}), [("egress.default_outbound", "warning"), ("egress.hosts", "info")]),
        (_egress_facts({"defaultOutboundAccess": False}), [("egress.none", "error")]),
    ],
)
def test_egress(facts: Facts, codes: list[tuple[str, str]]) -> None:
    assert [(f.code, f.severity) for f in network.check_egress(SPEC, facts)] == codes
