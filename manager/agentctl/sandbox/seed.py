"""Turn a world (``world.parse``) into the initial state: ARM resources as ARM returns them and the
Azure DevOps organization with its projects, identities and built-in agent pools."""

from __future__ import annotations

import base64
from typing import Any

from agentctl.sandbox.arm import acr, aks, common, gallery, identity, managedpools, network, resources
from agentctl.sandbox.http import iso_z
from agentctl.sandbox.registry import State


def _arm(st: State, world: dict[str, Any], now: float) -> None:
    sub, tenant = world["subscriptionId"], world["tenantId"]
    for g in world["resourceGroups"]:
        rg = g["name"]
        common.put(st, resources.resource_group(sub, rg, g["location"], g["tags"]))
        for v in g["virtualNetworks"]:
            vnet = common.put(
                st, network.virtual_network(sub, rg, v["name"], v["location"], v["addressPrefixes"])
            )
            for name, prefix in v["subnets"].items():
                common.put(st, network.subnet(vnet["id"], name, prefix))
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
                    common.put(
                        st,
                        gallery.image_version(
                            image["id"], ver["name"], gal["location"], ver["publishedDate"] or now
                        ),
                    )
        for uai in g["userAssignedIdentities"]:
            common.put(
                st,
                identity.identity(
                    sub, rg, uai["name"], uai["location"], tenant, uai["principalId"], uai["clientId"]
                ),
            )
        for c in g["managedClusters"]:
            common.put(st, aks.managed_cluster(sub, rg, c["name"], c["location"], tenant, c, c["subnet"]))
        for r in g["registries"]:
            common.put(st, acr.registry(sub, rg, r["name"], r["location"], r["sku"], now))


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
    return st
