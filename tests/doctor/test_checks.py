"""The checks as pure functions: facts in, findings out."""

from __future__ import annotations

from typing import Any

import pytest

from agentctl import config, desired, egress
from agentctl.doctor import access, network
from agentctl.doctor.gather import Facts, cluster_zone, latest
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

    assert latest([v("1.0.0", False), v("1.1.0", False), v("1.2.0", True)])["name"] == "1.1.0"  # type: ignore[index]
    assert latest([v("1.2.0", True)]) is None
