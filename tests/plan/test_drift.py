"""Scale set drift on recorded worlds: every field agentctl corrects, and the PATCH body that fixes it.

The worlds are recorded (tests/plan/observed, see record_observed.py): what the sandbox answered
after a deploy, and the same laid over Microsoft's example of a scale set GET, with the members
Azure adds by itself. The fix bodies are written out by hand.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from worlds import OBSERVED, WORLDS, recorded

import pool_requirements as req
from agentctl import config
from agentctl.kinds import pool
from agentctl.kinds.base import Action, Facts
from agentctl.plan import plan
from testlib import EXAMPLE_POOL

VMP = "virtualMachineProfile"
OTHER_SUBNET = req.SUBNET_ID.replace("/subnets/agents", "/subnets/agents-2")
OTHER_IDENTITY = req.SCALE_SET_IDENTITY.replace("id-agents", "id-agents-2")


def scale_set_action(spec: config.PoolSpec, facts: Facts) -> Action:
    p = plan(spec, facts)
    assert [a.key for a in p.pending] in (["scaleSet"], []), [a.to_dict() for a in p.pending]
    action = p.get("scaleSet")
    assert action is not None
    return action


def edit(spec: config.PoolSpec, part: str, **changes: Any) -> config.PoolSpec:
    return dataclasses.replace(spec, **{part: dataclasses.replace(getattr(spec, part), **changes)})


def test_the_recordings_are_of_the_example_pool() -> None:
    """Re-record (tests/plan/record_observed.py) when examples/pool.yaml changes."""
    doc = json.loads((OBSERVED / "sandbox-converged.json").read_text())
    assert doc["pool"] == EXAMPLE_POOL.read_text()


@pytest.mark.parametrize("world", WORLDS)
def test_a_converged_world_is_a_noop_without_warnings(world: str) -> None:
    spec, facts = recorded(world)
    action = scale_set_action(spec, facts)
    assert action.op == "noop" and action.changes == []
    assert action.data == {"patch": {}, "warnings": []}


def _fix(world: str, spec: config.PoolSpec) -> dict[str, Any]:
    """The fix bodies for each field, for the world's spec (written out, not built)."""
    disk = spec.scaleSet.osDisk.sizeGb
    image = req.IMAGE_ID + (f"/versions/{spec.image.version}" if spec.image.version else "")
    older = req.IMAGE_ID + "/versions/2026.1101.1"
    return {
        "image": (
            edit(spec, "image", version="2026.1101.1"),
            None,
            ("image", image, older),
            {"properties": {VMP: {"storageProfile": {"imageReference": {"id": older}}}}},
        ),
        "sku": (
            edit(spec, "scaleSet", sku="Standard_D8s_v5"),
            None,
            ("sku.name", "Standard_D4s_v5", "Standard_D8s_v5"),
            {"sku": {"name": "Standard_D8s_v5"}},
        ),
        "subnet": (
            edit(spec, "network", subnetId=OTHER_SUBNET),
            None,
            ("subnet", req.SUBNET_ID, OTHER_SUBNET),
            {
                "properties": {
                    VMP: {
                        "networkProfile": {
                            "networkInterfaceConfigurations": [
                                {
                                    "name": "nic",
                                    "properties": {
                                        "primary": True,
                                        "ipConfigurations": [
                                            {
                                                "name": "ipconfig",
                                                "properties": {"subnet": {"id": OTHER_SUBNET}},
                                            }
                                        ],
                                    },
                                }
                            ]
                        }
                    }
                }
            },
        ),
        "osDisk.sizeGb": (
            edit(spec, "scaleSet", osDisk=dataclasses.replace(spec.scaleSet.osDisk, sizeGb=disk * 2)),
            None,
            ("osDisk.sizeGb", disk, disk * 2),
            {"properties": {VMP: {"storageProfile": {"osDisk": {"diskSizeGB": disk * 2}}}}},
        ),
        "tags": (  # the pool tag lost, a tag someone else set: it stays
            spec,
            lambda ss: ss.update(tags={"managed-by": "agentctl", "cost-center": "42"}),
            (
                "tags",
                {"managed-by": "agentctl", "cost-center": "42"},
                {"managed-by": "agentctl", "cost-center": "42", "agentctl-pool": "private-agents"},
            ),
            {"tags": {"managed-by": "agentctl", "cost-center": "42", "agentctl-pool": "private-agents"}},
        ),
        "identity": (  # the file names another identity: the old one is taken off (null)
            edit(spec, "scaleSet", identity=config.Identity(OTHER_IDENTITY)),
            None,
            ("identity", [req.SCALE_SET_IDENTITY], [OTHER_IDENTITY]),
            {
                "identity": {
                    "type": "UserAssigned",
                    "userAssignedIdentities": {OTHER_IDENTITY: {}, req.SCALE_SET_IDENTITY: None},
                }
            },
        ),
    }


FIELDS = ["image", "sku", "subnet", "osDisk.sizeGb", "tags", "identity"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("world", WORLDS)
def test_each_drift_field_and_its_fix(world: str, field: str) -> None:
    spec, facts = recorded(world)
    new_spec, mutate, change, patch = _fix(world, spec)[field]
    if mutate:
        mutate(pool.of(facts).scale_set)
    action = scale_set_action(new_spec, facts)
    assert action.op == "update"
    assert [(c.field, c.old, c.new) for c in action.changes] == [change]
    assert action.data["patch"] == patch
    assert action.data["warnings"] == []


@pytest.mark.parametrize("world", WORLDS)
def test_all_drift_at_once_is_one_patch(world: str) -> None:
    spec, facts = recorded(world)
    fixes = _fix(world, spec)
    new = edit(spec, "image", version="2026.1101.1")
    new = edit(new, "network", subnetId=OTHER_SUBNET)
    new = edit(new, "scaleSet", sku="Standard_D8s_v5", identity=config.Identity(OTHER_IDENTITY))
    new = edit(new, "scaleSet", osDisk=fixes["osDisk.sizeGb"][0].scaleSet.osDisk)
    action = scale_set_action(new, facts)
    assert [c.field for c in action.changes] == ["sku.name", "image", "identity", "subnet", "osDisk.sizeGb"]
    merged: dict[str, Any] = {}
    for f in ["image", "sku", "subnet", "osDisk.sizeGb", "identity"]:
        merged = _merge(merged, fixes[f][3])
    assert action.data["patch"] == merged


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@pytest.mark.parametrize("world", WORLDS)
def test_ids_and_sizes_compare_as_azure_does(world: str) -> None:
    """ARM ids are case-insensitive: another spelling of the same subnet or image is no drift."""
    spec, facts = recorded(world)
    assert pool.of(facts).scale_set is not None
    profile = pool.of(facts).scale_set["properties"][VMP]
    ip = profile["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]["ipConfigurations"][0]
    ip["properties"]["subnet"]["id"] = ip["properties"]["subnet"]["id"].upper()
    image = profile["storageProfile"]["imageReference"]
    image["id"] = image["id"].upper()
    pool.of(facts).scale_set["sku"]["name"] = pool.of(facts).scale_set["sku"]["name"].lower()
    assert scale_set_action(spec, facts).op == "noop"


def test_a_missing_subnet_or_disk_size_is_drift() -> None:
    spec, facts = recorded("sandbox-converged")
    assert pool.of(facts).scale_set is not None
    profile = pool.of(facts).scale_set["properties"][VMP]
    profile["networkProfile"]["networkInterfaceConfigurations"] = []
    del profile["storageProfile"]["osDisk"]["diskSizeGB"]
    action = scale_set_action(spec, facts)
    assert [(c.field, c.old, c.new) for c in action.changes] == [
        ("subnet", None, req.SUBNET_ID),
        ("osDisk.sizeGb", None, 128),
    ]


def test_a_scale_set_with_no_network_interfaces_listed_gets_the_subnet() -> None:
    spec, facts = recorded("sandbox-converged")
    assert pool.of(facts).scale_set is not None
    pool.of(facts).scale_set["properties"][VMP]["networkProfile"]["networkInterfaceConfigurations"] = None
    action = scale_set_action(spec, facts)
    assert [(c.field, c.old, c.new) for c in action.changes] == [("subnet", None, req.SUBNET_ID)]


def test_an_identity_id_in_another_case_is_the_same_identity() -> None:
    spec, facts = recorded("sandbox-converged")
    assert pool.of(facts).scale_set is not None
    ids = pool.of(facts).scale_set["identity"]["userAssignedIdentities"]
    ids[req.SCALE_SET_IDENTITY.upper()] = ids.pop(req.SCALE_SET_IDENTITY)
    assert scale_set_action(spec, facts).op == "noop"
    # and when it changes, the one in another case is the one taken off
    action = scale_set_action(edit(spec, "scaleSet", identity=config.Identity(OTHER_IDENTITY)), facts)
    assert action.data["patch"]["identity"]["userAssignedIdentities"] == {
        OTHER_IDENTITY: {},
        req.SCALE_SET_IDENTITY.upper(): None,
    }


def test_a_scale_set_without_identities_gets_the_files() -> None:
    spec, facts = recorded("sandbox-converged")
    assert pool.of(facts).scale_set is not None
    del pool.of(facts).scale_set["identity"]
    action = scale_set_action(spec, facts)
    assert [(c.field, c.old, c.new) for c in action.changes] == [("identity", [], [req.SCALE_SET_IDENTITY])]
    assert action.data["patch"] == {
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {req.SCALE_SET_IDENTITY: {}}}
    }


@pytest.mark.parametrize("world", WORLDS)
def test_a_failed_scale_set_is_put_again_with_its_own_key(world: str) -> None:
    spec, facts = recorded(world)
    assert pool.of(facts).scale_set is not None
    pool.of(facts).scale_set["properties"]["provisioningState"] = "Failed"
    keys = pool.of(facts).scale_set["properties"][VMP]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"]
    action = scale_set_action(spec, facts)
    assert action.op == "update"
    assert [(c.field, c.old, c.new) for c in action.changes] == [("provisioningState", "Failed", "Succeeded")]
    assert action.data == {"put": keys[0]["keyData"], "warnings": []}
    assert action.data["put"].startswith("ssh-rsa ")


def test_a_failed_scale_set_without_a_key_gets_a_new_one() -> None:
    spec, facts = recorded("sandbox-converged")
    assert pool.of(facts).scale_set is not None
    pool.of(facts).scale_set["properties"]["provisioningState"] = "Failed"
    del pool.of(facts).scale_set["properties"][VMP]["osProfile"]["linuxConfiguration"]["ssh"]
    assert scale_set_action(spec, facts).data["put"] == ""


# (world, what the file says instead, the warning's head)
FIXED = [
    (
        "sandbox-converged",
        {"adminUsername": "ops"},
        "scaleSet.adminUsername is 'azureuser' on the scale set and 'ops'",
    ),
    (
        "sandbox-converged",
        {"osDisk": config.OsDisk(False, 128)},
        "scaleSet.osDisk.ephemeral is True on the scale set and False",
    ),
    ("sandbox-converged", {"zones": ["2", "1"]}, "scaleSet.zones is [] on the scale set and ['1', '2']"),
    (
        "sandbox-managed-disk-zoned",
        {"osDisk": config.OsDisk(True, 64)},
        "scaleSet.osDisk.ephemeral is False on the scale set and True",
    ),
    (
        "sandbox-managed-disk-zoned",
        {"zones": ["1", "2"]},
        "scaleSet.zones is ['1', '2', '3'] on the scale set and ['1', '2']",
    ),
    ("azure-example-converged", {"adminUsername": "ops"}, "scaleSet.adminUsername is 'azureuser'"),
]


@pytest.mark.parametrize(("world", "changes", "head"), FIXED)
def test_what_azure_cannot_change_is_one_warning(world: str, changes: dict[str, Any], head: str) -> None:
    spec, facts = recorded(world)
    action = scale_set_action(edit(spec, "scaleSet", **changes), facts)
    assert action.op == "noop"
    (warning,) = action.data["warnings"]
    assert warning.startswith(head)
    assert warning.endswith(
        " in the file: Azure cannot change it on an existing scale set;"
        " destroy the pool and deploy it again to apply it"
    )


def test_zones_in_another_order_are_the_same_zones() -> None:
    spec, facts = recorded("sandbox-managed-disk-zoned")
    assert spec.scaleSet.zones == ["1", "2", "3"]
    action = scale_set_action(edit(spec, "scaleSet", zones=["3", "1", "2"]), copy.deepcopy(facts))
    assert action.data["warnings"] == []
