"""The simulated Azure DevOps honours the world's network: with no egress, new nodes fail to
start, the pool log says why, and the service deletes the VM and makes a new one."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from doctor_helpers import Served


def _status(s: Served, capsys: Any) -> dict[str, Any]:
    code, doc = s.cli(capsys, "status", "-f", str(s.pool), "--logs", "50")
    assert code == 0, doc
    return dict(doc["data"])


def test_no_egress_nodes_fail_and_are_replaced(served: Callable[..., Served], capsys: Any) -> None:
    s = served("no-egress.yaml")
    code, doc = s.cli(capsys, "deploy-pool", "-f", str(s.pool), "--yes")
    assert code == 0, doc
    seen_instances: set[str] = set()
    failed = deleted = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (failed and deleted and len(seen_instances) >= 2):
        st = _status(s, capsys)
        seen_instances |= {vm["instanceId"] for vm in st["scaleSet"]["instances"]}
        assert "idle" not in st["pool"]["nodes"]  # no agent ever comes online
        messages = [entry["message"] for entry in st["logs"]]
        failed = failed or any(
            "Failed to start the agent" in m and "download.agent.dev.azure.com" in m for m in messages
        )
        deleted = deleted or any("its agent failed to start" in m for m in messages)
        time.sleep(0.1)
    assert failed and deleted
    assert len(seen_instances) >= 2  # the failed VM was deleted and a new one made


def test_healthy_world_nodes_come_online(served: Callable[..., Served], capsys: Any) -> None:
    s = served()
    assert s.cli(capsys, "deploy-pool", "-f", str(s.pool), "--yes")[0] == 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "idle" not in _status(s, capsys)["pool"]["nodes"]:
        time.sleep(0.1)
    st = _status(s, capsys)
    assert st["pool"]["nodes"] == {"idle": 1}
    assert not any("Failed to start" in e["message"] for e in st["logs"])
