"""Azure Resource Manager through the azure-mgmt SDKs.

One factory (``Arm``) builds every client with the same retry policy, timeouts, CA bundle and
polling. Functions return wire-shaped dicts (the REST JSON), never SDK models; "not found" is
``None``. Long-running operations poll adaptively (Retry-After when the service sends it, else
1 s growing to 5 s) and give up after an explicit timeout.

The SDKs encode each name they put in a URL path, but take a scope or resource id as a path
unencoded, and let a name of ``.`` or ``..`` through: scopes and ids go through
``urls.resource_path``, and every client refuses a request whose path holds a dot segment.

What the clients share (retries, timeouts, polling, the dot-segment policy) is in ``sdk``; the
mapping of SDK exceptions to agentctl errors in ``errors``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from agentctl.azure.errors import translated
from agentctl.azure.sdk import READ_ONLY_POST, RETRY, TIMEOUTS, lro_timeout, no_dot_segments, polling, wire
from agentctl.cloud import Target
from agentctl.errors import ApplyFailed, NotFound, quoted
from agentctl.shared import SharedReads
from agentctl.urls import odata_string, resource_path, segment

if TYPE_CHECKING:
    from agentctl.azure.managed import ManagedPools

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")
NETWORK_API_VERSION = "2024-03-01"
SETTLED = (None, "Succeeded", "Failed", "Canceled")  # no operation running (None: no resource)


def _shareable(read: Callable[Concatenate[Arm, P], T]) -> Callable[Concatenate[Arm, P], T]:
    """A read whose answer the pools of a read-only command share (see agentctl.shared)."""

    def wrapper(self: Arm, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if self.shared is None:
            return read(self, *args, **kwargs)
        key = ("arm", self.subscription, read.__name__, args, tuple(sorted(kwargs.items())))
        return self.shared.get(key, lambda: read(self, *args, **kwargs))

    functools.update_wrapper(wrapper, read)
    return wrapper


class Arm:
    def __init__(self, target: Target, subscription: str, shared: SharedReads | None = None) -> None:
        self.target = target
        self.subscription = subscription
        self.shared = shared  # set for read-only commands over several pools
        self.lro_timeout = lro_timeout()  # read up front: a bad value stops the run before any write

    def _client(self, cls: Any, **extra: Any) -> Any:
        return cls(
            self.target.credential,
            self.subscription,
            base_url=self.target.cloud.arm_endpoint,
            credential_scopes=[self.target.cloud.arm_scope],
            connection_verify=self.target.verify,
            polling_interval=1,
            transport=self._transport,
            per_call_policies=[no_dot_segments()],
            **RETRY,
            **TIMEOUTS,
            **extra,
        )

    @cached_property
    def _transport(self) -> Any:
        """One connection pool for every client: requests run concurrently (observe, fleets), and
        requests' default of 10 kept connections per host would mean a TLS handshake per call."""
        import requests
        from azure.core.pipeline.transport import RequestsTransport

        session = requests.Session()
        session.mount("https://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64))
        return RequestsTransport(session=session, session_owner=False, connection_verify=self.target.verify)

    @cached_property
    def resources(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._client(ResourceManagementClient)

    @cached_property
    def compute(self) -> Any:
        from azure.mgmt.compute import ComputeManagementClient

        return self._client(ComputeManagementClient)

    @cached_property
    def msi(self) -> Any:
        from azure.mgmt.msi import ManagedServiceIdentityClient

        return self._client(ManagedServiceIdentityClient)

    @cached_property
    def authorization(self) -> Any:
        from azure.mgmt.authorization import AuthorizationManagementClient

        return self._client(AuthorizationManagementClient)

    @cached_property
    def aks(self) -> Any:
        from azure.mgmt.containerservice import ContainerServiceClient

        return self._client(ContainerServiceClient)

    @cached_property
    def managed(self) -> ManagedPools:
        """Managed DevOps Pools, Dev Center and subnet writes through the generic client."""
        from agentctl.azure.managed import ManagedPools

        return ManagedPools(self)

    def connect(self) -> None:
        """Build every client now, in one thread: the SDKs' first imports must not race
        (concurrent first imports of azure.core can end in an import deadlock)."""
        for name, value in vars(type(self)).items():
            if isinstance(value, cached_property):
                getattr(self, name)

    # --- helpers ---

    def read(self, what: str, fn: Callable[..., Any], *args: Any) -> dict[str, Any] | None:
        """A GET: the resource as a dict, or None when it does not exist."""
        from azure.core.exceptions import ResourceNotFoundError

        with translated(what):
            try:
                return wire(fn(*args))
            except ResourceNotFoundError:
                return None

    def wait(self, what: str, poller: Any) -> dict[str, Any]:
        timeout = self.lro_timeout
        with translated(what):
            result = poller.result(timeout=timeout)
            if not poller.done():
                raise ApplyFailed(
                    f"{what}: still running after {timeout:g} s",
                    hint="Azure keeps working on it; run the same command again to pick it up",
                )
        return wire(result)

    # --- resource groups ---

    @_shareable
    def get_resource_group(self, name: str) -> dict[str, Any] | None:
        return self.read(f"read resource group {name}", self.resources.resource_groups.get, name)

    def put_resource_group(self, name: str, location: str, tags: dict[str, str]) -> dict[str, Any]:
        with translated(f"create resource group {name}"):
            return wire(
                self.resources.resource_groups.create_or_update(name, {"location": location, "tags": tags})
            )

    # --- network and images (read only) ---

    @_shareable
    def get_virtual_network(self, rg: str, name: str) -> dict[str, Any] | None:
        """With its subnets. Through the generic resources API: one GET does not justify importing
        the network SDK, the largest of them (about a second of every command's start)."""
        group = f"/subscriptions/{segment(self.subscription)}/resourceGroups/{segment(rg)}"
        rid = f"{group}/providers/Microsoft.Network/virtualNetworks/{segment(name)}"
        return self.read(
            f"read virtual network {name}",
            lambda: self.resources.resources.get_by_id(rid, api_version=NETWORK_API_VERSION),
        )

    @_shareable
    def get_gallery_image(self, rg: str, gallery: str, image: str) -> dict[str, Any] | None:
        return self.read(
            f"read gallery image {gallery}/{image}", self.compute.gallery_images.get, rg, gallery, image
        )

    @_shareable
    def list_image_versions(self, rg: str, gallery: str, image: str) -> list[dict[str, Any]]:
        with translated(f"list versions of {gallery}/{image}"):
            return [
                wire(v) for v in self.compute.gallery_image_versions.list_by_gallery_image(rg, gallery, image)
            ]

    def delete_image_version(self, rg: str, gallery: str, image: str, version: str) -> None:
        what = f"delete image version {image}/{version}"
        with translated(what):
            poller = self.compute.gallery_image_versions.begin_delete(
                rg, gallery, image, version, polling=polling(2, self.target.cloud.arm_endpoint)
            )
        self.wait(what, poller)

    # --- scale sets ---

    @_shareable
    def get_scale_set(self, rg: str, name: str) -> dict[str, Any] | None:
        return self.read(f"read scale set {name}", self.compute.virtual_machine_scale_sets.get, rg, name)

    def put_scale_set(self, rg: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        what = f"create scale set {name}"
        with translated(what):
            poller = self.compute.virtual_machine_scale_sets.begin_create_or_update(
                rg, name, body, polling=polling(1, self.target.cloud.arm_endpoint)
            )
        return self.wait(what, poller)

    def patch_scale_set(self, rg: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        what = f"update scale set {name}"
        with translated(what):
            poller = self.compute.virtual_machine_scale_sets.begin_update(
                rg, name, body, polling=polling(1, self.target.cloud.arm_endpoint)
            )
        return self.wait(what, poller)

    def delete_scale_set(self, rg: str, name: str) -> None:
        what = f"delete scale set {name}"
        from azure.core.exceptions import ResourceNotFoundError

        with translated(what):
            try:
                poller = self.compute.virtual_machine_scale_sets.begin_delete(
                    rg, name, polling=polling(1, self.target.cloud.arm_endpoint)
                )
            except ResourceNotFoundError:
                return
        self.wait(what, poller)

    def settled_scale_set(self, rg: str, name: str) -> dict[str, Any] | None:
        """The scale set once no operation runs on it (one an interrupted run left behind)."""
        return self.settled(f"scale set {name}", lambda: self.get_scale_set(rg, name))

    def settled(self, what: str, read: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
        """What ``read`` returns once no operation runs on the resource (None: it does not exist)."""
        deadline = time.monotonic() + self.lro_timeout
        delay = 0.5
        while True:
            found = read()
            state = ((found or {}).get("properties") or {}).get("provisioningState")
            if state in SETTLED:
                return found
            if time.monotonic() > deadline:
                raise ApplyFailed(
                    f"{what} is still {state} after {self.lro_timeout:g} s",
                    hint="Azure keeps working on it; run the same command again to pick it up",
                )
            log.info("%s is %s; waiting for it to settle", what, state)
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)

    @_shareable
    def list_instances(self, rg: str, name: str) -> list[dict[str, Any]]:
        with translated(f"list instances of {name}"):
            return [wire(v) for v in self.compute.virtual_machine_scale_set_vms.list(rg, name)]

    def delete_instances(self, rg: str, name: str, instance_ids: list[str]) -> None:
        what = f"delete instances {', '.join(instance_ids)} of {name}"
        with translated(what):
            poller = self.compute.virtual_machine_scale_sets.begin_delete_instances(
                rg, name, {"instanceIds": instance_ids}, polling=polling(1, self.target.cloud.arm_endpoint)
            )
        self.wait(what, poller)

    def instance_view(self, rg: str, name: str, instance_id: str) -> dict[str, Any] | None:
        """One instance's instance view (provisioning, VM agent, extensions' statuses)."""
        return self.read(
            f"instance view of {name}/{instance_id}",
            self.compute.virtual_machine_scale_set_vms.get_instance_view,
            rg,
            name,
            instance_id,
        )

    def run_shell_script(
        self, rg: str, name: str, instance_id: str, script: str, timeout: float
    ) -> list[dict[str, Any]]:
        """Run ``script`` on one instance through VM Run Command (RunShellScript); the result's
        statuses, whose messages carry the output (``agentctl.runshell.output`` reads them)."""
        what = f"run command on {name}/{instance_id}"
        body = {"commandId": "RunShellScript", "script": script.splitlines()}
        with translated(what):
            poller = self.compute.virtual_machine_scale_set_vms.begin_run_command(
                rg, name, instance_id, body, polling=polling(1, self.target.cloud.arm_endpoint)
            )
            result = poller.result(timeout=timeout)
            if not poller.done():
                raise ApplyFailed(
                    f"{what}: no answer after {timeout:g} s",
                    hint="the VM agent may be busy or stopped; run the same command again later",
                )
        return list(wire(result).get("value") or [])

    # --- identities ---

    @_shareable
    def get_identity(self, rg: str, name: str) -> dict[str, Any] | None:
        return self.read(f"read identity {name}", self.msi.user_assigned_identities.get, rg, name)

    def identity_by_client_id(self, client_id: str) -> dict[str, Any] | None:
        """The subscription's user-assigned identity with this client id (None: not here)."""
        with translated("list identities"):
            for item in self.msi.user_assigned_identities.list_by_subscription():
                found = wire(item)
                if str((found.get("properties") or {}).get("clientId") or "").lower() == client_id.lower():
                    return found
        return None

    def put_identity(self, rg: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        with translated(f"create identity {name}"):
            return wire(self.msi.user_assigned_identities.create_or_update(rg, name, body))

    def delete_identity(self, rg: str, name: str) -> None:
        with translated(f"delete identity {name}"):
            self.msi.user_assigned_identities.delete(rg, name)

    @_shareable
    def list_federated_credentials(self, rg: str, identity: str) -> list[dict[str, Any]]:
        with translated(f"list federated credentials of {identity}"):
            return [wire(c) for c in self.msi.federated_identity_credentials.list(rg, identity)]

    def put_federated_credential(self, rg: str, identity: str, name: str, issuer: str, subject: str) -> None:
        body = {
            "properties": {"issuer": issuer, "subject": subject, "audiences": ["api://AzureADTokenExchange"]}
        }
        with translated(f"create federated credential {name}"):
            self.msi.federated_identity_credentials.create_or_update(rg, identity, name, body)

    def delete_federated_credential(self, rg: str, identity: str, name: str) -> None:
        with translated(f"delete federated credential {name}"):
            self.msi.federated_identity_credentials.delete(rg, identity, name)

    # --- role assignments ---

    @_shareable
    def role_definition_id(self, scope: str, role_name: str) -> str:
        """The id of the role named exactly ``role_name`` (the filter's value is an escaped OData
        string, and the answer is checked: the service matches names without case)."""
        with translated(f"look up role {quoted(role_name)}"):
            found = [
                wire(d)
                for d in self.authorization.role_definitions.list(
                    resource_path(scope), filter=f"roleName eq {odata_string(role_name)}"
                )
            ]
        exact = [d for d in found if (d.get("properties") or {}).get("roleName") == role_name]
        if len(exact) != 1:
            names = sorted({str((d.get("properties") or {}).get("roleName")) for d in found})
            close = f"; did you mean {', '.join(quoted(n) for n in names)}?" if names and not exact else ""
            many = f" ({len(exact)} roles have that name)" if exact else ""
            raise NotFound(f"role {quoted(role_name)} does not exist at {scope}{many}{close}")
        return str(exact[0]["id"])

    def role_names(self, scope: str) -> list[str]:
        """The names of the roles that can be assigned at ``scope`` (built-in and custom)."""
        with translated("list role definitions"):
            found = [wire(d) for d in self.authorization.role_definitions.list(resource_path(scope))]
        return [str((d.get("properties") or {}).get("roleName") or "") for d in found]

    @_shareable
    def get_role_definition(self, role_id: str) -> dict[str, Any] | None:
        """A role definition by its full id, with its permissions."""
        return self.read(f"read role {role_id}", self.authorization.role_definitions.get_by_id, role_id)

    @_shareable
    def list_role_assignments(self, scope: str, principal_id: str) -> list[dict[str, Any]]:
        with translated(f"list role assignments at {scope}"):
            items = self.authorization.role_assignments.list_for_scope(
                resource_path(scope), filter=f"principalId eq {odata_string(principal_id)}"
            )
            return [wire(a) for a in items]

    def put_role_assignment(
        self, scope: str, name: str, role_id: str, principal_id: str, description: str
    ) -> None:
        body = {
            "properties": {
                "roleDefinitionId": role_id,
                "principalId": principal_id,
                "principalType": "ServicePrincipal",
                "description": description,
            }
        }
        with translated(f"assign role at {scope}"):
            self.authorization.role_assignments.create(resource_path(scope), name, body)

    def delete_role_assignment(self, scope: str, name: str) -> None:
        with translated(f"delete role assignment {name}"):
            self.authorization.role_assignments.delete(resource_path(scope), name)

    # --- AKS ---

    @_shareable
    def get_cluster(self, rg: str, name: str) -> dict[str, Any] | None:
        return self.read(f"read cluster {name}", self.aks.managed_clusters.get, rg, name)

    @_shareable
    def cluster_kubeconfig(self, rg: str, name: str, admin: bool) -> bytes:
        ops = self.aks.managed_clusters
        fn = ops.list_cluster_admin_credentials if admin else ops.list_cluster_user_credentials
        with translated(f"get {'admin' if admin else 'user'} credentials of cluster {name}"):
            result = fn(rg, name, **READ_ONLY_POST)
        configs = result.kubeconfigs or []
        if not configs:
            raise NotFound(f"cluster {name} returned no kubeconfig")
        value = configs[0].value
        return value if isinstance(value, bytes) else bytes(value)

    # --- container registries and private DNS (read only; used by resources/registries.py) ---

    @cached_property
    def acr(self) -> Any:
        from azure.mgmt.containerregistry import ContainerRegistryManagementClient

        return self._client(ContainerRegistryManagementClient)

    @cached_property
    def private_dns(self) -> Any:
        from azure.mgmt.privatedns import PrivateDnsManagementClient

        return self._client(PrivateDnsManagementClient)

    @_shareable
    def get_registry(self, rg: str, name: str) -> dict[str, Any] | None:
        return self.read(f"read container registry {name}", self.acr.registries.get, rg, name)

    @_shareable
    def list_private_dns_zones(self) -> list[dict[str, Any]]:
        """Every private DNS zone of the subscription, whatever its resource group."""
        with translated("list private DNS zones"):
            return [wire(z) for z in self.private_dns.private_zones.list()]

    @_shareable
    def list_dns_zone_links(self, rg: str, zone: str) -> list[dict[str, Any]]:
        with translated(f"list virtual network links of {zone}"):
            return [wire(link) for link in self.private_dns.virtual_network_links.list(rg, zone)]

    @_shareable
    def list_a_records(self, rg: str, zone: str) -> list[dict[str, Any]]:
        with translated(f"list A records of {zone}"):
            return [wire(r) for r in self.private_dns.record_sets.list_by_type(rg, zone, "A")]

    # --- image versions with replication status (used by images.py) ---

    @_shareable
    def get_image_version(self, rg: str, gallery: str, image: str, version: str) -> dict[str, Any] | None:
        """One image version with ``replicationStatus`` (the list leaves it out)."""
        return self.read(
            f"read image version {image}/{version}",
            lambda: self.compute.gallery_image_versions.get(
                rg, gallery, image, version, expand="ReplicationStatus"
            ),
        )

    # --- preflight reads (used by doctor; GETs only) ---

    @_shareable
    def get_by_id(self, rid: str, api_version: str = NETWORK_API_VERSION) -> dict[str, Any] | None:
        """Any resource by id (network security groups, route tables, NAT gateways, subnets)
        through the generic resources API."""
        return self.read(
            f"read {rid.rsplit('/', 2)[-2]} {rid.rsplit('/', 1)[-1]}",
            lambda: self.resources.resources.get_by_id(rid, api_version=api_version),
        )

    @_shareable
    def list_permissions(self, scope: str) -> list[dict[str, Any]]:
        """The caller's effective permissions at a resource group or a resource below one."""
        parts = scope.strip("/").split("/")
        ops = self.authorization.permissions
        with translated(f"list permissions at {scope}"):
            if len(parts) == 4:
                items = ops.list_for_resource_group(parts[3])
            else:  # .../providers/{namespace}/{parent path...}/{type}/{name}
                items = ops.list_for_resource(parts[3], parts[5], "/".join(parts[6:-2]), parts[-2], parts[-1])
            return [wire(p) for p in items]

    @_shareable
    def list_usages(self, location: str) -> list[dict[str, Any]]:
        with translated(f"list compute usages in {location}"):
            return [wire(u) for u in self.compute.usage.list(location)]

    @_shareable
    def list_skus(self, location: str) -> list[dict[str, Any]]:
        with translated(f"list VM sizes in {location}"):
            return [wire(s) for s in self.compute.resource_skus.list(filter=f"location eq '{location}'")]

    @_shareable
    def get_provider(self, namespace: str) -> dict[str, Any] | None:
        return self.read(f"read resource provider {namespace}", self.resources.providers.get, namespace)
