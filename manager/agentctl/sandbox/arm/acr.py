"""Microsoft.ContainerRegistry: registries (read)."""

from __future__ import annotations

from agentctl.sandbox.arm import common
from agentctl.sandbox.http import iso
from agentctl.sandbox.registry import ApiVersions, arm

VERSIONS = ApiVersions.of(
    "registries",
    "2019-05-01",
    "2021-09-01",
    "2023-01-01-preview",
    "2023-07-01",
    "2023-11-01-preview",
    "2024-11-01-preview",
    "2025-04-01",
    "2025-11-01",
)
REGISTRIES = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers"
    "/Microsoft.ContainerRegistry/registries"
)


def registry(sub: str, rg: str, name: str, location: str, sku: str, created: float) -> common.Resource:
    private = sku == "Premium"
    return {
        "id": common.provider_id(sub, rg, "Microsoft.ContainerRegistry/registries", name),
        "name": name,
        "type": "Microsoft.ContainerRegistry/registries",
        "location": location,
        "tags": {},
        "sku": {"name": sku, "tier": sku},
        "properties": {
            "loginServer": f"{name.lower()}.azurecr.io",
            "creationDate": iso(created),
            "provisioningState": "Succeeded",
            "adminUserEnabled": False,
            "publicNetworkAccess": "Disabled" if private else "Enabled",
            "networkRuleBypassOptions": "AzureServices",
            "dataEndpointEnabled": private,
            "dataEndpointHostNames": [f"{name.lower()}.{location}.data.azurecr.io"] if private else [],
            "zoneRedundancy": "Disabled",
        },
    }


arm("GET", REGISTRIES + "/{registryName}", "arm.registries.get", VERSIONS)(common.show)
arm("GET", REGISTRIES, "arm.registries.list", VERSIONS)(common.listing)
arm(
    "GET",
    "/subscriptions/{subscriptionId}/providers/Microsoft.ContainerRegistry/registries",
    "arm.registries.listall",
    VERSIONS,
)(common.subscription_listing)
