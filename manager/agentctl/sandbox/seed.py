"""Turn a world (``world.parse``) into the initial state: ARM resources as ARM returns them and the
Azure DevOps organization with its projects, identities and built-in agent pools."""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

from agentctl.sandbox.arm import (
    acr,
    aks,
    authorization,
    common,
    gallery,
    identity,
    managedpools,
    netsec,
    network,
    resources,
)
from agentctl.sandbox.http import iso_z
from agentctl.sandbox.registry import State


def _arm(st: State, world: dict[str, Any], now: float) -> None:
    sub, tenant = world["subscriptionId"], world["tenantId"]
    clusters: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for g in world["resourceGroups"]:
        rg = g["name"]
        common.put(st, resources.resource_group(sub, rg, g["location"], g["tags"]))
        _egress(st, sub, rg, g)
        for v in g["virtualNetworks"]:
            vnet = common.put(
                st, network.virtual_network(sub, rg, v["name"], v["location"], v["addressPrefixes"])
            )
            if v["dnsServers"]:
                vnet["properties"]["dhcpOptions"] = {"dnsServers": v["dnsServers"]}
            for name, spec in v["subnets"].items():
                common.put(st, _subnet(sub, rg, vnet["id"], name, spec))
        for z in g["privateDnsZones"]:
            zone = common.put(st, network.dns_zone(sub, rg, z["name"]))
            for link, target in z["links"].items():
                vnet_id = (
                    target
                    if target.startswith("/")
                    else common.provider_id(sub, rg, "Microsoft.Network/virtualNetworks", target)
                )
                common.put(st, network.dns_link(zone["id"], link, vnet_id))
            for record, addresses in z["aRecords"].items():
                common.put(st, network.a_record(zone["id"], z["name"], record, addresses))
        for gal in g["galleries"]:
            made = common.put(st, gallery.gallery(sub, rg, gal["name"], gal["location"]))
            for img in gal["images"]:
                image = common.put(st, gallery.image(made["id"], img["name"], gal["location"], img))
                for ver in img["versions"]:
                    made_version = gallery.image_version(
                        image["id"], ver["name"], gal["location"], ver["publishedDate"] or now
                    )
                    profile = made_version["properties"]["publishingProfile"]
                    if ver["regions"]:
                        profile["targetRegions"] = [
                            {**profile["targetRegions"][0], "name": gallery.region_name(r)}
                            for r in ver["regions"]
                        ]
                    profile["excludeFromLatest"] = ver["excludeFromLatest"]
                    common.put(st, made_version)
        for uai in g["userAssignedIdentities"]:
            common.put(
                st,
                identity.identity(
                    sub, rg, uai["name"], uai["location"], tenant, uai["principalId"], uai["clientId"]
                ),
            )
        for c in g["managedClusters"]:
            cluster = common.put(
                st, aks.managed_cluster(sub, rg, c["name"], c["location"], tenant, c, c["subnet"])
            )
            clusters.append((cluster, c))
        for r in g["registries"]:
            common.put(st, acr.registry(sub, rg, r["name"], r["location"], r["sku"], now))
    for cluster, spec in clusters:
        _cluster_dns(st, sub, cluster, spec)
    _role_assignments(st, world, now)


def _role_assignments(st: State, world: dict[str, Any], now: float) -> None:
    """The world's role assignments (of its users and groups), at the subscription unless a scope is given."""
    sub = world["subscriptionId"]
    people = {p["mail"]: p["objectId"] for p in world["devops"]["users"] + world["devops"]["groups"]}
    groups = {g["mail"] for g in world["devops"]["groups"]}
    for a in world["roleAssignments"]:
        guid = authorization.BUILT_IN[a["role"]][0]
        scope = a.get("scope") or f"/subscriptions/{sub}"
        name = common.stable_guid(f"{scope}/{a['principal']}/{a['role']}")
        rid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
        stamp = iso_z(now)
        authorization.assignments(st)[rid.lower()] = {
            "id": rid,
            "name": name,
            "type": authorization.ASSIGNMENT_TYPE,
            "properties": {
                "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/"
                + guid,
                "principalId": people[a["principal"]],
                "principalType": "Group" if a["principal"] in groups else "User",
                "scope": scope,
                "createdOn": stamp,
                "updatedOn": stamp,
            },
        }


def _egress(st: State, sub: str, rg: str, g: dict[str, Any]) -> None:
    """Network security groups, route tables and NAT gateways of a group (subnets refer to them)."""
    for n in g["networkSecurityGroups"]:
        made = common.put(st, netsec.nsg(sub, rg, n["name"], n["location"]))
        for name, rule in n["rules"].items():
            common.put(st, netsec.security_rule(made["id"], name, rule))
    for t in g["routeTables"]:
        made = common.put(st, netsec.route_table(sub, rg, t["name"], t["location"]))
        for name, r in t["routes"].items():
            common.put(st, netsec.route(made["id"], name, r))
    for n in g["natGateways"]:
        common.put(st, netsec.nat_gateway(sub, rg, n["name"], n["location"]))


def _subnet(sub: str, rg: str, vnet_id: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    made = network.subnet(vnet_id, name, spec["addressPrefix"])
    props = made["properties"]
    for key, kind in (
        ("networkSecurityGroup", netsec.NSG_TYPE),
        ("routeTable", netsec.RT_TYPE),
        ("natGateway", netsec.NAT_TYPE),
    ):
        if key in spec:
            props[key] = {"id": common.provider_id(sub, rg, kind, spec[key])}
    if "defaultOutboundAccess" in spec:
        props["defaultOutboundAccess"] = spec["defaultOutboundAccess"]
    if "delegation" in spec:
        network.delegate(made, [(spec["delegation"].replace("/", "."), spec["delegation"])])
    return made


def _cluster_dns(st: State, sub: str, cluster: dict[str, Any], spec: dict[str, Any]) -> None:
    """A private cluster's system DNS zone: in its node resource group, linked to the VNet of its
    nodes (and to the VNets of ``privateDnsLinks``), with the A record of its API server."""
    props = cluster["properties"]
    if not spec["privateCluster"]:
        return
    fqdn = props["privateFQDN"]
    label, zone_name = fqdn.split(".", 1)
    node_rg = props["nodeResourceGroup"]
    group = resources.resource_group(sub, node_rg, cluster["location"], {})
    group["managedBy"] = cluster["id"]  # the node resource group belongs to the cluster
    common.put(st, group)
    zone = common.put(st, network.dns_zone(sub, node_rg, zone_name))
    vnets = [spec["subnet"].rsplit("/subnets/", 1)[0]] if spec["subnet"] else []
    vnets += spec["privateDnsLinks"]
    for vnet_id in dict.fromkeys(vnets):
        common.put(st, network.dns_link(zone["id"], vnet_id.rsplit("/", 1)[1] + "-link", vnet_id))
    subnet = common.get(st, spec["subnet"]) if spec["subnet"] else None
    prefix = (subnet or {}).get("properties", {}).get("addressPrefix") or "10.0.0.0/24"
    address = str(ipaddress.ip_network(prefix)[4 + int(common.stable_guid(cluster["id"])[:2], 16) % 100])
    common.put(st, network.a_record(zone["id"], zone_name, label, [address]))


def _subject_descriptor(prefix: str, ident_id: str) -> str:
    return f"{prefix}." + base64.urlsafe_b64encode(ident_id.encode()).decode().rstrip("=")


def _identities(world: dict[str, Any]) -> dict[str, Any]:
    tenant = world["tenantId"]
    out: dict[str, Any] = {}
    groups = world["devops"]["groups"]
    for u in world["devops"]["users"]:
        out[u["id"]] = {
            "id": u["id"],
            "objectId": u["objectId"],
            "descriptor": f"Microsoft.IdentityModel.Claims.ClaimsIdentity;{tenant}\\{u['mail']}",
            "subjectDescriptor": _subject_descriptor("aad", u["id"]),
            "providerDisplayName": u["displayName"],
            "isActive": True,
            "isContainer": False,
            "members": [],
            "memberOf": [],
            "metaTypeId": 0,
            "resourceVersion": 2,
            "masterId": u["id"],
            "properties": {
                "SchemaClassName": {"$type": "System.String", "$value": "User"},
                "Account": {"$type": "System.String", "$value": u["mail"]},
                "Mail": {"$type": "System.String", "$value": u["mail"]},
                "Domain": {"$type": "System.String", "$value": tenant},
            },
        }
    for g in groups:
        descriptor = (
            f"Microsoft.TeamFoundation.Identity;S-1-9-1551374245-{int(g['id'].replace('-', '')[:8], 16)}"
        )
        out[g["id"]] = {
            "id": g["id"],
            "objectId": g["objectId"],
            "descriptor": descriptor,
            "subjectDescriptor": _subject_descriptor("aadgp", g["id"]),
            "providerDisplayName": g["displayName"],
            "isActive": True,
            "isContainer": True,
            "members": [
                out[u["id"]]["descriptor"] for u in world["devops"]["users"] if u["mail"] in g["members"]
            ],
            "memberOf": [],
            "metaTypeId": 255,
            "resourceVersion": 2,
            "masterId": g["id"],
            "properties": {
                "SchemaClassName": {"$type": "System.String", "$value": "Group"},
                "Account": {"$type": "System.String", "$value": g["mail"]},
                "Mail": {"$type": "System.String", "$value": g["mail"]},
                "Domain": {"$type": "System.String", "$value": tenant},
            },
        }
    return out


def _devops(st: State, world: dict[str, Any], now: float) -> None:
    devops = st.setdefault("devops", {})
    devops["projects"] = {
        p["id"]: {**p, "revision": 11, "lastUpdateTime": iso_z(now)} for p in world["devops"]["projects"]
    }
    devops["identities"] = _identities(world)
    caller = devops["identities"][
        next(u["id"] for u in world["devops"]["users"] if u["mail"] == world["caller"])
    ]
    owner = {"id": caller["id"], "displayName": caller["providerDisplayName"], "uniqueName": world["caller"]}
    pools, queues = {}, {}
    for pid, name, hosted in ((1, "Default", False), (9, "Azure Pipelines", True)):
        pools[str(pid)] = {
            "createdOn": iso_z(now),
            "autoProvision": True,
            "autoUpdate": True,
            "autoSize": True,
            "createdBy": owner,
            "owner": owner,
            "id": pid,
            "scope": common.stable_guid(f"pool/{pid}"),
            "name": name,
            "isHosted": hosted,
            "poolType": "automation",
            "size": 0,
            "isLegacy": False,
            "options": "none",
        }
    for i, p in enumerate(world["devops"]["projects"]):
        for pid in (1, 9):
            qid = 1 + 2 * i + (pid == 9)
            pool = pools[str(pid)]
            ref = {
                k: pool[k]
                for k in ("id", "scope", "name", "isHosted", "poolType", "size", "isLegacy", "options")
            }
            queues[str(qid)] = {"id": qid, "projectId": p["id"], "name": pool["name"], "pool": ref}
    devops["pools"], devops["queues"] = pools, queues


def seed(world: dict[str, Any], now: float) -> State:
    people = world["devops"]["users"] + world["devops"]["groups"]
    caller = next((u for u in world["devops"]["users"] if u["mail"] == world["caller"]), None)
    st: State = {
        "meta": {
            "tenantId": world["tenantId"],
            "subscriptionId": world["subscriptionId"],
            "subscriptionName": world["subscriptionName"],
            "location": world["location"],
            "organization": world["devops"]["organization"],
            "organizationId": world["devops"]["organizationId"],
            "caller": world["caller"],
            "callerId": caller["objectId"] if caller else "",
            "quota": world["quota"],
            "devopsDenied": world["devops"]["denied"],
            "unregisteredProviders": world["unregisteredProviders"],
            "principals": [
                {"id": p["objectId"], "type": "Group" if "members" in p else "User"} for p in people
            ],
        },
        "counters": {},
    }
    # Microsoft's DevOpsInfrastructure service principal, present in a tenant that uses Managed DevOps Pools
    st["meta"]["principals"].append(
        {"id": managedpools.service_principal_id(world["tenantId"]), "type": "ServicePrincipal"}
    )
    _arm(st, world, now)
    _devops(st, world, now)
    for org in world["devops"]["others"]:  # each further organization: its own Azure DevOps state
        other: State = {}
        _devops(other, {**world, "devops": org, "caller": org["users"][0]["mail"]}, now)
        st.setdefault("organizations", {})[org["organization"].lower()] = {
            "organization": org["organization"],
            "organizationId": org["organizationId"],
            "caller": org["users"][0]["mail"],
            "devops": other["devops"],
        }
    return st
