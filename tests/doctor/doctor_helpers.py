"""Helpers of the doctor tests (importable as `doctor_helpers`): a served sandbox (the CLI connects
to it as to `agentctl sandbox serve`) and doctor run through the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from agentctl.cli import run
from agentctl.sandbox import Sandbox, Timing, endpoints, start
from testlib import EXAMPLE_POOL

FAST = Timing(lro_seconds=0.05, scale_delay=0.05, node_idle_delay=0.2)
SUB = "11111111-2222-3333-4444-555555555555"
REGISTRY = (
    f"/subscriptions/{SUB}/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/acrprivate"
)
WORLDS = Path(__file__).resolve().parents[2] / "manager" / "agentctl" / "sandbox" / "worlds"


class Served:
    """A sandbox serving a state dir, and doctor run against it through the CLI."""

    def __init__(self, root: Path, world: str | None, timing: Timing = FAST) -> None:
        self.dir = root / "sandbox"
        self.sb: Sandbox = start(self.dir, world=WORLDS / world if world else None, timing=timing)
        endpoints.write(self.sb)
        self.pool = root / "pool.yaml"
        # the example pool with a registry, so the registry's DNS is checked too
        self.pool.write_text(
            EXAMPLE_POOL.read_text() + f"registries:\n  - id: {REGISTRY}\n    connection: acr-private\n"
        )

    def cli(self, capsys: Any, *args: str) -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        code = run(["-o", "json", "--sandbox", "--sandbox-dir", str(self.dir), *args])
        return code, json.loads(capsys.readouterr().out)

    def doctor(self, capsys: Any) -> tuple[int, dict[str, Any]]:
        return self.cli(capsys, "doctor", "-f", str(self.pool))

    def deny_outbound(self, name: str, destination: str, priority: int) -> None:
        """An outbound NSG rule on the agents' subnet denying TCP 443 to ``destination`` (a service
        tag or a prefix), made through the ARM API as a user would."""
        from azure.mgmt.network import NetworkManagementClient

        from agentctl.sandbox.testing import arm_client

        rule = {
            "protocol": "Tcp",
            "access": "Deny",
            "direction": "Outbound",
            "priority": priority,
            "sourceAddressPrefix": "*",
            "sourcePortRange": "*",
            "destinationAddressPrefix": destination,
            "destinationPortRange": "443",
        }
        net = arm_client(self.sb, NetworkManagementClient)
        net.security_rules.begin_create_or_update(
            "rg-network", "nsg-agents", name, {"properties": rule}
        ).result()

    def stop(self) -> None:
        endpoints.remove(self.dir, os.getpid())
        self.sb.stop()


def errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in data["data"]["findings"] if f["severity"] == "error"]
