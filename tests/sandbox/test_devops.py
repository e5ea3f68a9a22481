"""Azure DevOps through the real azure-devops SDK: discovery, projects, service endpoints,
permissions, elastic pools and what Azure DevOps does after one exists, pools, queues,
environments, checks and identities."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from azure.devops.exceptions import AzureDevOpsAuthenticationError, AzureDevOpsServiceError
from azure.devops.v7_1.elastic.models import ElasticPool, ElasticPoolSettings
from sandbox_helpers import PROJECT, RG_ID, SUB, Arm, outside_the_specs, vmss_body

from agentctl.sandbox import Sandbox
from agentctl.sandbox.testing import devops_connection

PROJECT_ID = "2c7e5a9f-4b1d-4e8c-a6f3-9d0b1e2c7a5f"
CLIENT_ID = "5e2a8c4f-1b7d-4e9a-a3c6-7f0b2d5e9a1c"
PRINCIPAL_ID = "3b9f6c1e-8d2a-4f5b-9c7e-2a1d4e6f8b0c"
VMSS_ID = f"{RG_ID}/rg-agents/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-agents"
ROLES = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions"
VM_CONTRIBUTOR = f"{ROLES}/9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
APPROVAL = "8c6f20a7-a545-4486-9777-f762fafe0d4d"
CHECKS = "86c8381e-5aee-4cde-8ae4-25c0c7f5eaea"
ENVIRONMENTS = "8572b1fc-2482-47fa-8f74-7e3ed53ee54b"


def refs(name: str) -> list[dict[str, Any]]:
    return [{"projectReference": {"id": PROJECT_ID, "name": PROJECT}, "name": name}]


def azure_connection(name: str = "arm-agents", **params: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "AzureRM",
        "url": "https://management.azure.com/",
        "authorization": {
            "scheme": "WorkloadIdentityFederation",
            "parameters": {
                "tenantid": "7c1d3e5f-2a4b-4c6d-8e0f-1a2b3c4d5e6f",
                "serviceprincipalid": CLIENT_ID,
                **params,
            },
        },
        "data": {
            "subscriptionId": SUB,
            "subscriptionName": "Contoso Platform",
            "environment": "AzureCloud",
            "scopeLevel": "Subscription",
            "creationMode": "Manual",
        },
        "serviceEndpointProjectReferences": refs(name),
    }


def service_error(fn: Callable[[], Any]) -> AzureDevOpsServiceError:
    with pytest.raises(AzureDevOpsServiceError) as e:
        fn()
    return e.value


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


# --- discovery, auth, versions -----------------------------------------------------------------


def test_route_discovery_and_resource_areas(sb: Sandbox, devops: Any) -> None:
    from azure.devops._file_cache import OPTIONS_CACHE

    # The SDK caches discovered routes on disk by URL: a sandbox on a port an earlier test's sandbox
    # used would be answered from that cache, with no OPTIONS request.
    OPTIONS_CACHE.clear()
    devops.get_core_client().get_projects()
    ops = [x["operation"] for x in sb.exchanges]
    assert "devops.discovery.options" in ops
    assert "devops.resourceareas.list" in ops
    options = next(x for x in sb.exchanges if x["operation"] == "devops.discovery.options")["response"]
    assert options["count"] == len(options["value"])
    assert {
        "id",
        "area",
        "resourceName",
        "routeTemplate",
        "resourceVersion",
        "minVersion",
        "maxVersion",
        "releasedVersion",
    } <= set(options["value"][0])
    areas = next(x for x in sb.exchanges if x["operation"] == "devops.resourceareas.list")["response"]
    assert areas == {"count": 0, "value": []}


def test_no_token_is_401(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sb.ca_bundle)
    client = devops_connection(sb, token="not-a-token").clients_v7_1
    with pytest.raises(AzureDevOpsAuthenticationError):
        client.get_core_client().get_projects()


def test_api_version_rules(devops: Any) -> None:
    el = devops.get_elastic_client()
    el.get_elastic_pools()  # routes discovered; now speak through the SDK's raw request path

    def send(method: str, accept: str) -> Any:
        request = el._create_request_message(method, "dd3c938f-835b-4971-b99a-db75a47aad43")
        body = {} if method == "POST" else None
        return el._client.send(
            request, headers={"Content-Type": "application/json", "Accept": accept}, content=body
        )

    no_version = send("POST", "application/json")
    assert (no_version.status_code, no_version.json()["typeKey"]) == (400, "VssVersionNotSpecifiedException")
    assert send("GET", "application/json").status_code == 200  # a GET without a version gets the latest
    assert send("GET", "application/json;api-version=7.1").status_code == 200  # released in 7.1
    unreleased = send("GET", "application/json;api-version=7.2")
    assert unreleased.json()["typeKey"] == "VssInvalidPreviewVersionException"
    too_new = send("GET", "application/json;api-version=9.0-preview.1")
    assert too_new.json()["typeKey"] == "VssVersionOutOfRangeException"
    assert send("GET", "application/json;api-version=7.1-preview.1").status_code == 200


def test_released_and_preview_versions_as_the_specs_mark_them(sb: Sandbox) -> None:
    """Plain 7.1 where the 7.1 specs mark the operation released; checks stay preview."""
    import ssl
    import urllib.error
    import urllib.request

    def status(path: str, version: str) -> tuple[int, str]:
        req = urllib.request.Request(
            f"{sb.devops_url}/{path}?api-version={version}",
            headers={"Authorization": f"Bearer {sb.devops_token}"},
        )
        try:
            with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=sb.ca_bundle)) as r:
                return r.status, ""
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)["typeKey"]

    for path in (
        "_apis/distributedtask/elasticpools",
        f"{PROJECT}/_apis/serviceendpoint/endpoints",
        f"{PROJECT}/_apis/distributedtask/environments",
        "_apis/distributedtask/pools",
    ):
        assert status(path, "7.1") == (200, ""), path
    checks = f"{PROJECT}/_apis/pipelines/checks/configurations"
    assert status(checks, "7.1") == (400, "VssInvalidPreviewVersionException")
    assert status(checks, "7.1-preview.1") == (400, "ArgumentException")  # past the version check


def test_projects(devops: Any) -> None:
    core = devops.get_core_client()
    assert core.get_project(PROJECT).id == PROJECT_ID
    assert core.get_project(PROJECT_ID).name == PROJECT
    assert [p.name for p in core.get_projects()] == [PROJECT]
    e = service_error(lambda: core.get_project("nope"))
    assert e.type_key == "ProjectDoesNotExistWithNameException"


def test_identities(devops: Any) -> None:
    ims = devops.get_identity_client()
    found = ims.read_identities(search_filter="General", filter_value="platform-leads@contoso.com")
    assert [i.provider_display_name for i in found] == ["Platform Leads"]
    assert found[0].is_container
    alice = ims.read_identities(search_filter="MailAddress", filter_value="alice@contoso.com")[0]
    assert ims.read_identities(descriptors=alice.descriptor)[0].id == alice.id
    assert ims.read_identities(identity_ids=alice.id)[0].descriptor == alice.descriptor
    assert ims.read_identities(search_filter="General", filter_value="nobody@contoso.com") == []
    assert found[0].members == [
        alice.descriptor,
        ims.read_identities(search_filter="General", filter_value="bob@contoso.com")[0].descriptor,
    ]


# --- service endpoints -------------------------------------------------------------------------


def test_workload_identity_connection(devops: Any) -> None:
    se = devops.get_service_endpoint_client()
    ep = se.create_service_endpoint(azure_connection())
    params = ep.authorization.parameters
    assert ep.is_ready
    assert (
        params["workloadIdentityFederationIssuer"]
        == "https://vstoken.dev.azure.com/0f4e9b2c-6a1d-4c8e-b5f7-3d2a9e6c1b4f"
    )
    assert params["workloadIdentityFederationSubject"] == "sc://contoso/platform/arm-agents"
    assert se.get_service_endpoint_details(PROJECT, ep.id).name == "arm-agents"
    renamed = se.update_service_endpoint({**azure_connection("arm-renamed"), "id": ep.id}, ep.id)
    assert (
        renamed.authorization.parameters["workloadIdentityFederationSubject"]
        == "sc://contoso/platform/arm-renamed"
    )


def test_secrets_are_never_echoed(sb: Sandbox, devops: Any) -> None:
    se = devops.get_service_endpoint_client()
    kubeconfig = "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: s3cr3t-t0ken-value}\n"
    k8s = se.create_service_endpoint(
        {
            "name": "private-aks-dev",
            "type": "kubernetes",
            "url": "https://aks-dev.privatelink.westeurope.azmk8s.io:443",
            "authorization": {
                "scheme": "Kubernetes",
                "parameters": {"kubeconfig": kubeconfig, "clusterContext": "aks-dev"},
            },
            "data": {"authorizationType": "Kubeconfig", "acceptUntrustedCerts": False},
            "serviceEndpointProjectReferences": refs("private-aks-dev"),
        }
    )
    assert k8s.authorization.parameters == {"kubeconfig": None, "clusterContext": "aks-dev"}
    assert k8s.data["acceptUntrustedCerts"] == "False"
    docker = se.create_service_endpoint(
        {
            "name": "acr",
            "type": "dockerregistry",
            "url": "https://acrprivate.azurecr.io",
            "authorization": {
                "scheme": "UsernamePassword",
                "parameters": {
                    "registry": "https://acrprivate.azurecr.io",
                    "username": "u",
                    "password": "p4ssw0rd!",
                },
            },
            "data": {"registrytype": "Others"},
            "serviceEndpointProjectReferences": refs("acr"),
        }
    )
    assert se.get_service_endpoint_details(PROJECT, docker.id).authorization.parameters["password"] is None
    assert "s3cr3t-t0ken-value" not in sb.access_log.read_text()
    assert "p4ssw0rd!" not in sb.access_log.read_text()
    assert "s3cr3t-t0ken-value" not in (sb.state_dir / "state.json").read_text()


def test_endpoint_lists_and_errors(sb: Sandbox, devops: Any) -> None:
    se = devops.get_service_endpoint_client()
    ep = se.create_service_endpoint(azure_connection())
    assert [e.name for e in se.get_service_endpoints_by_names(PROJECT, ["ARM-agents"])] == ["arm-agents"]
    assert [e.id for e in se.get_service_endpoints(PROJECT, type="azurerm")] == [ep.id]
    assert se.get_service_endpoints(PROJECT, type="kubernetes") == []
    assert se.get_service_endpoint_details(PROJECT, str(uuid.uuid4())) is None  # as the service: 200, null
    outside_the_specs(
        sb, "devops.endpoints.get", "the service answers 200 null for an unknown id (spec issue #285)"
    )
    e = service_error(lambda: se.create_service_endpoint(azure_connection()))
    assert (e.type_key, "already exists" in e.message) == ("DuplicateServiceConnectionException", True)
    e = service_error(
        lambda: se.create_service_endpoint({**azure_connection("x"), "serviceEndpointProjectReferences": []})
    )
    assert "endpointProjectReferences" in e.message
    e = service_error(lambda: se.create_service_endpoint(azure_connection("y", serviceprincipalid="")))
    assert "serviceprincipalid" in e.message
    se.delete_service_endpoint(ep.id, [PROJECT_ID])
    assert se.get_service_endpoints(PROJECT) == []


# --- the agent pool path -----------------------------------------------------------------------


@dataclass
class PoolSetup:
    endpoint: Any
    arm: Arm


def _grant(arm: Arm, scope: str) -> None:
    arm.auth.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        {"properties": {"roleDefinitionId": VM_CONTRIBUTOR, "principalId": PRINCIPAL_ID}},
    )


def _federate(arm: Arm, endpoint: Any) -> None:
    p = endpoint.authorization.parameters
    arm.msi.federated_identity_credentials.create_or_update(
        "rg-identity",
        "id-agents",
        "ado-arm-agents",
        {
            "properties": {
                "issuer": p["workloadIdentityFederationIssuer"],
                "subject": p["workloadIdentityFederationSubject"],
                "audiences": ["api://AzureADTokenExchange"],
            }
        },
    )


@pytest.fixture
def setup(arm: Arm, devops: Any) -> PoolSetup:
    """What agentctl creates before the pool: group, scale set, connection, credential, role."""
    arm.resource.resource_groups.create_or_update("rg-agents", {"location": "westeurope"})
    arm.compute.virtual_machine_scale_sets.begin_create_or_update(
        "rg-agents", "vmss-agents", vmss_body()
    ).result()
    endpoint = devops.get_service_endpoint_client().create_service_endpoint(azure_connection())
    _federate(arm, endpoint)
    _grant(arm, f"/subscriptions/{SUB}/resourceGroups/rg-agents")
    return PoolSetup(endpoint, arm)


def pool_spec(setup: PoolSetup, **changes: Any) -> ElasticPool:
    spec = {
        "azure_id": VMSS_ID,
        "service_endpoint_id": setup.endpoint.id,
        "service_endpoint_scope": PROJECT_ID,
        "max_capacity": 10,
        "desired_idle": 1,
        "recycle_after_each_use": False,
        "time_to_live_minutes": 30,
        "max_saved_node_count": 1,
        "os_type": "linux",
        "agent_interactive_uI": False,
        **changes,
    }
    return ElasticPool(**spec)


def create_pool(devops: Any, setup: PoolSetup, name: str = "private-agents", **changes: Any) -> Any:
    return devops.get_elastic_client().create_elastic_pool(
        pool_spec(setup, **changes),
        name,
        authorize_all_pipelines=False,
        auto_provision_project_pools=False,
        project_id=PROJECT_ID,
    )


def test_elastic_pool_scales_the_scale_set_and_nodes_come_online(
    sb: Sandbox, devops: Any, setup: PoolSetup
) -> None:
    made = create_pool(devops, setup)
    assert made.agent_pool.name == "private-agents"
    assert made.agent_queue.name == "private-agents"
    assert made.elastic_pool.desired_idle == 1
    el = devops.get_elastic_client()
    pool_id = made.agent_pool.id
    nodes = wait_for(lambda: el.get_elastic_nodes(pool_id))
    assert [(n.state, n.agent_state) for n in nodes] == [("new", "none")]
    assert nodes[0].name == "agent000000"
    assert setup.arm.compute.virtual_machine_scale_sets.get("rg-agents", "vmss-agents").sku.capacity == 1
    idle = wait_for(lambda: [n for n in el.get_elastic_nodes(pool_id) if n.state == "idle"])
    assert idle[0].agent_state == "online"
    assert devops.get_task_agent_client().get_agent_pool(pool_id).size == 1
    logs = [(log.operation, log.message) for log in el.get_elastic_pool_logs(pool_id)]
    assert [op for op, _ in logs] == ["increaseCapacity", "configurationJob", "configurationJob"]
    assert logs[1][1] == "Added the agent extension to vmss-agents."
    model = setup.arm.compute.virtual_machine_scale_sets.get(
        "rg-agents", "vmss-agents"
    ).virtual_machine_profile
    [ext] = model.extension_profile.extensions
    assert (ext.properties.publisher, ext.properties.type) == (
        "Microsoft.VisualStudio.Services",
        "TeamServicesAgentLinux",
    )


def test_deleted_instances_lose_their_nodes_and_are_replaced(devops: Any, setup: PoolSetup) -> None:
    el = devops.get_elastic_client()
    pool_id = create_pool(devops, setup).agent_pool.id
    wait_for(lambda: [n for n in el.get_elastic_nodes(pool_id) if n.state == "idle"])
    setup.arm.compute.virtual_machine_scale_sets.begin_delete_instances(
        "rg-agents", "vmss-agents", {"instanceIds": ["0"]}
    ).result()
    replaced = wait_for(lambda: [n.compute_id for n in el.get_elastic_nodes(pool_id) if n.compute_id != "0"])
    assert replaced == ["1"]
    assert [n.compute_id for n in el.get_elastic_nodes(pool_id)] == ["1"]


def test_settings_change_rescales(devops: Any, setup: PoolSetup) -> None:
    el = devops.get_elastic_client()
    pool_id = create_pool(devops, setup).agent_pool.id
    updated = el.update_elastic_pool(ElasticPoolSettings(desired_idle=3), pool_id)
    assert (updated.desired_idle, updated.max_capacity) == (3, 10)
    wait_for(lambda: len(el.get_elastic_nodes(pool_id)) == 3)
    e = service_error(lambda: el.update_elastic_pool(ElasticPoolSettings(desired_idle=11), pool_id))
    assert "desiredIdle" in e.message
    assert el.get_elastic_pool(pool_id).desired_idle == 3
    assert [p.pool_id for p in el.get_elastic_pools()] == [pool_id]


def test_elastic_pool_rules(devops: Any, setup: PoolSetup) -> None:
    e = service_error(lambda: create_pool(devops, setup, desired_idle=5, max_capacity=2))
    assert e.message.startswith("The number of agents to keep on standby (desiredIdle, 5)")
    e = service_error(
        lambda: create_pool(devops, setup, azure_id=VMSS_ID.replace("vmss-agents", "vmss-none"))
    )
    assert "could not be found" in e.message
    create_pool(devops, setup)
    e = service_error(lambda: create_pool(devops, setup))
    assert (e.type_key, e.message) == (
        "AgentPoolExistsException",
        "Agent pool private-agents already exists.",
    )
    e = service_error(lambda: create_pool(devops, setup, name="second"))
    assert "already used by agent pool" in e.message


def test_pool_needs_the_federated_credential_and_a_role(arm: Arm, devops: Any) -> None:
    arm.resource.resource_groups.create_or_update("rg-agents", {"location": "westeurope"})
    arm.compute.virtual_machine_scale_sets.begin_create_or_update(
        "rg-agents", "vmss-agents", vmss_body()
    ).result()
    endpoint = devops.get_service_endpoint_client().create_service_endpoint(azure_connection())
    setup = PoolSetup(endpoint, arm)
    e = service_error(lambda: create_pool(devops, setup))
    assert "AADSTS700213" in e.message
    _federate(arm, endpoint)
    e = service_error(lambda: create_pool(devops, setup))
    assert "does not have authorization" in e.message
    _grant(arm, VMSS_ID)
    assert create_pool(devops, setup).elastic_pool.state == "online"


def test_pools_and_queues(devops: Any, setup: PoolSetup) -> None:
    ta = devops.get_task_agent_client()
    made = create_pool(devops, setup)
    pool_id, queue_id = made.agent_pool.id, made.agent_queue.id
    assert ta.get_agent_pool(pool_id).options == "elasticPool"
    assert [p.name for p in ta.get_agent_pools(pool_name="private-agents")] == ["private-agents"]
    assert ta.get_agent_queue(queue_id, PROJECT).pool.id == pool_id
    assert [q.id for q in ta.get_agent_queues_by_names(["private-agents"], PROJECT)] == [queue_id]
    assert {q.name for q in ta.get_agent_queues(PROJECT)} == {"Default", "Azure Pipelines", "private-agents"}
    ta.delete_agent_pool(pool_id)
    e = service_error(lambda: ta.get_agent_pool(pool_id))
    assert e.type_key == "TaskAgentPoolNotFoundException"
    assert (
        service_error(lambda: ta.get_agent_queue(queue_id, PROJECT)).type_key
        == "TaskAgentQueueNotFoundException"
    )
    assert (
        service_error(lambda: devops.get_elastic_client().get_elastic_pool(pool_id)).type_key
        == "ElasticPoolDoesNotExistException"
    )
    default_queue = ta.get_agent_queues_by_names(["Default"], PROJECT)[0]
    ta.delete_agent_queue(default_queue.id, PROJECT)
    assert ta.get_agent_queues_by_names(["Default"], PROJECT) == []


def test_pipeline_permissions(devops: Any, setup: PoolSetup) -> None:
    pp = devops.get_pipeline_permissions_client()
    queue_id = str(create_pool(devops, setup).agent_queue.id)
    assert pp.get_pipeline_permissions_for_resource(PROJECT, "queue", queue_id).all_pipelines is None
    updated = pp.update_pipeline_permisions_for_resource(
        {"allPipelines": {"authorized": True}}, PROJECT, "queue", queue_id
    )
    assert updated.all_pipelines.authorized
    assert updated.all_pipelines.authorized_by.unique_name == "alice@contoso.com"
    listed = pp.update_pipeline_permisions_for_resource(
        {"pipelines": [{"id": 7, "authorized": True}]}, PROJECT, "endpoint", setup.endpoint.id
    )
    assert [p.id for p in listed.pipelines] == [7]
    assert (
        pp.get_pipeline_permissions_for_resource(PROJECT, "endpoint", setup.endpoint.id)
        .pipelines[0]
        .authorized
    )
    e = service_error(lambda: pp.get_pipeline_permissions_for_resource(PROJECT, "queue", "999"))
    assert e.type_key == "ResourceNotFoundException"


# --- environments and checks -------------------------------------------------------------------


def test_environments(devops: Any) -> None:
    ta = devops.get_task_agent_client()
    env = ta.add_environment({"name": "private-aks-dev", "description": "dev"}, PROJECT)
    assert env.project.id == PROJECT_ID
    assert ta.get_environment_by_id(PROJECT, env.id).name == "private-aks-dev"
    assert [e.id for e in ta.get_environments(PROJECT, name="PRIVATE-aks-dev")] == [env.id]
    assert ta.get_environments(PROJECT, name="other") == []
    e = service_error(lambda: ta.add_environment({"name": "private-aks-dev"}, PROJECT))
    assert e.type_key == "EnvironmentExistsException"
    assert ta.update_environment({"description": "changed"}, PROJECT, env.id).description == "changed"
    ta.delete_environment(PROJECT, env.id)
    assert (
        service_error(lambda: ta.get_environment_by_id(PROJECT, env.id)).type_key
        == "EnvironmentNotFoundException"
    )


def test_environments_are_paged_with_a_continuation_token(devops: Any) -> None:
    ta = devops.get_task_agent_client()
    made = [ta.add_environment({"name": f"env-{i:02d}"}, PROJECT).id for i in range(55)]

    def page(**query: Any) -> Any:
        return ta._send(
            "GET", ENVIRONMENTS, "7.1-preview.1", route_values={"project": PROJECT}, query_parameters=query
        )

    first = page()  # the service's default page: 50
    token = first.headers["X-MS-ContinuationToken"]
    assert [e["id"] for e in first.json()["value"]] == made[:50] and first.json()["count"] == 50
    last = page(continuationToken=token)
    assert [e["id"] for e in last.json()["value"]] == made[50:]
    assert "X-MS-ContinuationToken" not in last.headers  # no more pages
    seen, token = [], None
    while True:
        r = page(**{"$top": 20, "name": "env-*", **({"continuationToken": token} if token else {})})
        seen += [e["id"] for e in r.json()["value"]]
        token = r.headers.get("x-ms-continuationtoken")
        if not token:
            break
    assert seen == made
    e = service_error(lambda: page(**{"$top": 0}))
    assert e.type_key == "ArgumentException"


def _raw_check(devops: Any, method: str, body: Any = None, check_id: int | None = None, **query: str) -> Any:
    client = devops.get_pipelines_checks_client()
    route = {"project": PROJECT, **({"id": check_id} if check_id is not None else {})}
    return client._send(
        method, CHECKS, "7.1-preview.1", route_values=route, query_parameters=query or None, content=body
    )


def test_approval_checks_keep_their_settings(devops: Any) -> None:
    env = devops.get_task_agent_client().add_environment({"name": "private-aks-dev"}, PROJECT)
    leads = devops.get_identity_client().read_identities(
        search_filter="General", filter_value="platform-leads@contoso.com"
    )[0]
    settings = {
        "approvers": [{"id": leads.id}],
        "minRequiredApprovers": 1,
        "instructions": "look",
        "requesterCannotBeApprover": True,
    }
    body = {
        "type": {"id": APPROVAL, "name": "Approval"},
        "settings": settings,
        "resource": {"type": "environment", "id": str(env.id)},
        "timeout": 1440,
    }
    made = _raw_check(devops, "POST", body).json()
    assert made["settings"]["approvers"][0]["id"] == leads.id
    assert made["settings"]["approvers"][0]["displayName"] == "Platform Leads"
    assert made["resource"] == {"type": "environment", "id": str(env.id), "name": "private-aks-dev"}
    listed = _raw_check(
        devops, "GET", resourceType="environment", resourceId=str(env.id), **{"$expand": "settings"}
    ).json()
    assert listed["value"][0]["settings"]["instructions"] == "look"
    plain = devops.get_pipelines_checks_client().get_check_configurations_on_resource(
        PROJECT, "environment", str(env.id)
    )
    assert [c.id for c in plain] == [made["id"]]
    assert "settings" not in _raw_check(devops, "GET", check_id=made["id"]).json()
    changed = _raw_check(devops, "PATCH", {**body, "timeout": 60}, check_id=made["id"]).json()
    assert (changed["timeout"], changed["settings"]["minRequiredApprovers"]) == (60, 1)
    devops.get_pipelines_checks_client().delete_check_configuration(PROJECT, made["id"])
    assert _raw_check(devops, "GET", resourceType="environment", resourceId=str(env.id)).json()["count"] == 0


def test_check_rules(devops: Any) -> None:
    env = devops.get_task_agent_client().add_environment({"name": "e"}, PROJECT)
    resource = {"type": "environment", "id": str(env.id)}
    approvers = {"approvers": [{"id": str(uuid.uuid4())}], "minRequiredApprovers": 1}
    with pytest.raises(AzureDevOpsServiceError) as e:
        _raw_check(
            devops,
            "POST",
            {"type": {"id": APPROVAL}, "settings": approvers, "resource": resource, "timeout": 60},
        )
    assert "not an identity" in e.value.message
    with pytest.raises(AzureDevOpsServiceError) as e:
        _raw_check(
            devops,
            "POST",
            {
                "type": {"id": APPROVAL},
                "settings": approvers,
                "resource": {"type": "environment", "id": "99"},
            },
        )
    assert e.value.type_key == "ResourceNotFoundException"
    with pytest.raises(AzureDevOpsServiceError) as e:
        _raw_check(devops, "POST", {"type": {"id": str(uuid.uuid4())}, "resource": resource})
    assert "not known" in e.value.message
