"""Constants and helpers shared by the sandbox tests (importable as `sandbox_helpers`)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from agentctl.sandbox import Sandbox, Timing
from agentctl.sandbox.testing import arm_client

FAST = Timing(lro_seconds=0.05, scale_delay=0.05, node_idle_delay=0.2)

SUB = "11111111-2222-3333-4444-555555555555"

RG_ID = f"/subscriptions/{SUB}/resourceGroups"

SUBNET = f"{RG_ID}/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/agents"

IMAGE = f"{RG_ID}/rg-images/providers/Microsoft.Compute/galleries/agents/images/ubuntu-24.04-agent"

IDENTITY = f"{RG_ID}/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-agents"

PROJECT = "platform"


def outside_the_specs(sb: Sandbox, operation: str, reason: str) -> None:
    """Leave a test's exchanges of ``operation`` out of the conformance check, for a ``reason``
    the specs do not cover (an unknown path, a real-service quirk)."""
    assert reason
    sb.exchanges[:] = [x for x in sb.exchanges if x["operation"] != operation]


class Arm:
    """The azure-mgmt clients agentctl uses, made on first use."""

    def __init__(self, sb: Sandbox, **kwargs: Any) -> None:
        self.sb = sb
        self.kwargs = kwargs

    def _make(self, cls: Any) -> Any:
        return arm_client(self.sb, cls, **self.kwargs)

    @cached_property
    def compute(self) -> Any:
        from azure.mgmt.compute import ComputeManagementClient

        return self._make(ComputeManagementClient)

    @cached_property
    def network(self) -> Any:
        from azure.mgmt.network import NetworkManagementClient

        return self._make(NetworkManagementClient)

    @cached_property
    def resource(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._make(ResourceManagementClient)

    @cached_property
    def msi(self) -> Any:
        from azure.mgmt.msi import ManagedServiceIdentityClient

        return self._make(ManagedServiceIdentityClient)

    @cached_property
    def auth(self) -> Any:
        from azure.mgmt.authorization import AuthorizationManagementClient

        return self._make(AuthorizationManagementClient)

    @cached_property
    def aks(self) -> Any:
        from azure.mgmt.containerservice import ContainerServiceClient

        return self._make(ContainerServiceClient)

    @cached_property
    def acr(self) -> Any:
        from azure.mgmt.containerregistry import ContainerRegistryManagementClient

        return self._make(ContainerRegistryManagementClient)

    @cached_property
    def dns(self) -> Any:
        from azure.mgmt.privatedns import PrivateDnsManagementClient

        return self._make(PrivateDnsManagementClient)


def vmss_body(**overrides: Any) -> dict[str, Any]:
    """A scale set as agentctl would send it (a REST body)."""
    body: dict[str, Any] = {
        "location": "westeurope",
        "sku": {"name": "Standard_D4s_v5", "tier": "Standard", "capacity": 0},
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {IDENTITY: {}}},
        "properties": {
            "orchestrationMode": "Uniform",
            "overprovision": False,
            "singlePlacementGroup": False,
            "platformFaultDomainCount": 1,
            "upgradePolicy": {"mode": "Manual"},
            "virtualMachineProfile": {
                "osProfile": {
                    "computerNamePrefix": "agent",
                    "adminUsername": "azureuser",
                    "linuxConfiguration": {
                        "disablePasswordAuthentication": True,
                        "ssh": {
                            "publicKeys": [
                                {
                                    "path": "/home/azureuser/.ssh/authorized_keys",
                                    "keyData": "ssh-ed25519 AAAA",
                                }
                            ]
                        },
                    },
                },
                "storageProfile": {
                    "imageReference": {"id": IMAGE},
                    "osDisk": {
                        "createOption": "FromImage",
                        "caching": "ReadOnly",
                        "diffDiskSettings": {"option": "Local", "placement": "ResourceDisk"},
                        "managedDisk": {"storageAccountType": "Standard_LRS"},
                        "diskSizeGB": 128,
                    },
                },
                "networkProfile": {
                    "networkInterfaceConfigurations": [
                        {
                            "name": "nic",
                            "properties": {
                                "primary": True,
                                "ipConfigurations": [
                                    {"name": "ip", "properties": {"subnet": {"id": SUBNET}}}
                                ],
                            },
                        }
                    ]
                },
            },
        },
    }
    for path, value in overrides.items():
        node = body
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return body
