"""Microsoft.Network: virtual networks and subnets, private DNS zones with their virtual
network links and A record sets (all read-only: they come from the world)."""

from __future__ import annotations

from agentctl.sandbox.arm import common
from agentctl.sandbox.http import Response
from agentctl.sandbox.registry import ApiVersions, Ctx, State, arm

NETWORK = ApiVersions.of(
    "virtualNetworks",
    "2023-04-01",
    "2023-05-01",
    "2023-06-01",
    "2023-09-01",
    "2023-11-01",
    "2024-01-01",
    "2024-03-01",
    "2024-05-01",
    "2024-07-01",
    "2024-10-01",
    "2025-01-01",
    "2025-03-01",
    "2025-05-01",
    "2025-07-01",
    "2025-09-01",
    "2026-01-01",
    "2026-03-01",
)
DNS = ApiVersions.of("privateDnsZones", "2018-09-01", "2020-01-01", "2020-06-01", "2024-06-01")

RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
VNETS = RG + "/providers/Microsoft.Network/virtualNetworks"
SUBNETS = VNETS + "/{virtualNetworkName}/subnets"
ZONES = RG + "/providers/Microsoft.Network/privateDnsZones"
LINKS = ZONES + "/{privateZoneName}/virtualNetworkLinks"
VNET_TYPE = "microsoft.network/virtualnetworks"
ZONE_TYPE = "microsoft.network/privatednszones"


def _etag(rid: str) -> str:
    return f'W/"{common.stable_guid(rid)}"'


def virtual_network(sub: str, rg: str, name: str, location: str, prefixes: list[str]) -> common.Resource:
    rid = common.provider_id(sub, rg, "Microsoft.Network/virtualNetworks", name)
    return {
        "id": rid,
        "name": name,
        "type": "Microsoft.Network/virtualNetworks",
        "location": location,
        "etag": _etag(rid),
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": common.stable_guid(rid),
            "addressSpace": {"addressPrefixes": prefixes},
            "subnets": [],
            "virtualNetworkPeerings": [],
            "enableDdosProtection": False,
        },
    }


def subnet(vnet_id: str, name: str, prefix: str) -> common.Resource:
    rid = f"{vnet_id}/subnets/{name}"
    return {
        "id": rid,
        "name": name,
        "type": "Microsoft.Network/virtualNetworks/subnets",
        "etag": _etag(rid),
        "properties": {
            "provisioningState": "Succeeded",
            "addressPrefix": prefix,
            "delegations": [],
            "privateEndpointNetworkPolicies": "Disabled",
            "privateLinkServiceNetworkPolicies": "Enabled",
        },
    }


def delegate(subnet: common.Resource, delegations: list[tuple[str, str]]) -> None:
    """Set a subnet's delegations from (name, service name) pairs, as Network returns them (a
    delegated subnet also answers its read-only ``purpose``)."""
    rid = subnet["id"]
    subnet["properties"]["delegations"] = [
        {
            "id": f"{rid}/delegations/{name}",
            "name": name,
            "type": "Microsoft.Network/virtualNetworks/subnets/delegations",
            "etag": _etag(f"{rid}/delegations/{name}"),
            "properties": {"serviceName": service, "actions": [], "provisioningState": "Succeeded"},
        }
        for name, service in delegations
    ]
    if delegations:
        subnet["properties"]["purpose"] = ""


def _vnet_view(st: State, body: common.Resource) -> common.Resource:
    subnets = sorted(common.children(st, body["id"] + "/subnets"), key=lambda s: s["name"])
    return {**body, "properties": {**body["properties"], "subnets": subnets}}


def dns_zone(sub: str, rg: str, name: str) -> common.Resource:
    rid = common.provider_id(sub, rg, "Microsoft.Network/privateDnsZones", name)
    return {
        "id": rid,
        "name": name,
        "type": "Microsoft.Network/privateDnsZones",
        "etag": common.stable_guid(rid),
        "location": "global",
        "properties": {
            "maxNumberOfRecordSets": 25000,
            "maxNumberOfVirtualNetworkLinks": 1000,
            "maxNumberOfVirtualNetworkLinksWithRegistration": 100,
            "numberOfRecordSets": 1,
            "numberOfVirtualNetworkLinks": 0,
            "numberOfVirtualNetworkLinksWithRegistration": 0,
            "provisioningState": "Succeeded",
        },
    }


def _zone_view(st: State, body: common.Resource) -> common.Resource:
    links = common.children(st, body["id"] + "/virtualNetworkLinks")
    records = [r for k, r in common.resources(st).items() if k.startswith(body["id"].lower() + "/a/")]
    counts = {
        "numberOfRecordSets": 1 + len(records),  # the SOA record set is always there
        "numberOfVirtualNetworkLinks": len(links),
        "numberOfVirtualNetworkLinksWithRegistration": sum(
            1 for link in links if link["properties"]["registrationEnabled"]
        ),
    }
    return {**body, "properties": {**body["properties"], **counts}}


def dns_link(zone_id: str, name: str, vnet_id: str) -> common.Resource:
    rid = f"{zone_id}/virtualNetworkLinks/{name}"
    return {
        "id": rid,
        "name": name,
        "type": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        "etag": common.stable_guid(rid),
        "location": "global",
        "properties": {
            "virtualNetwork": {"id": vnet_id},
            "registrationEnabled": False,
            "resolutionPolicy": "Default",
            "virtualNetworkLinkState": "Completed",
            "provisioningState": "Succeeded",
        },
    }


def a_record(zone_id: str, zone: str, name: str, addresses: list[str]) -> common.Resource:
    rid = f"{zone_id}/A/{name}"
    return {
        "id": rid,
        "name": name,
        "type": "Microsoft.Network/privateDnsZones/A",
        "etag": common.stable_guid(rid),
        "properties": {
            "ttl": 10,
            "fqdn": f"{name}.{zone}.",
            "isAutoRegistered": False,
            "aRecords": [{"ipv4Address": a} for a in addresses],
        },
    }


common.VIEWS[VNET_TYPE] = _vnet_view
common.VIEWS[ZONE_TYPE] = _zone_view

arm("GET", VNETS + "/{virtualNetworkName}", "arm.vnets.get", NETWORK)(common.show)
arm("GET", VNETS, "arm.vnets.list", NETWORK)(common.listing)
arm("GET", SUBNETS + "/{subnetName}", "arm.subnets.get", NETWORK)(common.show)
arm("GET", SUBNETS, "arm.subnets.list", NETWORK)(common.listing)
arm("GET", ZONES + "/{privateZoneName}", "arm.dnszones.get", DNS)(common.show)
arm("GET", ZONES, "arm.dnszones.list", DNS)(common.listing)
arm(
    "GET",
    "/subscriptions/{subscriptionId}/providers/Microsoft.Network/privateDnsZones",
    "arm.dnszones.listall",
    DNS,
)(common.subscription_listing)
arm("GET", LINKS + "/{virtualNetworkLinkName}", "arm.dnslinks.get", DNS)(common.show)
arm("GET", LINKS, "arm.dnslinks.list", DNS)(common.listing)
arm("GET", ZONES + "/{privateZoneName}/A/{relativeRecordSetName}", "arm.dnsrecords.get", DNS)(common.show)
arm("GET", ZONES + "/{privateZoneName}/A", "arm.dnsrecords.list", DNS)(common.listing)


@arm("GET", ZONES + "/{privateZoneName}/ALL", "arm.dnsrecords.listall", DNS)
def list_all_records(ctx: Ctx) -> Response:
    zone = common.require(ctx, common.path_id(ctx).rsplit("/", 1)[0])
    records = [r for k, r in common.resources(ctx.st).items() if k.startswith(zone["id"].lower() + "/a/")]
    return Response(200, {"value": sorted(records, key=lambda r: r["name"])})
