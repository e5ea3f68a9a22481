"""Azure Compute Gallery: galleries, image definitions, image versions (read, list; versions
are deleted through an LRO)."""

from __future__ import annotations

from typing import Any

from agentctl.sandbox import lro
from agentctl.sandbox.arm import common
from agentctl.sandbox.http import Response, iso
from agentctl.sandbox.registry import ApiVersions, Ctx, State, arm

VERSIONS = ApiVersions.of(
    "galleries",
    "2021-10-01",
    "2022-01-03",
    "2022-03-03",
    "2022-08-03",
    "2023-07-03",
    "2024-03-03",
    "2025-03-03",
    "2025-12-03",
    "2026-03-03",
)
GALLERIES = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/galleries"
)
IMAGES = GALLERIES + "/{galleryName}/images"
IMAGE_VERSIONS = IMAGES + "/{galleryImageName}/versions"
REGION_NAMES = {
    "westeurope": "West Europe",
    "northeurope": "North Europe",
    "eastus": "East US",
    "eastus2": "East US 2",
    "westus2": "West US 2",
    "swedencentral": "Sweden Central",
    "germanywestcentral": "Germany West Central",
    "uksouth": "UK South",
}


def region_name(location: str) -> str:
    return REGION_NAMES.get(location, location)


def region_key(name: str) -> str:
    """A region's location key ("West Europe" -> "westeurope")."""
    return name.replace(" ", "").lower()


def gallery(sub: str, rg: str, name: str, location: str) -> common.Resource:
    rid = common.provider_id(sub, rg, "Microsoft.Compute/galleries", name)
    return {
        "id": rid,
        "name": name,
        "type": "Microsoft.Compute/galleries",
        "location": location,
        "properties": {
            "identifier": {"uniqueName": f"{sub}-{name.upper()}"},
            "provisioningState": "Succeeded",
        },
    }


def image(gallery_id: str, name: str, location: str, spec: dict[str, Any]) -> common.Resource:
    return {
        "id": f"{gallery_id}/images/{name}",
        "name": name,
        "type": "Microsoft.Compute/galleries/images",
        "location": location,
        "properties": {
            "osType": spec["osType"],
            "osState": spec["osState"],
            "hyperVGeneration": spec["hyperVGeneration"],
            "architecture": spec.get("architecture", "x64"),
            "identifier": spec["identifier"],
            "provisioningState": "Succeeded",
        },
    }


def image_version(image_id: str, name: str, location: str, published: float) -> common.Resource:
    """A version published to its gallery's region, as Packer makes them (from a build VM); each
    target region carries its own ``excludeFromLatest`` (GalleryRP 2023-07-03)."""
    rg_id = image_id.split("/providers/", 1)[0]
    return {
        "id": f"{image_id}/versions/{name}",
        "name": name,
        "type": "Microsoft.Compute/galleries/images/versions",
        "location": location,
        "properties": {
            "publishingProfile": {
                "targetRegions": [
                    {
                        "name": region_name(location),
                        "regionalReplicaCount": 1,
                        "storageAccountType": "Standard_LRS",
                        "excludeFromLatest": False,
                    }
                ],
                "replicaCount": 1,
                "excludeFromLatest": False,
                "publishedDate": iso(published),
                "storageAccountType": "Standard_LRS",
            },
            "storageProfile": {
                "source": {"id": f"{rg_id}/providers/Microsoft.Compute/virtualMachines/pkrvm-{name}"},
                "osDiskImage": {"sizeInGB": 30, "hostCaching": "ReadWrite"},
            },
            "safetyProfile": {
                "allowDeletionOfReplicatedLocations": True,
                "reportedForPolicyViolation": False,
                "policyViolations": [],
            },
            "provisioningState": "Succeeded",
        },
    }


arm("GET", GALLERIES + "/{galleryName}", "arm.galleries.get", VERSIONS)(common.show)
arm("GET", GALLERIES, "arm.galleries.list", VERSIONS)(common.listing)
arm("GET", IMAGES + "/{galleryImageName}", "arm.galleryimages.get", VERSIONS)(common.show)
arm("GET", IMAGES, "arm.galleryimages.list", VERSIONS)(common.listing)


@arm("GET", IMAGE_VERSIONS + "/{galleryImageVersionName}", "arm.galleryimageversions.get", VERSIONS)
def show_version(ctx: Ctx) -> Response:
    """With ``$expand=ReplicationStatus``, the replication of each target region (the sandbox
    replicates at once: Completed everywhere); without it, as the list shows it."""
    doc = common.view(ctx.st, common.require(ctx, common.path_id(ctx)))
    if ctx.req.arg("$expand").lower() != "replicationstatus":
        return Response(200, doc)
    regions = doc["properties"]["publishingProfile"]["targetRegions"]
    status = {
        "aggregatedState": "Completed",
        "summary": [
            {"region": r["name"], "state": "Completed", "details": "", "progress": 100} for r in regions
        ],
    }
    return Response(200, {**doc, "properties": {**doc["properties"], "replicationStatus": status}})


arm("GET", IMAGE_VERSIONS, "arm.galleryimageversions.list", VERSIONS)(common.listing)


@arm("DELETE", IMAGE_VERSIONS + "/{galleryImageVersionName}", "arm.galleryimageversions.delete", VERSIONS)
def delete_version(ctx: Ctx) -> Response:
    rid = common.path_id(ctx)
    p = ctx.req.params
    common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"])
    found = common.get(ctx.st, rid)
    if found is None:
        return Response(204)
    found["properties"]["provisioningState"] = "Deleting"
    headers = lro.start(
        ctx,
        "galleryimageversion.delete",
        found["id"],
        provider="Microsoft.Compute",
        location=found["location"],
    )
    return Response(202, None, headers)


@lro.finalizer("galleryimageversion.delete")
def _deleted(st: State, op: dict[str, Any], ok: bool, now: float) -> None:
    found = common.get(st, op["resourceId"])
    if found is None:
        return
    if ok:
        common.delete_tree(st, op["resourceId"])
    else:
        found["properties"]["provisioningState"] = "Failed"
