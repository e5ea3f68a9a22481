"""The world's network, as a VM in it would meet it: can a subnet reach host H on a port, and
what does a name resolve to from a virtual network.

Read from the ARM resources in the state (subnets, network security groups, route tables, NAT
gateways, virtual networks, private DNS zones with their links and A records), the way Azure
evaluates them:

- **Security rules**: the subnet's NSG, then the NIC's (the scale set's network configuration);
  outbound rules in priority order, the first that matches the protocol, port and destination
  decides; Azure's default rules (AllowVnetOutBound, AllowInternetOutBound, DenyAllOutBound) last.
  A public host matches ``*``, ``Internet``, ``0.0.0.0/0`` and the service tags it is served
  under (``HOST_TAGS``); a private address matches ``VirtualNetwork`` and prefixes containing it.
- **Routes**: the subnet's route table; for a public host the most specific of a route to the
  host's service tag or ``0.0.0.0/0``. ``None`` drops the traffic; ``VirtualAppliance`` and
  ``VirtualNetworkGateway`` hand it to an appliance or a gateway (that is where it leaves).
- **Leaving Azure**: a NAT gateway on the subnet, else default outbound access unless the subnet
  has ``defaultOutboundAccess: false``.
- **Names**: the private DNS zones linked to the VNet (or, with custom DNS servers, to the VNet
  those servers are in); the longest zone that ends the name answers it (a missing record is
  NXDOMAIN unless the link's resolution policy is ``NxDomainRedirect``). A registry's or storage
  account's public name is a CNAME to its ``privatelink`` name, which a linked zone answers. Other
  names resolve publicly, except ``privatelink`` names, which only private zones answer.

``doctor --probe`` and the simulated agents use this one model.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from agentctl.sandbox.arm import common

State = dict[str, Any]

# host suffix -> service tags it is served under (besides Internet)
HOST_TAGS: dict[str, tuple[str, ...]] = {
    "dev.azure.com": ("AzureDevOps", "AzureFrontDoor.Frontend", "AzureCloud"),
    "visualstudio.com": ("AzureDevOps", "AzureFrontDoor.Frontend", "AzureCloud"),
    "vsassets.io": ("AzureFrontDoor.Frontend", "AzureCloud"),
    "login.microsoftonline.com": ("AzureActiveDirectory", "AzureCloud"),
    "management.azure.com": ("AzureResourceManager", "AzureCloud"),
    "blob.core.windows.net": ("Storage", "AzureCloud"),
    "azurecr.io": ("AzureContainerRegistry", "AzureCloud"),
    "azmk8s.io": ("AzureCloud",),
}
# services whose public names are CNAMEs to privatelink.<suffix> names (a private endpoint's zone)
PRIVATELINK_SUFFIXES = ("azurecr.io", "blob.core.windows.net")
PUBLIC_ADDRESS = "203.0.113.10"  # what public names resolve to here (TEST-NET-3)
_SUBNET = "microsoft.network/virtualnetworks/subnets"


@dataclass
class Reach:
    ok: bool
    reason: str  # what decided it, naming the resource


@dataclass
class Resolved:
    addresses: list[str]  # empty: NXDOMAIN
    zone: str | None  # the private DNS zone id that answered, or None (public DNS)


def host_tags(host: str) -> tuple[str, ...]:
    host = host.lower().rstrip(".")
    for suffix, tags in HOST_TAGS.items():
        if host == suffix or host.endswith("." + suffix):
            return tags
    return ()


def _get(st: State, rid: str | None) -> dict[str, Any] | None:
    return common.get(st, rid) if rid else None


def _props(r: dict[str, Any] | None) -> dict[str, Any]:
    return (r or {}).get("properties") or {}


def _ref(r: dict[str, Any] | None, member: str) -> str | None:
    value = _props(r).get(member) or {}
    return str(value.get("id")) if value.get("id") else None


def _vnet_prefixes(st: State, subnet_id: str) -> list[str]:
    vnet = _get(st, subnet_id.rsplit("/subnets/", 1)[0])
    return list(((_props(vnet).get("addressSpace") or {}).get("addressPrefixes")) or [])


def _matches_destination(
    prefix: str, host_tags_: tuple[str, ...], address: str | None, vnet: list[str]
) -> bool:
    p = prefix.strip()
    low = p.lower()
    if low in ("*", "any"):
        return True
    if address is None:  # a public host
        if low in ("internet", "0.0.0.0/0"):
            return True
        return any(low == t.lower() or low.startswith(t.lower() + ".") for t in host_tags_)
    ip = ipaddress.ip_address(address)
    if low == "virtualnetwork":
        return any(ip in ipaddress.ip_network(v, strict=False) for v in vnet)
    try:
        return ip in ipaddress.ip_network(p, strict=False)
    except ValueError:
        return False


def _matches_port(props: dict[str, Any], port: int) -> bool:
    ranges = list(props.get("destinationPortRanges") or []) or [str(props.get("destinationPortRange") or "*")]
    for r in ranges:
        r = str(r).strip()
        if r == "*":
            return True
        low, _, high = r.partition("-")
        if low.isdigit() and int(low) <= port <= int(high or low):
            return True
    return False


def _rule_verdict(
    st: State, nsg_id: str, host: str, address: str | None, port: int, vnet: list[str]
) -> Reach | None:
    """The outbound verdict of one NSG, or None when the NSG is missing."""
    from agentctl.sandbox.arm import netsec

    nsg = _get(st, nsg_id)
    if nsg is None:
        return None
    view = netsec._nsg_view(st, nsg)
    rules = [*view["properties"]["securityRules"], *view["properties"]["defaultSecurityRules"]]
    outbound = sorted(
        (r for r in rules if str(r["properties"].get("direction", "")).lower() == "outbound"),
        key=lambda r: int(r["properties"]["priority"]),
    )
    tags = host_tags(host)
    for rule in outbound:
        p = rule["properties"]
        if str(p.get("protocol", "*")).lower() not in ("*", "tcp"):
            continue
        if not _matches_port(p, port):
            continue
        dests = list(p.get("destinationAddressPrefixes") or []) or [
            str(p.get("destinationAddressPrefix") or "*")
        ]
        if not any(_matches_destination(d, tags, address, vnet) for d in dests):
            continue
        verdict = f"rule {rule['name']} (priority {p['priority']}) of network security group {nsg['name']}"
        if str(p.get("access")).lower() == "deny":
            return Reach(False, f"denied by {verdict}")
        return Reach(True, f"allowed by {verdict}")
    return Reach(False, f"no outbound rule of network security group {nsg['name']} allows it")


def _route(
    st: State, subnet: dict[str, Any], host: str, address: str | None, vnet: list[str]
) -> dict[str, Any] | None:
    """The user route that carries traffic to the destination, or None (system routes)."""
    table = _get(st, _ref(subnet, "routeTable"))
    if table is None:
        return None
    tags = host_tags(host)
    best: tuple[int, dict[str, Any]] | None = None
    for r in common.children(st, table["id"] + "/routes"):
        prefix = str(r["properties"].get("addressPrefix", ""))
        if address is None:
            if prefix == "0.0.0.0/0":
                rank = 0
            elif any(prefix.lower() == t.lower() for t in tags):
                rank = 1
            else:
                continue
        else:
            try:
                net = ipaddress.ip_network(prefix, strict=False)
            except ValueError:
                continue
            inside = ipaddress.ip_address(address) in net
            # inside the VNet the system route (VnetLocal, the VNet's prefix) wins unless more specific
            longest_vnet = max((ipaddress.ip_network(v, strict=False).prefixlen for v in vnet), default=0)
            if not inside or net.prefixlen <= longest_vnet:
                continue
            rank = net.prefixlen
        if best is None or rank > best[0]:
            best = (rank, {**r, "table": table["name"]})
    return best[1] if best else None


def reach(st: State, subnet_id: str, host: str, port: int = 443, nic_nsg: str | None = None) -> Reach:
    """Can a VM in ``subnet_id`` (with ``nic_nsg`` on its NIC) open TCP ``port`` to ``host``?"""
    subnet = _get(st, subnet_id)
    if subnet is None:
        return Reach(False, f"subnet {subnet_id} does not exist")
    vnet = _vnet_prefixes(st, subnet_id)
    found = resolve(st, subnet_id.rsplit("/subnets/", 1)[0], host)
    if not found.addresses:
        where = f"private DNS zone {found.zone.rsplit('/', 1)[1]}" if found.zone else "DNS"
        return Reach(False, f"{host} does not resolve ({where} has no record for it)")
    address = found.addresses[0] if found.zone else None
    for nsg_id in (_ref(subnet, "networkSecurityGroup"), nic_nsg):
        verdict = _rule_verdict(st, nsg_id, host, address, port, vnet) if nsg_id else None
        if verdict is not None and not verdict.ok:
            return verdict
    route = _route(st, subnet, host, address, vnet)
    if address is not None:
        if route is not None and route["properties"]["nextHopType"] == "None":
            return Reach(
                False, f"route {route['name']} of route table {route['table']} drops traffic to {address}"
            )
        return Reach(True, f"{host} is {address} in the virtual network")
    if route is not None:
        hop = route["properties"]["nextHopType"]
        name = (
            f"route {route['name']} ({route['properties']['addressPrefix']}) of route table {route['table']}"
        )
        if hop == "None":
            return Reach(False, f"{name} drops it (next hop None)")
        if hop == "VirtualAppliance":
            return Reach(
                True, f"{name} sends it to the appliance {route['properties'].get('nextHopIpAddress')}"
            )
        if hop == "VirtualNetworkGateway":
            return Reach(True, f"{name} sends it to the virtual network gateway")
        if hop == "VnetLocal":
            return Reach(False, f"{name} keeps it in the virtual network (next hop VnetLocal)")
    nat = _get(st, _ref(subnet, "natGateway"))
    if nat is not None:
        return Reach(True, f"through NAT gateway {nat['name']}")
    if _props(subnet).get("defaultOutboundAccess") is False:
        return Reach(
            False,
            f"subnet {subnet['name']} is private (defaultOutboundAccess false) and has no NAT gateway "
            "or route to an appliance",
        )
    return Reach(True, "through Azure's default outbound access")


def _linked_zones(st: State, vnet_id: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(zone, link) for every private DNS zone linked to ``vnet_id``."""
    out = []
    low = vnet_id.lower()
    for r in common.resources(st).values():
        if r["type"] != "Microsoft.Network/privateDnsZones/virtualNetworkLinks":
            continue
        if str(_props(r).get("virtualNetwork", {}).get("id", "")).lower() != low:
            continue
        zone = _get(st, r["id"].rsplit("/virtualNetworkLinks/", 1)[0])
        if zone is not None:
            out.append((zone, r))
    return out


def _dns_vnet(st: State, vnet_id: str) -> str:
    """The VNet whose Azure DNS answers ``vnet_id``: itself, or where its custom DNS servers are."""
    vnet = _get(st, vnet_id)
    servers = list((_props(vnet).get("dhcpOptions") or {}).get("dnsServers") or [])
    for server in servers:
        ip = ipaddress.ip_address(server)
        for other in common.resources(st).values():
            if other["type"] != "Microsoft.Network/virtualNetworks":
                continue
            prefixes = (_props(other).get("addressSpace") or {}).get("addressPrefixes") or []
            if any(ip in ipaddress.ip_network(p, strict=False) for p in prefixes):
                return str(other["id"])
    return vnet_id


def resolve(st: State, vnet_id: str, name: str) -> Resolved:
    """What ``name`` resolves to from a VM in ``vnet_id``."""
    name = name.lower().rstrip(".")
    for suffix in PRIVATELINK_SUFFIXES:
        if name.endswith("." + suffix) and ".privatelink." not in f".{name}":
            alias = resolve(st, vnet_id, f"{name[: -len(suffix)]}privatelink.{suffix}")
            if alias.zone is not None:  # a linked private zone answers the CNAME's target
                return alias
    best: tuple[dict[str, Any], dict[str, Any]] | None = None
    for zone, link in _linked_zones(st, _dns_vnet(st, vnet_id)):
        zname = zone["name"].lower()
        if (name == zname or name.endswith("." + zname)) and (
            best is None or len(zname) > len(best[0]["name"])
        ):
            best = (zone, link)
    if best is not None:
        zone, link = best
        label = name[: -len(zone["name"]) - 1] if name != zone["name"].lower() else "@"
        record = _get(st, f"{zone['id']}/A/{label}")
        if record is not None:
            return Resolved([a["ipv4Address"] for a in _props(record).get("aRecords") or []], zone["id"])
        if _props(link).get("resolutionPolicy") != "NxDomainRedirect":
            return Resolved([], zone["id"])
    if ".privatelink." in f".{name}":
        return Resolved([], None)
    return Resolved([PUBLIC_ADDRESS], None)


def scale_set_network(vmss: dict[str, Any]) -> tuple[str | None, str | None]:
    """(subnet id, NIC-level NSG id) of a scale set's first network configuration."""
    profile = (_props(vmss).get("virtualMachineProfile") or {}).get("networkProfile") or {}
    for nic in profile.get("networkInterfaceConfigurations") or []:
        p = nic.get("properties") or {}
        nsg = (p.get("networkSecurityGroup") or {}).get("id")
        for ip in p.get("ipConfigurations") or []:
            subnet = ((ip.get("properties") or {}).get("subnet") or {}).get("id")
            if subnet:
                return str(subnet), nsg
    return None, None


def subnet_ip_configurations(st: State, subnet_id: str) -> list[dict[str, str]]:
    """The NIC IP configurations in a subnet: one per scale set instance placed in it."""
    from agentctl.sandbox.arm import compute

    low = subnet_id.lower()
    out = []
    for r in list(common.resources(st).values()):
        if r["type"] != "Microsoft.Compute/virtualMachineScaleSets":
            continue
        subnet, _ = scale_set_network(r)
        if (subnet or "").lower() != low:
            continue
        for vm in compute.instances(st, r["id"]):
            out.append({"id": f"{vm['id']}/networkInterfaces/nic/ipConfigurations/ipconfig1"})
    return out


def _subnet_view(st: State, body: dict[str, Any]) -> dict[str, Any]:
    used = subnet_ip_configurations(st, body["id"])
    props = dict(body["properties"])
    if used:
        props["ipConfigurations"] = used
    return {**body, "properties": props}


common.VIEWS[_SUBNET] = _subnet_view
