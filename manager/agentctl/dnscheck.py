"""Private DNS as the agents meet it: which private DNS zone answers a name from their virtual
network, and which of the A records a private endpoint needs are missing.

A zone answers a VNet when it has a virtual network link to it. Registries (``privatelink.azurecr.io``:
``<registry>`` and ``<registry>.<region>.data``) and private AKS clusters (the API server's
private FQDN) are checked the same way: ``plan`` and ``status`` warn, ``doctor`` reports errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentctl.azure import Arm


@dataclass
class Zone:
    id: str
    name: str
    vnets: set[str]  # linked virtual network ids, lower case
    records: set[str]  # A record set names, lower case


@dataclass
class Lookup:
    """Where a zone stands for one VNet: the linked zone (None when no zone of that name is linked),
    the zones of that name that are not linked, and the wanted records the linked zone lacks."""

    zone: Zone | None
    unlinked: list[Zone] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def read_zone(arm: Arm, zone: dict[str, Any]) -> Zone:
    """A zone with its links and A record names (two reads)."""
    rg = str(zone["id"]).split("/")[4]
    links = arm.list_dns_zone_links(rg, zone["name"])
    records = arm.list_a_records(rg, zone["name"])
    return Zone(
        str(zone["id"]),
        str(zone["name"]),
        {
            str(((link.get("properties") or {}).get("virtualNetwork") or {}).get("id") or "").lower()
            for link in links
        },
        {str(r.get("name", "")).lower() for r in records},
    )


def zones_named(arm: Arm, names: set[str]) -> list[Zone]:
    """Every private DNS zone of the subscription with one of ``names``, read whole."""
    wanted = {n.lower() for n in names}
    if not wanted:
        return []
    return [
        read_zone(arm, z) for z in arm.list_private_dns_zones() if str(z.get("name", "")).lower() in wanted
    ]


def lookup(zones: list[Zone], vnet_id: str, zone_name: str, records: list[str]) -> Lookup:
    """How ``zone_name`` answers ``records`` (relative names, lower case) from ``vnet_id``."""
    same = [z for z in zones if z.name.lower() == zone_name.lower()]
    linked = [z for z in same if vnet_id.lower() in z.vnets]
    if not linked:
        return Lookup(None, same, list(records))
    zone = linked[0]
    return Lookup(
        zone, [z for z in same if z is not zone], [r for r in records if r.lower() not in zone.records]
    )
