"""The scale-set pool: a VM Scale Set in the private subnet registered as an Azure DevOps elastic
agent pool, with the pool-management identity, its role on the scale set and the Azure Resource
Manager connection that signs in as it, and the queue's pipeline permissions.

It is the backend kind: its facts include the project and the agents' identity that the other
kinds read."""

from agentctl.kinds.pool.facts import NAME, PoolFacts, observe, of, settle
from agentctl.kinds.pool.handlers import HANDLERS
from agentctl.kinds.pool.plan import plan, plan_destroy
from agentctl.kinds.pool.status import status

NEEDS: tuple[str, ...] = ("managedPool",)  # what a managed pool of the file left (a backend switch)
BACKEND: str = "scaleSet"  # the file's ``backend:`` that selects this kind
SWITCH_TYPES: tuple[str, ...] = ("scaleSet", "pool")  # deleting one of these is leaving this backend

__all__ = [
    "BACKEND",
    "HANDLERS",
    "NAME",
    "NEEDS",
    "SWITCH_TYPES",
    "PoolFacts",
    "observe",
    "of",
    "plan",
    "plan_destroy",
    "settle",
    "status",
]
