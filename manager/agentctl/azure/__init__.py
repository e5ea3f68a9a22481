"""The Azure Resource Manager adapter: SDK clients in, plain JSON-shaped dicts out."""

from agentctl.azure.arm import Arm

__all__ = ["Arm"]
