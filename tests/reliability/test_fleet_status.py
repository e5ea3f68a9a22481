"""`agentctl status -f a.yaml -f b.yaml`: several pools read at once, each as `status -f` shows it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml
from faultrig import Rig, stable, writes

from testlib import EXAMPLE_POOL


def second_pool(root: Path) -> Path:
    """The example pool under other names (its own scale set, pool, connections, environment)."""
    text = EXAMPLE_POOL.read_text()
    for old in ("vmss-agents", "private-agents", "arm-agents", "private-aks-dev"):
        text = text.replace(old, old + "-b")
    path = root / "pool-b.yaml"
    path.write_text(text)
    return path


def _scale_set_path(pool: Path, name: str) -> str:
    doc = yaml.safe_load(pool.read_text())
    sub, rg = doc["azure"]["subscription"], doc["azure"]["resourceGroup"]
    return (
        f"/subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.compute/virtualmachinescalesets/{name}"
    )


def test_status_of_two_pools_matches_each_alone(rig: Rig) -> None:
    other = second_pool(rig.root)
    assert rig.cli("deploy-pool", "--yes")[0] == 0
    assert rig.cli("deploy-pool", "--yes", pool=other)[0] == 0
    alone = [stable(rig.cli("status")[1]["data"]), stable(rig.cli("status", pool=other)[1]["data"])]
    mark = rig.mark()
    code, doc = rig.cli("status", "-f", str(other))  # the rig's pool, then the other
    assert code == 0, doc
    assert [p["file"] for p in doc["data"]["pools"]] == [str(rig.pool), str(other)]
    assert [stable(p["status"]) for p in doc["data"]["pools"]] == alone
    sent = rig.since(mark)
    assert writes(sent) == []
    # What both pools rely on is asked for once: identity, subnet, gallery image, cluster, project.
    asked = Counter(f"{e['method']} {e['path'].lower()}" for e in sent)
    for shared in (
        "/userassignedidentities/",
        "/virtualnetworks/vnet-hub",
        "/images/ubuntu-24.04-agent",
        "/listclusterusercredential",
        "/_apis/projects/",
    ):
        hits = {k: n for k, n in asked.items() if shared in k and "/versions/" not in k}
        assert hits and all(n == 1 for n in hits.values()), (shared, hits)
    # while each pool's own scale set is read for it
    for name in ("vmss-agents", "vmss-agents-b"):
        assert asked[f"GET {_scale_set_path(rig.pool, name)}"] == 1, asked


def test_one_bad_file_stops_before_any_request(rig: Rig) -> None:
    bad = rig.root / "bad.yaml"
    bad.write_text("azure: [\n")
    mark = rig.mark()
    code, doc = rig.cli("status", "-f", str(bad))  # a good file, then a bad one
    assert code == 3 and doc["errors"][0]["file"] == str(bad), doc
    assert rig.since(mark) == []
