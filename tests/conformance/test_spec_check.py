"""The spec conformance checker: official examples pass, mutated copies fail with located messages."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from agentctl import config
from agentctl.kinds.pool import desired
from conformance.spec_check import (
    NEWER_THAN_SPECS,
    Operation,
    Skipped,
    SpecIndex,
    assert_conforms,
    load_for_tests,
    specs_dir,
)
from testlib import EXAMPLE_POOL

Json = Any
SPEC = config.load(EXAMPLE_POOL)

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
RG = f"{SUB}/resourceGroups/rg-agents"
VMSS = f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-agents"
IMAGE = f"{RG}/providers/Microsoft.Compute/galleries/agents/images/ubuntu-24.04-agent"
IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-agents"
AKS = f"{SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-dev"
ORG = "/contoso"
PROJECT = "/contoso/platform"
PROJECT_ID = "6f1c9f62-35e5-4c1d-9b61-0d5c7c1bb2a1"
APPROVAL_TYPE = {"id": "8c6f20a7-a545-4486-9777-f762fafe0d4d", "name": "Approval"}

# Official examples whose own bodies disagree with their spec; none is an operation agentctl uses.
# Each must keep failing, so the list cannot hide a checker regression.
EXAMPLE_QUIRKS = {
    "RegistryCreate.json": "responses carry `status: null`; the swagger Status object is not x-nullable",
    "GET__distributedtask_DeploymentTargets__Id_.json": "agent public key bytes sent as base64 strings",
    "GET__distributedtask_DeploymentTargets__LastRequest_.json": "demands as strings; unknown agentDelays",
    "LIST__ListAllTaskGroups.json": "request URL lacks the {taskGroupId} segment of its operation",
    "PUT__UpdateTaskGroup.json": "request URL lacks the {taskGroupId} segment of its operation",
    "POST__CreateTaskGroup.json": "definitionType is not a TaskGroupCreateParameter member",
    "PATCH__UpdateCheckSuiteRun.json": "request members in PascalCase (Action, CheckId)",
    "POST__GetFilteredServiceEndpointTypes.json": "recorded as a GET with a body",
    "VirtualMachineScaleSetVM_Get_InstanceViewAutoPlacedOnDedicatedHostGroup.json": (
        "null messages, times, bootDiagnostics, extensions; none of them x-nullable"
    ),
    **dict.fromkeys(
        (
            "ListAvailableResourceSkus.json",
            "ListAvailableResourceSkusForARegion.json",
            "ListAvailableResourceSkusWithExtendedLocations.json",
            "Sku_ListByLocation.json",
            "ResourceDetails_ListByPool.json",
        ),
        "`nextLink: null`; the spec's nextLink is a string, not x-nullable",
    ),
}


@pytest.fixture(scope="module")
def index() -> SpecIndex:
    return load_for_tests()


def exchange(
    method: str, path: str, status: int = 200, request: Json = None, response: Json = None, **query: str
) -> dict[str, Json]:
    """An exchange as the sandbox records it (time and operation are ignored by the checker)."""
    return {
        "time": "2026-11-29T20:00:00Z",
        "method": method,
        "path": path,
        "query": query,
        "status": status,
        "operation": "test",
        "request": request,
        "response": response,
    }


# ---- official examples --------------------------------------------------------------------------


def fill(template: str, params: dict[str, Json]) -> str:
    """A path from an operation template and an example's parameters."""
    return re.sub(r"\{([^}]+)\}", lambda m: str(params[m.group(1)]).lstrip("/"), template)


def arm_examples(index: SpecIndex) -> Iterator[tuple[Path, Operation, dict[str, Json]]]:
    """One exchange per response of every x-ms-examples file present, addressed by its operation."""
    for op in index.arm_operations:
        for ref in op.spec.get("x-ms-examples", {}).values():
            file = (op.file.parent / ref["$ref"]).resolve()
            if not file.is_file():
                continue
            example = json.loads(file.read_text(encoding="utf-8"))
            params = example["parameters"]
            path = fill(op.template, params)
            body_param = next((p for p in op.params if p.get("in") == "body"), None)
            request = params.get(body_param["name"]) if body_param else None
            for status, reply in example["responses"].items():
                query = {"api-version": params["api-version"]}
                yield file, op, exchange(op.method, path, int(status), request, reply.get("body"), **query)


def devops_examples(index: SpecIndex) -> Iterator[tuple[Path, Operation, dict[str, Json]]]:
    """One exchange per response of every httpExamples file, addressed by its recorded URL."""
    seen: set[Path] = set()
    for op in index.devops_operations:
        for ref in op.spec.get("x-ms-examples", {}).values():
            file = (op.file.parent / ref["$ref"]).resolve()
            if file in seen or not file.is_file():
                continue
            seen.add(file)
            example = json.loads(file.read_text(encoding="utf-8"))
            url = urlsplit(example["x-ms-vss-request-url"])
            method = example.get("x-ms-vss-request-method", op.method)
            for status, reply in example["responses"].items():
                ex = exchange(
                    method, url.path, int(status), example["parameters"].get("body"), reply.get("body")
                )
                ex["query"] = dict(parse_qsl(url.query))
                ex["headers"] = {"Accept": example["parameters"].get("accept", "")}
                yield file, op, ex


def check_examples(index: SpecIndex, examples: Iterator[tuple[Path, Operation, dict[str, Json]]]) -> int:
    failures, count = [], 0
    for file, op, ex in examples:
        if file.name in EXAMPLE_QUIRKS:
            continue
        count += 1
        found = index.classify(ex)
        if not (isinstance(found, Operation) and (found.method, found.template) == (op.method, op.template)):
            failures.append(f"{file.name}: routed to {found}, not {op.operation_id}")
        failures += [f"{file.name}: {p}" for p in index.check_exchange(ex)]
    assert not failures, "\n".join(failures)
    return count


def test_arm_examples_pass(index: SpecIndex) -> None:
    assert check_examples(index, arm_examples(index)) >= 40


def test_devops_http_examples_pass(index: SpecIndex) -> None:
    assert check_examples(index, devops_examples(index)) >= 80


def test_example_quirks_still_fail(index: SpecIndex) -> None:
    examples = [*arm_examples(index), *devops_examples(index)]
    failing = {f.name for f, _, ex in examples if index.check_exchange(ex) or not index.classify(ex)}
    assert set(EXAMPLE_QUIRKS) <= failing


def test_registry_create_quirk_is_only_the_null_status(index: SpecIndex) -> None:
    (ex201,) = [
        ex for f, _, ex in arm_examples(index) if f.name == "RegistryCreate.json" and ex["status"] == 201
    ]
    assert [p.split(": ", 1)[1] for p in index.check_exchange(ex201)] == [
        "properties.status: expected object, got null (spec: containerregistry.json#/definitions/Status)"
    ]


def test_quirks_are_only_their_nulls(index: SpecIndex) -> None:
    """Each null quirk fails only on null members, so a real mismatch in the same example still shows."""
    nullish = ("got null",)
    for file, _, ex in arm_examples(index):
        if file.name in EXAMPLE_QUIRKS and "null" in EXAMPLE_QUIRKS[file.name]:
            problems = index.check_exchange(ex)
            assert problems and all(any(n in p for n in nullish) for p in problems), (file.name, problems)


def mdp_example(index: SpecIndex) -> dict[str, Json]:
    (put,) = [
        ex for f, _, ex in arm_examples(index) if f.name == "CreateOrUpdatePool.json" and ex["status"] == 200
    ]
    return put


def test_discriminator_selects_the_subtype(index: SpecIndex) -> None:
    """Managed DevOps Pools' profiles are polymorphic (`kind`): members of the subtype are known."""
    put = mdp_example(index)
    assert put["request"]["properties"]["fabricProfile"]["kind"] == "Vmss"
    assert index.check_exchange(put) == []


@pytest.mark.parametrize(
    ("profile", "change", "expected"),
    [
        ("fabricProfile", {"kind": "Vms"}, "properties.fabricProfile.kind: value 'Vms' names no subtype"),
        ("fabricProfile", {"images": "x"}, "properties.fabricProfile.images: expected array"),
        ("fabricProfile", {"sku": {"size": "x"}}, "properties.fabricProfile.sku.size: unknown property"),
        ("agentProfile", {"kind": "Stateful", "maxAgentLifetime": 7}, "maxAgentLifetime: expected string"),
        ("agentProfile", {"kind": "Stateless", "maxAgentLifetime": "7.00:00:00"}, "unknown property"),
        ("organizationProfile", {"kind": "GitHub"}, "organizations[0].openAccess: unknown property"),
        ("organizationProfile", {"kind": None}, "organizationProfile.kind: value None names no subtype"),
    ],
)
def test_discriminator_mutations_fail(
    index: SpecIndex, profile: str, change: dict[str, Json], expected: str
) -> None:
    put = mdp_example(index)
    body = json.loads(json.dumps(put["request"]))
    body["properties"][profile].update(change)
    problems = index.check_exchange({**put, "request": body, "response": None, "status": None})
    assert any(expected in p for p in problems), problems


def test_in_scope_devops_areas_have_passing_examples(index: SpecIndex) -> None:
    passed = {op.operation_id for f, op, ex in devops_examples(index) if not index.check_exchange(ex)}
    for operation_id in (
        "Check Configurations_Add",
        "Endpoints_Create",
        "Pipeline Permissions_Update Pipeline Permisions For Resource",
        "Endpoints_Get Service Endpoints By Names",
    ):
        assert operation_id in passed


# ---- ARM: scale set -----------------------------------------------------------------------------


def vmss_body() -> dict[str, Json]:
    """The scale set agentctl itself sends for the example pool (a version pinned)."""
    spec = dataclasses.replace(SPEC, image=dataclasses.replace(SPEC.image, version="2026.1129.1"))
    return desired.scale_set_body(spec, "ssh-ed25519 AAAA")


def vmss_response() -> dict[str, Json]:
    body = vmss_body()
    body.update({"id": VMSS, "name": "vmss-agents", "type": "Microsoft.Compute/virtualMachineScaleSets"})
    body["identity"]["userAssignedIdentities"][SPEC.scaleSet.identity.userAssigned] = {
        "principalId": "p",
        "clientId": "c",
    }
    body["properties"].update(
        {"provisioningState": "Creating", "uniqueId": "u", "timeCreated": "2026-11-29T20:00:00Z"}
    )
    return body


def put_vmss(request: Json, response: Json = None, status: int = 201) -> dict[str, Json]:
    return exchange(
        "PUT",
        VMSS,
        status,
        request,
        vmss_response() if response is None else response,
        **{"api-version": "2026-04-01"},
    )


def test_agent_scale_set_conforms(index: SpecIndex) -> None:
    assert index.check_exchange(put_vmss(vmss_body())) == []
    assert index.check_exchange(exchange("GET", VMSS, 200, None, vmss_response())) == []


def test_misspelled_property_names_path_and_both_specs(index: SpecIndex) -> None:
    body = vmss_body()
    body["properties"]["virtualMachineProfile"]["osProfile"]["adminPasword"] = "x"
    assert index.check_exchange(put_vmss(body)) == [
        f"PUT {VMSS} request: properties.virtualMachineProfile.osProfile.adminPasword: unknown property "
        "(spec: virtualMachineScaleSet.json#/definitions/VirtualMachineScaleSetOSProfile, "
        "2026-03-01/Microsoft.Compute.json#/definitions/VirtualMachineScaleSetOSProfile)"
    ]


def test_unknown_nested_property_in_network_profile(index: SpecIndex) -> None:
    body = vmss_body()
    nic = body["properties"]["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"][0]
    nic["properties"]["ipConfigurations"][0]["properties"]["publicIp"] = {"name": "pip"}
    (problem,) = index.check_exchange(put_vmss(body))
    assert (
        "request: properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations[0]"
        ".properties.ipConfigurations[0].properties.publicIp: unknown property" in problem
    )
    assert "#/definitions/VirtualMachineScaleSetIPConfigurationProperties" in problem


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        ("overprovision", "false", "properties.overprovision: expected boolean, got string"),
        ("upgradePolicy", {"mode": "manual"}, "properties.upgradePolicy.mode: value 'manual' is not one of"),
        ("highSpeedInterconnectPlacement", "Nope", "properties.highSpeedInterconnectPlacement: value 'Nope'"),
    ],
)
def test_wrong_type_enum_and_range(index: SpecIndex, member: str, value: Json, message: str) -> None:
    body = vmss_body()
    body["properties"][member] = value
    (problem,) = index.check_exchange(put_vmss(body))
    assert f"PUT {VMSS} request: {message}" in problem


def test_property_newer_than_swagger_is_judged_by_the_newest_arm_schema(index: SpecIndex) -> None:
    body = vmss_body()
    body["properties"]["highSpeedInterconnectPlacement"] = "None"  # ComputeRP 2026-03-01, not in 2024-07-01
    assert index.check_exchange(put_vmss(body)) == []
    assert NEWER_THAN_SPECS == ()


def test_read_only_members_tolerated_in_requests_and_checked_in_responses(index: SpecIndex) -> None:
    body = vmss_body()
    body["properties"]["provisioningState"] = "Succeeded"
    assert index.check_exchange(put_vmss(body)) == []
    response = vmss_response()
    response["properties"]["provisioningState"] = 3
    (problem,) = index.check_exchange(put_vmss(vmss_body(), response))
    assert "response 201: properties.provisioningState: expected string, got integer" in problem


def test_unknown_property_in_response(index: SpecIndex) -> None:
    response = vmss_response()
    response["properties"]["virtualMachineProfile"]["storageProfile"]["osDisk"]["cachng"] = "None"
    (problem,) = index.check_exchange(exchange("GET", VMSS, 200, None, response))
    assert (
        "response 200: properties.virtualMachineProfile.storageProfile.osDisk.cachng: unknown property"
        in problem
    )


def test_status_body_and_error_rules(index: SpecIndex) -> None:
    (undeclared,) = index.check_exchange(put_vmss(vmss_body(), status=202))
    assert "status 202 is not declared (declared: 200, 201, default)" in undeclared
    (missing,) = index.check_exchange(put_vmss(None))
    assert "request: (body): required body missing" in missing
    error = {"error": {"code": "InvalidParameter", "message": "bad", "target": "properties.foo"}}
    bad = vmss_body()
    bad["properties"]["foo"] = 1
    assert index.check_exchange(put_vmss(bad, error, status=400)) == []  # rejecting is right
    (dropped,) = index.check_exchange({**put_vmss(bad), "status": None, "response": None})
    assert "request: properties.foo: unknown property" in dropped
    (error_problem,) = index.check_exchange(
        put_vmss(bad, {"error": {"code": "X", "mesage": "m"}}, status=400)
    )
    assert (
        "response 400: error.mesage: unknown property (spec: common.json#/definitions/ApiError)"
        in error_problem
    )
    assert index.check_exchange(exchange("DELETE", VMSS, 202)) == []
    (body_on_202,) = index.check_exchange(exchange("DELETE", VMSS, 202, None, {"status": "Deleting"}))
    assert "the spec declares no body for status 202" in body_on_202


def test_instance_list_routes_to_vm_list(index: SpecIndex) -> None:
    found = index.classify(exchange("GET", f"{VMSS}/virtualMachines"))
    assert isinstance(found, Operation) and found.operation_id == "VirtualMachineScaleSetVMs_List"
    page = {
        "value": [{"location": "westeurope", "instanceId": "0", "properties": {"latestModelApplied": True}}]
    }
    assert index.check_exchange(exchange("GET", f"{VMSS}/virtualMachines", 200, None, page)) == []


def test_sandbox_run_command_and_instance_view_conform(index: SpecIndex) -> None:
    """The sandbox's RunCommandResult (returned at the operation's Location URL, which the exchange
    check cannot tie to the operation) and an instance view with the agent extension's status,
    against VirtualMachineScaleSetVMs_RunCommand and _GetInstanceView."""
    from agentctl.sandbox import guest
    from agentctl.sandbox.arm import compute

    run = f"{VMSS}/virtualMachines/0/runCommand"
    found = index.classify(exchange("POST", run))
    assert isinstance(found, Operation) and found.operation_id == "VirtualMachineScaleSetVMs_RunCommand"
    body = {"commandId": "RunShellScript", "script": ["echo hi"]}
    for status in (0, 3):
        assert (
            index.check_exchange(exchange("POST", run, 200, body, guest.result(status, "hi", "oops"))) == []
        )
    (misspelled,) = index.check_exchange(exchange("POST", run, 202, {"commandId": "x", "scripts": []}))
    assert "scripts: unknown property" in misspelled
    (bad_status,) = index.check_exchange(exchange("POST", run, 200, body, {"value": [{"code": 1}]}))
    assert "value[0].code" in bad_status
    vm = {
        "id": f"{VMSS}/virtualMachines/0",
        "instanceId": "0",
        "properties": {
            "provisioningState": "Succeeded",
            "timeCreated": "2026-11-29T20:00:00Z",
            "osProfile": {"computerName": "vmss-agents000000"},
            "storageProfile": {"osDisk": {"name": "osdisk"}},
        },
    }
    st: dict[str, Any] = {}
    guest.set_extension(st, vm["id"], "failed", "Enable failed: could not download the agent", 0.0)
    view = compute.full_instance_view(st, vm)
    assert view["extensions"][0]["type"] == "Microsoft.VisualStudio.Services.TeamServicesAgentLinux"
    path = f"{VMSS}/virtualMachines/0/instanceView"
    found = index.classify(exchange("GET", path))
    assert isinstance(found, Operation) and found.operation_id == "VirtualMachineScaleSetVMs_GetInstanceView"
    assert index.check_exchange(exchange("GET", path, 200, None, view)) == []
    wrong = {**view, "extensions": [{**view["extensions"][0], "state": "failed"}]}
    (problem,) = index.check_exchange(exchange("GET", path, 200, None, wrong))
    assert "extensions[0].state: unknown property" in problem


def test_async_operation_status(index: SpecIndex) -> None:
    path = f"{SUB}/providers/Microsoft.Compute/locations/westeurope/operations/8d3f"
    done = {"name": "8d3f", "status": "Succeeded", "startTime": "2026-11-29T20:00:00Z"}
    assert index.check_exchange(exchange("GET", path, 200, None, done)) == []
    (problem,) = index.check_exchange(exchange("GET", path, 200, None, {**done, "state": "x"}))
    assert "state: unknown property (spec: types.json#/definitions/OperationStatusResult)" in problem
    result = path.replace("/operations/", "/operationResults/")
    assert index.check_exchange(exchange("GET", result, 202)) == []
    failed = {"error": {"code": "InternalExecutionError", "message": "m"}}
    assert index.check_exchange(exchange("GET", result, 400, None, failed)) == []
    (running,) = index.check_exchange(exchange("GET", result, 202, None, done))
    assert "the spec declares no body for status 202" in running


# ---- ARM: gallery, AKS, identity, RBAC ----------------------------------------------------------


def test_gallery_image_version_newest_schema(index: SpecIndex) -> None:
    path = f"{IMAGE}/versions/2026.1129.1"
    properties = {
        "storageProfile": {"source": {"id": f"{RG}/providers/Microsoft.Compute/images/x"}},
        "restore": False,  # GalleryRP 2025-12-03 only
    }
    body = {"location": "westeurope", "properties": properties}
    assert index.check_exchange(exchange("PUT", path, 200, body, None)) == [
        f"PUT {path} response 200: (body): missing, the spec declares one for status 200 "
        "(spec: gallery.json GalleryImageVersions_CreateOrUpdate)"
    ]
    properties["restor"] = False
    problem, _in_response_too = index.check_exchange(exchange("PUT", path, 200, body, body))
    assert (
        "request: properties.restor: unknown property (spec: gallery.json#/definitions/GalleryImageVersion"
        "Properties, 2025-12-03/Microsoft.Compute.json#/definitions/GalleryImageVersionProperties)" in problem
    )


def test_aks_credentials_are_base64_and_secrets_stay_out_of_messages(index: SpecIndex) -> None:
    path = f"{AKS}/listClusterUserCredential"
    secret = "apiVersion: v1\nusers:\n- user: {token: s3cr3t-token}"
    good = {"kubeconfigs": [{"name": "clusterUser", "value": "YXBpVmVyc2lvbjogdjE="}]}
    assert index.check_exchange(exchange("POST", path, 200, None, good)) == []
    (problem,) = index.check_exchange(exchange("POST", path, 200, None, {"kubeconfigs": [{"value": secret}]}))
    assert "kubeconfigs[0].value: not base64 (format: byte)" in problem
    assert "s3cr3t" not in problem
    logged = {"kubeconfigs": [{"name": "clusterUser", "value": "***REDACTED***"}]}  # as in access.jsonl
    assert index.check_exchange(exchange("POST", path, 200, None, logged)) == []
    admin = exchange(
        "POST",
        f"{AKS}/listClusterAdminCredential",
        400,
        None,
        {"error": {"code": "BadRequest", "message": "local accounts are disabled"}},
    )
    assert index.check_exchange(admin) == []


def test_role_assignment_scope_spans_segments(index: SpecIndex) -> None:
    path = f"{RG}/providers/Microsoft.Authorization/roleAssignments/3fc8f1c4-4d5c-4d1b-a1b6-5fa7b1d0d3e0"
    found = index.classify(exchange("PUT", path))
    assert isinstance(found, Operation) and found.operation_id == "RoleAssignments_Create"
    body = {"properties": {"roleDefinitionId": "r", "principalId": "p", "principalType": "Robot"}}
    problem, _no_response_body = index.check_exchange(exchange("PUT", path, 201, body, None))
    assert "request: properties.principalType: value 'Robot' is not one of User, Group" in problem


def test_federated_credential_requires_members(index: SpecIndex) -> None:
    path = f"{IDENTITY}/federatedIdentityCredentials/azdo"
    body = {
        "properties": {"issuer": "https://vstoken.dev.azure.com/x", "subject": "sc://contoso/platform/arm"}
    }
    problem, _in_response_too = index.check_exchange(exchange("PUT", path, 200, body, {**body, "id": path}))
    assert "request: properties.audiences: required property missing" in problem


def test_resource_group_path_case_is_ignored(index: SpecIndex) -> None:
    found = index.classify(exchange("HEAD", RG))
    assert isinstance(found, Operation) and found.operation_id == "ResourceGroups_CheckExistence"
    assert index.check_exchange(exchange("HEAD", RG, 204)) == []


# ---- Azure DevOps -------------------------------------------------------------------------------


def elastic_pool() -> dict[str, Json]:
    return {
        "azureId": VMSS,
        "serviceEndpointId": "2f3c6a38-2a3b-4a4e-8a52-3d0b8d3bcd11",
        "serviceEndpointScope": PROJECT_ID,
        "maxCapacity": 10,
        "desiredIdle": 1,
        "recycleAfterEachUse": False,
        "timeToLiveMinutes": 30,
        "maxSavedNodeCount": 1,
        "osType": "linux",
        "agentInteractiveUI": False,
    }


def create_pool(request: Json, **query: str) -> dict[str, Json]:
    pool = {
        "id": 12,
        "name": "private-agents",
        "isHosted": False,
        "poolType": "automation",
        "size": 0,
        "options": "elasticPool",
        "createdOn": "2026-11-29T20:00:00Z",
    }
    queue = {
        "id": 7,
        "name": "private-agents",
        "projectId": PROJECT_ID,
        "pool": {"id": 12, "name": "private-agents"},
    }
    result = {
        "agentPool": pool,
        "agentQueue": queue,
        "elasticPool": {**elastic_pool(), "poolId": 12, "state": "new"},
    }
    query = query or {"poolName": "private-agents", "authorizeAllPipelines": "false", "projectId": PROJECT_ID}
    return exchange("POST", f"{ORG}/_apis/distributedtask/elasticpools", 200, request, result, **query)


def test_elastic_pool_create(index: SpecIndex) -> None:
    assert index.check_exchange(create_pool(elastic_pool())) == []
    body = elastic_pool()
    body["maxCapacty"] = body.pop("maxCapacity")
    body["osType"] = "Linux"
    body["desiredIdle"] = 2**31
    problems = index.check_exchange(create_pool(body))
    pointer = "(spec: 7.1/elastic.json#/definitions/ElasticPool)"
    assert sorted(p.split(" request: ")[1] for p in problems) == [
        f"desiredIdle: number out of range [-2147483648, 2147483647] {pointer}",
        f"maxCapacty: unknown property {pointer}",
        f"osType: value 'Linux' is not one of windows, linux {pointer}",
    ]
    (query_problem,) = index.check_exchange(create_pool(elastic_pool(), projectId=PROJECT_ID))
    assert "request: query parameter poolName: required but missing" in query_problem


def test_devops_list_is_wrapped(index: SpecIndex) -> None:
    path = f"{ORG}/_apis/distributedtask/elasticpools/12/nodes"
    node = {
        "id": 1,
        "agentId": 3,
        "computeId": "0",
        "state": "idle",
        "agentState": "online",
        "computeState": "healthy",
        "desiredState": "none",
        "poolId": 12,
        "name": "vmss-agents_0",
    }
    assert index.check_exchange(exchange("GET", path, 200, None, {"count": 1, "value": [node]})) == []
    (bare,) = index.check_exchange(exchange("GET", path, 200, None, [node]))
    assert "expected the Azure DevOps list wrapper {count, value}" in bare
    (count,) = index.check_exchange(exchange("GET", path, 200, None, {"count": 2, "value": [node]}))
    assert "count: 2 but value has 1 items" in count
    (item,) = index.check_exchange(
        exchange("GET", path, 200, None, {"count": 1, "value": [{**node, "state": "busy"}]})
    )
    assert "response 200: value[0].state: value 'busy' is not one of" in item


def test_devops_nulls_links_and_delete(index: SpecIndex) -> None:
    path = f"{ORG}/_apis/distributedtask/pools/12"
    pool = {
        "id": 12,
        "name": "p",
        "targetSize": None,
        "owner": {"id": "u", "_links": {"avatar": {"href": "h"}}},
    }
    assert index.check_exchange(exchange("GET", path, 200, None, pool)) == []
    assert index.check_exchange(exchange("DELETE", path, 204)) == []
    (created,) = index.check_exchange(
        exchange("POST", f"{ORG}/_apis/distributedtask/pools", 201, {"name": "p"}, pool)
    )
    assert "status 201 is not declared (declared: 200)" in created


def check_configuration(settings: Json = None) -> dict[str, Json]:
    body: dict[str, Json] = {
        "type": APPROVAL_TYPE,
        "resource": {"type": "environment", "id": "4", "name": "private-aks-dev"},
        "timeout": 43200,
    }
    if settings is not None:
        body["settings"] = settings
    return body


APPROVAL_SETTINGS = {
    "approvers": [{"id": "3b3db741-9d03-4e32-a7c0-6c3dfc2013c1"}],
    "minRequiredApprovers": 1,
    "instructions": "Approve deployments to the private cluster",
    "requesterCannotBeApprover": True,
}


def post_check(request: Json, response: Json = None) -> dict[str, Json]:
    reply = response if response is not None else {**request, "id": 19, "url": "https://x/19"}
    return exchange("POST", f"{PROJECT}/_apis/pipelines/checks/configurations", 200, request, reply)


def test_check_configuration_settings_follow_the_spec_examples(index: SpecIndex) -> None:
    assert index.check_exchange(post_check(check_configuration(APPROVAL_SETTINGS))) == []
    (missing,) = index.check_exchange(post_check(check_configuration(), {**check_configuration(), "id": 1}))
    assert missing.startswith(
        f"POST {PROJECT}/_apis/pipelines/checks/configurations request: settings: required"
    )
    wrong = {**APPROVAL_SETTINGS, "minApprovers": 1, "approvers": [{"id": 5}]}
    problems = index.check_exchange(
        post_check(check_configuration(wrong), check_configuration(APPROVAL_SETTINGS))
    )
    example = "7.1/httpExamples/configurations/POST__AddApprovalCheckConfiguration.json"
    pointer = f"(spec: {example}#/parameters/body/settings)"
    assert sorted(p.split(" request: ")[1] for p in problems) == [
        f"settings.approvers[0].id: expected string, got integer {pointer}",
        f"settings.minApprovers: unknown property {pointer}",
    ]
    unknown_type = {**check_configuration({"x": 1}), "type": {"name": "Mystery"}}
    no_example, _in_response_too = index.check_exchange(post_check(unknown_type))
    assert "request: settings: no example of settings for check type 'Mystery'" in no_example


def test_service_connections(index: SpecIndex) -> None:
    """The ARM connection agentctl builds (desired.connection_body) against the spec."""
    project = {"id": PROJECT_ID, "name": "platform"}
    arm = desired.connection_body(SPEC, project, "t", "c", "AzureCloud", "https://management.azure.com/")
    assert arm["authorization"]["scheme"] == "WorkloadIdentityFederation"
    reply = {
        **arm,
        "id": "2f3c6a38-2a3b-4a4e-8a52-3d0b8d3bcd11",
        "isReady": True,
        "owner": "library",
        "operationStatus": {"state": "Ready", "statusMessage": ""},
    }
    path = f"{ORG}/_apis/serviceendpoint/endpoints"
    assert index.check_exchange(exchange("POST", path, 200, arm, reply)) == []
    bad = {
        **arm,
        "authorization": {"scheme": "Kubernetes", "parameters": {"kubeconfig": {"apiVersion": "v1"}}},
    }
    (problem,) = index.check_exchange(exchange("POST", path, 200, bad, reply))
    assert "request: authorization.parameters.kubeconfig: expected string, got object" in problem
    assert "apiVersion" not in problem.split(":", 3)[-1].split("(spec")[0]


def test_environments_permissions_and_queues(index: SpecIndex) -> None:
    env = exchange(
        "POST",
        f"{PROJECT}/_apis/distributedtask/environments",
        200,
        {"name": "private-aks-dev", "description": "d"},
        {
            "id": 4,
            "name": "private-aks-dev",
            "createdOn": "2026-11-29T20:00:00Z",
            "project": {"id": PROJECT_ID, "name": "platform"},
        },
    )
    env["headers"] = {"Accept": "application/json;api-version=7.1-preview.1"}
    assert index.check_exchange(env) == []
    found = index.classify(env)
    assert isinstance(found, Operation) and found.devops_version == "7.1"
    newer = index.classify({**env, "path": f"{PROJECT}/_apis/pipelines/environments"})
    assert isinstance(newer, Operation) and newer.devops_version == "7.2"
    logged = {
        "method": "GET",
        "path": f"{PROJECT}/_apis/distributedtask/queues",
        "query": {"queueNames": "q"},
        "requestHeaders": {"Accept": "application/json;api-version=7.2-preview.1"},
    }
    by_names = index.classify(logged)
    assert isinstance(by_names, Operation) and by_names.devops_version == "7.2"
    assert by_names.operation_id == "Queues_Get Agent Queues By Names"
    permissions = exchange(
        "PATCH",
        f"{PROJECT}/_apis/pipelines/pipelinepermissions/queue/7",
        200,
        {"allPipelines": {"authorized": True}},
        {"resource": {"type": "queue", "id": "7"}, "allPipelines": {"authorized": True}, "pipelines": []},
    )
    assert index.check_exchange(permissions) == []
    queues = exchange(
        "GET",
        f"{PROJECT}/_apis/distributedtask/queues",
        200,
        None,
        {"count": 1, "value": [{"id": 7, "name": "private-agents", "pool": {"id": 12}}]},
        queueNames="private-agents",
    )
    assert index.check_exchange(queues) == []


# ---- routing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{RG}/providers/Microsoft.Web/sites/app"),  # generic resource routes are not used
        ("GET", f"{SUB}/providers/Microsoft.Compute/locations/westeurope/publishers"),
        ("GET", f"{ORG}/_apis/distributedtask/elasticpools/12/agents"),
        ("POST", f"{ORG}/_apis/pipelines/checks/configurations"),  # project missing
    ],
)
def test_unroutable_paths_are_reported(index: SpecIndex, method: str, path: str) -> None:
    assert index.check_exchange(exchange(method, path, 200)) == [f"no spec operation for {method} {path}"]


@pytest.mark.parametrize(
    ("method", "path", "reason"),
    [
        ("OPTIONS", f"{ORG}/_apis", "route discovery"),
        ("GET", f"{ORG}/_apis/ResourceAreas", "resource-area discovery"),
        ("POST", "/sandbox/reset", "sandbox-only"),
        ("POST", "/7c1d3e5f-2a4b-4c6d-8e0f-1a2b3c4d5e6f/oauth2/v2.0/token", "Microsoft Entra ID sign-in"),
        ("GET", "/common/discovery/instance", "Microsoft Entra ID sign-in"),
        ("GET", f"{ORG}/_apis/identities", "Identities API"),
        ("GET", f"{ORG}/_apis/projects/platform", "projects"),
        ("GET", f"{RG}/providers/Microsoft.Authorization/roleDefinitions/x", "role definitions"),
    ],
)
def test_skips_are_explicit(index: SpecIndex, method: str, path: str, reason: str) -> None:
    found = index.classify(exchange(method, path))
    assert isinstance(found, Skipped) and reason in found.reason
    assert index.check_exchange(exchange(method, path, 200, None, {"anything": 1})) == []


# ---- helpers ------------------------------------------------------------------------------------


def test_assert_conforms_lists_every_problem(index: SpecIndex) -> None:
    assert_conforms([put_vmss(vmss_body()), create_pool(elastic_pool())], index)
    bad = vmss_body()
    bad["properties"]["overprovision"] = "no"
    with pytest.raises(AssertionError) as raised:
        assert_conforms([put_vmss(bad), exchange("GET", "/nowhere/x/y", 200), put_vmss(vmss_body())], index)
    text = str(raised.value)
    assert text.startswith("2 spec conformance problem(s) in 3 exchange(s):\n")
    assert "properties.overprovision: expected boolean" in text
    assert "no spec operation for GET /nowhere/x/y" in text


def test_specs_dir_and_load(index: SpecIndex, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENTCTL_SPECS_DIR", str(tmp_path))
    assert specs_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match="specs folder not found"):
        SpecIndex(tmp_path)
    assert SpecIndex(index.root).root == index.root
    assert SpecIndex.load(index.root) is index


def test_missing_specs_skip_locally_and_fail_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGENTCTL_SPECS_DIR", str(tmp_path / "absent"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="shared specs folder not found"):
        load_for_tests()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="shared specs folder not found"):
        load_for_tests()
