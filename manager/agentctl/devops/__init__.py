"""The Azure DevOps adapter on the azure-devops SDK."""

from agentctl.devops.api import DevOps

__all__ = ["DevOps"]
