"""What ``agentctl status`` shows of the scale-set pool: the agent pool and its nodes, the scale
set and its instances, the image it runs against the newest, the connection, the pool's log."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agentctl.config import PoolSpec
from agentctl.kinds.base import Clients, Facts
from agentctl.kinds.pool import desired
from agentctl.kinds.pool.facts import of


def _instances(vms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for vm in vms:
        props = vm.get("properties") or {}
        out.append(
            {
                "instanceId": vm.get("instanceId"),
                "name": vm.get("name"),
                "provisioningState": props.get("provisioningState"),
                "latestModel": props.get("latestModelApplied"),
            }
        )
    return out


def _image(ss: dict[str, Any] | None, versions: list[str]) -> dict[str, Any]:
    profile = ((ss or {}).get("properties") or {}).get("virtualMachineProfile") or {}
    model = ((profile.get("storageProfile") or {}).get("imageReference") or {}).get("id")
    newest = versions[-1] if versions else None
    version = str(model or "").rsplit("/versions/", 1)[1] if "/versions/" in str(model) else None
    return {
        "model": model,
        "modelVersion": version or ("latest" if model else None),
        "newest": newest,
        "drift": bool(version and newest and version != newest),
    }


def status(spec: PoolSpec, c: Clients, facts: Facts, lines: int) -> dict[str, Any]:
    if spec.backend != "scaleSet":
        return {}
    mine = of(facts)
    ss = mine.scale_set
    pool_id = (mine.agent_pool or {}).get("id")
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="status") as reads:
        vms = reads.submit(c.arm.list_instances, spec.azure.resourceGroup, spec.scaleSet.name) if ss else None
        node_doc = reads.submit(c.devops.read, "elastic.nodes", {"poolId": pool_id}) if pool_id else None
        log_doc = (
            reads.submit(c.devops.read, "elastic.logs", {"poolId": pool_id}, {"$top": lines})
            if pool_id
            else None
        )
    nodes = c.devops.values(node_doc.result()) if node_doc else []
    logs = c.devops.values(log_doc.result()) if log_doc else []
    elastic = mine.elastic_pool or {}
    settings = desired.elastic_settings(spec, facts.now)
    return {
        "pool": {
            "name": spec.devops.pool.name,
            "exists": mine.agent_pool is not None,
            "id": pool_id,
            "state": elastic.get("state"),
            "offlineSince": elastic.get("offlineSince"),
            "settings": {k: elastic.get(k) for k in settings} if elastic else None,
            "nodes": dict(Counter(str(n.get("state")) for n in nodes)),
        },
        "scaleSet": {
            "name": spec.scaleSet.name,
            "exists": ss is not None,
            "capacity": (ss or {}).get("sku", {}).get("capacity"),
            "provisioningState": ((ss or {}).get("properties") or {}).get("provisioningState"),
            "instances": _instances(vms.result()) if vms is not None else [],
        },
        "image": _image(ss, mine.image_versions),
        "connection": {
            "name": spec.devops.azureConnection.name,
            "exists": mine.azure_connection is not None,
            "isReady": (mine.azure_connection or {}).get("isReady"),
        },
        "logs": [
            {"timestamp": e.get("timestamp"), "level": e.get("level"), "message": e.get("message")}
            for e in (logs[-lines:] if lines else [])
        ],
    }
