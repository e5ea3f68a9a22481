"""A loopback HTTPS emulator of the Azure Resource Manager and Azure DevOps APIs agentctl uses.

    from agentctl.sandbox import start
    sb = start(".agentctl/sandbox")          # seeded from the built-in world
    sb.arm_endpoint, sb.devops_url, sb.ca_bundle, sb.token
    sb.stop()

It imports nothing from agentctl's client side: the two meet only over HTTP. See
docs/sandbox.md for the world format, the operations, faults and timing.
"""

from __future__ import annotations

from agentctl.sandbox.accesslog import ACCESS_LOG
from agentctl.sandbox.endpoints import Endpoints, connect
from agentctl.sandbox.faults import Fault, FaultPlan, Timing
from agentctl.sandbox.server import Sandbox, start
from agentctl.sandbox.store import STATE_FILE

# what `agentctl sandbox reset` removes: the world's state and the access log
RESET_FILES = (STATE_FILE, ACCESS_LOG)

__all__ = ["RESET_FILES", "Endpoints", "Fault", "FaultPlan", "Sandbox", "Timing", "connect", "start"]
