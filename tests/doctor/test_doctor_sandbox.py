"""doctor against a served sandbox: healthy by default and read-only; each failure world and each
break made through the ARM API gives exit 5 with one cause's error, and nothing else is an error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from doctor_helpers import SUB, Served, errors

from agentctl.sandbox.testing import arm_client
from agentctl.schemas import load as load_schema
from testlib import is_write

RG_NET = "rg-network"
NSG = "nsg-agents"


def test_default_world_is_healthy_and_sends_no_write(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    code, data = s.doctor(capsys)
    assert code == 0, data
    jsonschema.validate(data["data"], load_schema("doctor"))
    assert errors(data) == []
    assert data["status"] == "ok" and data["data"]["summary"]["error"] == 0
    checked = {f["code"] for f in data["data"]["findings"]}
    assert {"egress.nat_gateway", "egress.hosts"} <= checked  # the egress path was judged
    logged = [json.loads(line) for line in (s.dir / "access.jsonl").read_text().splitlines()]
    sent = [e for e in logged if e["service"] != "token"]
    assert len(sent) >= 20
    writes = [f"{e['method']} {e['path']}" for e in sent if is_write(e)]
    assert writes == ["POST /contoso/_apis/security/permissionEvaluationBatch"]  # a read, as a POST
    # what was read: the network path, DNS, permissions, quota, image, providers, the evaluation
    ops = {e["operation"] for e in sent}
    assert {
        "arm.subnets.get",
        "arm.nsgs.get",
        "arm.natgateways.get",
        "arm.dnszones.listall",
        "arm.dnsrecords.list",
        "arm.permissions.list",
        "arm.usages.list",
        "arm.skus.list",
        "arm.providers.get",
        "arm.galleryimageversions.get",
        "devops.security.evaluate",
    } <= ops, ops


@pytest.mark.parametrize(
    ("world", "code", "names"),
    [
        ("no-egress.yaml", "egress.none", "NAT gateway"),
        ("dns-not-linked.yaml", "dns.cluster_not_linked", "vnet-hub"),
        ("short-quota.yaml", "quota.short", "quota increase"),
        ("image-not-replicated.yaml", "image.not_replicated", "westeurope"),
        ("missing-role.yaml", "permissions.missing", "Network Contributor"),
    ],
)
def test_failure_worlds(
    served: Callable[..., Served], capsys: Any, world: str, code: str, names: str
) -> None:
    s = served(world)
    status, data = s.doctor(capsys)
    assert status == 5, data
    jsonschema.validate(data["data"], load_schema("doctor"))
    found = errors(data)
    assert {f["code"] for f in found} == {code}, found
    assert all(names in f["fix"] for f in found), found
    assert data["status"] == "error" and {e["code"] for e in data["errors"]} == {code}


def _deny_443(s: Served) -> None:
    s.deny_outbound("deny-https-out", "Internet", 200)


def _unlink_cluster_zone(s: Served) -> None:
    from azure.mgmt.privatedns import PrivateDnsManagementClient

    dns = arm_client(s.sb, PrivateDnsManagementClient)
    [zone] = [z for z in dns.private_zones.list() if z.name.endswith(".azmk8s.io") and "aks-dev" in z.id]
    rg = zone.id.split("/")[4]
    [link] = list(dns.virtual_network_links.list(rg, zone.name))
    dns.virtual_network_links.begin_delete(rg, zone.name, link.name).result()


def _remove_registry_record(s: Served) -> None:
    from azure.mgmt.privatedns import PrivateDnsManagementClient

    dns = arm_client(s.sb, PrivateDnsManagementClient)
    dns.record_sets.delete(RG_NET, "privatelink.azurecr.io", "A", "acrprivate")


def _private_subnet(s: Served) -> None:
    from azure.mgmt.network import NetworkManagementClient

    net = arm_client(s.sb, NetworkManagementClient)
    group = f"/subscriptions/{SUB}/resourceGroups/{RG_NET}"
    nsg_id = f"{group}/providers/Microsoft.Network/networkSecurityGroups/{NSG}"
    body = {
        "addressPrefix": "10.10.1.0/24",
        "networkSecurityGroup": {"id": nsg_id},
        "defaultOutboundAccess": False,
    }
    net.subnets.begin_create_or_update(RG_NET, "vnet-hub", "agents", {"properties": body}).result()


def _remove_callers_role(s: Served) -> None:
    from azure.mgmt.authorization import AuthorizationManagementClient

    auth = arm_client(s.sb, AuthorizationManagementClient)
    alice = "6a3f1c8e-2d5b-4a9c-8e7f-1b4d6c9a2e5f"  # the world's caller
    scope = f"/subscriptions/{SUB}"
    mine = list(auth.role_assignments.list_for_scope(scope, filter=f"principalId eq '{alice}'"))
    assert mine
    for a in mine:
        auth.role_assignments.delete(a.scope, a.name)


def _use_up_quota(s: Served) -> None:
    """Another workload's scale set takes 64 of the family's 100 vCPUs (the clusters hold 16)."""
    from azure.mgmt.compute import ComputeManagementClient

    from agentctl import config
    from agentctl.kinds.pool import desired

    other = s.pool.parent / "other.yaml"
    other.write_text(s.pool.read_text().replace("name: vmss-agents", "name: vmss-batch"))
    body = desired.scale_set_body(
        config.load(str(other)), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBatchWorkload"
    )
    body["sku"]["capacity"] = 16
    compute = arm_client(s.sb, ComputeManagementClient)
    from azure.mgmt.resource.resources import ResourceManagementClient

    arm_client(s.sb, ResourceManagementClient).resource_groups.create_or_update(
        "rg-agents", {"location": "westeurope"}
    )
    compute.virtual_machine_scale_sets.begin_create_or_update("rg-agents", "vmss-batch", body).result()


@pytest.mark.parametrize(
    ("breaks", "code", "names"),
    [
        (_deny_443, "egress.nsg_denies", "deny-https-out"),
        (_unlink_cluster_zone, "dns.cluster_not_linked", "vnet-hub"),
        (_remove_registry_record, "dns.registry_record_missing", "acrprivate"),
        (_private_subnet, "egress.none", "NAT gateway"),
        (_remove_callers_role, "permissions.missing", "assign the caller"),
        (_use_up_quota, "quota.short", "quota increase"),
    ],
)
def test_breaks_through_arm(
    served: Callable[..., Served], capsys: Any, breaks: Callable[[Served], None], code: str, names: str
) -> None:
    s = served()
    assert s.doctor(capsys)[0] == 0
    breaks(s)
    status, data = s.doctor(capsys)
    assert status == 5, data
    found = errors(data)
    assert found and {f["code"] for f in found} == {code}, found
    assert all(names in f["fix"] for f in found), found


def test_findings_render_as_a_table(served: Callable[..., Served], capsys: Any) -> None:
    from agentctl.cli import run

    s = served("no-egress.yaml")
    capsys.readouterr()
    code = run(["--sandbox", "--sandbox-dir", str(s.dir), "doctor", "-f", str(s.pool)])
    out = capsys.readouterr().out
    assert code == 5
    assert "severity" in out and "egress.none" in out and "fix:" in out
    assert "1 error(s)" in out


def test_refused_credentials_exit_4(served: Callable[..., Served], capsys: Any) -> None:
    import json

    s = served()
    creds = s.dir / "credentials.json"
    doc = json.loads(creds.read_text())
    creds.write_text(json.dumps({**doc, "clientSecret": "not-the-secret"}))
    status, data = s.doctor(capsys)
    assert status == 4, data
    assert data["status"] == "error" and data["errors"][0]["code"] == "auth.failed"


def test_missing_devops_permission(served: Callable[..., Served], capsys: Any, tmp_path: Any) -> None:
    world = tmp_path / "no-endpoint-create.yaml"
    # ServiceEndpoints namespace, Create (4): alice may not create service connections
    world.write_text("extends: default.yaml\ndevops:\n  denied: ['49b48001-ca20-4adc-8111-5b60c903a50c:4']\n")
    s = served(str(world))
    status, data = s.doctor(capsys)
    assert status == 5, data
    [found] = errors(data)
    assert found["code"] == "permissions.devops_missing"
    assert "create service connections" in found["found"] and "Service connections" in found["fix"]


def test_after_deploy_the_connection_credential_is_checked(
    served: Callable[..., Served], capsys: Any
) -> None:
    from azure.mgmt.msi import ManagedServiceIdentityClient

    s = served()
    assert s.cli(capsys, "deploy-pool", "-f", str(s.pool), "--yes")[0] == 0
    code, data = s.doctor(capsys)
    assert code == 0, data
    codes = {f["code"] for f in data["data"]["findings"]}
    assert "permissions.group_absent" not in codes and "connection.absent" not in codes  # both checked now
    msi = arm_client(s.sb, ManagedServiceIdentityClient)
    fics = msi.federated_identity_credentials
    [made] = fics.list("rg-agents", "vmss-agents-pool")  # on the pool-management identity
    fics.delete("rg-agents", "vmss-agents-pool", made.name)
    code, data = s.doctor(capsys)
    assert code == 5
    [found] = errors(data)
    assert (
        found["code"] == "connection.credential_mismatch"
        and "sc://contoso/platform/arm-agents" in found["found"]
    )


def test_missing_references_are_findings(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    text = s.pool.read_text()
    for old, new in (("images/ubuntu-24.04-agent", "images/nope"), ("subnets/agents", "subnets/nope")):
        text = text.replace(old, new)
    s.pool.write_text(text.replace("userAssignedIdentities/id-agents", "userAssignedIdentities/nope"))
    code, data = s.doctor(capsys)
    assert code == 5, data
    assert {f["code"] for f in errors(data)} == {"subnet.missing", "image.missing", "identity.missing"}
