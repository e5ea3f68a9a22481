"""pool.yaml's typed model: the Azure side (scale set, image, network, registries) and ``PoolSpec``.

The dataclasses are the single source of truth: the loader checks a document against their field
types and ``metadata`` (description, enum, pattern, bounds), and the JSON Schema derives from them.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any

from agentctl import standby
from agentctl.config.devops import DevOps
from agentctl.config.managed import ManagedPool
from agentctl.config.names import (
    DEVOPS_NAME,
    GUID,
    IMAGE_VERSION,
    RESERVED_ADMIN_NAMES,
    RESOURCE_GROUP,
    devops_name,
    meta,
)

BACKENDS = ("scaleSet", "managedPool")


@dataclass(frozen=True)
class Azure:
    subscription: str = field(metadata=meta("Subscription id (GUID) for every resource.", pattern=GUID))
    location: str = field(
        metadata=meta("Azure region of the scale set, e.g. westeurope.", pattern=r"^[a-z0-9]+$")
    )
    resourceGroup: str = field(
        metadata=meta(
            "Resource group of the scale set; created (tagged) when missing, never deleted.",
            pattern=RESOURCE_GROUP,
            maxLength=90,
        )
    )
    cloud: str = field(
        default="public",
        metadata=meta("Which Azure cloud.", enum=["public", "usgovernment", "china"]),
    )
    credential: str = field(
        default="default",
        metadata=meta(
            "How to sign in to Azure: azure-identity's default chain, the Azure CLI session, "
            "a managed identity, or a pipeline's workload identity.",
            enum=["default", "cli", "managed-identity", "workload-identity"],
        ),
    )


@dataclass(frozen=True)
class Network:
    subnetId: str = field(
        metadata=meta("Resource id of the private subnet for the agents (no public IP is ever attached).")
    )


@dataclass(frozen=True)
class Image:
    galleryImageId: str = field(metadata=meta("Resource id of the Azure Compute Gallery image definition."))
    version: str | None = field(
        default=None,
        metadata=meta(
            "Pin an image version (Major.Minor.Patch); omit to use the latest.", pattern=IMAGE_VERSION
        ),
    )


@dataclass(frozen=True)
class OsDisk:
    ephemeral: bool = field(default=True, metadata=meta("Ephemeral OS disk (faster, no disk cost)."))
    sizeGb: int = field(default=128, metadata=meta("OS disk size in GiB.", minimum=30, maximum=4095))


@dataclass(frozen=True)
class Identity:
    userAssigned: str = field(
        metadata=meta(
            "Resource id of the agents' user-assigned identity (on every VM: registry pulls, kubelogin); "
            "every job on the pool can use it."
        )
    )


@dataclass(frozen=True)
class ScaleSet:
    name: str = field(
        metadata=meta("Scale set name.", pattern=r"^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9_])?$", maxLength=64)
    )
    identity: Identity = field(metadata=meta("Managed identity of the agents."))
    sku: str = field(
        default="Standard_D4s_v5",
        metadata=meta(
            "VM size, e.g. Standard_D4s_v5.",
            pattern=r"^(Standard|Basic)_[A-Za-z0-9]+([-_][A-Za-z0-9]+)*$",
            maxLength=64,
        ),
    )
    osDisk: OsDisk = field(default_factory=OsDisk, metadata=meta("OS disk."))
    adminUsername: str = field(
        default="azureuser",
        metadata=meta(
            "Local admin user (SSH key only): 1-32 lowercase letters, digits, - or _, "
            "starting with a letter or _; not a name Azure reserves such as root or admin.",
            pattern=r"^[a-z_][a-z0-9_-]{0,31}$",
            **{"not": {"enum": RESERVED_ADMIN_NAMES}},
        ),
    )
    sshPublicKey: str | None = field(
        default=None,
        metadata=meta(
            "SSH public key (text, or a path to a .pub file); omitted: a throwaway key whose private half "
            "is never stored."
        ),
    )
    zones: list[str] = field(
        default_factory=list,
        metadata=meta("Availability zones.", items={"enum": ["1", "2", "3"]}, uniqueItems=True),
    )
    tags: dict[str, str] = field(default_factory=dict, metadata=meta("Extra tags for the scale set."))


@dataclass(frozen=True)
class Registry:
    id: str = field(metadata=meta("Resource id of the Azure Container Registry."))
    connection: str = field(
        metadata=meta(
            "Docker registry service connection name.",
            pattern=DEVOPS_NAME,
            rule=devops_name,
            maxLength=256,
        )
    )
    access: str = field(
        default="pull",
        metadata=meta(
            "Role for the agents' identity: pull, or push (every job on the pool can then push).",
            enum=["pull", "push"],
        ),
    )
    pushIdentity: str | None = field(
        default=None,
        metadata=meta(
            "Resource id of a user-assigned identity the connection signs in with (workload identity "
            "federation; agentctl grants it AcrPush here); omitted: the connection uses the agents' "
            "identity and can do what access grants."
        ),
    )
    authorizeAllPipelines: bool = field(
        default=False, metadata=meta("Let every pipeline use the connection.")
    )


@dataclass(frozen=True)
class PoolSpec:
    azure: Azure = field(metadata=meta("Where the scale set lives."))
    network: Network = field(metadata=meta("The private subnet."))
    devops: DevOps = field(metadata=meta("Azure DevOps side."))
    backend: str = field(
        default="scaleSet",
        metadata=meta(
            "What runs the agents: a VM Scale Set registered as an elastic pool (scaleSet), or a Managed "
            "DevOps Pool (managedPool).",
            enum=list(BACKENDS),
        ),
    )
    # Required with backend scaleSet (rules.py); absent, they hold empty values no code reads.
    image: Image = field(
        default_factory=lambda: Image(""), metadata=meta("The agent image (backend scaleSet).")
    )
    scaleSet: ScaleSet = field(
        default_factory=lambda: ScaleSet("", Identity("")),
        metadata=meta("The VM scale set (backend scaleSet)."),
    )
    managedPool: ManagedPool | None = field(
        default=None, metadata=meta("The Managed DevOps Pool (backend managedPool).")
    )
    registries: list[Registry] = field(default_factory=list, metadata=meta("Private container registries."))
    source: str = field(default="", compare=False, metadata=meta("", internal=True))
    lines: dict[str, int] = field(
        default_factory=dict, compare=False, repr=False, metadata=meta("", internal=True)
    )

    @property
    def org_name(self) -> str:
        """The organization's name, whichever URL form the file uses (names ignore case in Azure
        DevOps, so two spellings of one organization give the same lowercase name)."""
        url = self.devops.organization.rstrip("/").lower()
        if ".visualstudio.com" in url:
            return url.split("//", 1)[1].split(".", 1)[0]
        return url.rsplit("/", 1)[1]

    def line(self, path: str) -> int | None:
        return self.lines.get(path)

    def has(self, path: str) -> bool:
        """Whether the file sets ``path`` (a section with a default may be absent)."""
        return path in self.lines

    @property
    def managed(self) -> ManagedPool | None:
        """The managed pool, when it is the backend."""
        return self.managedPool if self.backend == "managedPool" else None

    @property
    def standby_field(self) -> str:
        """The field that sets the standby agents (for messages)."""
        return (
            "devops.pool.desiredIdle" if self.devops.pool.desiredIdle is not None else "devops.pool.standby"
        )

    def standby_week(self) -> standby.Week:
        """The standby agents over the week (default: one agent at all times)."""
        pool = self.devops.pool
        value = pool.standby if pool.standby is not None else pool.desiredIdle
        if value is None:
            return standby.Week.fixed(1)
        if isinstance(value, int):
            return standby.Week.fixed(value)
        points = {
            day * standby.DAY_MINUTES + standby.minute_of(entry.start): entry.agents
            for entry in value.schedule
            for item in entry.days
            for day in standby.days_of(item)
        }
        return standby.Week(value.timeZone, tuple(sorted(points.items())))


def fields_of(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    """The fields a pool.yaml may set on ``cls``, with their resolved types."""
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls) if not f.metadata.get("internal")]
