"""What each request agentctl sends for examples/pool.yaml must carry, written down by hand.

These bodies state the documented requirements of a scale-set (elastic) agent pool and of what it
relies on, independently of agentctl's builders (manager/agentctl/desired.py): a test compares the
builders, and what reaches the sandbox (its access log), against them. Each requirement names its
source. Short names for the sources:

  [agents]  Microsoft Learn, "Azure Virtual Machine Scale Set agents" (Azure DevOps),
            learn.microsoft.com/azure/devops/pipelines/agents/scale-set-agents, "Create the scale set"
  [vmss]    azure-rest-api-specs, Microsoft.Compute/ComputeRP/stable/2024-07-01/virtualMachineScaleSet.json
            (#/definitions/VirtualMachineScaleSet and the types it refers to)
  [elastic] vsts-rest-api-specs, distributedTask/7.1/elastic.json (#/definitions/ElasticPool);
            Microsoft Learn REST reference "Elasticpools - Create"
  [wif]     Microsoft Learn, "Manually set an Azure Resource Manager workload identity service
            connection", learn.microsoft.com/azure/devops/pipelines/release/configure-workload-identity
  [endpoint] vsts-rest-api-specs, serviceEndpoint/7.1/serviceEndpoint.json (#/definitions/ServiceEndpoint)
  [fic]     azure-rest-api-specs, Microsoft.ManagedIdentity/stable/2023-01-31/ManagedIdentity.json
            (#/definitions/FederatedIdentityCredentialProperties)
  [design]  docs/architecture.md: the pool's own choices (tags, names, no public address)

The identities are names below (SCALE_SET_IDENTITY, CONNECTION_CLIENT_ID, FIC_IDENTITY): when
the pool's identities change, those are the lines to edit.
"""

from __future__ import annotations

from typing import Any

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
TENANT = "7c1d3e5f-2a4b-4c6d-8e0f-1a2b3c4d5e6f"  # the sandbox world's tenant
ORGANIZATION_ID = "0f4e9b2c-6a1d-4c8e-b5f7-3d2a9e6c1b4f"  # the sandbox world's organization id
PROJECT = {"id": "2c7e5a9f-4b1d-4e8c-a6f3-9d0b1e2c7a5f", "name": "platform"}
RG_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups"
MSI = "providers/Microsoft.ManagedIdentity/userAssignedIdentities"
SCALE_SET_ID = f"{RG_ID}/rg-agents/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-agents"
SUBNET_ID = f"{RG_ID}/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/agents"
IMAGE_ID = f"{RG_ID}/rg-images/providers/Microsoft.Compute/galleries/agents/images/ubuntu-24.04-agent"

# The identity the agents run as: attached to the scale set.
SCALE_SET_IDENTITY = f"{RG_ID}/rg-identity/{MSI}/id-agents"
# The pool-management identity: Azure DevOps signs in as it through the ARM connection (its client
# id, as the sandbox gives the identity agentctl makes in the pool's group), and it holds the
# connection's federated credential. Never on a VM.
CONNECTION_CLIENT_ID = "e508f377-eb44-54ad-a024-d92c40cd34e2"
FIC_IDENTITY = f"{RG_ID}/rg-agents/{MSI}/vmss-agents-pool"

MARKER = "Managed by agentctl (pool private-agents)"  # [design] how agentctl knows its objects
TAGS = {"managed-by": "agentctl", "agentctl-pool": "private-agents"}  # [design] owner tags


def scale_set(ssh_public_key: str) -> dict[str, Any]:
    """The scale set PUT at creation."""
    return {
        "location": "westeurope",
        "tags": TAGS,
        "sku": {
            "name": "Standard_D4s_v5",
            "tier": "Standard",
            # [agents] Azure DevOps sizes the pool itself; [design] the set starts empty so no VM
            # runs before the pool exists to register it.
            "capacity": 0,
        },
        "identity": {
            # [vmss] VirtualMachineScaleSetIdentity: user-assigned, keyed by resource id, empty value
            "type": "UserAssigned",
            "userAssignedIdentities": {SCALE_SET_IDENTITY: {}},
        },
        "properties": {
            # [agents] only Uniform orchestration is supported for scale set agent pools
            "orchestrationMode": "Uniform",
            # [agents] overprovisioning must be off: Azure DevOps counts the VMs it asked for
            "overprovision": False,
            # [agents] the documented create command: --single-placement-group false
            "singlePlacementGroup": False,
            # [agents] the documented create command: --platform-fault-domain-count 1
            "platformFaultDomainCount": 1,
            # [agents] the upgrade policy must be Manual: Azure DevOps reimages and updates VMs itself
            "upgradePolicy": {"mode": "Manual"},
            "virtualMachineProfile": {
                "osProfile": {
                    # [vmss] computerNamePrefix: 1 to 15 characters for Linux
                    "computerNamePrefix": "vmss-agents",
                    "adminUsername": "azureuser",
                    "linuxConfiguration": {
                        # [agents] [design] no password login: SSH keys only (no adminPassword sent)
                        "disablePasswordAuthentication": True,
                        # [agents] the agent is installed by a VM extension: the VM agent must run
                        "provisionVMAgent": True,
                        "ssh": {
                            "publicKeys": [
                                {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": ssh_public_key}
                            ]
                        },
                    },
                },
                "storageProfile": {
                    # [vmss] ImageReference.id: a gallery image (the latest version) or one version
                    "imageReference": {"id": IMAGE_ID},
                    # [vmss] DiffDiskSettings: an ephemeral OS disk is Local, with ReadOnly caching
                    "osDisk": {
                        "createOption": "FromImage",
                        "diskSizeGB": 128,
                        "osType": "Linux",
                        "caching": "ReadOnly",
                        "diffDiskSettings": {"option": "Local"},
                    },
                },
                "networkProfile": {
                    "networkInterfaceConfigurations": [
                        {
                            "name": "nic",
                            "properties": {
                                "primary": True,
                                "ipConfigurations": [
                                    {
                                        "name": "ipconfig",
                                        # [agents] --load-balancer "": no load balancer backend pool;
                                        # [design] no publicIPAddressConfiguration: a private subnet only
                                        "properties": {"subnet": {"id": SUBNET_ID}},
                                    }
                                ],
                            },
                        }
                    ]
                },
            },
        },
    }


# The OS disk when the file asks for a managed (not ephemeral) one: [vmss] ManagedDiskParameters,
# caching ReadWrite (ReadOnly is for ephemeral disks).
MANAGED_OS_DISK = {
    "createOption": "FromImage",
    "diskSizeGB": 64,
    "osType": "Linux",
    "caching": "ReadWrite",
    "managedDisk": {"storageAccountType": "Premium_LRS"},
}

# The scale set settings Azure DevOps requires, as (path in the body, value): each is a test case
# of its own (tests/plan/test_requirements.py), so a change to any one of them fails by name.
LINUX = ("properties", "virtualMachineProfile", "osProfile", "linuxConfiguration")
REQUIRED_SCALE_SET_SETTINGS: list[tuple[tuple[str, ...], Any]] = [
    (("properties", "orchestrationMode"), "Uniform"),
    (("properties", "overprovision"), False),
    (("properties", "upgradePolicy", "mode"), "Manual"),
    (("sku", "capacity"), 0),
    (("properties", "platformFaultDomainCount"), 1),
    (("properties", "singlePlacementGroup"), False),
    ((*LINUX, "disablePasswordAuthentication"), True),
    (("identity", "type"), "UserAssigned"),
    (("tags", "managed-by"), "agentctl"),
    (("tags", "agentctl-pool"), "private-agents"),
]


def elastic_pool(endpoint_id: str) -> dict[str, Any]:
    """The elastic pool POST (distributedtask/elasticpools)."""
    return {
        # [elastic] azureId: the scale set's resource id
        "azureId": SCALE_SET_ID,
        # [elastic] the ARM service connection Azure DevOps manages the scale set through, and the
        # project that connection is shared with
        "serviceEndpointId": endpoint_id,
        "serviceEndpointScope": PROJECT["id"],
        # [elastic] orchestrationType: uniform (matches the scale set's orchestration mode)
        "orchestrationType": "uniform",
        # examples/pool.yaml's devops.pool settings, one [elastic] member each
        "maxCapacity": 10,
        "desiredIdle": 1,
        "recycleAfterEachUse": False,
        "timeToLiveMinutes": 30,
        "maxSavedNodeCount": 1,
        "agentInteractiveUI": False,
        # [elastic] osType: linux
        "osType": "linux",
    }


def arm_connection(arm_url: str, environment: str = "AzureCloud") -> dict[str, Any]:
    """The Azure Resource Manager service connection POST (serviceendpoint/endpoints)."""
    return {
        "name": "arm-agents",
        "type": "AzureRM",  # [endpoint] [wif] type azurerm
        "url": arm_url,  # [endpoint] the ARM endpoint of the cloud
        "description": MARKER,
        "authorization": {
            # [wif] workload identity federation: no secret is stored in Azure DevOps
            "scheme": "WorkloadIdentityFederation",
            "parameters": {"tenantid": TENANT, "serviceprincipalid": CONNECTION_CLIENT_ID},
        },
        "data": {
            "environment": environment,
            # [wif] a subscription-scoped connection, created manually (agentctl makes the
            # identity and its federated credential, not Azure DevOps), for a managed identity
            "scopeLevel": "Subscription",
            "subscriptionId": SUBSCRIPTION,
            "subscriptionName": SUBSCRIPTION,
            "creationMode": "Manual",
            "identityType": "ManagedIdentity",
        },
        "isShared": False,
        "owner": "library",
        "serviceEndpointProjectReferences": [
            {"projectReference": PROJECT, "name": "arm-agents", "description": MARKER}
        ],
    }


# [wif] the connection's issuer and subject, as Azure DevOps reports them for an organization and
# a connection; the federated credential must name exactly these.
ISSUER = f"https://vstoken.dev.azure.com/{ORGANIZATION_ID}"
SUBJECT = "sc://contoso/platform/arm-agents"
# [design] agentctl-<connection>-<digest of organization/project/connection, lower case>
FIC_NAME = "agentctl-arm-agents-1901baae95b660cc"

FEDERATED_CREDENTIAL = {
    # [fic] issuer, subject and audiences are required; [wif] the audience is Entra's token exchange
    "properties": {"issuer": ISSUER, "subject": SUBJECT, "audiences": ["api://AzureADTokenExchange"]}
}
