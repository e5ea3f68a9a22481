"""pool.yaml's ``managedPool`` section: a Managed DevOps Pool (``Microsoft.DevOpsInfrastructure/pools``)
and the Dev Center project it belongs to, mapped onto the resource's own model (api-version
2026-06-02). Standby is ``devops.pool.standby``, shared with the scale-set backend."""

from __future__ import annotations

from dataclasses import dataclass, field

from agentctl.config.names import GUID, IMAGE_VERSION, meta

# The images Managed DevOps Pools offers by name
# (learn.microsoft.com/azure/devops/managed-devops-pools/configure-images)
WELL_KNOWN_IMAGES = ["ubuntu-22.04", "ubuntu-24.04", "windows-2019", "windows-2022", "windows-2025"]
# A .NET time span as the service takes it: [d.]hh:mm:ss
TIME_SPAN = r"^([0-9]\.)?([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"


@dataclass(frozen=True)
class AgentProfile:
    kind: str = field(
        default="stateless",
        metadata=meta(
            "stateless: a fresh agent for every job; stateful: agents are reused until maxAgentLifetime.",
            enum=["stateless", "stateful"],
        ),
    )
    maxAgentLifetime: str | None = field(
        default=None,
        metadata=meta(
            "Stateful only: how long an agent lives, d.hh:mm:ss, at most 7.00:00:00.", pattern=TIME_SPAN
        ),
    )
    gracePeriodTimeSpan: str | None = field(
        default=None,
        metadata=meta(
            "Stateful only: how long an agent is kept after a job when no standby is asked for, d.hh:mm:ss, "
            "at most 7.00:00:00.",
            pattern=TIME_SPAN,
        ),
    )


@dataclass(frozen=True)
class PoolImage:
    galleryImageId: str | None = field(
        default=None,
        metadata=meta(
            "Resource id of an Azure Compute Gallery image definition (e.g. from the nightly build)."
        ),
    )
    version: str | None = field(
        default=None,
        metadata=meta(
            "Pin a gallery image version (Major.Minor.Patch); omit for the latest.", pattern=IMAGE_VERSION
        ),
    )
    wellKnownImageName: str | None = field(
        default=None, metadata=meta("An image Managed DevOps Pools offers by name.", enum=WELL_KNOWN_IMAGES)
    )
    aliases: list[str] = field(
        default_factory=list,
        metadata=meta(
            "Names pipelines ask for this image by (demands: ImageOverride -equals ALIAS).",
            items={"pattern": r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,63}$"},
            uniqueItems=True,
        ),
    )
    buffer: str = field(
        default="*",
        metadata=meta(
            "Share of the standby agents on this image: a percentage 0-100, or * to share what is left.",
            pattern=r"^(\*|[0-9]|[1-9][0-9]|100)$",
        ),
    )


@dataclass(frozen=True)
class DataDisk:
    diskSizeGiB: int = field(metadata=meta("Size in GiB.", minimum=1, maximum=32767))
    storageAccountType: str = field(
        default="Standard_LRS",
        metadata=meta(
            "Disk type.",
            enum=["Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS"],
        ),
    )
    caching: str = field(
        default="ReadWrite", metadata=meta("Host caching.", enum=["None", "ReadOnly", "ReadWrite"])
    )
    driveLetter: str | None = field(
        default=None,
        metadata=meta("Windows drive letter; omitted: the first free one.", pattern=r"^[D-Zd-z]$"),
    )


@dataclass(frozen=True)
class Permissions:
    kind: str = field(
        default="creatorOnly",
        metadata=meta(
            "Who administers the Azure DevOps pool: inherit (from the project and organization), "
            "creatorOnly, or specificAccounts (users and groups).",
            enum=["inherit", "creatorOnly", "specificAccounts"],
        ),
    )
    users: list[str] = field(default_factory=list, metadata=meta("specificAccounts: user e-mail addresses."))
    groups: list[str] = field(
        default_factory=list, metadata=meta("specificAccounts: group e-mail addresses.")
    )


@dataclass(frozen=True)
class ManagedIdentity:
    userAssigned: str = field(
        metadata=meta(
            "Resource id of the agents' user-assigned identity (registry pulls, kubelogin); every job on the "
            "pool can use it."
        )
    )


@dataclass(frozen=True)
class ManagedPool:
    maximumConcurrency: int = field(
        metadata=meta("Most agents at once (the service bills and caps by it).", minimum=1, maximum=10000)
    )
    images: list[PoolImage] = field(metadata=meta("One or more images; the first is the default."))
    devCenterProject: str | None = field(
        default=None,
        metadata=meta(
            "Resource id of an existing Dev Center project; omitted: agentctl creates a Dev Center and a "
            "project in azure.resourceGroup, tagged as its own."
        ),
    )
    sku: str = field(
        default="Standard_D4ads_v5",
        metadata=meta(
            "VM size, e.g. Standard_D4ads_v5.", pattern=r"^(Standard|Basic)_[A-Za-z0-9]+([-_][A-Za-z0-9]+)*$"
        ),
    )
    agentProfile: AgentProfile = field(
        default_factory=AgentProfile, metadata=meta("Stateless or stateful agents.")
    )
    osDiskType: str = field(
        default="Standard",
        metadata=meta("OS disk storage type.", enum=["Standard", "Premium", "StandardSSD"]),
    )
    dataDisks: list[DataDisk] = field(default_factory=list, metadata=meta("Empty data disks on every agent."))
    permissions: Permissions = field(
        default_factory=Permissions, metadata=meta("Who administers the Azure DevOps pool the service makes.")
    )
    identity: ManagedIdentity | None = field(
        default=None, metadata=meta("The agents' managed identity; omitted: agents have none.")
    )
    servicePrincipalObjectId: str | None = field(
        default=None,
        metadata=meta(
            "Object id of the DevOpsInfrastructure service principal (application "
            "31687f79-5e43-4c1e-8c63-d9f4bff5cf8b) in your tenant: `az ad sp show --id "
            "31687f79-5e43-4c1e-8c63-d9f4bff5cf8b --query id -o tsv`. Given: agentctl checks and grants its "
            "roles on the virtual network and the gallery images.",
            pattern=GUID,
        ),
    )
