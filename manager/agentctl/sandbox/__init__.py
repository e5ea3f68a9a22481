"""A loopback HTTPS emulator of the Azure Resource Manager and Azure DevOps APIs agentctl uses.

    from agentctl.sandbox import start
    sb = start(".agentctl/sandbox")          # seeded from the built-in world
    sb.arm_endpoint, sb.devops_url, sb.ca_bundle, sb.token
    sb.stop()

It imports nothing from agentctl's client side: the two meet only over HTTP. See
docs/sandbox.md for the world format, the operations, faults and timing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentctl.sandbox.endpoints import Endpoints, connect
    from agentctl.sandbox.faults import Fault, FaultPlan, Timing
    from agentctl.sandbox.server import Sandbox, start

# Loaded on first use: a client that only connects to a running sandbox (every CLI command with
# --sandbox) then never imports the server.
_HOMES = {
    "Endpoints": "endpoints",
    "connect": "endpoints",
    "Fault": "faults",
    "FaultPlan": "faults",
    "Timing": "faults",
    "Sandbox": "server",
    "start": "server",
}
__all__ = ["Endpoints", "Fault", "FaultPlan", "Sandbox", "Timing", "connect", "start"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agentctl.sandbox' has no attribute '{name}'")
    return getattr(importlib.import_module(f"agentctl.sandbox.{home}"), name)
