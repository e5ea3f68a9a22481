"""Microsoft.Compute virtual machine scale sets: PUT / PATCH / DELETE as LROs, GET, list, the
instance list and instance deletion.

Bodies are checked like Compute checks them: members it does not know (``vmss_model``, from the
official schema) and wrong JSON types fail deserialisation (400 ``InvalidRequestFormat``
naming the path), bad enum values fail with ``InvalidParameter``; then the references are
resolved: the subnet (``InvalidResourceReference``), the gallery image (``GalleryImageNotFound``)
and the user-assigned identities (``FailedIdentityOperation``). Secrets (admin password,
custom data, protected settings) are never stored or returned.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from agentctl.sandbox import lro
from agentctl.sandbox.arm import common, gallery, vmss_model
from agentctl.sandbox.arm.validate import check
from agentctl.sandbox.http import Response, ServiceError, arm_error, iso
from agentctl.sandbox.registry import ApiVersions, Ctx, State, arm

VERSIONS = ApiVersions.of(
    "virtualMachineScaleSets",
    "2023-03-01",
    "2023-07-01",
    "2023-09-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-04-01",
    "2025-11-01",
    "2026-03-01",
    "2026-04-01",
)
SCALE_SETS = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers"
    "/Microsoft.Compute/virtualMachineScaleSets"
)
ITEM = SCALE_SETS + "/{vmScaleSetName}"
TYPE = "Microsoft.Compute/virtualMachineScaleSets"
VM_TYPE = "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"

# Read-only members a client may echo from a GET; Compute ignores them.
READ_ONLY = {
    "VirtualMachineScaleSet": {"id": "any", "name": "any", "type": "any", "etag": "any", "systemData": "any"},
    "VirtualMachineScaleSetProperties": {"provisioningState": "any", "uniqueId": "any", "timeCreated": "any"},
    "VirtualMachineScaleSetIdentity": {"principalId": "any", "tenantId": "any"},
    "CommonUserAssignedIdentitiesValue": {"principalId": "any", "clientId": "any"},
}
TYPES = {name: {**members, **READ_ONLY.get(name, {})} for name, members in vmss_model.TYPES.items()}
SECRET_PATHS = (("osProfile", "adminPassword"), ("osProfile", "customData"))
ALLOCATION_FAILED = {
    "code": "AllocationFailed",
    "message": (
        "Allocation failed. We do not have sufficient capacity for the requested VM size in this region."
    ),
}


def _cannot_parse(code: str, message: str) -> ServiceError:
    return arm_error(
        400, "InvalidRequestFormat", "Cannot parse the request.", details=[{"code": code, "message": message}]
    )


def _missing(path: str) -> ServiceError:
    return arm_error(400, "InvalidParameter", f"Required parameter '{path}' is missing (null).", target=path)


def _validate_shape(body: Any) -> None:
    problem = check(body, "#VirtualMachineScaleSet", TYPES, vmss_model.ENUMS)
    if problem is None:
        return
    if problem.kind == "enum":
        raise arm_error(400, "InvalidParameter", problem.message, target=problem.path)
    raise _cannot_parse("InvalidJson", problem.message)


def _dig(doc: Any, *keys: str | int) -> Any:
    for k in keys:
        if isinstance(doc, dict) and isinstance(k, str):
            doc = doc.get(k)
        elif isinstance(doc, list) and isinstance(k, int) and k < len(doc):
            doc = doc[k]
        else:
            return None
    return doc


def _validate_create(body: dict[str, Any]) -> None:
    """What Compute requires of a new scale set."""
    if not _dig(body, "sku", "name"):
        raise _missing("sku")
    profile = _dig(body, "properties", "virtualMachineProfile")
    if not profile:
        raise _missing("virtualMachineProfile")
    if not _dig(profile, "storageProfile", "imageReference"):
        raise _missing("imageReference")
    os_profile = profile.get("osProfile") or {}
    for member in ("computerNamePrefix", "adminUsername"):
        if not os_profile.get(member):
            raise _missing(f"osProfile.{member}")
    linux = os_profile.get("linuxConfiguration") or {}
    if not os_profile.get("adminPassword"):
        if not linux.get("disablePasswordAuthentication"):
            raise _missing("adminPassword")
        if not _dig(linux, "ssh", "publicKeys"):
            raise arm_error(
                400,
                "InvalidParameter",
                "Authentication using either SSH or by user name and password must be enabled in Linux "
                "profile.",
                target="linuxConfiguration",
            )
    if not _dig(profile, "networkProfile", "networkInterfaceConfigurations"):
        raise _missing("networkProfile.networkInterfaceConfigurations")


IMMUTABLE = (
    ("orchestrationMode",),
    ("virtualMachineProfile", "osProfile", "computerNamePrefix"),
    ("virtualMachineProfile", "osProfile", "adminUsername"),
)


def _check_immutable(existing: common.Resource, body: dict[str, Any]) -> None:
    for path in IMMUTABLE:
        old, new = _dig(existing["properties"], *path), _dig(body, "properties", *path)
        if new is not None and old is not None and new != old:
            raise arm_error(
                409,
                "PropertyChangeNotAllowed",
                f"Changing property '{path[-1]}' is not allowed.",
                target=path[-1],
            )


def _check_subnets(ctx: Ctx, rid: str, location: str, body: dict[str, Any]) -> None:
    nics = (
        _dig(body, "properties", "virtualMachineProfile", "networkProfile", "networkInterfaceConfigurations")
        or []
    )
    for i, nic in enumerate(nics):
        for j, ip in enumerate(_dig(nic, "properties", "ipConfigurations") or []):
            subnet_id = _dig(ip, "properties", "subnet", "id")
            if subnet_id is None:
                continue
            parts = common.parse_id(subnet_id)
            if (
                parts.get("type", "").lower() != "virtualnetworks/subnets"
                or parts.get("namespace", "").lower() != "microsoft.network"
            ):
                path = (
                    "properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations"
                    f"[{i}].properties.ipConfigurations[{j}].properties.subnet"
                )
                raise _cannot_parse(
                    "InvalidJsonReferenceFormat",
                    f"Reference Id {subnet_id} is not formatted correctly. The Id is expected to reference "
                    f"resources of type virtualNetworks/subnets. Path {path}.",
                )
            found = common.get(ctx.st, subnet_id)
            vnet = common.get(ctx.st, subnet_id.rsplit("/", 2)[0])
            if found is None or vnet is None or vnet["location"] != location:
                raise arm_error(
                    400,
                    "InvalidResourceReference",
                    f"Resource {subnet_id} referenced by resource {rid} was not found. Please make sure "
                    "that the "
                    "referenced resource exists, and that both resources are in the same region.",
                    details=[{"code": "NotFound", "message": f"Resource {subnet_id} not found."}],
                )


def excluded_from_latest(version: common.Resource, location: str) -> bool:
    """Whether ``latest`` in ``location`` skips the version: excluded at publishing-profile level,
    or in that target region (GalleryRP 2023-07-03)."""
    profile = version["properties"]["publishingProfile"]
    regions = [r for r in profile.get("targetRegions") or [] if gallery.region_key(r["name"]) == location]
    return bool(profile.get("excludeFromLatest")) or any(r.get("excludeFromLatest") for r in regions)


def resolve_image(st: State, image_id: str, location: str = "") -> common.Resource | None:
    """The image version an image reference names (for an image definition, the newest that
    ``latest`` gives in ``location``)."""
    segments = image_id.rstrip("/").split("/")
    if len(segments) >= 2 and segments[-2].lower() == "versions" and segments[-1].lower() != "latest":
        return common.get(st, image_id)
    definition = "/".join(segments[:-2]) if segments[-2].lower() == "versions" else image_id.rstrip("/")
    versions = [
        v
        for v in common.children(st, definition + "/versions")
        if not excluded_from_latest(v, location or v["location"])
        and v["properties"]["provisioningState"] == "Succeeded"
    ]
    return max(versions, key=lambda v: tuple(int(x) for x in v["name"].split(".")), default=None)


def _check_image(ctx: Ctx, location: str, body: dict[str, Any]) -> str:
    """The OS type of the gallery image the body names ("Linux" when it names none)."""
    image_id = _dig(body, "properties", "virtualMachineProfile", "storageProfile", "imageReference", "id")
    if image_id is None:
        return "Linux"
    version = resolve_image(ctx.st, image_id, location)
    if version is None or version["location"] != location:
        raise arm_error(
            404,
            "GalleryImageNotFound",
            f"The gallery image {image_id} is not available in {location} region. Please contact image owner "
            "to replicate to this region, or change your requested region.",
        )
    definition = common.get(ctx.st, version["id"].rsplit("/", 2)[0]) or {}
    return str(_dig(definition, "properties", "osType") or "Linux")


def _check_identities(ctx: Ctx, rid: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The identity block as stored: user-assigned identities resolved to their ids."""
    identity = body.get("identity")
    if not identity:
        return None
    kind = identity.get("type") or "None"
    users = identity.get("userAssignedIdentities") or {}
    if users and "userassigned" not in kind.replace(" ", "").lower():
        raise arm_error(
            400,
            "InvalidParameter",
            f"The identity type '{kind}' does not allow user assigned identities; use 'UserAssigned'.",
            target="identity.type",
        )
    resolved = {}
    for uai in users:
        found = common.get(ctx.st, uai)
        if found is None or found["type"] != "Microsoft.ManagedIdentity/userAssignedIdentities":
            inner = json.dumps(
                {"error": {"code": "BadRequest", "message": f"Resource '{uai}' was not found."}}
            )
            raise arm_error(
                400,
                "FailedIdentityOperation",
                f"Identity operation for resource '{rid}' failed with error 'Failed to perform resource "
                "identity "
                f"operation. Status: 'BadRequest'. Response: '{inner}'.'.",
            )
        props = found["properties"]
        resolved[found["id"]] = {"principalId": props["principalId"], "clientId": props["clientId"]}
    out: dict[str, Any] = {"type": kind}
    if "systemassigned" in kind.replace(" ", "").lower():
        out["principalId"] = common.stable_guid(rid + "/identity")
        out["tenantId"] = ctx.meta["tenantId"]
    if resolved:
        out["userAssignedIdentities"] = resolved
    return out


def _model(body: dict[str, Any], os_type: str) -> dict[str, Any]:
    """The scale set model as Compute keeps it: defaults filled, read-only members and secrets dropped."""
    props = copy.deepcopy(body.get("properties") or {})
    for member in READ_ONLY["VirtualMachineScaleSetProperties"]:
        props.pop(member, None)
    os_profile = _dig(props, "virtualMachineProfile", "osProfile")
    for _, secret in SECRET_PATHS:
        if isinstance(os_profile, dict):
            os_profile.pop(secret, None)
    for ext in _dig(props, "virtualMachineProfile", "extensionProfile", "extensions") or []:
        if isinstance(ext.get("properties"), dict):
            ext["properties"].pop("protectedSettings", None)
    props.setdefault("orchestrationMode", "Uniform")
    props.setdefault("upgradePolicy", {"mode": "Manual"})
    props.setdefault("overprovision", True)
    props.setdefault("singlePlacementGroup", True)
    props.setdefault("doNotRunExtensionsOnOverprovisionedVMs", False)
    profile = props.get("virtualMachineProfile")
    if isinstance(profile, dict):
        _profile_defaults(profile, os_type)
    return props


def _profile_defaults(profile: dict[str, Any], os_type: str) -> None:
    """What Compute fills in a VM profile (the create examples of the ComputeRP specs show them)."""
    os_profile = profile.setdefault("osProfile", {})
    os_profile.setdefault("secrets", [])
    os_profile.setdefault("allowExtensionOperations", True)
    os_profile.setdefault("requireGuestProvisionSignal", True)
    if "windowsConfiguration" in os_profile or os_type == "Windows":
        windows = os_profile.setdefault("windowsConfiguration", {})
        windows.setdefault("provisionVMAgent", True)
        windows.setdefault("enableAutomaticUpdates", True)
    else:
        linux = os_profile.setdefault("linuxConfiguration", {})
        linux.setdefault("disablePasswordAuthentication", False)
        linux.setdefault("provisionVMAgent", True)
        linux.setdefault("enableVMAgentPlatformUpdates", False)
    os_disk = _dig(profile, "storageProfile", "osDisk")
    if isinstance(os_disk, dict):
        os_disk.setdefault("osType", os_type)
    for nic in _dig(profile, "networkProfile", "networkInterfaceConfigurations") or []:
        nic_props = nic.setdefault("properties", {})
        nic_props.setdefault("dnsSettings", {"dnsServers": []})
        nic_props.setdefault("enableAcceleratedNetworking", False)
        nic_props.setdefault("enableIPForwarding", False)
        for ip in nic_props.get("ipConfigurations") or []:
            ip.setdefault("properties", {}).setdefault("privateIPAddressVersion", "IPv4")


def _merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = _merge(base.get(k), v) if v is not None else None
        return {k: v for k, v in out.items() if v is not None}
    return copy.deepcopy(patch)


def _write(ctx: Ctx, body: dict[str, Any], existing: common.Resource | None) -> Response:
    p = ctx.req.params
    sub, rg, name = p["subscriptionId"], p["resourceGroupName"], p["vmScaleSetName"]
    rid = existing["id"] if existing else common.provider_id(sub, rg, TYPE, name)
    if not body.get("location"):
        raise arm_error(400, "LocationRequired", "The location property is required for this definition.")
    location = body["location"].replace(" ", "").lower()
    if existing and existing["location"] != location:
        raise arm_error(
            409,
            "InvalidResourceLocation",
            f"The resource '{name}' already exists in location '{existing['location']}' in resource "
            f"group '{rg}'. "
            f"A resource with the same name cannot be created in location '{location}'. Please select a new "
            "resource name.",
        )
    if existing is None:
        _validate_create(body)
    else:
        _check_immutable(existing, body)
    _check_subnets(ctx, rid, location, body)
    os_type = _check_image(ctx, location, body)
    identity = _check_identities(ctx, rid, body)
    sku = dict(body.get("sku") or {})
    sku.setdefault("tier", "Standard")
    sku.setdefault("capacity", existing["sku"]["capacity"] if existing else 0)
    resource: common.Resource = {
        "id": rid,
        "name": existing["name"] if existing else name,
        "type": TYPE,
        "location": location,
        "sku": sku,
        "properties": _model(body, os_type),
    }
    for member in ("tags", "zones", "plan", "extendedLocation"):
        if body.get(member):
            resource[member] = body[member]
    if identity:
        resource["identity"] = identity
    changed = existing is None or _comparable(existing) != _comparable(resource)
    generation = (existing or {}).get("etag", '"0"').strip('"')
    resource["etag"] = f'"{int(generation) + 1}"' if changed else existing["etag"]  # type: ignore[index]
    resource["properties"]["uniqueId"] = (
        existing["properties"]["uniqueId"] if existing else common.stable_guid(f"{rid}@{ctx.now}")
    )
    resource["properties"]["timeCreated"] = (
        existing["properties"]["timeCreated"] if existing else iso(ctx.now)
    )
    resource["properties"]["provisioningState"] = "Updating" if existing else "Creating"
    if existing and _comparable(existing)["properties"] != _comparable(resource)["properties"]:
        for vm in instances(ctx.st, rid):
            vm["properties"]["latestModelApplied"] = False
    common.put(ctx.st, resource)
    headers = lro.start(
        ctx, "vmss.put", rid, provider="Microsoft.Compute", location=location, error=ALLOCATION_FAILED
    )
    return Response(200 if existing else 201, resource, headers)


def _comparable(resource: common.Resource) -> dict[str, Any]:
    out = {k: v for k, v in resource.items() if k != "etag"}
    props = {
        k: v
        for k, v in resource["properties"].items()
        if k not in READ_ONLY["VirtualMachineScaleSetProperties"]
    }
    return {**out, "properties": props}


def _existing(ctx: Ctx) -> common.Resource | None:
    p = ctx.req.params
    common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"])
    found = common.get(
        ctx.st, common.provider_id(p["subscriptionId"], p["resourceGroupName"], TYPE, p["vmScaleSetName"])
    )
    if found and found["properties"]["provisioningState"] == "Deleting":
        raise arm_error(
            409,
            "OperationNotAllowed",
            f"Operation on VM scale set '{found['name']}' is not allowed since the VM scale set is "
            "marked for deletion.",
        )
    return found


@arm("PUT", ITEM, "arm.vmss.put", VERSIONS)
def put_scale_set(ctx: Ctx) -> Response:
    existing = _existing(ctx)
    _validate_shape(ctx.req.body)
    return _write(ctx, ctx.req.body, existing)


@arm("PATCH", ITEM, "arm.vmss.patch", VERSIONS)
def patch_scale_set(ctx: Ctx) -> Response:
    existing = _existing(ctx) or common.require(ctx, common.path_id(ctx))
    _validate_shape(ctx.req.body)
    current = {k: v for k, v in existing.items() if k not in ("id", "name", "type", "etag")}
    return _write(ctx, _merge(current, ctx.req.body), existing)


@arm("DELETE", ITEM, "arm.vmss.delete", VERSIONS)
def delete_scale_set(ctx: Ctx) -> Response:
    p = ctx.req.params
    common.require_rg(ctx, p["subscriptionId"], p["resourceGroupName"])
    found = common.get(ctx.st, common.path_id(ctx))
    if found is None:
        return Response(204)
    found["properties"]["provisioningState"] = "Deleting"
    for vm in instances(ctx.st, found["id"]):
        vm["properties"]["provisioningState"] = "Deleting"
    headers = lro.start(
        ctx, "vmss.delete", found["id"], provider="Microsoft.Compute", location=found["location"]
    )
    return Response(202, None, headers)


arm("GET", ITEM, "arm.vmss.get", VERSIONS)(common.show)
arm("GET", SCALE_SETS, "arm.vmss.list", VERSIONS)(common.listing)
arm(
    "GET",
    "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/virtualMachineScaleSets",
    "arm.vmss.listall",
    VERSIONS,
)(common.subscription_listing)


@arm("GET", ITEM + "/virtualMachines", "arm.vmss.vms.list", VERSIONS)
def list_instances(ctx: Ctx) -> Response:
    """The instances (``$expand=instanceView``: with their instance views)."""
    answer = common.listing(ctx)
    answer.body["value"] = [_with_view(ctx, vm) for vm in answer.body["value"]]
    return answer


@arm("GET", ITEM + "/virtualMachines/{instanceId}", "arm.vmss.vms.get", VERSIONS)
def get_instance(ctx: Ctx) -> Response:
    """One instance (``$expand=instanceView``: with its instance view)."""
    answer = common.show(ctx)
    answer.body = _with_view(ctx, answer.body)
    return answer


@arm("POST", ITEM + "/delete", "arm.vmss.deleteinstances", VERSIONS)
def delete_instances(ctx: Ctx) -> Response:
    vmss = common.require(ctx, common.path_id(ctx).rsplit("/", 1)[0])
    ids = _dig(ctx.req.body, "instanceIds")
    if not isinstance(ids, list) or not ids:
        raise _missing("instanceIds")
    live = {vm["instanceId"]: vm for vm in instances(ctx.st, vmss["id"])}
    for iid in ids:
        if str(iid) not in live:
            raise arm_error(
                400,
                "InvalidParameter",
                f"The provided instanceId {iid} is not an active Virtual Machine Scale Set VM instanceId.",
                target="instanceIds",
            )
    for iid in ids:
        live[str(iid)]["properties"]["provisioningState"] = "Deleting"
    headers = lro.start(
        ctx,
        "vmss.deleteinstances",
        vmss["id"],
        provider="Microsoft.Compute",
        location=vmss["location"],
        args={"instanceIds": [str(i) for i in ids]},
    )
    return Response(202, None, headers)


def instances(st: State, vmss_id: str) -> list[common.Resource]:
    return sorted(common.children(st, vmss_id + "/virtualMachines"), key=lambda vm: int(vm["instanceId"]))


def _computer_name(prefix: str, instance: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while instance:
        instance, r = divmod(instance, 36)
        out = digits[r] + out
    return prefix + out.rjust(6, "0")


def add_instances(st: State, vmss: common.Resource, count: int, now: float) -> list[common.Resource]:
    counters: dict[str, int] = st.setdefault("counters", {})
    key = "vmss:" + vmss["id"].lower()
    made = []
    for _ in range(count):
        iid = counters.get(key, 0)
        counters[key] = iid + 1
        made.append(common.put(st, _instance(st, vmss, iid, now)))
    vmss["sku"]["capacity"] = len(instances(st, vmss["id"]))
    return made


def _instance(st: State, vmss: common.Resource, iid: int, now: float) -> common.Resource:
    """A Uniform instance in its full shape: the scale set's model made concrete (hardware, OS
    profile, storage with its OS disk, network interfaces)."""
    profile = copy.deepcopy(vmss["properties"].get("virtualMachineProfile") or {})
    vm_id = f"{vmss['id']}/virtualMachines/{iid}"
    image = _dig(profile, "storageProfile", "imageReference") or {}
    version = resolve_image(st, image["id"], vmss["location"]) if image.get("id") else None
    computer_name = _computer_name(_dig(profile, "osProfile", "computerNamePrefix") or "vm", iid)
    os_profile = {k: v for k, v in (profile.get("osProfile") or {}).items() if k != "computerNamePrefix"}
    os_disk = dict(_dig(profile, "storageProfile", "osDisk") or {})
    os_disk["name"] = (
        f"{vmss['name']}_{vmss['name']}_{iid}_OsDisk_1_{common.stable_guid(vm_id).replace('-', '')}"
    )
    if "diffDiskSettings" not in os_disk:
        disk_id = f"{vmss['id'].split('/providers/')[0]}/providers/Microsoft.Compute/disks/{os_disk['name']}"
        os_disk["managedDisk"] = {**(os_disk.get("managedDisk") or {}), "id": disk_id}
    nics = _dig(profile, "networkProfile", "networkInterfaceConfigurations") or []
    storage = {
        "imageReference": {**image, "exactVersion": version["name"]} if version else image,
        "osDisk": os_disk,
        "dataDisks": list(_dig(profile, "storageProfile", "dataDisks") or []),
    }
    properties: dict[str, Any] = {
        "latestModelApplied": True,
        "modelDefinitionApplied": "VirtualMachineScaleSet",
        "vmId": common.stable_guid(f"{vm_id}@{now}"),
        "hardwareProfile": {"vmSize": vmss["sku"]["name"]},
        "storageProfile": storage,
        "osProfile": {"computerName": computer_name, **os_profile},
        "networkProfile": {
            "networkInterfaces": [
                {"id": f"{vm_id}/networkInterfaces/{nic['name']}"}
                | ({"properties": {"primary": True}} if _dig(nic, "properties", "primary") else {})
                for nic in nics
            ]
        },
        "networkProfileConfiguration": {"networkInterfaceConfigurations": nics},
        "provisioningState": "Succeeded",
        "timeCreated": iso(now),
    }
    resource: common.Resource = {
        "id": vm_id,
        "name": f"{vmss['name']}_{iid}",
        "type": VM_TYPE,
        "location": vmss["location"],
        "instanceId": str(iid),
        "sku": {"name": vmss["sku"]["name"], "tier": vmss["sku"]["tier"]},
        "properties": properties,
    }
    if vmss.get("zones"):
        resource["zones"] = [vmss["zones"][iid % len(vmss["zones"])]]
    if profile.get("extensionProfile"):
        resource["resources"] = [
            {"id": f"{vm_id}/extensions/{e['name']}", "type": f"{VM_TYPE}/extensions", **copy.deepcopy(e)}
            for e in profile["extensionProfile"].get("extensions") or []
        ]
    return resource


def instance_view(vm: common.Resource) -> dict[str, Any]:
    """What ``$expand=instanceView`` adds: domains, the agent, the OS disk and the power state."""
    props = vm["properties"]
    succeeded = props["provisioningState"] == "Succeeded"
    state = props["provisioningState"].lower()
    return {
        "platformUpdateDomain": int(vm["instanceId"]) % 5,
        "platformFaultDomain": 0,
        "computerName": props["osProfile"]["computerName"],
        "vmAgent": {
            "vmAgentVersion": "2.13.1.1" if succeeded else "Unknown",
            "statuses": [
                {
                    "code": "ProvisioningState/succeeded",
                    "level": "Info",
                    "displayStatus": "Ready",
                    "message": "Guest Agent is running",
                    "time": props["timeCreated"],
                }
            ],
        },
        "disks": [
            {
                "name": props["storageProfile"]["osDisk"]["name"],
                "statuses": [
                    {
                        "code": f"ProvisioningState/{state}",
                        "level": "Info",
                        "displayStatus": f"Provisioning {state}",
                        "time": props["timeCreated"],
                    }
                ],
            }
        ],
        "statuses": [
            {
                "code": f"ProvisioningState/{state}",
                "level": "Info",
                "displayStatus": f"Provisioning {state}",
                "time": props["timeCreated"],
            },
            {"code": "PowerState/running", "level": "Info", "displayStatus": "VM running"},
        ],
    }


def full_instance_view(st: State, vm: common.Resource) -> dict[str, Any]:
    """The instance view with the extensions' statuses (``agentctl.sandbox.guest``)."""
    from agentctl.sandbox import guest

    view = instance_view(vm)
    extensions = guest.extension_views(st, vm)
    return {**view, "extensions": extensions} if extensions else view


def _with_view(ctx: Ctx, vm: common.Resource) -> common.Resource:
    if ctx.req.arg("$expand").lower() != "instanceview":
        return vm
    return {**vm, "properties": {**vm["properties"], "instanceView": full_instance_view(ctx.st, vm)}}


def ensure_extension(vmss: common.Resource, extension: dict[str, Any]) -> bool:
    """Add an extension to the model (as a service outside the client does) unless one of its
    publisher and type is there; True when the model changed. (The caller brings the instances
    to the new model, as Azure DevOps upgrades them itself.)"""
    profile = vmss["properties"].setdefault("virtualMachineProfile", {})
    extensions = profile.setdefault("extensionProfile", {}).setdefault("extensions", [])
    kind = (extension["properties"]["publisher"].lower(), extension["properties"]["type"].lower())
    if any(
        (str(_dig(e, "properties", "publisher")).lower(), str(_dig(e, "properties", "type")).lower()) == kind
        for e in extensions
    ):
        return False
    extensions.append(copy.deepcopy(extension))
    vmss["etag"] = f'"{int(vmss["etag"].strip(chr(34))) + 1}"'
    return True


def remove_instances(st: State, vmss: common.Resource, instance_ids: list[str]) -> None:
    for iid in instance_ids:
        common.delete_tree(st, f"{vmss['id']}/virtualMachines/{iid}")
    vmss["sku"]["capacity"] = len(instances(st, vmss["id"]))


def scale_to(st: State, vmss: common.Resource, capacity: int, now: float) -> None:
    """Set the instance count: new instances get the next ids, the newest go first."""
    live = [vm for vm in instances(st, vmss["id"]) if vm["properties"]["provisioningState"] != "Deleting"]
    if capacity > len(live):
        add_instances(st, vmss, capacity - len(live), now)
    elif capacity < len(live):
        remove_instances(st, vmss, [vm["instanceId"] for vm in live[capacity:]])


@lro.finalizer("vmss.put")
def _put_done(st: State, op: dict[str, Any], ok: bool, now: float) -> None:
    vmss = common.get(st, op["resourceId"])
    if vmss is None or vmss["properties"]["provisioningState"] == "Deleting":
        return
    vmss["properties"]["provisioningState"] = "Succeeded" if ok else "Failed"
    if ok:
        scale_to(st, vmss, int(vmss["sku"].get("capacity") or 0), now)
        if vmss["properties"]["upgradePolicy"].get("mode", "Manual").lower() != "manual":
            for vm in instances(st, vmss["id"]):
                vm["properties"]["latestModelApplied"] = True


@lro.finalizer("vmss.delete")
def _delete_done(st: State, op: dict[str, Any], ok: bool, now: float) -> None:
    vmss = common.get(st, op["resourceId"])
    if vmss is None:
        return
    if ok:
        common.delete_tree(st, vmss["id"])
    else:
        vmss["properties"]["provisioningState"] = "Failed"


@lro.finalizer("vmss.deleteinstances")
def _instances_deleted(st: State, op: dict[str, Any], ok: bool, now: float) -> None:
    vmss = common.get(st, op["resourceId"])
    if vmss is None:
        return
    if ok:
        remove_instances(st, vmss, op["args"]["instanceIds"])
    else:
        for vm in instances(st, vmss["id"]):
            if vm["instanceId"] in op["args"]["instanceIds"]:
                vm["properties"]["provisioningState"] = "Failed"
