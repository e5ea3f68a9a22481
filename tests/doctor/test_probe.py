"""`doctor --probe` against the sandbox's worlds: what one instance meets follows the network model,
and the findings name the host, the failure and the zone link; `hosts`, `parse` and `judge` are
pure and checked with tables."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from doctor_helpers import Served

from agentctl import config
from agentctl.doctor import probe
from agentctl.sandbox.netmodel import PUBLIC_ADDRESS
from testlib import EXAMPLE_POOL

CLUSTER_FQDN = re.compile(r"^aks-dev-.*\.privatelink\.westeurope\.azmk8s\.io$")


def _probed(s: Served, capsys: Any, *, node: str = "idle") -> tuple[int, dict[str, Any]]:
    assert s.cli(capsys, "deploy-pool", "-f", str(s.pool), "--yes")[0] == 0
    deadline = time.monotonic() + 20
    while (
        time.monotonic() < deadline
        and node not in s.cli(capsys, "status", "-f", str(s.pool))[1]["data"]["pool"]["nodes"]
    ):
        time.sleep(0.05)
    return s.cli(capsys, "doctor", "--probe", "-f", str(s.pool))


def _rows(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The probe's rows by host, once the data is checked against schemas/doctor.schema.json."""
    import json
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("agentctl").joinpath("schemas/doctor.schema.json").read_text())
    jsonschema.validate(doc["data"], schema)
    return {h["host"]: h for h in doc["data"]["probe"]["hosts"]}


def _codes(doc: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in doc["data"]["findings"]:
        if f["code"].startswith("probe."):
            out.setdefault(f["code"], set()).add(f["resource"])
    return out


def test_default_world_every_host_answers(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    code, doc = _probed(s, capsys)
    assert code == 0, doc
    rows = _rows(doc)
    assert {"dev.azure.com", "download.agent.dev.azure.com", "login.microsoftonline.com"} <= set(rows)
    assert all(r["connect"] == "ok" and r["tls"] == "ok" for r in rows.values())
    (cluster,) = [r for h, r in rows.items() if CLUSTER_FQDN.match(h)]
    assert cluster["private"] and cluster["privateZone"].endswith(".privatelink.westeurope.azmk8s.io")
    assert rows["acrprivate.azurecr.io"]["private"]
    assert rows["dev.azure.com"]["addresses"] == [PUBLIC_ADDRESS] and not rows["dev.azure.com"]["private"]
    assert set(_codes(doc)) == {"probe.ok"}


def test_no_egress_world_public_hosts_fail_private_cluster_answers(
    served: Callable[..., Served], capsys: Any
) -> None:
    s = served("no-egress.yaml")
    code, doc = _probed(s, capsys, node="startingAgent")
    assert code == 5
    rows = _rows(doc)
    for host in ("dev.azure.com", "download.agent.dev.azure.com"):
        assert rows[host]["addresses"] == [PUBLIC_ADDRESS]
        assert (rows[host]["connect"], rows[host]["tls"], rows[host]["curlExit"]) == (
            "timeout",
            "not tried",
            28,
        )
    assert {"dev.azure.com", "download.agent.dev.azure.com"} <= _codes(doc)["probe.connect_failed"]
    (cluster,) = [r for h, r in rows.items() if CLUSTER_FQDN.match(h)]
    assert cluster["connect"] == "ok" and cluster["private"]  # inside the VNet: no egress needed


def test_nsg_deny_through_arm_shows_in_the_probe(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    assert _probed(s, capsys)[0] == 0
    s.deny_outbound("deny-devops", "AzureDevOps", 110)
    code, doc = s.cli(capsys, "doctor", "--probe", "-f", str(s.pool))
    assert code == 5
    rows = _rows(doc)
    assert rows["dev.azure.com"]["connect"] == "timeout"
    assert rows["login.microsoftonline.com"]["connect"] == "ok"  # not served under AzureDevOps
    assert "dev.azure.com" in _codes(doc)["probe.connect_failed"]


def test_dns_not_linked_world_names_the_zone_link(served: Callable[..., Served], capsys: Any) -> None:
    s = served("dns-not-linked.yaml")
    code, doc = _probed(s, capsys)
    assert code == 5
    (finding,) = [
        f
        for f in doc["data"]["findings"]
        if f["code"] in ("probe.private_unresolved", "probe.private_resolves_public")
        and CLUSTER_FQDN.match(f["resource"])
    ]
    zone = finding["resource"].split(".", 1)[1]
    assert zone.endswith(".privatelink.westeurope.azmk8s.io") and zone in finding["found"]
    assert f"link the private DNS zone {zone} to the virtual network vnet-hub" in finding["fix"]


def test_no_instance_says_so_and_how_to_get_one(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    s.pool.write_text(s.pool.read_text().replace("desiredIdle: 1", "desiredIdle: 0"))
    code, doc = _probed(s, capsys, node="none")
    assert code == 5
    (f,) = [f for f in doc["data"]["findings"] if f["code"] == "probe.no_instance"]
    assert "no running instance" in f["found"] and "devops.pool.desiredIdle of 1 or more" in f["fix"]
    assert doc["data"]["probe"] == {"instance": None, "hosts": []}


def test_text_output_shows_the_probe_table(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    _probed(s, capsys)
    from agentctl.cli import run

    capsys.readouterr()
    assert run(["--sandbox", "--sandbox-dir", str(s.dir), "doctor", "--probe", "-f", str(s.pool)]) == 0
    out = capsys.readouterr().out
    assert "Probe from vmss-agents_" in out
    row = next(line for line in out.splitlines() if line.lstrip().startswith("download.agent.dev.azure.com"))
    assert re.fullmatch(
        r"\s*download\.agent\.dev\.azure\.com\W+203\.0\.113\.10 \(public\)\W+ok\W+ok\W+[\d.]+ s\s*", row
    )


# --- the pure parts -----------------------------------------------------------------------------

SPEC = config.load(str(EXAMPLE_POOL))
PRIVATE_CLUSTER = {
    "name": "aks",
    "properties": {
        "privateFQDN": "aks-1.privatelink.westeurope.azmk8s.io",
        "apiServerAccessProfile": {"enablePrivateCluster": True},
    },
}
REGISTRY = {
    "name": "acr1",
    "location": "westeurope",
    "properties": {"loginServer": "acr1.azurecr.io", "privateEndpointConnections": [{"id": "x"}]},
}


def test_hosts_take_egress_clusters_and_registries() -> None:
    got = {h.name: h for h in probe.hosts(SPEC, [PRIVATE_CLUSTER], [REGISTRY])}
    assert "*.vsassets.io" not in got  # a wildcard cannot be probed
    assert got["aks-1.privatelink.westeurope.azmk8s.io"].zone == "privatelink.westeurope.azmk8s.io"
    assert got["acr1.azurecr.io"].zone == "privatelink.azurecr.io"
    assert got["acr1.westeurope.data.azurecr.io"].zone == "privatelink.azurecr.io"
    assert got["dev.azure.com"].zone is None and not got["azure.archive.ubuntu.com"].required
    public_registry = {**REGISTRY, "properties": {"loginServer": "acr1.azurecr.io"}}
    assert probe.hosts(SPEC, [], [public_registry])[-1].zone is None


W = [
    probe.Host("dev.azure.com", "org"),
    probe.Host("aks.privatelink.x.azmk8s.io", "api", "privatelink.x.azmk8s.io"),
    probe.Host("azure.archive.ubuntu.com", "apt", required=False),
]


OK_ROWS = "aks.privatelink.x.azmk8s.io\t10.1.0.4\t0\t0.01\t0.02\t0.03"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [
                "dev.azure.com\t1.2.3.4\t0\t0.02\t0.05\t0.06",
                OK_ROWS,
                "azure.archive.ubuntu.com\t1.2.3.5\t0\t0.01\t0.02\t0.03",
            ],
            {("probe.ok", "info")},
        ),
        (
            [
                "dev.azure.com\t1.2.3.4\t28\t0\t0\t5",
                "aks.privatelink.x.azmk8s.io\t1.2.3.9\t0\t0.01\t0.02\t0.03",
                "azure.archive.ubuntu.com\t-\t6\t0\t0\t0",
            ],
            {
                ("probe.connect_failed", "error"),
                ("probe.private_resolves_public", "error"),
                ("probe.unresolved", "warning"),
            },
        ),
        (
            [
                "dev.azure.com\t1.2.3.4\t60\t0.02\t0\t0.1",
                "aks.privatelink.x.azmk8s.io\t-\t6\t0\t0\t0",
            ],
            {
                ("probe.tls_untrusted", "error"),
                ("probe.private_unresolved", "error"),
                ("probe.no_answer", "warning"),
            },
        ),
        (
            [
                "dev.azure.com\t1.2.3.4\t28\t0.02\t0\t10",
                "aks.privatelink.x.azmk8s.io\t10.1.0.4\t7\t0\t0\t0",
                "azure.archive.ubuntu.com\t1.2.3.5\t35\t0.01\t0\t0.03",
                "garbage line",
            ],
            {
                ("probe.tls_failed", "error"),
                ("probe.connect_failed", "error"),
                ("probe.tls_failed", "warning"),
            },
        ),
    ],
)
def test_judge(lines: list[str], expected: set[tuple[str, str]]) -> None:
    rows = probe.parse("\n".join(lines), W)
    found = probe.judge(W, rows, "/x/virtualNetworks/vnet-hub", "instance 0")
    assert {(f.code, f.severity) for f in found} == expected
