"""AKS credentials, role assignments and definitions, and the read-only ACR and private DNS
resources, through the real azure-mgmt clients."""

from __future__ import annotations

import base64
import uuid

import pytest
import yaml
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from cryptography import x509
from sandbox_helpers import RG_ID, SUB, Arm

from agentctl.sandbox import Sandbox

ROLES = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions"
VM_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
PRINCIPAL = "3b9f6c1e-8d2a-4f5b-9c7e-2a1d4e6f8b0c"
ALICE = "6a3f1c8e-2d5b-4a9c-8e7f-1b4d6c9a2e5f"
AKS_RG = f"{RG_ID}/rg-aks"


def kubeconfig(result: object) -> dict[str, object]:
    [entry] = result.kubeconfigs  # type: ignore[attr-defined]
    doc: dict[str, object] = yaml.safe_load(
        entry.value.decode() if isinstance(entry.value, bytes) else base64.b64decode(entry.value)
    )
    return doc


# --- AKS ---------------------------------------------------------------------------------------


def test_private_cluster_with_local_accounts(arm: Arm) -> None:
    assert sorted(c.name for c in arm.aks.managed_clusters.list()) == ["aks-dev", "aks-prod"]
    cluster = arm.aks.managed_clusters.get("rg-aks", "aks-dev")
    assert cluster.api_server_access_profile.enable_private_cluster
    assert cluster.disable_local_accounts is False
    assert cluster.private_fqdn.endswith(".privatelink.westeurope.azmk8s.io")
    for result, user in (
        (
            arm.aks.managed_clusters.list_cluster_user_credentials("rg-aks", "aks-dev"),
            "clusterUser_rg-aks_aks-dev",
        ),
        (
            arm.aks.managed_clusters.list_cluster_admin_credentials("rg-aks", "aks-dev"),
            "clusterAdmin_rg-aks_aks-dev",
        ),
    ):
        doc = kubeconfig(result)
        assert doc["clusters"][0]["cluster"]["server"] == f"https://{cluster.private_fqdn}:443"  # type: ignore[index]
        [entry] = doc["users"]  # type: ignore[misc]
        assert entry["name"] == user
        ca = x509.load_pem_x509_certificate(
            base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"])
        )  # type: ignore[index]
        cert = x509.load_pem_x509_certificate(base64.b64decode(entry["user"]["client-certificate-data"]))
        cert.verify_directly_issued_by(ca)  # a real client certificate of the cluster CA
        assert entry["user"]["token"]


def test_entra_cluster_credentials(sb: Sandbox, arm: Arm) -> None:
    doc = kubeconfig(arm.aks.managed_clusters.list_cluster_user_credentials("rg-aks", "aks-prod"))
    exec_ = doc["users"][0]["user"]["exec"]  # type: ignore[index]
    assert exec_["command"] == "kubelogin"
    assert exec_["args"][:1] == ["get-token"]
    assert exec_["args"][exec_["args"].index("--login") + 1] == "devicecode"
    assert exec_["args"][exec_["args"].index("--tenant-id") + 1] == sb.tenant_id
    legacy = kubeconfig(
        arm.aks.managed_clusters.list_cluster_user_credentials("rg-aks", "aks-prod", format="azure")
    )
    assert legacy["users"][0]["user"]["auth-provider"]["name"] == "azure"  # type: ignore[index]
    with pytest.raises(HttpResponseError) as e:
        arm.aks.managed_clusters.list_cluster_admin_credentials("rg-aks", "aks-prod")
    assert e.value.status_code == 400
    assert "disable local accounts" in str(e.value.message)


def test_cluster_credentials_are_redacted_in_the_access_log(sb: Sandbox, arm: Arm) -> None:
    result = arm.aks.managed_clusters.list_cluster_admin_credentials("rg-aks", "aks-dev")
    value = result.kubeconfigs[0].value
    encoded = base64.b64encode(value).decode() if isinstance(value, bytes) else value
    log = sb.access_log.read_text()
    assert encoded not in log
    assert '"value": "***REDACTED***"' in log
    assert sb.access_log.stat().st_mode & 0o777 == 0o600


def test_missing_cluster(arm: Arm) -> None:
    with pytest.raises(ResourceNotFoundError):
        arm.aks.managed_clusters.list_cluster_user_credentials("rg-aks", "aks-none")


# --- role assignments and definitions ---------------------------------------------------------


def assign(arm: Arm, scope: str, role: str, principal: str = PRINCIPAL, name: str | None = None) -> object:
    props = {
        "roleDefinitionId": f"{ROLES}/{role}",
        "principalId": principal,
        "principalType": "ServicePrincipal",
    }
    return arm.auth.role_assignments.create(scope, name or str(uuid.uuid4()), {"properties": props})


def test_role_definitions_by_name(arm: Arm) -> None:
    defs = list(
        arm.auth.role_definitions.list(
            f"/subscriptions/{SUB}", filter="roleName eq 'Virtual Machine Contributor'"
        )
    )
    assert [d.name for d in defs] == [VM_CONTRIBUTOR]
    assert defs[0].id == f"{ROLES}/{VM_CONTRIBUTOR}"
    names = {d.role_name for d in arm.auth.role_definitions.list(AKS_RG)}
    assert {"Contributor", "AcrPull", "AcrPush", "Azure Kubernetes Service Cluster User Role"} <= names
    assert arm.auth.role_definitions.get(f"/subscriptions/{SUB}", ACR_PULL).role_name == "AcrPull"


def test_role_assignment_lifecycle(sb: Sandbox, arm: Arm) -> None:
    name = str(uuid.uuid4())
    made = assign(arm, AKS_RG, VM_CONTRIBUTOR, name=name)
    assert made.scope == AKS_RG  # type: ignore[attr-defined]
    again = assign(arm, AKS_RG, VM_CONTRIBUTOR, name=name)
    assert again.id == made.id  # type: ignore[attr-defined]
    with pytest.raises(ResourceExistsError) as e:
        assign(arm, AKS_RG, VM_CONTRIBUTOR)
    assert e.value.error.code == "RoleAssignmentExists"  # type: ignore[union-attr]
    assert arm.auth.role_assignments.get(AKS_RG, name).principal_id == PRINCIPAL
    cluster = f"{AKS_RG}/providers/Microsoft.ContainerService/managedClusters/aks-dev"
    assign(arm, cluster, ACR_PULL)
    assign(arm, AKS_RG, ACR_PULL, principal=ALICE)
    mine = list(arm.auth.role_assignments.list_for_scope(cluster, filter=f"principalId eq '{PRINCIPAL}'"))
    assert {a.role_definition_id.rsplit("/", 1)[1] for a in mine} == {VM_CONTRIBUTOR, ACR_PULL}
    at_group = list(arm.auth.role_assignments.list_for_scope(AKS_RG, filter=f"principalId eq '{PRINCIPAL}'"))
    assert len(at_group) == 2  # the group's own and the one below it
    arm.auth.role_assignments.delete(AKS_RG, name)
    with pytest.raises(ResourceNotFoundError):
        arm.auth.role_assignments.get(AKS_RG, name)


def test_role_assignment_rejections(arm: Arm) -> None:
    with pytest.raises(HttpResponseError) as e:
        assign(arm, AKS_RG, VM_CONTRIBUTOR, name="not-a-guid")
    assert e.value.error.code == "InvalidRoleAssignmentId"  # type: ignore[union-attr]
    with pytest.raises(HttpResponseError) as e:
        assign(arm, AKS_RG, str(uuid.uuid4()))
    assert e.value.error.code == "RoleDefinitionDoesNotExist"  # type: ignore[union-attr]
    with pytest.raises(HttpResponseError) as e:
        assign(arm, AKS_RG, VM_CONTRIBUTOR, principal=str(uuid.uuid4()))
    assert e.value.error.code == "PrincipalNotFound"  # type: ignore[union-attr]
    with pytest.raises(ResourceNotFoundError):
        assign(arm, f"{RG_ID}/rg-none", VM_CONTRIBUTOR)


# --- ACR and private DNS -----------------------------------------------------------------------


def test_registry(arm: Arm) -> None:
    acr = arm.acr.registries.get("rg-acr", "acrprivate")
    assert (acr.sku.name, acr.login_server, acr.public_network_access) == (
        "Premium",
        "acrprivate.azurecr.io",
        "Disabled",
    )
    assert [r.name for r in arm.acr.registries.list_by_resource_group("rg-acr")] == ["acrprivate"]
    assert [r.name for r in arm.acr.registries.list()] == ["acrprivate"]


def test_private_dns(arm: Arm) -> None:
    dns = arm.dns
    zones = [z.name for z in dns.private_zones.list()]
    assert "privatelink.azurecr.io" in zones
    # each private cluster has its system zone <guid>.privatelink.<region>.azmk8s.io
    assert sum(1 for z in zones if z.endswith(".privatelink.westeurope.azmk8s.io")) == 2
    zone = dns.private_zones.get("rg-network", "privatelink.azurecr.io")
    assert (zone.number_of_virtual_network_links, zone.number_of_record_sets) == (1, 3)
    [link] = dns.virtual_network_links.list("rg-network", "privatelink.azurecr.io")
    assert link.virtual_network.id.endswith("/virtualNetworks/vnet-hub")
    record = dns.record_sets.get("rg-network", "privatelink.azurecr.io", "A", "acrprivate")
    assert [a.ipv4_address for a in record.a_records] == ["10.10.2.10"]
    names = sorted(r.name for r in dns.record_sets.list_by_type("rg-network", "privatelink.azurecr.io", "A"))
    assert names == ["acrprivate", "acrprivate.westeurope.data"]
    assert len(list(dns.record_sets.list("rg-network", "privatelink.azurecr.io"))) == 2
