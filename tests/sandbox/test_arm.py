"""ARM through the real azure-mgmt clients: resource groups, scale sets, galleries, networks,
identities, and the protocol rules (auth, api-version, errors, LROs)."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from sandbox_helpers import IDENTITY, IMAGE, SUB, SUBNET, Arm, outside_the_specs, vmss_body

from agentctl.sandbox import Sandbox, Timing
from agentctl.sandbox.testing import arm_client

RG = "rg-agents"
VMSS = "vmss-agents"
VMSS_PATH = (
    f"subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{VMSS}"
)


def raw(
    sb: Sandbox, method: str, path: str, body: Any = None, token: str | None = "default"
) -> tuple[int, dict[str, str], Any]:
    """A request without any SDK: (status, headers, JSON body or None)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {sb.token if token == 'default' else token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        sb.arm_endpoint + path.lstrip("/"), data=data, method=method, headers=headers
    )
    ctx = ssl.create_default_context(cafile=sb.ca_bundle)
    try:
        with urllib.request.urlopen(req, context=ctx) as resp:
            payload = resp.read()
            return resp.status, dict(resp.headers), json.loads(payload) if payload else None
    except urllib.error.HTTPError as e:
        payload = e.read()
        return e.code, dict(e.headers), json.loads(payload) if payload else None


def error_code(e: HttpResponseError) -> str:
    assert e.error is not None
    return str(e.error.code)


def make_rg(arm: Arm) -> None:
    arm.resource.resource_groups.create_or_update(RG, {"location": "westeurope"})


def create_vmss(arm: Arm, body: dict[str, Any] | None = None) -> Any:
    return arm.compute.virtual_machine_scale_sets.begin_create_or_update(
        RG, VMSS, body or vmss_body()
    ).result()


# --- protocol ----------------------------------------------------------------------------------


def test_no_token_is_401_with_a_bearer_challenge(sb: Sandbox) -> None:
    status, headers, body = raw(
        sb, "GET", f"subscriptions/{SUB}/resourcegroups?api-version=2024-07-01", token=None
    )
    assert status == 401
    assert body["error"]["code"] == "AuthenticationFailed"
    assert headers["WWW-Authenticate"].startswith(
        'Bearer authorization_uri="https://login.microsoftonline.com/'
    )


def test_unknown_token_is_rejected_through_the_sdk(sb: Sandbox) -> None:
    from azure.mgmt.resource.resources import ResourceManagementClient

    client = arm_client(sb, ResourceManagementClient, token="eyJhbGciOiJIUzI1NiJ9.e30.forged")
    with pytest.raises(ClientAuthenticationError) as e:
        client.resource_groups.get("rg-network")
    assert e.value.status_code == 401
    assert error_code(e.value) == "InvalidAuthenticationToken"


def test_expired_token_is_401_expired(sb: Sandbox) -> None:
    from agentctl.sandbox import auth

    creds = auth.Credentials.load_or_create(sb.state_dir)
    old, _ = auth.mint(creds.signing_key, sb.tenant_id, 10, time.time() - 60, sb.arm_endpoint, "app", "sp")
    status, _, body = raw(sb, "GET", f"subscriptions/{SUB}/resourcegroups?api-version=2024-07-01", token=old)
    assert status == 401
    assert body["error"]["code"] == "ExpiredAuthenticationToken"


def test_api_version_is_required_and_checked(sb: Sandbox) -> None:
    status, _, body = raw(sb, "GET", f"subscriptions/{SUB}/resourcegroups")
    assert (status, body["error"]["code"]) == (400, "MissingApiVersionParameter")
    status, _, body = raw(sb, "GET", f"subscriptions/{SUB}/resourcegroups?api-version=1999-01-01")
    assert (status, body["error"]["code"]) == (400, "InvalidApiVersionParameter")
    vmss = (
        f"subscriptions/{SUB}/resourceGroups/rg-network/providers/Microsoft.Compute/virtualMachineScaleSets"
    )
    status, _, body = raw(sb, "GET", f"{vmss}?api-version=1999-01-01")
    assert (status, body["error"]["code"]) == (400, "NoRegisteredProviderFound")
    assert "2026-04-01" in body["error"]["message"]


def test_every_answer_carries_request_ids(sb: Sandbox, arm: Arm) -> None:
    arm.resource.resource_groups.get("rg-network")
    with pytest.raises(ResourceNotFoundError):
        arm.resource.resource_groups.get("missing")
    raw(sb, "GET", f"subscriptions/{SUB}/resourcegroups", token=None)
    arm_exchanges = [x for x in sb.exchanges if x["service"] == "arm"]
    assert len(arm_exchanges) == 3
    for x in arm_exchanges:
        assert x["responseHeaders"]["x-ms-request-id"]
        assert x["responseHeaders"]["x-ms-correlation-request-id"]


def test_unknown_path_is_404(sb: Sandbox) -> None:
    status, _, body = raw(sb, "GET", f"subscriptions/{SUB}/nothing/here?api-version=2024-07-01")
    assert (status, body["error"]["code"]) == (404, "NotFound")
    outside_the_specs(sb, "arm.unrouted", "no spec describes a path that does not exist")


def test_subscription_must_be_the_worlds(sb: Sandbox) -> None:
    other = "99999999-2222-3333-4444-555555555555"
    status, _, body = raw(
        sb, "GET", f"subscriptions/{other}/resourcegroups/rg-network?api-version=2024-07-01"
    )
    assert (status, body["error"]["code"]) == (404, "SubscriptionNotFound")


# --- resource groups ---------------------------------------------------------------------------


def test_resource_group_lifecycle(sb: Sandbox, arm: Arm) -> None:
    groups = arm.resource.resource_groups
    assert not groups.check_existence(RG)
    created = groups.create_or_update(RG, {"location": "westeurope", "tags": {"owner": "platform"}})
    assert created.id == f"/subscriptions/{SUB}/resourceGroups/{RG}"
    assert created.properties.provisioning_state == "Succeeded"
    assert groups.check_existence(RG)
    assert groups.get(RG).tags == {"owner": "platform"}
    again = groups.create_or_update(RG, {"location": "West Europe"})
    assert again.location == "westeurope"
    puts = [x["status"] for x in sb.exchanges if x["operation"] == "arm.resourcegroups.put"]
    assert puts == [201, 200]
    names = {g.name for g in groups.list()}
    node_groups = {"MC_rg-aks_aks-dev_westeurope", "MC_rg-aks_aks-prod_westeurope"}  # the clusters' own
    assert {"rg-network", "rg-images", "rg-identity", "rg-aks", "rg-acr", RG} | node_groups == names


def test_rg_agents_does_not_exist_in_the_world(arm: Arm) -> None:
    with pytest.raises(ResourceNotFoundError) as e:
        arm.resource.resource_groups.get(RG)
    assert error_code(e.value) == "ResourceGroupNotFound"


def test_resource_group_errors(arm: Arm) -> None:
    groups = arm.resource.resource_groups
    with pytest.raises(HttpResponseError) as e:
        groups.create_or_update("bad/name.", {"location": "westeurope"})
    with pytest.raises(HttpResponseError) as e:
        groups.create_or_update(RG, {"location": "westeurope", "tagz": {}})
    assert error_code(e.value) == "InvalidRequestContent"
    assert "Could not find member 'tagz'" in str(e.value.message)
    with pytest.raises(HttpResponseError) as e:
        groups.create_or_update(RG, {"tags": {}})
    assert error_code(e.value) == "LocationRequired"
    groups.create_or_update(RG, {"location": "westeurope"})
    with pytest.raises(HttpResponseError) as e:
        groups.create_or_update(RG, {"location": "eastus"})
    assert (e.value.status_code, error_code(e.value)) == (409, "InvalidResourceGroupLocation")


# --- scale sets --------------------------------------------------------------------------------


def test_vmss_create_is_an_lro_through_azure_async_operation(sb: Sandbox, arm: Arm) -> None:
    make_rg(arm)
    vmss = create_vmss(arm)
    assert vmss.properties.provisioning_state == "Succeeded"
    assert vmss.properties.orchestration_mode == "Uniform"
    assert vmss.properties.overprovision is False
    assert (
        vmss.identity.user_assigned_identities[IDENTITY].client_id == "5e2a8c4f-1b7d-4e9a-a3c6-7f0b2d5e9a1c"
    )
    put = next(x for x in sb.exchanges if x["operation"] == "arm.vmss.put")
    assert put["status"] == 201
    assert put["response"]["properties"]["provisioningState"] == "Creating"
    assert (
        "/providers/Microsoft.Compute/locations/westeurope/operations/"
        in put["responseHeaders"]["Azure-AsyncOperation"]
    )
    assert "operationResults" in put["responseHeaders"]["Location"]
    assert "Retry-After" not in put["responseHeaders"]
    polls = [x["response"]["status"] for x in sb.exchanges if x["operation"] == "arm.operations.get"]
    assert polls[-1] == "Succeeded"


def test_vmss_put_is_idempotent(sb: Sandbox, arm: Arm) -> None:
    make_rg(arm)
    first = create_vmss(arm, vmss_body(**{"sku.capacity": 2}))
    second = create_vmss(arm, vmss_body(**{"sku.capacity": 2}))
    assert second.properties.unique_id == first.properties.unique_id
    assert second.properties.time_created == first.properties.time_created
    assert second.etag == first.etag
    vms = list(arm.compute.virtual_machine_scale_set_vms.list(RG, VMSS))
    assert [vm.instance_id for vm in vms] == ["0", "1"]


def test_vmss_capacity_makes_and_removes_instances(arm: Arm) -> None:
    make_rg(arm)
    create_vmss(arm, vmss_body(**{"sku.capacity": 3}))
    vms = list(arm.compute.virtual_machine_scale_set_vms.list(RG, VMSS))
    assert [vm.properties.os_profile.computer_name for vm in vms] == [
        "agent000000",
        "agent000001",
        "agent000002",
    ]
    assert {vm.properties.storage_profile.image_reference.exact_version for vm in vms} == {"2026.1129.1"}
    arm.compute.virtual_machine_scale_sets.begin_delete_instances(RG, VMSS, {"instanceIds": ["1"]}).result()
    assert [vm.instance_id for vm in arm.compute.virtual_machine_scale_set_vms.list(RG, VMSS)] == ["0", "2"]
    assert arm.compute.virtual_machine_scale_sets.get(RG, VMSS).sku.capacity == 2
    with pytest.raises(HttpResponseError) as e:
        arm.compute.virtual_machine_scale_sets.begin_delete_instances(
            RG, VMSS, {"instanceIds": ["7"]}
        ).result()
    assert error_code(e.value) == "InvalidParameter"


def test_new_model_leaves_existing_instances_on_the_old_one(arm: Arm) -> None:
    make_rg(arm)
    create_vmss(arm, vmss_body(**{"sku.capacity": 1}))
    pinned = f"{IMAGE}/versions/2026.1101.1"
    create_vmss(
        arm,
        vmss_body(
            **{
                "sku.capacity": 2,
                "properties.virtualMachineProfile.storageProfile.imageReference": {"id": pinned},
            }
        ),
    )
    vms = {vm.instance_id: vm for vm in arm.compute.virtual_machine_scale_set_vms.list(RG, VMSS)}
    assert vms["0"].properties.latest_model_applied is False
    assert vms["1"].properties.latest_model_applied is True
    assert vms["1"].properties.storage_profile.image_reference.exact_version == "2026.1101.1"


def test_vmss_patch_merges(arm: Arm) -> None:
    make_rg(arm)
    create_vmss(arm)
    patched = arm.compute.virtual_machine_scale_sets.begin_update(
        RG, VMSS, {"sku": {"capacity": 1}, "tags": {"a": "b"}}
    ).result()
    assert patched.sku.capacity == 1
    assert patched.sku.name == "Standard_D4s_v5"
    assert patched.tags == {"a": "b"}
    assert patched.properties.virtual_machine_profile.os_profile.computer_name_prefix == "agent"


def test_vmss_secrets_are_not_returned(sb: Sandbox, arm: Arm) -> None:
    make_rg(arm)
    body = vmss_body()
    body["properties"]["virtualMachineProfile"]["osProfile"]["customData"] = "IyEvYmluL3NoCg=="
    create_vmss(arm, body)
    status, _, got = raw(sb, "GET", f"{VMSS_PATH}?api-version=2026-04-01")
    assert status == 200
    assert "customData" not in got["properties"]["virtualMachineProfile"]["osProfile"]


@pytest.mark.parametrize(
    ("override", "status", "code", "needle"),
    [
        ({"properties.overprovisoin": False}, 400, "InvalidRequestFormat", "properties.overprovisoin"),
        ({"properties.upgradePolicy": {"mode": "Sometimes"}}, 400, "InvalidParameter", "Allowed values"),
        ({"properties.overprovision": "no"}, 400, "InvalidRequestFormat", "System.Boolean"),
        ({"sku": None}, 400, "InvalidParameter", "sku"),
        (
            {
                "properties.virtualMachineProfile.storageProfile.imageReference": {
                    "id": IMAGE.replace("24.04", "20.04")
                }
            },
            404,
            "GalleryImageNotFound",
            "20.04",
        ),
        (
            {"identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY + "-x": {}}}},
            400,
            "FailedIdentityOperation",
            "id-agents-x",
        ),
    ],
)
def test_vmss_rejections(arm: Arm, override: dict[str, Any], status: int, code: str, needle: str) -> None:
    make_rg(arm)
    body = vmss_body(**override)
    if "sku" in override:
        del body["sku"]
    with pytest.raises(HttpResponseError) as e:
        create_vmss(arm, body)
    assert (e.value.status_code, error_code(e.value)) == (status, code)
    assert needle in str(e.value)
    with pytest.raises(ResourceNotFoundError):
        arm.compute.virtual_machine_scale_sets.get(RG, VMSS)


def _with_subnet(subnet: str) -> dict[str, Any]:
    body = vmss_body()
    nic = body["properties"]["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"][0]
    nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"] = subnet
    return body


def test_vmss_subnet_must_exist(arm: Arm) -> None:
    make_rg(arm)
    with pytest.raises(HttpResponseError) as e:
        create_vmss(arm, _with_subnet(SUBNET.replace("/agents", "/nope")))
    assert error_code(e.value) == "InvalidResourceReference"
    assert "referenced by resource" in str(e.value)
    with pytest.raises(HttpResponseError) as e:
        create_vmss(arm, _with_subnet("/subscriptions/x/not-a-subnet"))
    assert error_code(e.value) == "InvalidRequestFormat"
    assert "InvalidJsonReferenceFormat" in str(e.value)


def test_vmss_in_missing_group_and_missing_vmss(arm: Arm) -> None:
    with pytest.raises(ResourceNotFoundError) as e:
        create_vmss(arm)
    assert error_code(e.value) == "ResourceGroupNotFound"
    make_rg(arm)
    with pytest.raises(ResourceNotFoundError) as e:
        arm.compute.virtual_machine_scale_sets.get(RG, VMSS)
    assert error_code(e.value) == "ResourceNotFound"


def test_vmss_immutable_and_location(arm: Arm) -> None:
    make_rg(arm)
    create_vmss(arm)
    with pytest.raises(HttpResponseError) as e:
        create_vmss(
            arm, vmss_body(**{"properties.virtualMachineProfile.osProfile.computerNamePrefix": "other"})
        )
    assert (e.value.status_code, error_code(e.value)) == (409, "PropertyChangeNotAllowed")
    with pytest.raises(HttpResponseError) as e:
        create_vmss(arm, vmss_body(location="northeurope"))
    assert (e.value.status_code, error_code(e.value)) == (409, "InvalidResourceLocation")


def test_vmss_delete(sb: Sandbox, arm: Arm) -> None:
    make_rg(arm)
    create_vmss(arm, vmss_body(**{"sku.capacity": 1}))
    arm.compute.virtual_machine_scale_sets.begin_delete(RG, VMSS).result()
    assert list(arm.compute.virtual_machine_scale_sets.list(RG)) == []
    deletes = [x for x in sb.exchanges if x["operation"] == "arm.vmss.delete"]
    assert deletes[0]["status"] == 202
    arm.compute.virtual_machine_scale_sets.begin_delete(RG, VMSS).result()
    assert [x["status"] for x in sb.exchanges if x["operation"] == "arm.vmss.delete"][-1] == 204


def test_lro_polling_through_location(sb: Sandbox) -> None:
    raw(
        sb,
        "PUT",
        f"subscriptions/{SUB}/resourcegroups/{RG}?api-version=2024-07-01",
        {"location": "westeurope"},
    )
    path = f"{VMSS_PATH}?api-version=2026-04-01"
    sb.configure(timing=Timing(lro_seconds=0.3))
    status, headers, _ = raw(sb, "PUT", path, vmss_body())
    assert status == 201
    result = headers["Location"].removeprefix(sb.arm_endpoint)
    assert raw(sb, "GET", result)[0] == 202
    time.sleep(0.35)
    assert raw(sb, "GET", result)[0] == 200
    assert raw(sb, "GET", path)[2]["properties"]["provisioningState"] == "Succeeded"


# --- gallery, network, identity ----------------------------------------------------------------


def test_gallery_reads(arm: Arm) -> None:
    gallery = arm.compute.galleries.get("rg-images", "agents")
    assert gallery.properties.provisioning_state == "Succeeded"
    images = {i.name: i for i in arm.compute.gallery_images.list_by_gallery("rg-images", "agents")}
    assert set(images) == {"ubuntu-24.04-agent", "ubuntu-22.04-agent"}
    image = images["ubuntu-24.04-agent"].properties
    assert (image.os_type, image.os_state, image.hyper_v_generation) == ("Linux", "Generalized", "V2")
    version = arm.compute.gallery_image_versions.get(
        "rg-images", "agents", "ubuntu-24.04-agent", "2026.1129.1"
    )
    assert version.properties.publishing_profile.published_date.year == 2026
    with pytest.raises(ResourceNotFoundError) as e:
        arm.compute.gallery_images.get("rg-images", "nope", "ubuntu-24.04-agent")
    assert error_code(e.value) == "ParentResourceNotFound"


def test_gallery_version_delete(arm: Arm) -> None:
    versions = arm.compute.gallery_image_versions
    versions.begin_delete("rg-images", "agents", "ubuntu-22.04-agent", "2026.1101.1").result()
    left = [v.name for v in versions.list_by_gallery_image("rg-images", "agents", "ubuntu-22.04-agent")]
    assert left == ["2026.1115.1", "2026.1129.1"]
    with pytest.raises(ResourceNotFoundError):
        versions.get("rg-images", "agents", "ubuntu-22.04-agent", "2026.1101.1")


def test_network_reads(arm: Arm) -> None:
    vnet = arm.network.virtual_networks.get("rg-network", "vnet-hub")
    assert vnet.address_space.address_prefixes == ["10.10.0.0/16"]
    assert [s.name for s in vnet.subnets] == ["agents", "aks"]
    assert arm.network.subnets.get("rg-network", "vnet-hub", "agents").id == SUBNET
    assert len(list(arm.network.subnets.list("rg-network", "vnet-hub"))) == 2
    with pytest.raises(ResourceNotFoundError):
        arm.network.subnets.get("rg-network", "vnet-hub", "nope")


def test_identity_and_federated_credentials(sb: Sandbox, arm: Arm) -> None:
    uai = arm.msi.user_assigned_identities.get("rg-identity", "id-agents")
    assert uai.principal_id == "3b9f6c1e-8d2a-4f5b-9c7e-2a1d4e6f8b0c"
    assert uai.tenant_id == sb.tenant_id
    fics = arm.msi.federated_identity_credentials
    spec = {
        "properties": {
            "issuer": "https://vstoken.dev.azure.com/o",
            "subject": "sc://contoso/platform/arm-agents",
            "audiences": ["api://AzureADTokenExchange"],
        }
    }
    made = fics.create_or_update("rg-identity", "id-agents", "ado-arm-agents", spec)
    assert made.subject == "sc://contoso/platform/arm-agents"
    fics.create_or_update("rg-identity", "id-agents", "ado-arm-agents", spec)
    assert [x["status"] for x in sb.exchanges if x["operation"] == "arm.fic.put"] == [201, 200]
    assert [f.name for f in fics.list("rg-identity", "id-agents")] == ["ado-arm-agents"]
    assert fics.get("rg-identity", "id-agents", "ado-arm-agents").issuer == "https://vstoken.dev.azure.com/o"
    fics.delete("rg-identity", "id-agents", "ado-arm-agents")
    assert list(fics.list("rg-identity", "id-agents")) == []
    with pytest.raises(HttpResponseError) as e:
        fics.create_or_update(
            "rg-identity", "id-agents", "x", {"properties": {"issuer": "https://i", "subject": "s"}}
        )
    assert error_code(e.value) == "BadRequest"
    with pytest.raises(ResourceNotFoundError):
        fics.create_or_update("rg-identity", "id-nope", "ado", spec)


def test_user_assigned_identity_create_update_and_delete(sb: Sandbox, arm: Arm) -> None:
    ids = arm.msi.user_assigned_identities
    made = ids.create_or_update("rg-identity", "id-pool", {"location": "westeurope", "tags": {"a": "1"}})
    assert made.tenant_id == sb.tenant_id and made.principal_id and made.client_id
    again = ids.create_or_update("rg-identity", "id-pool", {"location": "westeurope", "tags": {"a": "2"}})
    assert (again.principal_id, again.client_id, again.tags) == (
        made.principal_id,
        made.client_id,
        {"a": "2"},
    )
    assert [x["status"] for x in sb.exchanges if x["operation"] == "arm.identities.put"] == [201, 200]
    listed = {i.name: i.client_id for i in ids.list_by_subscription()}
    assert listed["id-pool"] == made.client_id and "id-agents" in listed
    spec = {
        "properties": {
            "issuer": "https://vstoken.dev.azure.com/o",
            "subject": "sc://contoso/platform/arm-agents",
            "audiences": ["api://AzureADTokenExchange"],
        }
    }
    arm.msi.federated_identity_credentials.create_or_update("rg-identity", "id-pool", "fic", spec)
    ids.delete("rg-identity", "id-pool")
    ids.delete("rg-identity", "id-pool")  # gone already: 204, no error
    assert [x["status"] for x in sb.exchanges if x["operation"] == "arm.identities.delete"] == [200, 204]
    with pytest.raises(ResourceNotFoundError):
        ids.get("rg-identity", "id-pool")
    with pytest.raises(ResourceNotFoundError):  # its credentials went with it
        arm.msi.federated_identity_credentials.get("rg-identity", "id-pool", "fic")
    remade = ids.create_or_update("rg-identity", "id-pool", {"location": "westeurope"})
    assert remade.principal_id != made.principal_id  # a new identity, new ids
    with pytest.raises(HttpResponseError) as e:
        ids.create_or_update("rg-identity", "id-pool", {"tags": {}})
    assert error_code(e.value) == "LocationRequired"
    with pytest.raises(ResourceNotFoundError):
        ids.create_or_update("rg-nope", "id-pool", {"location": "westeurope"})


def test_role_definition_by_id_has_its_permissions(sb: Sandbox, arm: Arm) -> None:
    vm_contributor = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
    role = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{vm_contributor}"
    found = arm.auth.role_definitions.get_by_id(role)
    assert found.role_name == "Virtual Machine Contributor"
    assert "Microsoft.Compute/virtualMachineScaleSets/*" in found.permissions[0].actions
