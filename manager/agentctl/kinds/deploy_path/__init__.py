"""The deploy path to a private cluster: environments with approval checks, Kubernetes connections.

``devops.environments`` become Azure DevOps environments (description carrying agentctl's marker)
with an Approval check whose approvers are resolved to identity ids; ``devops.kubernetes`` become
kubeconfig service connections made from the cluster's ARM credentials (repaired, minified and
checked; for ``kubelogin-msi`` converted to the agents' managed identity), with their pipeline
permissions. A connection stores the kubeconfig's fingerprint in ``data`` so a changed kubeconfig
is noticed without reading it back (Azure DevOps never returns it). None of these actions waits
for the scale set: they run while its long-running operation does.

The kubeconfig is a secret: it lives only in the kind's facts (not in actions, plans or logs)
and is registered with ``agentctl.logs`` for redaction.
"""

from agentctl.config import PoolSpec
from agentctl.kinds.base import Clients, Facts
from agentctl.kinds.deploy_path.desired import (
    approval_check,
    check_body,
    check_drift,
    connection_body,
    connection_drift,
    environment_description,
)
from agentctl.kinds.deploy_path.facts import (
    APPROVAL_TYPE_ID,
    FINGERPRINT_KEY,
    NAME,
    DeployPathFacts,
    Prepared,
    observe,
)
from agentctl.kinds.deploy_path.handlers import HANDLERS
from agentctl.kinds.deploy_path.plan import plan, plan_destroy
from agentctl.kinds.deploy_path.status import status

NEEDS: tuple[str, ...] = ("pool", "managedPool")  # the project, and the agents' identity for kubelogin-msi


def settle(spec: PoolSpec, clients: Clients, facts: Facts) -> None:
    """Nothing of the deploy path runs long enough to be left running."""


__all__ = [
    "APPROVAL_TYPE_ID",
    "FINGERPRINT_KEY",
    "HANDLERS",
    "NAME",
    "NEEDS",
    "DeployPathFacts",
    "Prepared",
    "approval_check",
    "check_body",
    "check_drift",
    "connection_body",
    "connection_drift",
    "environment_description",
    "observe",
    "plan",
    "plan_destroy",
    "settle",
    "status",
]
