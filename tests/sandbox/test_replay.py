"""Official examples replayed: each request of the Azure REST specs' x-ms-examples and the
vsts-rest-api-specs httpExamples in replay/examples/ (copied unchanged; replay/SOURCES.md gives
their source and license) is sent to a sandbox seeded with the world they assume
(replay/world.yaml), and every member the example's response shows must be in the sandbox's
answer. Values may differ (ids, times, generated names); the shape may not.

The examples' subscription ids and `{placeholders}` are mapped onto the sandbox's world; nothing
else in them is changed. A member left out is in ``EXEMPT`` with the reason.
"""

from __future__ import annotations

import json
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sandbox_helpers import FAST

from agentctl.sandbox import Sandbox, start
from conformance.spec_check import assert_conforms

HERE = Path(__file__).parent / "replay"
AZURE = "azure-rest-api-specs/specification"
COMPUTE = f"{AZURE}/compute/resource-manager/Microsoft.Compute"
SUB = "11111111-2222-3333-4444-555555555555"
RG_PATH = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
PLACEHOLDERS = {
    "{subscription-id}": SUB,
    "{subscriptionId}": SUB,
    "{vmss-name}": "vmss1",
    "{your-username}": "azureuser",
    "{your-password}": "Replay-Passw0rd!",
    "{existing-virtual-network-name}": "vnet1",
    "{existing-subnet-name}": "subnet1",
}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# (example file, HTTP method, path template of its operation in the spec)
NETWORK = f"{AZURE}/network/resource-manager/Microsoft.Network/stable/2024-03-01/examples"
DNS = f"{AZURE}/privatedns/resource-manager/Microsoft.Network/stable/2024-06-01/examples"
DEVCENTER = f"{AZURE}/devcenter/resource-manager/Microsoft.DevCenter/DevCenter/stable/2025-02-01/examples"
NET_PATH = RG_PATH + "/providers/Microsoft.Network"
ARM_CASES = [
    (
        f"{AZURE}/resources/resource-manager/Microsoft.Resources/stable/2024-07-01/examples/CreateResourceGroup.json",
        "PUT",
        "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}",
    ),
    (
        f"{COMPUTE}/ComputeRP/stable/2024-07-01/examples/virtualMachineScaleSetExamples/"
        "VirtualMachineScaleSet_Create_FromAGeneralizedSharedImage.json",
        "PUT",
        RG_PATH + "/providers/Microsoft.Compute/virtualMachineScaleSets/{vmScaleSetName}",
    ),
    (
        f"{COMPUTE}/ComputeRP/stable/2024-07-01/examples/virtualMachineScaleSetExamples/"
        "VirtualMachineScaleSet_Create_WithSshAuthentication.json",
        "PUT",
        RG_PATH + "/providers/Microsoft.Compute/virtualMachineScaleSets/{vmScaleSetName}",
    ),
    (
        f"{COMPUTE}/GalleryRP/stable/2023-07-03/examples/galleryExamples/GalleryImageVersion_Get.json",
        "GET",
        RG_PATH + "/providers/Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}"
        "/versions/{galleryImageVersionName}",
    ),
    (
        f"{COMPUTE}/GalleryRP/stable/2023-07-03/examples/galleryExamples/"
        "GalleryImageVersion_Get_WithReplicationStatus.json",
        "GET",
        RG_PATH + "/providers/Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}"
        "/versions/{galleryImageVersionName}",
    ),
    (
        f"{COMPUTE}/GalleryRP/stable/2023-07-03/examples/galleryExamples/GalleryImageVersion_ListByGalleryImage.json",
        "GET",
        RG_PATH + "/providers/Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}/versions",
    ),
    (
        f"{AZURE}/msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/examples/"
        "FederatedIdentityCredentialCreate.json",
        "PUT",
        RG_PATH + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}"
        "/federatedIdentityCredentials/{federatedIdentityCredentialResourceName}",
    ),
    (
        f"{AZURE}/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2024-09-01/examples/"
        "ManagedClustersListClusterUserCredentials.json",
        "POST",
        RG_PATH
        + "/providers/Microsoft.ContainerService/managedClusters/{resourceName}/listClusterUserCredential",
    ),
    (
        f"{AZURE}/msi/resource-manager/Microsoft.ManagedIdentity/stable/2023-01-31/examples/IdentityCreate.json",
        "PUT",
        RG_PATH + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}",
    ),
    (
        f"{NETWORK}/SubnetGetWithDelegation.json",
        "GET",
        NET_PATH + "/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}",
    ),
    (
        f"{NETWORK}/NetworkSecurityGroupGet.json",
        "GET",
        NET_PATH + "/networkSecurityGroups/{networkSecurityGroupName}",
    ),
    (f"{NETWORK}/RouteTableGet.json", "GET", NET_PATH + "/routeTables/{routeTableName}"),
    (f"{NETWORK}/NatGatewayGet.json", "GET", NET_PATH + "/natGateways/{natGatewayName}"),
    (f"{DNS}/PrivateZonePut.json", "PUT", NET_PATH + "/privateDnsZones/{privateZoneName}"),
    (
        f"{DNS}/RecordSetAPut.json",
        "PUT",
        NET_PATH + "/privateDnsZones/{privateZoneName}/{recordType}/{relativeRecordSetName}",
    ),
    (
        f"{DEVCENTER}/DevCenters_Create.json",
        "PUT",
        RG_PATH + "/providers/Microsoft.DevCenter/devcenters/{devCenterName}",
    ),
    (
        f"{DEVCENTER}/Projects_Put.json",
        "PUT",
        RG_PATH + "/providers/Microsoft.DevCenter/projects/{projectName}",
    ),
]
DEVOPS_CASES = [
    "vsts-rest-api-specs/specification/serviceEndpoint/7.1/httpExamples/endpoints/CreateAzureRMEndpoint.json"
]

# Members of an example's response the sandbox does not answer, and why.
ENCRYPTION = "properties.publishingProfile.targetRegions[].encryption"
EXEMPT: dict[str, dict[str, str]] = {
    "GalleryImageVersion_Get.json": {
        # The example's version was made from a snapshot with data disks and disk encryption sets;
        # the sandbox's versions are made from a VM image and have neither.
        "properties.storageProfile.dataDiskImages": "no data disks in the sandbox's image versions",
        "properties.storageProfile.dataDiskImages[].hostCaching": "no data disks",
        "properties.storageProfile.dataDiskImages[].lun": "no data disks",
        "properties.storageProfile.dataDiskImages[].sizeInGB": "no data disks",
        "properties.publishingProfile.targetRegions[].encryption": "no disk encryption sets",
        "properties.publishingProfile.targetRegions[].encryption.osDiskImage": "no disk encryption sets",
        "properties.publishingProfile.targetRegions[].encryption.osDiskImage.diskEncryptionSetId": "idem",
        f"{ENCRYPTION}.dataDiskImages": "idem",
        f"{ENCRYPTION}.dataDiskImages[].lun": "idem",
        f"{ENCRYPTION}.dataDiskImages[].diskEncryptionSetId": "idem",
        "properties.storageProfile.osDiskImage.source": "a snapshot source; the sandbox's are VMs",
        "properties.storageProfile.osDiskImage.source.id": "idem",
        # A version never reported for a policy violation: an empty list, no items.
        "properties.safetyProfile.policyViolations[].category": "no policy violations",
        "properties.safetyProfile.policyViolations[].details": "no policy violations",
    },
    "CreateAzureRMEndpoint.json": {
        # The example's creator is a Microsoft account; the sandbox's callers are Entra users, whose
        # identity refs have no avatar link or MSA descriptor.
        "createdBy._links": "an MSA user's avatar link",
        "createdBy._links.avatar": "idem",
        "createdBy._links.avatar.href": "idem",
    },
}
EXEMPT["NatGatewayGet.json"] = {
    "properties.publicIpPrefixes": "the sandbox serves no public IP resources; its NAT gateways list none",
    "properties.publicIpPrefixes[].id": "idem",
}
EXEMPT["GalleryImageVersion_Get_WithReplicationStatus.json"] = EXEMPT["GalleryImageVersion_Get.json"]
EXEMPT["GalleryImageVersion_ListByGalleryImage.json"] = {
    "value[]." + k: v for k, v in EXEMPT["GalleryImageVersion_Get.json"].items()
} | {"nextLink": "one page: ARM leaves nextLink out when no page follows"}


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = start(tmp_path_factory.mktemp("replay") / "sb", world=HERE / "world.yaml", timing=FAST)
    yield sb
    sb.stop()
    assert_conforms(sb.exchanges)


def mapped(value: Any, subscriptions: set[str]) -> Any:
    """The example's value with its subscription ids and placeholders mapped onto the world (in
    string values only: a subscription id such as "subscriptionId" is also a member name)."""
    if isinstance(value, dict):
        return {k: mapped(v, subscriptions) for k, v in value.items()}
    if isinstance(value, list):
        return [mapped(v, subscriptions) for v in value]
    if not isinstance(value, str):
        return value
    if value in subscriptions:
        return SUB
    for sub in subscriptions:
        value = value.replace(f"/subscriptions/{sub}/", f"/subscriptions/{SUB}/")
    for placeholder, real in PLACEHOLDERS.items():
        value = value.replace(placeholder, real)
    return value


def shape(doc: Any, prefix: str = "") -> set[str]:
    """Every member path of a JSON document (list items as ``[]``)."""
    paths: set[str] = set()
    if isinstance(doc, dict):
        for key, value in doc.items():
            path = f"{prefix}.{key}" if prefix else key
            paths |= {path} | shape(value, path)
    elif isinstance(doc, list):
        for item in doc:
            paths |= shape(item, f"{prefix}[]")
    return paths


def send(sb: Sandbox, method: str, url: str, body: Any, token: str) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    ctx = ssl.create_default_context(cafile=sb.ca_bundle)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def compare(name: str, example: dict[str, Any], status: int, answer: Any) -> None:
    responses = example["responses"]
    assert str(status) in responses, (status, answer)
    expected = responses[str(status)].get("body")
    missing = shape(expected) - shape(answer) - set(EXEMPT.get(name, {}))
    assert not missing, f"{name}: the sandbox's answer lacks {sorted(missing)}"


@pytest.mark.parametrize(("path", "method", "template"), ARM_CASES, ids=[Path(c[0]).stem for c in ARM_CASES])
def test_arm_examples(replay: Sandbox, path: str, method: str, template: str) -> None:
    example = json.loads((HERE / "examples" / path).read_text())
    params = example["parameters"]
    subscriptions = {str(v) for k, v in params.items() if k == "subscriptionId"}
    params = mapped(params, subscriptions)
    url_path = re.sub(r"\{(\w+)\}", lambda m: quote(str(params[m.group(1)]), safe=""), template)
    query = f"api-version={params['api-version']}"
    if "$expand" in params:
        query += f"&$expand={params['$expand']}"
    body = next((v for k, v in params.items() if isinstance(v, dict)), None)
    status, answer = send(
        replay, method, f"{replay.arm_endpoint.rstrip('/')}{url_path}?{query}", body, replay.token
    )
    compare(Path(path).name, example, status, answer)


@pytest.mark.parametrize("path", DEVOPS_CASES, ids=[Path(p).stem for p in DEVOPS_CASES])
def test_devops_examples(replay: Sandbox, path: str) -> None:
    example = json.loads((HERE / "examples" / path).read_text())
    params = example["parameters"]
    url = example["x-ms-vss-request-url"].replace("https://dev.azure.com", replay.authority)
    status, answer = send(
        replay,
        example["x-ms-vss-request-method"],
        f"{url}?api-version={params['api-version']}",
        params.get("body"),
        replay.devops_token,
    )
    compare(Path(path).name, example, status, answer)


def test_the_examples_are_the_published_ones() -> None:
    """The copies are unchanged: SOURCES.md's sha256 prefixes match the files."""
    import hashlib

    rows = [
        line.split("|") for line in (HERE / "SOURCES.md").read_text().splitlines() if line.startswith("| `")
    ]
    assert len(rows) == len(ARM_CASES) + len(DEVOPS_CASES) + 2  # and the two licenses
    for row in rows:
        file, digest = row[1].strip().strip("`"), row[5].strip().strip("`").rstrip("…")
        assert hashlib.sha256((HERE / "examples" / file).read_bytes()).hexdigest().startswith(digest), file
