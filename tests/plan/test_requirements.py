"""agentctl's builders against the bodies written down from the documentation (tests/pool_requirements.py).

A builder that drifts from a documented requirement (overprovisioning on, a fault domain count
of 2, an upgrade policy other than Manual, a password login...) fails here by name, whatever the
planner tests think of it.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

import pool_requirements as req
from agentctl import config
from agentctl.kinds import common
from agentctl.kinds.pool import desired
from testlib import EXAMPLE_POOL

SPEC = config.loads(EXAMPLE_POOL.read_text(), str(EXAMPLE_POOL))
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFk agentctl-throwaway"


def _at(doc: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _with_scale_set(**changes: Any) -> config.PoolSpec:
    return dataclasses.replace(SPEC, scaleSet=dataclasses.replace(SPEC.scaleSet, **changes))


def test_the_scale_set_is_the_documented_one() -> None:
    assert desired.scale_set_body(SPEC, KEY) == req.scale_set(KEY)


@pytest.mark.parametrize(
    ("path", "value"),
    req.REQUIRED_SCALE_SET_SETTINGS,
    ids=[".".join(p) for p, _ in req.REQUIRED_SCALE_SET_SETTINGS],
)
def test_each_setting_azure_devops_requires(path: tuple[str, ...], value: Any) -> None:
    assert _at(req.scale_set(KEY), path) == value  # the fixture says it
    assert _at(desired.scale_set_body(SPEC, KEY), path) == value  # and so does what agentctl sends


def test_no_password_no_public_ip_no_load_balancer() -> None:
    body = desired.scale_set_body(SPEC, KEY)
    profile = body["properties"]["virtualMachineProfile"]
    assert "adminPassword" not in profile["osProfile"]
    (nic,) = profile["networkProfile"]["networkInterfaceConfigurations"]
    (ip,) = nic["properties"]["ipConfigurations"]
    assert set(ip["properties"]) == {"subnet"}  # no publicIPAddressConfiguration, no backend pools
    assert "loadBalancerBackendAddressPools" not in nic["properties"]
    assert "zones" not in body  # the example pool names none: Azure picks


def test_a_managed_os_disk_in_zones() -> None:
    spec = _with_scale_set(osDisk=config.OsDisk(False, 64), zones=["1", "3"])
    body = desired.scale_set_body(spec, KEY)
    want = req.scale_set(KEY)
    want["properties"]["virtualMachineProfile"]["storageProfile"]["osDisk"] = req.MANAGED_OS_DISK
    want["zones"] = ["1", "3"]
    assert body == want


def test_a_pinned_image_version_is_the_version_id() -> None:
    spec = dataclasses.replace(SPEC, image=dataclasses.replace(SPEC.image, version="2026.1115.1"))
    image = desired.scale_set_body(spec, KEY)["properties"]["virtualMachineProfile"]["storageProfile"]
    assert image["imageReference"] == {"id": req.IMAGE_ID + "/versions/2026.1115.1"}


def test_tags_of_the_file_are_kept_and_the_owner_tags_win() -> None:
    spec = _with_scale_set(tags={"cost-center": "42", "managed-by": "someone"})
    assert desired.scale_set_body(spec, KEY)["tags"] == {"cost-center": "42", **req.TAGS}


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("vmss-agents", "vmss-agents"),
        ("vmss.agents.platform.team", "vmssagentsplatf"),  # 15 characters at most, dots dropped
        ("abcdefghijklmn-x", "abcdefghijklmn"),  # no trailing hyphen after the cut
        ("a" * 15, "a" * 15),
        ("__", "agent"),  # nothing usable left
        ("VMSS-Agents", "VMSS-Agents"),  # capitals stay
        ("build-X", "build-X"),
    ],
)
def test_computer_name_prefix(name: str, prefix: str) -> None:
    body = desired.scale_set_body(_with_scale_set(name=name), KEY)
    assert body["properties"]["virtualMachineProfile"]["osProfile"]["computerNamePrefix"] == prefix


def test_the_elastic_pool_is_the_documented_one() -> None:
    at = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # the example pool has no standby schedule: any instant
    assert desired.elastic_pool_body(SPEC, "endpoint-1", req.PROJECT["id"], at) == req.elastic_pool(
        "endpoint-1"
    )


def test_the_arm_connection_is_the_documented_one() -> None:
    body = desired.connection_body(
        SPEC, req.PROJECT, req.TENANT, req.CONNECTION_CLIENT_ID, "AzureCloud", "https://management.azure.com/"
    )
    assert body == req.arm_connection("https://management.azure.com/")


def test_the_federated_credential_is_named_for_the_connection() -> None:
    assert common.federated_credential_name(SPEC, "arm-agents") == req.FIC_NAME
    assert common.federated_credential_name(SPEC, "ARM-Agents") == req.FIC_NAME  # names without case
    other = common.federated_credential_name(SPEC, "arm agents/ü")
    assert other.startswith("agentctl-arm-agents---") and other != req.FIC_NAME
    assert len(common.federated_credential_name(SPEC, "c" * 300)) <= 120  # Azure's limit
    assert req.FEDERATED_CREDENTIAL["properties"]["audiences"][0] == common.WIF_AUDIENCE


def test_the_issuer_and_subject_are_read_from_the_connection() -> None:
    endpoint = {
        "authorization": {
            "parameters": {
                "workloadIdentityFederationIssuer": req.ISSUER,
                "workloadIdentityFederationSubject": req.SUBJECT,
            }
        }
    }
    assert common.wif_issuer_subject(endpoint) == (req.ISSUER, req.SUBJECT)
    assert common.wif_issuer_subject({"authorization": {}}) == ("", "")


def test_role_assignment_names_are_stable_across_releases() -> None:
    # The name earlier releases gave the example pool's grant (recorded on the sandbox): another
    # name would make a rerun on an existing pool PUT a second assignment, which Azure refuses.
    scope = f"/subscriptions/{req.SUBSCRIPTION}/resourceGroups/rg-agents"
    principal = "3b9f6c1e-8d2a-4f5b-9c7e-2a1d4e6f8b0c"
    role = (
        f"/subscriptions/{req.SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/"
        "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
    )
    name = common.role_assignment_name(scope, principal, role)
    assert name == "6c6f81b0-f2a2-5f60-905e-46d6895b5322"
    assert uuid.UUID(name).version == 5
    assert common.role_assignment_name(scope.upper(), principal, role.upper()) == name  # ARM ids: any case
    assert common.role_assignment_name(scope, principal.replace("3b9f", "4b9f"), role) != name


def test_pipeline_permissions_bodies() -> None:
    """PATCH pipelinePermissions/queue/{id} (vsts-rest-api-specs pipelinePermissions 7.1)."""
    assert common.permissions_body(True, []) == {"allPipelines": {"authorized": True}}
    assert common.permissions_body(False, [4], {"pipelines": [{"id": 9, "authorized": True}]}) == {
        "allPipelines": {"authorized": False},
        "pipelines": [{"id": 4, "authorized": True}, {"id": 9, "authorized": False}],
    }
