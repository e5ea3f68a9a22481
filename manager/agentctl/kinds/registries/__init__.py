"""Private container registries for the pool's agents.

For each entry of ``registries:`` agentctl

- grants the scale set's user-assigned identity AcrPull or AcrPush on the registry (a role
  assignment with a deterministic name; any equivalent assignment at the registry counts as done);
- makes a Docker registry service connection of the Azure Container Registry kind that signs in
  with the agent's managed identity (scheme ``ManagedServiceIdentity``: no secret is stored; the
  Docker task exchanges the VM's identity token for a registry token on the agent itself);
- checks what usually breaks a private registry: a SKU without private endpoints, and a
  ``privatelink.azurecr.io`` zone that is not linked to the agents' virtual network or lacks the
  A record of the registry or of one of its regional data endpoints (``<registry>.<region>.data``).

The checks never stop a run. ``plan`` carries them as a no-op action per registry with
``data["warnings"]``; ``status`` lists them under ``registries.warnings``.

What the pool made for a registry or connection the file no longer names (an assignment of AcrPull
or AcrPush at a registry with the pool's marker, a ``dockerregistry`` connection with the pool's
marker) is deleted by ``plan`` and by ``plan_destroy``.
"""

from agentctl.config import PoolSpec
from agentctl.kinds.base import Clients, Facts
from agentctl.kinds.registries.desired import (
    NAME,
    ROLES,
    check,
    connection_body,
    connection_drift,
    expected_records,
    login_server,
    registry_name,
    role_definition_id,
    vnet_id,
    zone_name,
)
from agentctl.kinds.registries.facts import Observed, RegistryFacts, StalePush, observe
from agentctl.kinds.registries.handlers import HANDLERS
from agentctl.kinds.registries.plan import plan, plan_destroy
from agentctl.kinds.registries.status import status

NEEDS: tuple[str, ...] = ("pool", "managedPool")  # the project, and the agents' identity and its roles


def settle(spec: PoolSpec, clients: Clients, facts: Facts) -> None:
    """Nothing of the registries runs long enough to be left running."""


__all__ = [
    "HANDLERS",
    "NAME",
    "NEEDS",
    "ROLES",
    "Observed",
    "RegistryFacts",
    "StalePush",
    "check",
    "connection_body",
    "connection_drift",
    "expected_records",
    "login_server",
    "observe",
    "plan",
    "plan_destroy",
    "registry_name",
    "role_definition_id",
    "settle",
    "status",
    "vnet_id",
    "zone_name",
]
