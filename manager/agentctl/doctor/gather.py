"""What doctor reads, concurrently and read-only: GETs and lists in Azure, GETs and the permission
evaluation (a POST that writes nothing) in Azure DevOps. "Not found" is an answer here: the
checks say what is missing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agentctl import dnscheck
from agentctl.azure import Arm
from agentctl.cloud import Target
from agentctl.config import PoolSpec, parse_id
from agentctl.devops import DevOps
from agentctl.doctor import access
from agentctl.errors import NotFound
from agentctl.kinds import common
from agentctl.kinds import registries as regs
from agentctl.kinds.pool import desired
from agentctl.versions import version_key

log = logging.getLogger(__name__)
WORKERS = 8


@dataclass
class Facts:
    subnet: dict[str, Any] | None = None
    vnet: dict[str, Any] | None = None
    nsgs: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # by id, lower case
    route_table: dict[str, Any] | None = None
    nat_gateway: dict[str, Any] | None = None
    scale_set: dict[str, Any] | None = None
    resource_group: dict[str, Any] | None = None
    clusters: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # by connection name
    registries: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # by registry id, lower
    zones: list[dnscheck.Zone] = field(default_factory=list)
    permissions: dict[str, list[dict[str, Any]] | None] = field(default_factory=dict)  # scope -> list
    evaluations: list[dict[str, Any]] = field(default_factory=list)  # Azure DevOps, with "value"
    usages: list[dict[str, Any]] = field(default_factory=list)
    skus: list[dict[str, Any]] = field(default_factory=list)
    image: dict[str, Any] | None = None
    versions: list[dict[str, Any]] = field(default_factory=list)  # sorted by version
    version: dict[str, Any] | None = None  # the one the pool would use, with replicationStatus
    providers: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    identity: dict[str, Any] | None = None  # the agents'
    pool_identity: dict[str, Any] | None = None  # the pool-management identity the connection uses
    federated_credentials: list[dict[str, Any]] = field(default_factory=list)  # the pool identity's
    connection: dict[str, Any] | None = None


def nic_nsg(scale_set: dict[str, Any] | None) -> str | None:
    """The NSG on the scale set's network interfaces, if any."""
    profile = ((scale_set or {}).get("properties") or {}).get("virtualMachineProfile") or {}
    for nic in (profile.get("networkProfile") or {}).get("networkInterfaceConfigurations") or []:
        ref = ((nic.get("properties") or {}).get("networkSecurityGroup") or {}).get("id")
        if ref:
            return str(ref)
    return None


def cluster_zone(cluster: dict[str, Any]) -> tuple[str, str] | None:
    """(zone name, record label) that resolve a private cluster's API server, or None (public
    cluster, or ``privateDNSZone: none``)."""
    props = cluster.get("properties") or {}
    profile = props.get("apiServerAccessProfile") or {}
    fqdn = str(props.get("privateFQDN") or "")
    if not profile.get("enablePrivateCluster") or not fqdn:
        return None
    setting = str(profile.get("privateDNSZone") or "system")
    if setting.lower() == "none":
        return None
    zone = fqdn.split(".", 1)[1] if setting.lower() == "system" else setting.rsplit("/", 1)[-1]
    label = fqdn[: -len(zone) - 1] if fqdn.lower().endswith("." + zone.lower()) else fqdn
    return zone.lower(), label.lower()


def latest(versions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The version Azure deploys for "latest": the highest one not excluded from latest."""
    eligible = [
        v
        for v in versions
        if not (((v.get("properties") or {}).get("publishingProfile") or {}).get("excludeFromLatest"))
    ]
    return eligible[-1] if eligible else None


def arm_for(arm: Arm, subscription: str | None) -> Arm:
    if not subscription or subscription.lower() == arm.subscription.lower():
        return arm
    return Arm(arm.target, subscription, arm.shared)


def gather(spec: PoolSpec, target: Target) -> Facts:
    arm = Arm(target, spec.azure.subscription)
    dev = DevOps(target, spec.devops.project)
    arm.connect()
    dev.connect()
    facts = Facts()
    image = parse_id("galleryImage", spec.image.galleryImageId) or {}
    id_rg, id_name = common.identity_parts(spec.scaleSet.identity.userAssigned)
    pool_rg, pool_name = common.identity_parts(desired.pool_identity_id(spec))
    vnet_id = spec.network.subnetId.rsplit("/subnets/", 1)[0]

    def cluster(k: Any) -> dict[str, Any] | None:
        return arm_for(arm, k.cluster.subscription).get_cluster(k.cluster.resourceGroup, k.cluster.name)

    def registry(reg: Any) -> dict[str, Any] | None:
        parts = parse_id("registry", reg.id) or {}
        return arm_for(arm, parts.get("sub")).get_registry(parts["rg"], parts["name"])

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="doctor") as pool:
        jobs: dict[str, Any] = {
            "subnet": pool.submit(arm.get_by_id, spec.network.subnetId),
            "vnet": pool.submit(arm.get_by_id, vnet_id),
            "scale_set": pool.submit(arm.get_scale_set, spec.azure.resourceGroup, spec.scaleSet.name),
            "resource_group": pool.submit(arm.get_resource_group, spec.azure.resourceGroup),
            "image": pool.submit(arm.get_gallery_image, image["rg"], image["gallery"], image["name"]),
            "versions": pool.submit(
                _listed, arm.list_image_versions, image["rg"], image["gallery"], image["name"]
            ),
            "usages": pool.submit(arm.list_usages, spec.azure.location),
            "skus": pool.submit(arm.list_skus, spec.azure.location),
            "identity": pool.submit(arm.get_identity, id_rg, id_name),
            "pool_identity": pool.submit(arm.get_identity, pool_rg, pool_name),
            "fics": pool.submit(_listed, arm.list_federated_credentials, pool_rg, pool_name),
            "connection": pool.submit(dev.endpoint_by_name, spec.devops.azureConnection.name),
            "project": pool.submit(lambda: dev.project),
        }
        providers = {ns: pool.submit(arm.get_provider, ns) for ns in access.providers(spec)}
        clusters = {k.connection: pool.submit(cluster, k) for k in spec.devops.kubernetes}
        registries = {reg.id.lower(): pool.submit(registry, reg) for reg in spec.registries}
        got = {k: f.result() for k, f in jobs.items()}
        facts.providers = {ns: f.result() for ns, f in providers.items()}
        facts.clusters = {name: f.result() for name, f in clusters.items()}
        facts.registries = {rid: f.result() for rid, f in registries.items()}

    facts.subnet, facts.vnet = got["subnet"], got["vnet"]
    facts.scale_set, facts.resource_group = got["scale_set"], got["resource_group"]
    facts.image, facts.usages, facts.skus = got["image"], got["usages"], got["skus"]
    facts.versions = sorted(got["versions"] or [], key=lambda v: version_key(str(v.get("name"))))
    facts.identity, facts.federated_credentials = got["identity"], got["fics"] or []
    facts.pool_identity = got["pool_identity"]
    facts.connection = got["connection"]
    project = got["project"]

    sprops = (facts.subnet or {}).get("properties") or {}
    nsg_ids = [
        str((sprops.get("networkSecurityGroup") or {}).get("id") or ""),
        nic_nsg(facts.scale_set) or "",
    ]
    chosen = (
        next((v for v in facts.versions if v.get("name") == spec.image.version), None)
        if spec.image.version
        else latest(facts.versions)
    )
    zone_names = (
        {z for c in facts.clusters.values() if c and (z := cluster_zone(c))} if facts.clusters else set()
    )
    names = {name for name, _ in zone_names} | {
        regs.zone_name(r) for r in facts.registries.values() if r and regs.login_server(r)
    }
    needs = access.needs(spec, facts.resource_group is not None)
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="doctor") as pool:
        nsgs = {i.lower(): pool.submit(arm.get_by_id, i) for i in nsg_ids if i}
        rt_id = (sprops.get("routeTable") or {}).get("id")
        nat_id = (sprops.get("natGateway") or {}).get("id")
        rt = pool.submit(arm.get_by_id, rt_id) if rt_id else None
        nat = pool.submit(arm.get_by_id, nat_id) if nat_id else None
        zones = pool.submit(dnscheck.zones_named, arm, names)
        perms = {scope: pool.submit(_permissions, arm, scope) for scope in {n.scope for n in needs}}
        evaluations = pool.submit(
            dev.call, "security.evaluate", None, None, access.devops_evaluations(str(project["id"]))
        )
        version = (
            pool.submit(arm.get_image_version, image["rg"], image["gallery"], image["name"], chosen["name"])
            if chosen
            else None
        )
        facts.nsgs = {k: f.result() for k, f in nsgs.items()}
        facts.route_table = rt.result() if rt else None
        facts.nat_gateway = nat.result() if nat else None
        facts.zones = zones.result()
        facts.permissions = {scope: f.result() for scope, f in perms.items()}
        facts.evaluations = list((evaluations.result() or {}).get("evaluations") or [])
        facts.version = version.result() if version else None
    return facts


def _permissions(arm: Arm, scope: str) -> list[dict[str, Any]] | None:
    """The caller's permissions at ``scope``; None when the scope does not exist."""
    try:
        return arm.list_permissions(scope)
    except NotFound:
        return None


def _listed(read: Callable[..., list[dict[str, Any]]], *args: str) -> list[dict[str, Any]]:
    """A list below a resource; empty when the resource does not exist (a check reports that)."""
    try:
        return read(*args)
    except NotFound:
        return []
