"""Managed DevOps Pools and Dev Center on the sandbox, through the generic ARM client: the service's
checks (name, project, image, roles, subnet) and its side effects in Azure DevOps. Every exchange is
checked against the Microsoft.DevOpsInfrastructure and Microsoft.DevCenter specs (the sb fixture)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from sandbox_helpers import FAST, IMAGE, RG_ID, SUB, SUBNET, Arm

from agentctl.sandbox import Sandbox, start
from agentctl.sandbox.arm.managedpools import service_principal_id, standby_at

MDP = "2026-06-02"
DEVCENTER = "2025-02-01"
RG = f"{RG_ID}/rg-agents"
CENTER = f"{RG}/providers/Microsoft.DevCenter/devcenters/dc-agents"
PROJECT = f"{RG}/providers/Microsoft.DevCenter/projects/agents"
POOL = f"{RG}/providers/Microsoft.DevOpsInfrastructure/pools/contoso-private"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


def pool_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": "westeurope",
        "properties": {
            "maximumConcurrency": 4,
            "devCenterProjectResourceId": PROJECT,
            "organizationProfile": {
                "kind": "AzureDevOps",
                "organizations": [{"url": "https://dev.azure.com/contoso", "projects": ["platform"]}],
                "permissionProfile": {"kind": "CreatorOnly"},
            },
            "agentProfile": {
                "kind": "Stateless",
                "resourcePredictionsProfile": {"kind": "Manual"},
                "resourcePredictions": {
                    "timeZone": "W. Europe Standard Time",
                    "daysData": [{}, *[{"08:00:00": 2, "18:00:00": 0}] * 5, {}],
                },
            },
            "fabricProfile": {
                "kind": "Vmss",
                "sku": {"name": "Standard_D4ads_v5"},
                "images": [{"resourceId": IMAGE, "aliases": ["ubuntu-24.04-agent"]}],
            },
        },
    }
    body["properties"].update(changes)
    return body


def make_lab(sb: Sandbox, arm: Any) -> Any:
    res = arm.resource.resources
    res_groups = arm.resource.resource_groups
    res_groups.create_or_update("rg-agents", {"location": "westeurope"})
    res.begin_create_or_update_by_id(
        CENTER, api_version=DEVCENTER, parameters={"location": "westeurope"}
    ).result()
    res.begin_create_or_update_by_id(
        PROJECT,
        api_version=DEVCENTER,
        parameters={"location": "westeurope", "properties": {"devCenterId": CENTER}},
    ).result()
    return res


@pytest.fixture
def lab(sb: Sandbox, arm: Any) -> Any:
    return make_lab(sb, arm)


def grant_reader(arm: Any, sb: Sandbox, scope: str) -> None:
    principal = service_principal_id(sb.tenant_id)
    arm.auth.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        {
            "role_definition_id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
            + READER,
            "principal_id": principal,
            "principal_type": "ServicePrincipal",
        },
    )


def test_a_pool_needs_reader_on_its_gallery_image(lab: Any, arm: Any, sb: Sandbox) -> None:
    with pytest.raises(HttpResponseError) as err:
        lab.begin_create_or_update_by_id(POOL, api_version=MDP, parameters=pool_body()).result()
    assert err.value.status_code == 403 and "Reader" in str(err.value.message)
    grant_reader(arm, sb, IMAGE)
    made = lab.begin_create_or_update_by_id(POOL, api_version=MDP, parameters=pool_body()).result()
    assert made.properties["provisioningState"] == "Succeeded"
    assert made.properties["fabricProfile"]["images"][0]["buffer"] == "*"


def test_undelegated_subnet_and_unknown_image_are_refused(lab: Any, arm: Any, sb: Sandbox) -> None:
    grant_reader(arm, sb, IMAGE)
    fabric = pool_body()["properties"]["fabricProfile"]
    with pytest.raises(HttpResponseError) as err:
        body = pool_body(fabricProfile={**fabric, "networkProfile": {"subnetId": SUBNET}})
        lab.begin_create_or_update_by_id(POOL, api_version=MDP, parameters=body).result()
    assert err.value.error.code == "SubnetNotDelegated"
    with pytest.raises(HttpResponseError) as err:
        body = pool_body(fabricProfile={**fabric, "images": [{"wellKnownImageName": "ubuntu-18.04"}]})
        lab.begin_create_or_update_by_id(POOL, api_version=MDP, parameters=body).result()
    assert err.value.error.code == "ImageNotFound"


def test_side_effects_in_azure_devops_and_agents(lab: Any, arm: Any, sb: Sandbox, devops: Any) -> None:
    grant_reader(arm, sb, IMAGE)
    lab.begin_create_or_update_by_id(POOL, api_version=MDP, parameters=pool_body()).result()
    agent = devops.get_task_agent_client()
    (pool,) = agent.get_agent_pools(pool_name="contoso-private")
    queues = agent.get_agent_queues("platform", queue_name="contoso-private")
    assert len(queues) == 1 and queues[0].pool.id == pool.id
    found = arm.resource.resources.get_by_id(POOL, api_version=MDP)
    assert found.properties["organizationProfile"]["organizations"][0]["projects"] == ["platform"]
    # the name is taken now, in every resource group
    other = f"{RG_ID}/rg-images/providers/Microsoft.DevOpsInfrastructure/pools/contoso-private"
    with pytest.raises(HttpResponseError) as err:
        lab.begin_create_or_update_by_id(other, api_version=MDP, parameters=pool_body()).result()
    assert err.value.status_code == 409
    lab.begin_delete_by_id(POOL, api_version=MDP).result()
    assert agent.get_agent_pools(pool_name="contoso-private") == []


@pytest.mark.parametrize(
    ("when", "count"),
    [
        ("2026-12-07T06:59:00+00:00", 0),  # Monday 07:59 Amsterdam
        ("2026-12-07T07:00:00+00:00", 2),
        ("2026-12-11T16:59:00+00:00", 2),  # Friday 17:59
        ("2026-12-12T12:00:00+00:00", 0),  # Saturday: Friday 18:00's count
        ("2026-06-01T06:00:00+00:00", 2),  # summer time: 08:00 is 06:00 UTC
    ],
)
def test_standby_follows_the_manual_predictions(when: str, count: int) -> None:
    assert standby_at(pool_body(), datetime.fromisoformat(when).astimezone(UTC)) == count


def test_a_dev_center_in_use_is_not_deleted(lab: Any, arm: Any, sb: Sandbox) -> None:
    grant_reader(arm, sb, IMAGE)
    lab.begin_create_or_update_by_id(POOL, api_version=MDP, parameters=pool_body()).result()
    for held in (PROJECT, CENTER):  # the pool holds the project, the project the dev center
        with pytest.raises(HttpResponseError) as err:
            lab.begin_delete_by_id(held, api_version=DEVCENTER).result()
        assert err.value.status_code == 409
    lab.begin_delete_by_id(POOL, api_version=MDP).result()
    lab.begin_delete_by_id(PROJECT, api_version=DEVCENTER).result()
    lab.begin_delete_by_id(CENTER, api_version=DEVCENTER).result()
    with pytest.raises(ResourceNotFoundError):
        lab.get_by_id(CENTER, api_version=DEVCENTER)


def test_an_unregistered_provider_refuses_the_pool(tmp_path: Path) -> None:
    world = tmp_path / "world.yaml"
    default = Path(__file__).parents[2] / "manager/agentctl/sandbox/worlds/default.yaml"
    world.write_text(default.read_text() + "unregisteredProviders: [Microsoft.DevOpsInfrastructure]\n")
    sb = start(tmp_path / "sb", world=world, timing=FAST)
    try:
        arm = Arm(sb)
        make_lab(sb, arm)  # the fixture's steps: a resource group, a dev center and its project
        grant_reader(arm, sb, IMAGE)
        with pytest.raises(HttpResponseError) as err:
            res = arm.resource.resources
            res.begin_create_or_update_by_id(POOL, api_version=MDP, parameters=pool_body()).result()
        assert err.value.status_code == 409 and err.value.error.code == "MissingSubscriptionRegistration"
    finally:
        sb.stop()
