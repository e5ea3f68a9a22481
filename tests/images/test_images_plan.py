"""The image lifecycle's pure parts, table-tested: references, latest, usage, roll, prune, recycle,
and the in-place edit of pool.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from agentctl import config
from agentctl.errors import InvalidInput, NotFound, PreconditionFailed
from agentctl.images import (
    PoolImage,
    Use,
    Version,
    edited_pool_file,
    latest,
    plan_prune,
    plan_roll,
    recyclable,
    split_reference,
    uses,
)
from testlib import EXAMPLE_POOL

TEXT = EXAMPLE_POOL.read_text()
DEF = (
    "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-images/providers"
    "/Microsoft.Compute/galleries/agents/images/ubuntu-24.04-agent"
)
OTHER = DEF.replace("ubuntu-24.04", "ubuntu-22.04")
V = [f"2026.1{n}01.1" for n in range(1, 6)]  # 2026.1101.1 .. 2026.1501.1


def pinned_text(version: str | None, text: str = TEXT) -> str:
    if version is None:
        return text
    return text.replace(
        "images/ubuntu-24.04-agent\n", f"images/ubuntu-24.04-agent\n  version: {version}\n", 1
    )


def spec(version: str | None = None, pool: str = "private-agents", text: str = TEXT) -> config.PoolSpec:
    return config.loads(pinned_text(version, text).replace("private-agents", pool), "pools/a.yaml")


def versions(*specs: Any) -> list[Version]:
    """Version names, or (name, state, excludeFromLatest) tuples."""
    out = []
    for s in specs:
        name, state, excluded = (s, "Succeeded", False) if isinstance(s, str) else s
        out.append(Version(name, state=state, exclude_from_latest=excluded))
    return out


# --- references and latest -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (DEF, (DEF, None)),
        (DEF + "/", (DEF, None)),
        (DEF + "/versions/2026.1101.1", (DEF, "2026.1101.1")),
        (DEF + "/Versions/2026.1101.1", (DEF, "2026.1101.1")),
        (DEF + "/versions/latest", (DEF, None)),
    ],
)
def test_split_reference(ref: str, expected: tuple[str, str | None]) -> None:
    assert split_reference(ref) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["2026.1101.1", "2026.999.1"], "2026.1101.1"),  # numeric, not text order
        ([("2026.1101.1", "Succeeded", False), ("2026.1201.1", "Succeeded", True)], "2026.1101.1"),
        ([("2026.1101.1", "Succeeded", False), ("2026.1201.1", "Failed", False)], "2026.1101.1"),
        ([("2026.1101.1", "Succeeded", False), ("2026.1201.1", "Creating", False)], "2026.1101.1"),
        ([("2026.1101.1", "Succeeded", True)], None),
        ([], None),
    ],
)
def test_latest_is_the_highest_usable_version(given: list[Any], expected: str | None) -> None:
    found = latest(versions(*given))
    assert (found.name if found else None) == expected


def test_version_from_the_rest_document() -> None:
    doc = {
        "name": "2026.1129.1",
        "properties": {
            "provisioningState": "Succeeded",
            "publishingProfile": {
                "publishedDate": "2026-11-29T02:00:00Z",
                "excludeFromLatest": True,
                "endOfLifeDate": "2027-11-29T00:00:00Z",
                "targetRegions": [{"name": "West Europe"}, {"name": "North Europe"}],
            },
            "replicationStatus": {"aggregatedState": "InProgress", "summary": []},
        },
    }
    v = Version.of(doc)
    assert v == Version(
        "2026.1129.1",
        "Succeeded",
        "2026-11-29T02:00:00Z",
        True,
        "2027-11-29T00:00:00Z",
        "InProgress",
        ("West Europe", "North Europe"),
    )
    assert Version.of({"name": "1.0.0"}).state == "Unknown"


# --- usage -----------------------------------------------------------------------------------


def test_uses_names_the_model_the_file_and_the_instances() -> None:
    vs = versions(*V)
    on_three = PoolImage(
        spec(V[2], "pool-a"),
        DEF + "/versions/" + V[2],
        {"0": (DEF, V[0]), "1": (DEF, V[0]), "2": (DEF, V[2])},
    )
    on_latest = PoolImage(spec(None, "pool-b"), DEF.upper(), {})  # ids compare case-insensitively
    other_text = TEXT.replace("ubuntu-24.04", "ubuntu-22.04")
    other_image = PoolImage(
        spec(None, "pool-c", other_text), OTHER + "/versions/" + V[1], {"0": (OTHER, V[1])}
    )
    not_deployed = PoolImage(spec(V[3], "pool-d"))
    found = uses([on_three, on_latest, other_image, not_deployed], DEF, vs)
    as_text = {v: sorted(u.describe() for u in us) for v, us in found.items()}
    assert as_text == {
        V[0]: ["2 instance(s) of pool pool-a"],
        V[2]: ["1 instance(s) of pool pool-a", "pool pool-a: pool.yaml", "pool pool-a: scale set"],
        V[3]: ["pool pool-d: pool.yaml"],
        V[4]: ["pool pool-b: pool.yaml (latest)", "pool pool-b: scale set (latest)"],
    }
    assert all(u.file == "pools/a.yaml" for us in found.values() for u in us)


def test_latest_resolves_past_excluded_versions() -> None:
    vs = versions(*V[:4], (V[4], "Succeeded", True))
    found = uses([PoolImage(spec(), DEF, {})], DEF, vs)
    assert set(found) == {V[3]}


# --- prune -----------------------------------------------------------------------------------


def in_use(*names: str) -> dict[str, list[Use]]:
    return {n: [Use("p", "f", "scale set")] for n in names}


@pytest.mark.parametrize(
    ("given", "keep", "used", "deleted"),
    [
        # the acceptance case: 1..5, pools on 3 and 5, keep 2 -> 1 and 2 go
        (V, 2, (V[2], V[4]), [V[0], V[1]]),
        (V, 2, (), [V[0], V[1], V[2]]),
        (V, 5, (), []),
        (V, 9, (), []),
        (V, 1, (V[0],), [V[1], V[2], V[3]]),
        # failed versions are not among the newest N, and go unless in use
        ([*V[:3], (V[3], "Failed", False), (V[4], "Failed", False)], 2, (V[4],), [V[0], V[3]]),
        # versions still being created, changed or deleted are left alone
        ([*V[:3], (V[3], "Creating", False), (V[4], "Deleting", False)], 1, (), [V[0], V[1]]),
        # excluded from latest still counts as one of the newest
        ([*V[:4], (V[4], "Succeeded", True)], 2, (), [V[0], V[1], V[2]]),
        ([], 3, (), []),
    ],
)
def test_plan_prune(given: list[Any], keep: int, used: tuple[str, ...], deleted: list[str]) -> None:
    items = plan_prune(versions(*given), keep, in_use(*used))
    assert [i.version.name for i in items if i.delete] == deleted
    assert [i.version.name for i in items] == sorted(
        (v if isinstance(v, str) else v[0] for v in given), key=lambda n: int(n.split(".")[1])
    )
    for item in items:
        assert item.delete == (not item.reasons)
        if item.version.name in used:
            assert "pool p: scale set" in item.reasons


def test_prune_reasons_say_why_a_version_stays() -> None:
    items = {i.version.name: i for i in plan_prune(versions(*V), 2, in_use(V[2], V[4]))}
    assert items[V[4]].reasons == ("one of the newest 2", "pool p: scale set")
    assert items[V[3]].reasons == ("one of the newest 2",)
    assert items[V[2]].reasons == ("pool p: scale set",)
    assert items[V[0]].to_dict()["delete"] is True and items[V[0]].to_dict()["keptBecause"] == []


# --- roll ------------------------------------------------------------------------------------


def pin(version: str) -> str:
    return f"{DEF}/versions/{version}"


@pytest.mark.parametrize(
    ("file_version", "model", "requested", "new_model", "changed", "edit"),
    [
        # follows latest: rolling to the latest keeps the definition; nothing to do when it is there
        (None, DEF, None, DEF, False, None),
        # a model pinned behind the file's back returns to latest
        (None, pin(V[2]), None, DEF, True, None),
        # pinned in the file: model and file move to the target
        (V[2], pin(V[2]), None, pin(V[4]), True, (V[2], V[4])),
        (V[4], pin(V[4]), None, pin(V[4]), False, None),
        # an explicit version pins it, also for a pool that followed latest
        (None, DEF, V[3], pin(V[3]), True, (None, V[3])),
        (V[2], pin(V[2]), V[1], pin(V[1]), True, (V[2], V[1])),
        # the model already there, the file behind: only the file edit
        (V[2], pin(V[4]), V[4], pin(V[4]), False, (V[2], V[4])),
    ],
)
def test_plan_roll(
    file_version: str | None,
    model: str,
    requested: str | None,
    new_model: str,
    changed: bool,
    edit: tuple[str | None, str] | None,
) -> None:
    s = spec(file_version)
    plan = plan_roll(s, model, versions(*V), {}, requested)
    assert plan.target.name == (requested or V[4])
    assert (plan.new_model, plan.changed) == (new_model, changed)
    assert ((plan.edit.old, plan.edit.new) if plan.edit else None) == edit
    if plan.edit:
        line = s.line("image.version" if file_version else "image.galleryImageId")
        assert plan.edit.file == "pools/a.yaml" and plan.edit.line == line
        assert plan.edit.instruction().startswith(f"pools/a.yaml:{line}: ")


def test_roll_reports_the_instances_that_keep_an_older_image() -> None:
    instances = {"10": (DEF, V[4]), "2": (DEF, V[2]), "3": (OTHER, V[4]), "4": (DEF, None)}
    plan = plan_roll(spec(V[2]), pin(V[2]), versions(*V), instances, None)
    assert plan.outdated == {"2": V[2], "3": V[4], "4": None}


@pytest.mark.parametrize(
    ("given", "requested", "error", "message"),
    [
        (V, "2026.9999.1", NotFound, "does not exist"),
        ([*V[:4], (V[4], "Creating", False)], V[4], PreconditionFailed, "is Creating"),
        ([(V[0], "Succeeded", True), (V[1], "Failed", False)], None, NotFound, "no version to roll to"),
        ([], None, NotFound, "no version to roll to"),
    ],
)
def test_plan_roll_refuses(given: list[Any], requested: str | None, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        plan_roll(spec(), DEF, versions(*given), {}, requested)


# --- pool.yaml edit --------------------------------------------------------------------------


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(), after.splitlines()
    return [(x, y) for x, y in zip(a, b, strict=False) if x != y]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            f"  version: {V[2]}  # pinned by the platform team",
            f"  version: {V[4]}  # pinned by the platform team",
        ),
        (f'  version: "{V[2]}"', f'  version: "{V[4]}"'),
        (f"  version: '{V[2]}'", f"  version: '{V[4]}'"),
        (f"  version:   {V[2]}", f"  version:   {V[4]}"),
    ],
)
def test_edit_changes_only_the_version_line(line: str, expected: str) -> None:
    text = TEXT.replace("images/ubuntu-24.04-agent\n", f"images/ubuntu-24.04-agent\n{line}\n", 1)
    s = config.loads(text, "pools/a.yaml")
    out = edited_pool_file(text, s, V[4])
    assert changed_lines(text, out) == [(line, expected)]
    assert config.loads(out, "pools/a.yaml").image.version == V[4]


def test_edit_in_a_flow_mapping_and_with_crlf() -> None:
    flow = TEXT.replace(
        "image:\n  galleryImageId: " + DEF + "\n",
        "image: { galleryImageId: " + DEF + f", version: {V[2]} }}\n",
    )
    assert flow != TEXT
    out = edited_pool_file(flow, config.loads(flow, "a.yaml"), V[4])
    assert changed_lines(flow, out) == [
        (
            f"image: {{ galleryImageId: {DEF}, version: {V[2]} }}",
            f"image: {{ galleryImageId: {DEF}, version: {V[4]} }}",
        )
    ]
    crlf = pinned_text(V[2]).replace("\n", "\r\n")
    out = edited_pool_file(crlf, config.loads(crlf, "a.yaml"), V[4])
    assert out == pinned_text(V[4]).replace("\n", "\r\n")


def test_edit_adds_a_version_to_a_file_that_follows_latest() -> None:
    out = edited_pool_file(TEXT, spec(), V[3])
    assert out == pinned_text(V[3])


@pytest.mark.parametrize(
    "text",
    [
        # no galleryImageId line to put a version under (flow style)
        TEXT.replace("image:\n  galleryImageId: " + DEF + "\n", "image: { galleryImageId: " + DEF + " }\n"),
        # the version is not written on the key's line
        pinned_text("X").replace("version: X", f"version:\n    {V[2]}"),
    ],
)
def test_edit_refuses_what_it_cannot_change_safely(text: str) -> None:
    s = config.loads(text, "a.yaml")
    with pytest.raises(InvalidInput) as err:
        edited_pool_file(text, s, V[4])
    assert f"{V[4]}" in err.value.hint and err.value.problems[0].field == "image.version"


def test_edit_refuses_a_file_changed_since_it_was_loaded() -> None:
    s = spec(V[2])
    changed = pinned_text(V[2]).replace("desiredIdle: 1", "desiredIdle: 2")
    with pytest.raises(InvalidInput, match=r"cannot set image\.version"):
        edited_pool_file(changed, s, V[4])


# --- recycle ---------------------------------------------------------------------------------


def node(
    name: str, instance: str, state: str = "idle", agent: str = "enabled, online", **extra: Any
) -> dict[str, Any]:
    return {"name": name, "computeId": instance, "state": state, "agentState": agent, **extra}


@pytest.mark.parametrize(
    ("n", "reason"),
    [
        (node("a", "0"), None),
        (node("a", "0", agent="online"), None),
        (node("a", "0", agent="enabled, online, assigned"), "running a job"),
        (node("a", "0", state="assigned", agent="enabled, online, assigned"), "running a job"),
        (node("a", "0", requestId=42), "running a job"),
        (node("a", "0", state="new", agent="none"), "node state new"),
        (node("a", "0", state="pendingDelete"), "node state pendingDelete"),
        (node("a", "0", agent="enabled"), "agent not online"),
        (node("a", "9"), "no instance in the scale set"),
        (node("a", "1"), f"already runs {V[4]}"),
        (node("a", "2"), None),  # same version number, other image definition
        (node("a", "3"), None),  # version unknown
    ],
)
def test_recyclable(n: dict[str, Any], reason: str | None) -> None:
    instances = {"0": (DEF, V[2]), "1": (DEF.upper(), V[4]), "2": (OTHER, V[4]), "3": (DEF, None)}
    recycle, kept = recyclable([n], instances, DEF, V[4])
    if reason is None:
        assert [r["instanceId"] for r in recycle] == [n["computeId"]] and kept == []
    else:
        assert recycle == [] and [k["reason"] for k in kept] == [reason]
