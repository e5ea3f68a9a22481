"""What `deploy-pool` sends on the sandbox, from its access log, against the bodies written down
from the documentation (tests/pool_requirements.py)."""

from __future__ import annotations

import re
from typing import Any

import pool_requirements as req


def _one(entries: list[dict[str, Any]], method: str, pattern: str) -> dict[str, Any]:
    found = [e for e in entries if e["method"] == method and re.fullmatch(pattern, e["path"], re.IGNORECASE)]
    assert len(found) == 1, [f"{e['method']} {e['path']}" for e in entries]
    return found[0]


def test_deploy_sends_the_documented_bodies(world: Any) -> None:
    assert world.agentctl("deploy-pool", "-f", str(world.pool), "--yes") == 0
    log = world.log()

    vmss = _one(log, "PUT", re.escape(req.SCALE_SET_ID))["request"]
    keys = vmss["properties"]["virtualMachineProfile"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"]
    assert keys[0]["keyData"].startswith("ssh-rsa ")  # a throwaway key: no password login
    assert vmss == req.scale_set(keys[0]["keyData"])

    endpoints = [
        e for e in log if e["method"] == "POST" and e["path"].endswith("/_apis/serviceendpoint/endpoints")
    ]
    (arm,) = [e for e in endpoints if e["request"]["type"] == "AzureRM"]
    url = arm["request"]["url"]
    assert re.fullmatch(r"https://127\.0\.0\.1:\d+/", url)  # the sandbox's ARM endpoint
    assert arm["request"] == req.arm_connection(url)

    fic = _one(log, "PUT", re.escape(req.FIC_IDENTITY) + "/federatedIdentityCredentials/" + req.FIC_NAME)
    assert fic["request"] == req.FEDERATED_CREDENTIAL

    pool = _one(log, "POST", r"/contoso/_apis/distributedtask/elasticpools")
    assert pool["request"] == req.elastic_pool(arm["response"]["id"])
