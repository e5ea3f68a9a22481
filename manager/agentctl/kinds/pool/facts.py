"""The scale-set pool's facts: what exists of it now, read from Azure and Azure DevOps. Read-only.

``observe`` reads everything the pool's planner needs, concurrently, into plain data, and fills
the part of ``Facts`` every kind reads (the project, the agents' identity and its roles). It
checks the references the pool relies on (subnet, image, identity, project) first, so that a
missing one stops the run before anything is written.
"""

from __future__ import annotations

import difflib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from agentctl.azure import Arm
from agentctl.config import PoolSpec, parse_id
from agentctl.errors import NotFound, PreconditionFailed, Problem, ScopeNotFound
from agentctl.kinds.base import Clients, Facts
from agentctl.kinds.common import identity_parts, owned, resource_group_scope, scope_of
from agentctl.kinds.pool import desired
from agentctl.versions import version_key

log = logging.getLogger(__name__)
NAME = "pool"


@dataclass
class OldIdentity:
    federated_credentials: list[dict[str, Any]]
    role_assignments: list[dict[str, Any]]


@dataclass
class PoolFacts:
    resource_group: dict[str, Any] | None = None
    scale_set: dict[str, Any] | None = None
    # the agents' identity's federated credentials (a previous release federated the pool's here)
    agent_federated_credentials: list[dict[str, Any]] = field(default_factory=list)
    # The pool-management identity (None: not made yet, or not known with an existing connection)
    pool_identity: dict[str, Any] | None = None
    federated_credentials: list[dict[str, Any]] = field(default_factory=list)  # the pool identity's
    pool_role_assignments: list[dict[str, Any]] = field(default_factory=list)  # in the subscription
    role_definition_id: str | None = None  # of grantRole
    # role definitions (lower-case id -> definition) of grantRole and of the roles the pool
    # identity holds: what the rights check reads
    role_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    image_versions: list[str] = field(default_factory=list)
    azure_connection: dict[str, Any] | None = None
    # agentctl's Azure Resource Manager connections for this pool that the file no longer names
    stale_connections: list[dict[str, Any]] = field(default_factory=list)
    agent_pool: dict[str, Any] | None = None
    elastic_pool: dict[str, Any] | None = None
    queue: dict[str, Any] | None = None
    queue_permissions: dict[str, Any] = field(default_factory=dict)
    # identities on the scale set that the file no longer names: id -> what agentctl left on them
    old_identities: dict[str, OldIdentity] = field(default_factory=dict)

    @property
    def pool_principal_id(self) -> str:
        return str(((self.pool_identity or {}).get("properties") or {}).get("principalId") or "")


def of(facts: Facts) -> PoolFacts:
    """The pool's part of ``facts`` (empty before it is observed)."""
    found: PoolFacts | None = facts.kinds.get(NAME)
    return found if found is not None else PoolFacts()


def _region(name: str) -> str:
    return name.replace(" ", "").lower()


def _check_region(spec: PoolSpec, vnet: dict[str, Any]) -> None:
    """A scale set lives in its subnet's region: stop before writing anything when it is not the pool's."""
    where = str(vnet.get("location") or "")
    if where and _region(where) != _region(spec.azure.location):
        line = spec.line("azure.location")
        raise PreconditionFailed(
            f"azure.location is {spec.azure.location}, but the virtual network of network.subnetId "
            f"is in {where}: a scale set must be in its subnet's region",
            hint=f"set azure.location to {where}, or use a subnet in {spec.azure.location}",
            problems=[
                Problem(
                    f"{spec.azure.location}, but the subnet's virtual network is in {where}",
                    "azure.location",
                    line,
                    spec.source,
                )
            ],
        )


def _other_identities(spec: PoolSpec, facts: PoolFacts) -> dict[str, str]:
    """User-assigned identities on the scale set other than the file's: id -> principal id."""
    attached = ((facts.scale_set or {}).get("identity") or {}).get("userAssignedIdentities") or {}
    keep = {spec.scaleSet.identity.userAssigned.lower(), desired.pool_identity_id(spec).lower()}
    return {i: str((v or {}).get("principalId") or "") for i, v in attached.items() if i.lower() not in keep}


def _pool_identity(arm: Arm, spec: PoolSpec, facts: PoolFacts) -> None:
    """The pool-management identity, its federated credentials, its roles in the subscription and
    the definitions of those roles and of grantRole."""
    conn = spec.devops.azureConnection
    if conn.existing and not conn.identity:
        return
    rg, name = identity_parts(desired.pool_identity_id(spec))
    facts.pool_identity = arm.get_identity(rg, name)
    if facts.pool_identity is None:
        if conn.identity:
            raise NotFound(
                f"the pool relies on resources that do not exist: identity {conn.identity} "
                "(devops.azureConnection.identity)",
                hint="create it first, or omit devops.azureConnection.identity to let agentctl make one",
            )
        return
    facts.federated_credentials = arm.list_federated_credentials(rg, name)
    scope = f"/subscriptions/{spec.azure.subscription}"
    facts.pool_role_assignments = arm.list_role_assignments(scope, facts.pool_principal_id)


def _role_definitions(arm: Arm, spec: PoolSpec, facts: PoolFacts) -> None:
    """Definitions of grantRole and of the roles the pool identity holds on the scale set."""
    wanted = {facts.role_definition_id or ""}
    target = desired.scale_set_id(spec).lower()
    for a in facts.pool_role_assignments:
        held = scope_of(a)
        if target == held or target.startswith(held + "/"):
            wanted.add(str((a.get("properties") or {}).get("roleDefinitionId") or ""))
    for role_id in sorted(w for w in wanted if w):
        found = arm.get_role_definition(role_id)
        if found is not None:
            facts.role_definitions[role_id.lower()] = found


def _old_identity(arm: Arm, spec: PoolSpec, identity_id: str, principal_id: str) -> OldIdentity:
    parts = parse_id("identity", identity_id) or {}
    fics = arm.list_federated_credentials(parts["rg"], parts["name"]) if parts else []
    scope = f"/subscriptions/{spec.azure.subscription}"
    roles = arm.list_role_assignments(scope, principal_id) if principal_id else []
    return OldIdentity(fics, roles)


def _results(spec: PoolSpec, jobs: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The jobs' answers; a reference that does not exist is an answer (None; the checks after
    name it), and a missing subscription or organization a problem at the field that names it."""
    got: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, job in jobs.items():
        try:
            got[key] = job.result() if job is not None else None
        except ScopeNotFound as e:
            got[key] = None
            if not any(p.field == e.field for p in problems):
                problems.append(Problem(e.message, e.field, spec.line(e.field), spec.source))
        except NotFound:  # a list under a missing identity or image, an unknown role or project
            got[key] = None
    return got, problems


def _unknown_role(arm: Arm, scope: str, role: str) -> str:
    near = difflib.get_close_matches(role, arm.role_names(scope), n=1, cutoff=0.6)
    return f"role '{role}' does not exist" + (f": did you mean '{near[0]}'?" if near else "")


def _first_reads(spec: PoolSpec, clients: Clients) -> dict[str, Any]:
    """The references and the resources that need nothing read before them, concurrently."""
    arm, dev = clients.arm, clients.devops
    id_rg, id_name = identity_parts(spec.scaleSet.identity.userAssigned)
    subnet = parse_id("subnet", spec.network.subnetId) or {}
    image = parse_id("galleryImage", spec.image.galleryImageId) or {}
    grant = spec.devops.azureConnection.grantRole
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="observe") as pool:
        jobs: dict[str, Any] = {
            "resource_group": pool.submit(arm.get_resource_group, spec.azure.resourceGroup),
            "scale_set": pool.submit(arm.get_scale_set, spec.azure.resourceGroup, spec.scaleSet.name),
            "identity": pool.submit(arm.get_identity, id_rg, id_name),
            "vnet": pool.submit(arm.get_virtual_network, subnet["rg"], subnet["vnet"]),
            "image": pool.submit(arm.get_gallery_image, image["rg"], image["gallery"], image["name"]),
            "versions": pool.submit(arm.list_image_versions, image["rg"], image["gallery"], image["name"]),
            "fics": pool.submit(arm.list_federated_credentials, id_rg, id_name),
            "project": pool.submit(lambda: dev.project),
            "role": pool.submit(arm.role_definition_id, resource_group_scope(spec), grant) if grant else None,
        }
        got, missing = _results(spec, jobs)
    if missing:  # a missing subscription or organization: it explains the rest
        raise NotFound(
            f"{spec.source or 'the pool file'} names what does not exist", hint=HINT, problems=missing
        )
    return got


HINT = "fix the ids in the pool file, or create what they name first (it is not agentctl's to make)"


def _check_references(spec: PoolSpec, arm: Arm, got: dict[str, Any]) -> None:
    """Stop, naming every field at once, when what the pool relies on does not exist."""
    missing: list[Problem] = []

    def lacks(field: str, message: str) -> None:
        missing.append(Problem(message, field, spec.line(field), spec.source))

    subnet = parse_id("subnet", spec.network.subnetId) or {}
    image = parse_id("galleryImage", spec.image.galleryImageId) or {}
    id_rg, id_name = identity_parts(spec.scaleSet.identity.userAssigned)
    subnets = ((got["vnet"] or {}).get("properties") or {}).get("subnets") or []
    if not any(str(s.get("name", "")).lower() == subnet["name"].lower() for s in subnets):
        names = ", ".join(str(s.get("name")) for s in subnets) or "none"
        where = (
            f"virtual network {subnet['vnet']} (its subnets: {names})"
            if got["vnet"]
            else "its virtual network"
        )
        lacks("network.subnetId", f"subnet {subnet['name']} does not exist in {where}")
    if got["image"] is None:
        lacks(
            "image.galleryImageId",
            f"gallery image {image['name']} does not exist in gallery {image['gallery']}",
        )
    if got["identity"] is None:
        lacks(
            "scaleSet.identity.userAssigned", f"identity {id_name} does not exist in resource group {id_rg}"
        )
    versions = _versions(got)
    if spec.image.version and got["image"] is not None and spec.image.version not in versions:
        lacks(
            "image.version",
            f"version {spec.image.version} does not exist (the gallery has {', '.join(versions)})",
        )
    grant = spec.devops.azureConnection.grantRole
    if grant and got["role"] is None:
        lacks("devops.azureConnection.grantRole", _unknown_role(arm, resource_group_scope(spec), grant))
    if got["project"] is None:
        lacks("devops.project", f"project {spec.devops.project} does not exist in {spec.devops.organization}")
    if missing:
        raise NotFound(
            f"{spec.source or 'the pool file'} names what does not exist", hint=HINT, problems=missing
        )


def _versions(got: dict[str, Any]) -> list[str]:
    return sorted((v["name"] for v in got["versions"] or []), key=version_key)


def _second_reads(spec: PoolSpec, clients: Clients, facts: Facts, mine: PoolFacts) -> None:
    """What needs the project or the identities read first, concurrently."""
    arm, dev = clients.arm, clients.devops
    with ThreadPoolExecutor(max_workers=5, thread_name_prefix="observe") as pool:
        conn = pool.submit(dev.endpoint_by_name, spec.devops.azureConnection.name)
        arm_conns = pool.submit(
            dev.call, "endpoint.list", {"project": facts.project["id"]}, {"type": "azurerm"}
        )
        agent_pool = pool.submit(dev.pool_by_name, spec.devops.pool.name)
        queue = pool.submit(dev.queue_by_name, spec.devops.pool.name)
        # All of the identity's in the subscription (ARM lists those below the scope too), also
        # without grantRole: a grant the file no longer asks for is taken back.
        scope = f"/subscriptions/{spec.azure.subscription}"
        roles = (
            pool.submit(arm.list_role_assignments, scope, facts.principal_id) if facts.principal_id else None
        )
        mine.azure_connection = conn.result()
        wanted = spec.devops.azureConnection.name.lower()
        mine.stale_connections = [
            c
            for c in dev.values(arm_conns.result())
            if str(c.get("name", "")).lower() != wanted and owned(c.get("description"), spec)
        ]
        mine.agent_pool = agent_pool.result()
        mine.queue = queue.result()
        facts.role_assignments = roles.result() if roles is not None else []
        olds = {
            i: pool.submit(_old_identity, arm, spec, i, p) for i, p in _other_identities(spec, mine).items()
        }
        manager = pool.submit(_pool_identity, arm, spec, mine)
        mine.old_identities = {i: f.result() for i, f in olds.items()}
        manager.result()


def _leftovers(spec: PoolSpec, clients: Clients, facts: Facts) -> PoolFacts:
    """Another backend is selected: what the scale-set pool the file still names left (a backend
    switch removes it). Without the scaleSet section there is nothing to look for."""
    if not spec.has("scaleSet"):
        return PoolFacts()
    arm, dev = clients.arm, clients.devops
    mine = PoolFacts(scale_set=arm.get_scale_set(spec.azure.resourceGroup, spec.scaleSet.name))
    mine.agent_pool = dev.pool_by_name(spec.devops.pool.name)
    if mine.agent_pool is not None:
        mine.elastic_pool = dev.read("elastic.get", {"poolId": mine.agent_pool["id"]})
    if spec.has("devops.azureConnection"):
        mine.azure_connection = dev.endpoint_by_name(spec.devops.azureConnection.name)
        try:
            _pool_identity(arm, spec, mine)
        except NotFound:  # an identity the file names that is gone: nothing of it to remove
            mine.pool_identity = None
    return mine


def _managed_left(facts: Facts) -> bool:
    """A managed pool of this file is being removed: the Azure DevOps pool of the name is its own."""
    from agentctl.kinds import managed_pool

    return managed_pool.of(facts).pool is not None


def observe(spec: PoolSpec, clients: Clients, facts: Facts) -> PoolFacts:
    if spec.backend != "scaleSet":
        return _leftovers(spec, clients, facts)
    arm, dev = clients.arm, clients.devops
    got = _first_reads(spec, clients)
    _check_references(spec, arm, got)
    _check_region(spec, got["vnet"] or {})
    facts.identity, facts.project = got["identity"], got["project"] or {}
    mine = PoolFacts(
        resource_group=got["resource_group"],
        scale_set=got["scale_set"],
        agent_federated_credentials=got["fics"] or [],
        role_definition_id=got["role"],
        image_versions=_versions(got),
    )
    _second_reads(spec, clients, facts, mine)
    _role_definitions(arm, spec, mine)
    if _managed_left(facts):  # its pool and queue go with it; the elastic pool is made anew
        mine.agent_pool = mine.queue = None
        return mine
    if mine.agent_pool is not None:
        mine.elastic_pool = dev.read("elastic.get", {"poolId": mine.agent_pool["id"]})
    if mine.queue is not None:
        mine.queue_permissions = dev.permissions("queue", mine.queue["id"])
    return mine


def settle(spec: PoolSpec, clients: Clients, facts: Facts) -> None:
    """Before a write: wait until an operation an interrupted run left on the scale set has ended."""
    mine = of(facts)
    if mine.scale_set is not None:
        mine.scale_set = clients.arm.settled_scale_set(spec.azure.resourceGroup, spec.scaleSet.name)
