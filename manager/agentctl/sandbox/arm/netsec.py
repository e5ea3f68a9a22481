"""Microsoft.Network resources a world's egress depends on, and the writes that change them.

Network security groups (with their security rules and Azure's default rules), route tables
(with routes), NAT gateways: GET, list, PUT, DELETE, PATCH of tags. Subnets: PUT (a subnet's
NSG, route table, NAT gateway, delegations and ``defaultOutboundAccess`` are what a test changes
to break a world). Private DNS zones, virtual network links and A record sets: PUT, PATCH (links,
record sets) and DELETE. The writes answer at once with the final resource
(``provisioningState: Succeeded``), as a finished operation does.

Whether a subnet reaches a host is not decided here: ``agentctl.sandbox.netmodel`` reads these
resources.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from agentctl.sandbox.arm import common, network
from agentctl.sandbox.arm.validate import check
from agentctl.sandbox.http import Response, arm_error
from agentctl.sandbox.registry import Ctx, State, arm

NETWORK = network.NETWORK
DNS = network.DNS
RG = network.RG
NSGS = RG + "/providers/Microsoft.Network/networkSecurityGroups"
RULES = NSGS + "/{networkSecurityGroupName}/securityRules"
ROUTE_TABLES = RG + "/providers/Microsoft.Network/routeTables"
ROUTES = ROUTE_TABLES + "/{routeTableName}/routes"
NATS = RG + "/providers/Microsoft.Network/natGateways"
NSG_TYPE = "Microsoft.Network/networkSecurityGroups"
RULE_TYPE = "Microsoft.Network/networkSecurityGroups/securityRules"
RT_TYPE = "Microsoft.Network/routeTables"
ROUTE_TYPE = "Microsoft.Network/routeTables/routes"
NAT_TYPE = "Microsoft.Network/natGateways"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
NEXT_HOPS = ("VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None")

_REF = "#SubResource"
MODEL: dict[str, dict[str, str]] = {
    "SubResource": {"id": "string"},
    "Resource": {
        "id": "any",
        "name": "any",
        "type": "any",
        "etag": "any",
        "location": "string",
        "tags": "{string}",
    },
    "NetworkSecurityGroup": {
        "id": "any",
        "name": "any",
        "type": "any",
        "etag": "any",
        "location": "string",
        "tags": "{string}",
        "properties": "#NetworkSecurityGroupProperties",
    },
    "NetworkSecurityGroupProperties": {
        "securityRules": "[#SecurityRule]",
        "defaultSecurityRules": "any",
        "flushConnection": "boolean",
        "subnets": "any",
        "networkInterfaces": "any",
        "resourceGuid": "any",
        "provisioningState": "any",
    },
    "SecurityRule": {
        "id": "any",
        "name": "string",
        "type": "any",
        "etag": "any",
        "properties": "#SecurityRuleProperties",
    },
    "SecurityRuleProperties": {
        "description": "string",
        "protocol": "enum:protocol",
        "sourcePortRange": "string",
        "destinationPortRange": "string",
        "sourceAddressPrefix": "string",
        "sourceAddressPrefixes": "[string]",
        "destinationAddressPrefix": "string",
        "destinationAddressPrefixes": "[string]",
        "sourcePortRanges": "[string]",
        "destinationPortRanges": "[string]",
        "sourceApplicationSecurityGroups": "any",
        "destinationApplicationSecurityGroups": "any",
        "access": "enum:access",
        "priority": "integer",
        "direction": "enum:direction",
        "provisioningState": "any",
    },
    "RouteTable": {
        "id": "any",
        "name": "any",
        "type": "any",
        "etag": "any",
        "location": "string",
        "tags": "{string}",
        "properties": "#RouteTableProperties",
    },
    "RouteTableProperties": {
        "routes": "[#Route]",
        "disableBgpRoutePropagation": "boolean",
        "subnets": "any",
        "resourceGuid": "any",
        "provisioningState": "any",
    },
    "Route": {"id": "any", "name": "string", "type": "any", "etag": "any", "properties": "#RouteProperties"},
    "RouteProperties": {
        "addressPrefix": "string",
        "nextHopType": "enum:nextHopType",
        "nextHopIpAddress": "string",
        "hasBgpOverride": "any",
        "provisioningState": "any",
    },
    "NatGateway": {
        "id": "any",
        "name": "any",
        "type": "any",
        "etag": "any",
        "location": "string",
        "tags": "{string}",
        "sku": "any",
        "zones": "[string]",
        "properties": "#NatGatewayProperties",
    },
    "NatGatewayProperties": {
        "idleTimeoutInMinutes": "integer",
        "publicIpAddresses": f"[{_REF}]",
        "publicIpPrefixes": f"[{_REF}]",
        "subnets": "any",
        "resourceGuid": "any",
        "provisioningState": "any",
    },
    "Subnet": {
        "id": "any",
        "name": "string",
        "type": "any",
        "etag": "any",
        "properties": "#SubnetProperties",
    },
    "SubnetProperties": {
        "addressPrefix": "string",
        "addressPrefixes": "[string]",
        "networkSecurityGroup": _REF,
        "routeTable": _REF,
        "natGateway": _REF,
        "serviceEndpoints": "any",
        "serviceEndpointPolicies": "any",
        "delegations": "[#Delegation]",
        "privateEndpointNetworkPolicies": "string",
        "privateLinkServiceNetworkPolicies": "string",
        "defaultOutboundAccess": "boolean",
        "sharingScope": "string",
        "ipConfigurations": "any",
        "ipAllocations": "any",
        "applicationGatewayIPConfigurations": "any",
        "purpose": "any",
        "provisioningState": "any",
    },
    "Delegation": {
        "id": "any",
        "name": "string",
        "type": "any",
        "etag": "any",
        "properties": "#DelegationProperties",
    },
    "DelegationProperties": {"serviceName": "string", "actions": "any", "provisioningState": "any"},
    "VirtualNetworkLink": {
        "id": "any",
        "name": "any",
        "type": "any",
        "etag": "any",
        "location": "string",
        "tags": "{string}",
        "properties": "#VirtualNetworkLinkProperties",
    },
    "VirtualNetworkLinkProperties": {
        "virtualNetwork": _REF,
        "registrationEnabled": "boolean",
        "resolutionPolicy": "enum:resolutionPolicy",
        "virtualNetworkLinkState": "any",
        "provisioningState": "any",
    },
    "PrivateZone": {
        "id": "any",
        "name": "any",
        "type": "any",
        "etag": "any",
        "location": "string",
        "tags": "{string}",
        "properties": "any",
    },
    "RecordSet": {
        "id": "any",
        "name": "any",
        "type": "any",
        "etag": "any",
        "properties": "#RecordSetProperties",
    },
    "RecordSetProperties": {
        "metadata": "{string}",
        "ttl": "integer",
        "aRecords": "[#ARecord]",
        "fqdn": "any",
        "isAutoRegistered": "any",
    },
    "ARecord": {"ipv4Address": "string"},
}
ENUMS = {
    "protocol": ("Tcp", "Udp", "Icmp", "Esp", "*", "Ah"),
    "access": ("Allow", "Deny"),
    "direction": ("Inbound", "Outbound"),
    "nextHopType": NEXT_HOPS,
    "resolutionPolicy": ("Default", "NxDomainRedirect"),
}

# Azure's default rules of every network security group (they cannot be changed or removed).
DEFAULT_RULES: tuple[tuple[str, str, int, str, str, str], ...] = (
    ("AllowVnetInBound", "Inbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", "Inbound", 65500, "Deny", "*", "*"),
    ("AllowVnetOutBound", "Outbound", 65000, "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", "Outbound", 65001, "Allow", "*", "Internet"),
    ("DenyAllOutBound", "Outbound", 65500, "Deny", "*", "*"),
)


def _etag(rid: str) -> str:
    return f'W/"{common.stable_guid(rid)}"'


def _rule_props(props: dict[str, Any]) -> dict[str, Any]:
    out = {
        "protocol": "*",
        "sourcePortRange": "*",
        "destinationPortRange": "*",
        "sourceAddressPrefix": "*",
        "destinationAddressPrefix": "*",
        "sourceAddressPrefixes": [],
        "destinationAddressPrefixes": [],
        "sourcePortRanges": [],
        "destinationPortRanges": [],
        **{k: v for k, v in props.items() if k != "provisioningState"},
        "provisioningState": "Succeeded",
    }
    for plural, single in (
        ("destinationAddressPrefixes", "destinationAddressPrefix"),
        ("destinationPortRanges", "destinationPortRange"),
        ("sourceAddressPrefixes", "sourceAddressPrefix"),
        ("sourcePortRanges", "sourcePortRange"),
    ):
        if out[plural] and single not in props:
            del out[single]
    return out


def security_rule(nsg_id: str, name: str, props: dict[str, Any], kind: str = "") -> common.Resource:
    segment = "defaultSecurityRules" if kind == "default" else "securityRules"
    rid = f"{nsg_id}/{segment}/{name}"
    return {
        "id": rid,
        "name": name,
        "type": f"{NSG_TYPE}/{segment}",
        "etag": _etag(rid),
        "properties": _rule_props(props),
    }


def nsg(sub: str, rg: str, name: str, location: str) -> common.Resource:
    rid = common.provider_id(sub, rg, NSG_TYPE, name)
    return {
        "id": rid,
        "name": name,
        "type": NSG_TYPE,
        "location": location,
        "etag": _etag(rid),
        "properties": {"provisioningState": "Succeeded", "resourceGuid": common.stable_guid(rid)},
    }


def route(table_id: str, name: str, props: dict[str, Any]) -> common.Resource:
    rid = f"{table_id}/routes/{name}"
    body = {k: v for k, v in props.items() if k not in ("provisioningState", "hasBgpOverride")}
    return {
        "id": rid,
        "name": name,
        "type": ROUTE_TYPE,
        "etag": _etag(rid),
        "properties": {**body, "provisioningState": "Succeeded", "hasBgpOverride": False},
    }


def route_table(sub: str, rg: str, name: str, location: str, bgp: bool = False) -> common.Resource:
    rid = common.provider_id(sub, rg, RT_TYPE, name)
    return {
        "id": rid,
        "name": name,
        "type": RT_TYPE,
        "location": location,
        "etag": _etag(rid),
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": common.stable_guid(rid),
            "disableBgpRoutePropagation": bgp,
        },
    }


def nat_gateway(sub: str, rg: str, name: str, location: str) -> common.Resource:
    rid = common.provider_id(sub, rg, NAT_TYPE, name)
    ip = common.provider_id(sub, rg, "Microsoft.Network/publicIPAddresses", f"{name}-ip")
    return {
        "id": rid,
        "name": name,
        "type": NAT_TYPE,
        "location": location,
        "etag": _etag(rid),
        "sku": {"name": "Standard"},
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": common.stable_guid(rid),
            "idleTimeoutInMinutes": 4,
            "publicIpAddresses": [{"id": ip}],
        },
    }


def _subnets_using(st: State, member: str, rid: str) -> list[dict[str, str]]:
    low = rid.lower()
    return [
        {"id": s["id"]}
        for s in common.resources(st).values()
        if s["type"] == SUBNET_TYPE and str((s["properties"].get(member) or {}).get("id", "")).lower() == low
    ]


def _nsg_view(st: State, body: common.Resource) -> common.Resource:
    rules = sorted(common.children(st, body["id"] + "/securityRules"), key=lambda r: r["name"].lower())
    defaults = [
        security_rule(
            body["id"],
            name,
            {
                "description": "Default rule",
                "protocol": "*",
                "direction": direction,
                "priority": priority,
                "access": access,
                "sourceAddressPrefix": source,
                "destinationAddressPrefix": dest,
            },
            "default",
        )
        for name, direction, priority, access, source, dest in DEFAULT_RULES
    ]
    props = {
        **body["properties"],
        "securityRules": rules,
        "defaultSecurityRules": defaults,
        "subnets": _subnets_using(st, "networkSecurityGroup", body["id"]),
    }
    return {**body, "properties": props}


def _rt_view(st: State, body: common.Resource) -> common.Resource:
    routes = sorted(common.children(st, body["id"] + "/routes"), key=lambda r: r["name"].lower())
    props = {**body["properties"], "routes": routes, "subnets": _subnets_using(st, "routeTable", body["id"])}
    return {**body, "properties": props}


def _nat_view(st: State, body: common.Resource) -> common.Resource:
    return {
        **body,
        "properties": {**body["properties"], "subnets": _subnets_using(st, "natGateway", body["id"])},
    }


common.VIEWS[NSG_TYPE.lower()] = _nsg_view
common.VIEWS[RT_TYPE.lower()] = _rt_view
common.VIEWS[NAT_TYPE.lower()] = _nat_view


# --- writes --------------------------------------------------------------------------------


def _body(ctx: Ctx, definition: str) -> dict[str, Any]:
    body = ctx.req.body
    if not isinstance(body, dict):
        raise arm_error(400, "InvalidRequestFormat", "Cannot parse the request.")
    problem = check(body, f"#{definition}", MODEL, ENUMS)
    if problem:
        raise arm_error(
            400,
            "InvalidRequestFormat",
            f"Cannot parse the request. {problem.message}",
            target=problem.path,
        )
    return body


def _missing(what: str, path: str) -> Exception:
    return arm_error(
        400,
        "InvalidRequestFormat",
        f"Cannot parse the request. Required member '{what}' is missing.",
        target=path,
    )


def _location(ctx: Ctx, body: dict[str, Any], existing: common.Resource | None) -> str:
    where = body.get("location") or (existing or {}).get("location")
    if not where:
        raise arm_error(400, "LocationRequired", "The location property is required for this definition.")
    return str(where)


def _done(existing: common.Resource | None, body: common.Resource, st: State) -> Response:
    return Response(200 if existing else 201, common.view(st, body))


def _check_rule(path: str, props: dict[str, Any]) -> None:
    for required in ("protocol", "access", "priority", "direction"):
        if props.get(required) is None:
            raise _missing(required, f"{path}.{required}")
    if not 100 <= int(props["priority"]) <= 4096:
        raise arm_error(
            400,
            "SecurityRuleInvalidPriority",
            f"Security rule has invalid Priority. Value provided: {props['priority']}. Allowed "
            "range 100-4096.",
        )


def _check_route(path: str, props: dict[str, Any]) -> None:
    if not props.get("nextHopType"):
        raise _missing("nextHopType", f"{path}.nextHopType")
    if props["nextHopType"].lower() == "virtualappliance" and not props.get("nextHopIpAddress"):
        raise arm_error(
            400,
            "InvalidRouteNextHopIpAddress",
            "Route has next hop type VirtualAppliance but no next hop IP address.",
        )


def _put_with_children(
    ctx: Ctx,
    made: common.Resource,
    body: dict[str, Any],
    member: str,
    check: Callable[[str, dict[str, Any]], None],
    child: Callable[[str, str, dict[str, Any]], common.Resource],
    existing: common.Resource | None,
) -> Response:
    """PUT of a resource that lists its children in ``properties.<member>`` (an NSG's rules, a route
    table's routes): every child is checked first, then the old children are replaced."""
    made["tags"] = body.get("tags") or {}
    items = (body.get("properties") or {}).get(member) or []
    for i, item in enumerate(items):
        check(f"properties.{member}[{i}].properties", item.get("properties") or {})
    common.delete_tree(ctx.st, f"{made['id']}/{member}")
    common.put(ctx.st, made)
    for item in items:
        common.put(ctx.st, child(made["id"], item["name"], item.get("properties") or {}))
    return _done(existing, made, ctx.st)


def _put_child(
    ctx: Ctx,
    member: str,
    param: str,
    model: str,
    check: Callable[[str, dict[str, Any]], None],
    child: Callable[[str, str, dict[str, Any]], common.Resource],
) -> Response:
    """PUT of one child (a security rule, a route) of an existing parent."""
    rid = common.path_id(ctx)
    parent = common.require(ctx, rid.rsplit(f"/{member}/", 1)[0])
    props = _body(ctx, model).get("properties") or {}
    check("properties", props)
    existing = common.get(ctx.st, rid)
    made = common.put(ctx.st, child(parent["id"], ctx.req.params[param], props))
    return _done(existing, made, ctx.st)


def _top_level(ctx: Ctx, model: str) -> tuple[dict[str, str], dict[str, Any], common.Resource | None, str]:
    """A PUT of a resource in a resource group: its path parameters, the checked body, what exists
    now and the location it has (or gets)."""
    p = ctx.req.params
    common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"])
    body = _body(ctx, model)
    existing = common.get(ctx.st, common.path_id(ctx))
    return p, body, existing, _location(ctx, body, existing)


@arm("PUT", NSGS + "/{networkSecurityGroupName}", "arm.nsgs.put", NETWORK)
def put_nsg(ctx: Ctx) -> Response:
    p, body, existing, location = _top_level(ctx, "NetworkSecurityGroup")
    made = nsg(p["subscriptionId"], p["resourceGroupName"], p["networkSecurityGroupName"], location)
    return _put_with_children(ctx, made, body, "securityRules", _check_rule, security_rule, existing)


@arm("PUT", RULES + "/{securityRuleName}", "arm.securityrules.put", NETWORK)
def put_rule(ctx: Ctx) -> Response:
    return _put_child(ctx, "securityRules", "securityRuleName", "SecurityRule", _check_rule, security_rule)


@arm("PUT", ROUTE_TABLES + "/{routeTableName}", "arm.routetables.put", NETWORK)
def put_route_table(ctx: Ctx) -> Response:
    p, body, existing, location = _top_level(ctx, "RouteTable")
    propagation = bool((body.get("properties") or {}).get("disableBgpRoutePropagation"))
    made = route_table(
        p["subscriptionId"], p["resourceGroupName"], p["routeTableName"], location, propagation
    )
    return _put_with_children(ctx, made, body, "routes", _check_route, route, existing)


@arm("PUT", ROUTES + "/{routeName}", "arm.routes.put", NETWORK)
def put_route(ctx: Ctx) -> Response:
    return _put_child(ctx, "routes", "routeName", "Route", _check_route, route)


@arm("PUT", NATS + "/{natGatewayName}", "arm.natgateways.put", NETWORK)
def put_nat(ctx: Ctx) -> Response:
    p, body, existing, location = _top_level(ctx, "NatGateway")
    made = nat_gateway(p["subscriptionId"], p["resourceGroupName"], p["natGatewayName"], location)
    made["tags"] = body.get("tags") or {}
    given = (body.get("properties") or {}).get("publicIpAddresses")
    if given is not None:
        made["properties"]["publicIpAddresses"] = given
    common.put(ctx.st, made)
    return _done(existing, made, ctx.st)


def _referenced(ctx: Ctx, ref: Any, kind: str, path: str) -> dict[str, str] | None:
    if not ref:
        return None
    rid = str(ref.get("id") or "")
    found = common.get(ctx.st, rid)
    if found is None or found["type"].lower() != kind.lower():
        raise arm_error(
            400, "InvalidResourceReference", f"Resource {rid} referenced by resource {path} was not found."
        )
    return {"id": found["id"]}


@arm("PUT", network.SUBNETS + "/{subnetName}", "arm.subnets.put", NETWORK)
def put_subnet(ctx: Ctx) -> Response:
    rid = common.path_id(ctx)
    vnet = common.require(ctx, rid.rsplit("/subnets/", 1)[0])
    props = _body(ctx, "Subnet").get("properties") or {}
    existing = common.get(ctx.st, rid)
    prefix = props.get("addressPrefix") or (props.get("addressPrefixes") or [None])[0]
    if not prefix:
        raise _missing("addressPrefix", "properties.addressPrefix")
    try:
        net = ipaddress.ip_network(prefix)
    except ValueError:
        raise arm_error(
            400,
            "InvalidAddressPrefixFormat",
            f"Address prefix {prefix} of resource {rid} is not formatted correctly.",
        ) from None
    spaces = [ipaddress.ip_network(p) for p in vnet["properties"]["addressSpace"]["addressPrefixes"]]
    if not any(net.version == v.version and net.subnet_of(v) for v in spaces):  # type: ignore[arg-type]
        raise arm_error(
            400,
            "NetcfgSubnetRangeOutsideVnet",
            f"Subnet '{rid.rsplit('/', 1)[1]}' is not valid because its IP address range is outside the "
            f"IP address range of virtual network '{vnet['name']}'.",
        )
    made = network.subnet(vnet["id"], ctx.req.params["subnetName"], prefix)
    mp = made["properties"]
    for member, kind in (
        ("networkSecurityGroup", NSG_TYPE),
        ("routeTable", RT_TYPE),
        ("natGateway", NAT_TYPE),
    ):
        ref = _referenced(ctx, props.get(member), kind, rid)
        if ref:
            mp[member] = ref
    network.delegate(
        made,
        [
            (d["name"], (d.get("properties") or {}).get("serviceName", ""))
            for d in props.get("delegations") or []
        ],
    )
    for member in (
        "privateEndpointNetworkPolicies",
        "privateLinkServiceNetworkPolicies",
        "defaultOutboundAccess",
    ):
        if member in props:
            mp[member] = props[member]
    common.put(ctx.st, made)
    return _done(existing, made, ctx.st)


def _delete(ctx: Ctx) -> Response:
    """DELETE of a network resource: 200 when it was there, 204 when not (as Network answers)."""
    rid = common.path_id(ctx)
    parts = common.parse_id(rid)
    common.require_rg(ctx, parts["subscription"], parts["resourceGroup"])
    if common.get(ctx.st, rid) is None:
        return Response(204)
    common.delete_tree(ctx.st, rid)
    return Response(200)


def _delete_in_use(member: str) -> Any:
    def handler(ctx: Ctx) -> Response:
        used = _subnets_using(ctx.st, member, common.path_id(ctx))
        if used:
            raise arm_error(
                400,
                "InUseNetworkSecurityGroupCannotBeDeleted"
                if member == "networkSecurityGroup"
                else "InUseResourceCannotBeDeleted",
                f"Resource {common.path_id(ctx)} is in use by {used[0]['id']} and cannot be deleted.",
            )
        return _delete(ctx)

    return handler


for _template, _name in (
    (NSGS + "/{networkSecurityGroupName}", "nsgs"),
    (RULES + "/{securityRuleName}", "securityrules"),
    (ROUTE_TABLES + "/{routeTableName}", "routetables"),
    (ROUTES + "/{routeName}", "routes"),
    (NATS + "/{natGatewayName}", "natgateways"),
):
    arm("GET", _template, f"arm.{_name}.get", NETWORK)(common.show)
    arm("GET", _template.rsplit("/", 1)[0], f"arm.{_name}.list", NETWORK)(common.listing)
arm("DELETE", NSGS + "/{networkSecurityGroupName}", "arm.nsgs.delete", NETWORK)(
    _delete_in_use("networkSecurityGroup")
)
arm("DELETE", RULES + "/{securityRuleName}", "arm.securityrules.delete", NETWORK)(_delete)
arm("DELETE", ROUTE_TABLES + "/{routeTableName}", "arm.routetables.delete", NETWORK)(
    _delete_in_use("routeTable")
)
arm("DELETE", ROUTES + "/{routeName}", "arm.routes.delete", NETWORK)(_delete)
arm("DELETE", NATS + "/{natGatewayName}", "arm.natgateways.delete", NETWORK)(_delete_in_use("natGateway"))


# --- private DNS writes --------------------------------------------------------------------


@arm("PUT", network.ZONES + "/{privateZoneName}", "arm.dnszones.put", DNS)
def put_zone(ctx: Ctx) -> Response:
    p = ctx.req.params
    common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"])
    body = _body(ctx, "PrivateZone")
    existing = common.get(ctx.st, common.path_id(ctx))
    if existing is not None:
        return Response(200, common.view(ctx.st, existing))
    made = network.dns_zone(p["subscriptionId"], p["resourceGroupName"], p["privateZoneName"])
    made["tags"] = body.get("tags") or {}
    common.put(ctx.st, made)
    return Response(201, common.view(ctx.st, made))


@arm("PUT", network.LINKS + "/{virtualNetworkLinkName}", "arm.dnslinks.put", DNS)
def put_link(ctx: Ctx) -> Response:
    rid = common.path_id(ctx)
    zone = common.require(ctx, rid.rsplit("/virtualNetworkLinks/", 1)[0])
    props = _body(ctx, "VirtualNetworkLink").get("properties") or {}
    vnet_id = str((props.get("virtualNetwork") or {}).get("id") or "")
    if not vnet_id:
        raise _missing("virtualNetwork", "properties.virtualNetwork")
    vnet = common.get(ctx.st, vnet_id)
    if vnet is None:
        raise arm_error(400, "BadRequest", f"Virtual network resource not found for '{vnet_id}'")
    for other in common.children(ctx.st, zone["id"] + "/virtualNetworkLinks"):
        same = other["properties"]["virtualNetwork"]["id"].lower() == vnet["id"].lower()
        if same and other["id"].lower() != rid.lower():
            raise arm_error(
                409,
                "Conflict",
                f"A virtual network cannot be linked to the same Private DNS zone more than once. "
                f"Virtual network '{vnet['id']}' is already linked to the zone '{zone['name']}'.",
            )
    existing = common.get(ctx.st, rid)
    made = network.dns_link(zone["id"], rid.rsplit("/", 1)[1], vnet["id"])
    made["properties"]["registrationEnabled"] = bool(props.get("registrationEnabled"))
    made["properties"]["resolutionPolicy"] = props.get("resolutionPolicy") or "Default"
    common.put(ctx.st, made)
    return _done(existing, made, ctx.st)


@arm("PUT", network.ZONES + "/{privateZoneName}/A/{relativeRecordSetName}", "arm.dnsrecords.put", DNS)
def put_record(ctx: Ctx) -> Response:
    rid = common.path_id(ctx)
    zone = common.require(ctx, rid.rsplit("/A/", 1)[0])
    props = _body(ctx, "RecordSet").get("properties") or {}
    addresses = [a["ipv4Address"] for a in props.get("aRecords") or []]
    existing = common.get(ctx.st, rid)
    made = network.a_record(zone["id"], zone["name"], rid.rsplit("/", 1)[1], addresses)
    for member in ("ttl", "metadata"):
        if props.get(member) is not None:
            made["properties"][member] = props[member]
    common.put(ctx.st, made)
    return _done(existing, made, ctx.st)


arm("DELETE", network.ZONES + "/{privateZoneName}/A/{relativeRecordSetName}", "arm.dnsrecords.delete", DNS)(
    _delete
)
arm("DELETE", network.LINKS + "/{virtualNetworkLinkName}", "arm.dnslinks.delete", DNS)(_delete)


# --- PATCH: tags of network resources; DNS links and record sets merge their properties ----------


def _patch_tags(ctx: Ctx) -> Response:
    """``UpdateTags``: the body is ``{"tags": {...}}``, which replaces the resource's tags."""
    found = common.require(ctx, common.path_id(ctx))
    body = ctx.req.body
    if not isinstance(body, dict) or set(body) - {"tags"}:
        raise arm_error(400, "InvalidRequestFormat", "Cannot parse the request. Only 'tags' can be updated.")
    found["tags"] = body.get("tags") or {}
    return Response(200, common.view(ctx.st, found))


for _template, _name in (
    (NSGS + "/{networkSecurityGroupName}", "nsgs"),
    (ROUTE_TABLES + "/{routeTableName}", "routetables"),
    (NATS + "/{natGatewayName}", "natgateways"),
):
    arm("PATCH", _template, f"arm.{_name}.patch", NETWORK)(_patch_tags)


@arm("PATCH", network.LINKS + "/{virtualNetworkLinkName}", "arm.dnslinks.patch", DNS)
def patch_link(ctx: Ctx) -> Response:
    found = common.require(ctx, common.path_id(ctx))
    body = _body(ctx, "VirtualNetworkLink")
    props = body.get("properties") or {}
    for member in ("registrationEnabled", "resolutionPolicy"):
        if member in props:
            found["properties"][member] = props[member]
    if "tags" in body:
        found["tags"] = body["tags"] or {}
    return Response(200, common.view(ctx.st, found))


@arm("PATCH", network.ZONES + "/{privateZoneName}/A/{relativeRecordSetName}", "arm.dnsrecords.patch", DNS)
def patch_record(ctx: Ctx) -> Response:
    found = common.require(ctx, common.path_id(ctx))
    props = _body(ctx, "RecordSet").get("properties") or {}
    for member in ("ttl", "aRecords", "metadata"):
        if member in props:
            found["properties"][member] = props[member]
    return Response(200, common.view(ctx.st, found))
