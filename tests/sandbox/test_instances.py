"""Scale set instances in their full shape, their instance view on request, and `latest` of a
gallery image skipping versions excluded from it (in the publishing profile, or in the scale
set's target region)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import FAST, IMAGE, Arm, vmss_body

from agentctl.sandbox import Sandbox, start
from agentctl.sandbox.arm import common, compute, gallery
from conformance.spec_check import assert_conforms

RG, VMSS = "rg-agents", "vmss-agents"


def deploy(arm: Arm, capacity: int = 2) -> Any:
    arm.resource.resource_groups.create_or_update(RG, {"location": "westeurope"})
    return arm.compute.virtual_machine_scale_sets.begin_create_or_update(
        RG, VMSS, vmss_body(**{"sku.capacity": capacity})
    ).result()


def test_instances_have_their_full_shape(arm: Arm) -> None:
    deploy(arm)
    vm = next(iter(arm.compute.virtual_machine_scale_set_vms.list(RG, VMSS)))
    p = vm.properties
    assert p.hardware_profile.vm_size == "Standard_D4s_v5"
    assert p.latest_model_applied is True and p.provisioning_state == "Succeeded"
    assert p.os_profile.computer_name == "agent000000" and p.os_profile.admin_username == "azureuser"
    assert p.os_profile.linux_configuration.disable_password_authentication is True
    assert p.os_profile.allow_extension_operations is True and p.os_profile.secrets == []
    assert p.storage_profile.image_reference.exact_version == "2026.1129.1"
    assert p.storage_profile.os_disk.os_type == "Linux" and p.storage_profile.os_disk.name
    assert p.storage_profile.os_disk.diff_disk_settings.option == "Local"
    [nic] = p.network_profile.network_interfaces
    assert nic.id.endswith(f"/virtualMachines/{vm.instance_id}/networkInterfaces/nic") and nic.primary
    [config] = p.network_profile_configuration.network_interface_configurations
    assert config.ip_configurations[0].private_ip_address_version == "IPv4"
    assert p.instance_view is None  # only on request


def test_the_instance_view_comes_on_request(arm: Arm) -> None:
    deploy(arm, 1)
    vm = arm.compute.virtual_machine_scale_set_vms.get(RG, VMSS, "0", expand="instanceView")
    view = vm.properties.instance_view
    assert [s.code for s in view.statuses] == ["ProvisioningState/succeeded", "PowerState/running"]
    assert view.disks[0].name == vm.properties.storage_profile.os_disk.name
    assert view.vm_agent.statuses[0].display_status == "Ready"
    listed = list(arm.compute.virtual_machine_scale_set_vms.list(RG, VMSS, expand="instanceView"))
    assert listed[0].properties.instance_view.platform_fault_domain == 0


def test_latest_skips_versions_excluded_from_it(tmp_path: Path) -> None:
    world = tmp_path / "world.yaml"
    default = Path(__file__).parents[2] / "manager/agentctl/sandbox/worlds/default.yaml"
    text = default.read_text().replace(
        '2026.1129.1: { publishedDate: "2026-11-29T02:00:00Z" }',
        '2026.1129.1: { publishedDate: "2026-11-29T02:00:00Z", excludeFromLatest: true }',
        1,
    )
    world.write_text(text)
    sb: Sandbox = start(tmp_path / "sb", world=world, timing=FAST)
    try:
        arm = Arm(sb)
        version = arm.compute.gallery_image_versions.get(
            "rg-images", "agents", "ubuntu-24.04-agent", "2026.1129.1"
        )
        [region] = version.publishing_profile.target_regions
        assert version.publishing_profile.exclude_from_latest is True and region.exclude_from_latest is False
        deploy(arm, 1)
        vm = arm.compute.virtual_machine_scale_set_vms.get(RG, VMSS, "0")
        assert vm.properties.storage_profile.image_reference.id == IMAGE
        assert vm.properties.storage_profile.image_reference.exact_version == "2026.1115.1"
    finally:
        sb.stop()
    assert_conforms(sb.exchanges)


@pytest.mark.parametrize(
    ("excluded_in", "latest_in_westeurope", "latest_in_northeurope"),
    [
        ((), "1.0.2", "1.0.2"),
        (("West Europe",), "1.0.1", "1.0.2"),  # excluded in one target region only
        (("West Europe", "North Europe"), "1.0.1", "1.0.1"),
    ],
)
def test_latest_honours_exclusion_per_target_region(
    excluded_in: tuple[str, ...], latest_in_westeurope: str, latest_in_northeurope: str
) -> None:
    definition = IMAGE
    st: dict[str, Any] = {}
    for name in ("1.0.1", "1.0.2"):
        version = gallery.image_version(definition, name, "westeurope", 0)
        profile = version["properties"]["publishingProfile"]
        profile["targetRegions"] = [
            {
                **profile["targetRegions"][0],
                "name": region,
                "excludeFromLatest": name == "1.0.2" and region in excluded_in,
            }
            for region in ("West Europe", "North Europe")
        ]
        common.put(st, version)
    assert compute.resolve_image(st, definition, "westeurope")["name"] == latest_in_westeurope  # type: ignore[index]
    assert compute.resolve_image(st, definition, "northeurope")["name"] == latest_in_northeurope  # type: ignore[index]
