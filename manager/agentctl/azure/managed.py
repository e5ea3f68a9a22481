"""Managed DevOps Pools (``Microsoft.DevOpsInfrastructure``), Dev Center projects and subnet
delegation, through the generic ARM client the ``Arm`` factory builds (same retries, timeouts and
polling; no further SDK package). Pools are long-running: PUT and PATCH and DELETE poll to the end
with the factory's explicit timeout. "Not found" is None.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentctl.azure.errors import translated
from agentctl.errors import ApplyFailed
from agentctl.urls import resource_path

if TYPE_CHECKING:
    from agentctl.azure.arm import Arm

log = logging.getLogger(__name__)

POOLS_API = "2026-06-02"  # the newest stable Microsoft.DevOpsInfrastructure api-version
DEVCENTER_API = "2025-02-01"  # the newest stable Microsoft.DevCenter api-version
NETWORK_API = "2024-03-01"
POOL_TYPE = "Microsoft.DevOpsInfrastructure/pools"


def pool_id(subscription: str, rg: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/{POOL_TYPE}/{name}"


class ManagedPools:
    def __init__(self, arm: Arm) -> None:
        self.arm = arm

    @property
    def _generic(self) -> Any:
        return self.arm.resources.resources

    def get(self, rid: str, api_version: str) -> dict[str, Any] | None:
        return self.arm.get_by_id(resource_path(rid), api_version)

    def _lro(self, verb: str, rid: str, api_version: str, start: Callable[..., Any], **body: Any) -> Any:
        """A long-running PUT, PATCH or DELETE through the generic resources API, waited for."""
        what = f"{verb} {rid.rsplit('/', 2)[-2]} {rid.rsplit('/', 1)[-1]}"
        with translated(what):
            poller = start(resource_path(rid), api_version=api_version, **body)
        return self.arm.wait(what, poller)

    def put(self, rid: str, api_version: str, body: dict[str, Any]) -> dict[str, Any]:
        start = self._generic.begin_create_or_update_by_id
        found: dict[str, Any] = self._lro("create or update", rid, api_version, start, parameters=body)
        return found

    def patch(self, rid: str, api_version: str, body: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = self._lro(
            "update", rid, api_version, self._generic.begin_update_by_id, parameters=body
        )
        return found

    def delete(self, rid: str, api_version: str) -> None:
        self._lro("delete", rid, api_version, self._generic.begin_delete_by_id)

    def list_of(self, path: str, api_version: str) -> list[dict[str, Any]]:
        """A list operation the generic client has no method for (a pool's agents, usages, SKUs)."""
        from azure.core.rest import HttpRequest

        what = f"list {path.rsplit('/', 1)[-1]}"
        items: list[dict[str, Any]] = []
        url: str | None = f"{resource_path(path)}?api-version={api_version}"
        with translated(what):
            while url:
                response = self.arm.resources.send_request(HttpRequest("GET", url))
                response.raise_for_status()
                page = response.json()
                items += page.get("value") or []
                url = page.get("nextLink")
        return items

    def settled(self, rid: str, api_version: str) -> dict[str, Any] | None:
        """The resource once no operation runs on it (an interrupted run's), or None when gone."""
        return self.arm.settled(rid.rsplit("/", 1)[-1], lambda: self.get(rid, api_version))

    def register(self, namespace: str) -> None:
        """Register a resource provider in the subscription and wait until it is Registered."""
        what = f"register resource provider {namespace}"
        with translated(what):
            self.arm.resources.providers.register(namespace)
        deadline = time.monotonic() + self.arm.lro_timeout
        while str((self.arm.get_provider(namespace) or {}).get("registrationState")) != "Registered":
            if time.monotonic() > deadline:
                raise ApplyFailed(
                    f"{what}: still registering after {self.arm.lro_timeout:g} s",
                    hint="Azure keeps working on it; run the same command again to pick it up",
                )
            time.sleep(2)

    # --- what a managed pool needs ---

    def get_pool(self, rg: str, name: str) -> dict[str, Any] | None:
        return self.get(pool_id(self.arm.subscription, rg, name), POOLS_API)

    def agents(self, pool: str) -> list[dict[str, Any]]:
        return self.list_of(f"{pool}/resources", POOLS_API)

    def usages(self, location: str) -> list[dict[str, Any]]:
        sub = self.arm.subscription
        return self.list_of(
            f"/subscriptions/{sub}/providers/Microsoft.DevOpsInfrastructure/locations/{location}/usages",
            POOLS_API,
        )

    def skus(self, location: str) -> list[dict[str, Any]]:
        sub = self.arm.subscription
        return self.list_of(
            f"/subscriptions/{sub}/providers/Microsoft.DevOpsInfrastructure/locations/{location}/skus",
            POOLS_API,
        )
