"""The managed pool: a Managed DevOps Pool (``Microsoft.DevOpsInfrastructure/pools``) in its Dev
Center project, its subnet delegated to the service, the service principal's roles, and the
pipeline permissions on the queue the service makes.

A backend kind: with ``backend: managedPool`` its facts include the project and the agents'
identity that the other kinds read; with another backend it only removes what an earlier managed
pool of the file left.
"""

from agentctl.kinds.managed_pool.facts import NAME, ManagedFacts, observe, of, settle
from agentctl.kinds.managed_pool.handlers import HANDLERS
from agentctl.kinds.managed_pool.plan import plan, plan_destroy
from agentctl.kinds.managed_pool.status import status

NEEDS: tuple[str, ...] = ()
BACKEND: str = "managedPool"  # the file's ``backend:`` that selects this kind
SWITCH_TYPES: tuple[str, ...] = ("managedPool",)  # deleting one of these is leaving this backend

__all__ = [
    "BACKEND",
    "HANDLERS",
    "NAME",
    "NEEDS",
    "SWITCH_TYPES",
    "ManagedFacts",
    "observe",
    "of",
    "plan",
    "plan_destroy",
    "settle",
    "status",
]
