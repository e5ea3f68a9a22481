"""Microsoft.ContainerService: managed clusters (read) and their credentials.

``listClusterUserCredential`` / ``listClusterAdminCredential`` return base64 kubeconfigs for the
private API server FQDN. Clusters with local accounts get a real cluster CA and client
certificate (made on first use, kept in the state); an Entra-enabled cluster's user kubeconfig
execs ``kubelogin`` as the real one does; admin credentials on a cluster with local accounts
disabled fail with the 400 AKS gives.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

import yaml

from agentctl.sandbox.arm import common
from agentctl.sandbox.http import Response, arm_error
from agentctl.sandbox.registry import ApiVersions, Ctx, arm

VERSIONS = ApiVersions.of(
    "managedClusters",
    "2023-10-01",
    "2024-01-01",
    "2024-02-01",
    "2024-05-01",
    "2024-07-01",
    "2024-08-01",
    "2024-09-01",
    "2024-10-01",
    "2025-01-01",
    "2025-02-01",
    "2025-03-01",
    "2025-04-01",
    "2025-05-01",
    "2025-06-01",
    "2025-07-01",
    "2025-08-01",
    "2025-09-01",
    "2025-10-01",
    "2026-01-01",
    "2026-02-01",
    "2026-03-01",
    "2026-04-01",
    "2026-05-01",
    "2026-06-01",
    "2026-08-01",
)
CLUSTERS = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers"
    "/Microsoft.ContainerService/managedClusters"
)
# The Entra application ids AKS puts in kubelogin kubeconfigs (AKS AAD server and Azure CLI client).
AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
AAD_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
LOCAL_ACCOUNTS_DISABLED = (
    "Getting static credential is not allowed because this cluster is set to disable local accounts."
)


def managed_cluster(
    sub: str, rg: str, name: str, location: str, tenant: str, spec: dict[str, Any], subnet_id: str
) -> common.Resource:
    rid = common.provider_id(sub, rg, "Microsoft.ContainerService/managedClusters", name)
    suffix = hashlib.sha256(rid.lower().encode()).hexdigest()[:8]
    props: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
        "kubernetesVersion": spec["kubernetesVersion"],
        "currentKubernetesVersion": spec["kubernetesVersion"],
        "dnsPrefix": name,
        # the system private DNS zone is <guid>.privatelink.<region>.azmk8s.io, one per cluster
        "privateFQDN": f"{name}-{suffix}.{common.stable_guid(rid + '/dns')}.privatelink.{location}.azmk8s.io",
        "agentPoolProfiles": [
            {
                "name": "system",
                "count": 2,
                "vmSize": "Standard_D4s_v5",
                "osType": "Linux",
                "osSKU": "Ubuntu",
                "mode": "System",
                "type": "VirtualMachineScaleSets",
                "vnetSubnetID": subnet_id,
                "provisioningState": "Succeeded",
                "powerState": {"code": "Running"},
                "orchestratorVersion": spec["kubernetesVersion"],
            }
        ],
        "nodeResourceGroup": f"MC_{rg}_{name}_{location}",
        "enableRBAC": True,
        "disableLocalAccounts": not spec["localAccounts"],
        "apiServerAccessProfile": {
            "enablePrivateCluster": spec["privateCluster"],
            "privateDNSZone": "system",
            "enablePrivateClusterPublicFQDN": False,
        },
        "networkProfile": {
            "networkPlugin": "azure",
            "networkPluginMode": "overlay",
            "loadBalancerSku": "standard",
            "outboundType": "loadBalancer",
            "podCidr": "10.244.0.0/16",
            "serviceCidr": "10.0.0.0/16",
            "dnsServiceIP": "10.0.0.10",
        },
    }
    if spec["entra"]:
        props["aadProfile"] = {"managed": True, "enableAzureRBAC": True, "tenantID": tenant}
    return {
        "id": rid,
        "name": name,
        "type": "Microsoft.ContainerService/ManagedClusters",
        "location": location,
        "sku": {"name": "Base", "tier": "Free"},
        "identity": {
            "type": "SystemAssigned",
            "principalId": common.stable_guid(rid + "/identity"),
            "tenantId": tenant,
        },
        "properties": props,
    }


arm("GET", CLUSTERS + "/{resourceName}", "arm.aks.get", VERSIONS)(common.show)
arm("GET", CLUSTERS, "arm.aks.list", VERSIONS)(common.listing)
arm(
    "GET",
    "/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/managedClusters",
    "arm.aks.listall",
    VERSIONS,
)(common.subscription_listing)


def _secrets(ctx: Ctx, cluster: common.Resource) -> dict[str, str]:
    """The cluster CA and the static client credential, made on first use."""
    from agentctl.sandbox import tls

    store: dict[str, dict[str, str]] = ctx.st.setdefault("aksCredentials", {})
    key = cluster["id"].lower()
    if key not in store:
        ca, ca_key = tls.new_ca("ca")
        cert, cert_key = tls.issue(ca, ca_key, "masterclient", organization="system:masters")
        store[key] = {
            "ca": ca,
            "caKey": ca_key,
            "cert": cert,
            "key": cert_key,
            "token": secrets.token_hex(32),
        }
    return store[key]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _kubeconfig(cluster: common.Resource, user_name: str, user: dict[str, Any], ca: str) -> str:
    name = cluster["name"]
    doc = {
        "apiVersion": "v1",
        "clusters": [
            {
                "cluster": {
                    "certificate-authority-data": _b64(ca),
                    "server": f"https://{cluster['properties']['privateFQDN']}:443",
                },
                "name": name,
            }
        ],
        "contexts": [{"context": {"cluster": name, "user": user_name}, "name": name}],
        "current-context": name,
        "kind": "Config",
        "preferences": {},
        "users": [{"name": user_name, "user": user}],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _exec_user(tenant: str) -> dict[str, Any]:
    args = ["get-token", "--environment", "AzurePublicCloud", "--server-id", AAD_SERVER_ID]
    args += ["--client-id", AAD_CLIENT_ID, "--tenant-id", tenant, "--login", "devicecode"]
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "args": args,
            "command": "kubelogin",
            "env": None,
            "installHint": (
                "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\n"
                "To learn more, please go to https://aka.ms/aks/kubelogin\n"
            ),
            "provideClusterInfo": False,
        }
    }


def _azure_user(tenant: str) -> dict[str, Any]:
    config = {
        "apiserver-id": AAD_SERVER_ID,
        "client-id": AAD_CLIENT_ID,
        "config-mode": "1",
        "environment": "AzurePublicCloud",
        "tenant-id": tenant,
    }
    return {"auth-provider": {"config": config, "name": "azure"}}


def _credentials(ctx: Ctx, admin: bool) -> Response:
    cluster = common.require(ctx, common.path_id(ctx).rsplit("/", 1)[0])
    props = cluster["properties"]
    fmt = ctx.req.arg("format", "exec").lower()
    if fmt not in ("exec", "azure"):
        raise arm_error(400, "BadRequest", f"The format '{fmt}' is not supported; use 'azure' or 'exec'.")
    if admin and props["disableLocalAccounts"]:
        raise arm_error(400, "BadRequest", LOCAL_ACCOUNTS_DISABLED)
    rg = common.parse_id(cluster["id"])["resourceGroup"]
    kind = "clusterAdmin" if admin else "clusterUser"
    user_name = f"{kind}_{rg}_{cluster['name']}"
    creds = _secrets(ctx, cluster)
    tenant = ctx.meta["tenantId"]
    if not admin and "aadProfile" in props:
        user = _exec_user(tenant) if fmt == "exec" else _azure_user(tenant)
    else:
        user = {"client-certificate-data": _b64(creds["cert"]), "client-key-data": _b64(creds["key"])}
        user["token"] = creds["token"]
    text = _kubeconfig(cluster, user_name, user, creds["ca"])
    return Response(200, {"kubeconfigs": [{"name": kind, "value": _b64(text)}]})


@arm("POST", CLUSTERS + "/{resourceName}/listClusterUserCredential", "arm.aks.usercredential", VERSIONS)
def user_credential(ctx: Ctx) -> Response:
    return _credentials(ctx, admin=False)


@arm("POST", CLUSTERS + "/{resourceName}/listClusterAdminCredential", "arm.aks.admincredential", VERSIONS)
def admin_credential(ctx: Ctx) -> Response:
    return _credentials(ctx, admin=True)
