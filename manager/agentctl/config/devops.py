"""pool.yaml's Azure DevOps side: the agent pool, its standby, connections, environments, clusters."""

from __future__ import annotations

from dataclasses import dataclass, field

from agentctl.config.names import (
    DEVOPS_NAME,
    GUID,
    MAX_INT32,
    ORGANIZATION_URL,
    POOL_ROLE,
    PROJECT_NAME,
    RESOURCE_GROUP,
    devops_name,
    devops_project,
    meta,
)

PREDICTION_PREFERENCES = [
    "Balanced",
    "MostCostEffective",
    "MoreCostEffective",
    "MorePerformance",
    "BestPerformance",
]


@dataclass(frozen=True)
class StandbyEntry:
    days: list[str] = field(
        metadata=meta(
            "Days this entry applies to: Mon..Sun (or full names), or ranges such as Mon-Fri.",
            items={"pattern": r"^[A-Za-z]+(-[A-Za-z]+)?$"},
        )
    )
    start: str = field(
        metadata=meta("Local start time, 24-hour HH:MM.", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    )
    agents: int = field(
        metadata=meta("Standby agents from this time until the next entry.", minimum=0, maximum=10000)
    )


@dataclass(frozen=True)
class Standby:
    timeZone: str = field(
        default="UTC", metadata=meta("IANA time zone of the start times, e.g. Europe/Amsterdam.")
    )
    schedule: list[StandbyEntry] = field(
        default_factory=list,
        metadata=meta("Weekly entries; a count holds until the next entry (Sunday wraps to Monday)."),
    )
    automatic: str | None = field(
        default=None,
        metadata=meta(
            "Managed DevOps Pools only: standby predicted from history, with this preference.",
            enum=PREDICTION_PREFERENCES,
        ),
    )


@dataclass(frozen=True)
class Pool:
    name: str = field(metadata=meta("Agent pool name.", pattern=DEVOPS_NAME, rule=devops_name, maxLength=128))
    maxCapacity: int = field(default=10, metadata=meta("Most agents at once.", minimum=1, maximum=1000))
    standby: int | Standby | None = field(
        default=None,
        metadata=meta(
            "Agents kept idle: a fixed count, or a schedule {timeZone, schedule: [{days, start, agents}]}.",
            minimum=0,
            maximum=1000,
        ),
    )
    desiredIdle: int | None = field(
        default=None,
        metadata=meta("Agents kept idle: the older spelling of a fixed `standby`.", minimum=0, maximum=1000),
    )
    recycleAfterEachUse: bool = field(default=False, metadata=meta("A fresh VM for every job."))
    timeToLiveMinutes: int = field(
        default=30, metadata=meta("Minutes an idle agent is kept above standby.", minimum=0, maximum=43200)
    )
    maxSavedNodeCount: int = field(
        default=0, metadata=meta("Unhealthy agents kept for diagnosis.", minimum=0, maximum=1000)
    )
    agentInteractiveUI: bool = field(default=False, metadata=meta("Interactive UI on agents (Windows only)."))
    authorizeAllPipelines: bool = field(default=False, metadata=meta("Let every pipeline use the pool."))
    pipelines: list[int] = field(
        default_factory=list,
        metadata=meta(
            "Pipeline ids allowed to use the pool.",
            items={"minimum": 1, "maximum": MAX_INT32},
            uniqueItems=True,
        ),
    )


@dataclass(frozen=True)
class AzureConnection:
    name: str = field(
        metadata=meta(
            "Azure Resource Manager service connection for the pool.",
            pattern=DEVOPS_NAME,
            rule=devops_name,
            maxLength=256,
        )
    )
    workloadIdentity: bool = field(
        default=True, metadata=meta("Workload identity federation (the only kind: no secret is stored).")
    )
    existing: bool = field(
        default=False,
        metadata=meta("Reuse a connection of this name made elsewhere; never change or delete it."),
    )
    identity: str | None = field(
        default=None,
        metadata=meta(
            "Resource id of an existing user-assigned identity for the pool's connection (pool management, "
            "never on a VM); omitted: agentctl creates one in azure.resourceGroup."
        ),
    )
    grantRole: str | None = field(
        default=POOL_ROLE,
        metadata=meta(
            "Role granted to the pool-management identity on the scale set (only there); null: grant none, "
            "the identity holds the rights already."
        ),
    )


@dataclass(frozen=True)
class Environment:
    name: str = field(
        metadata=meta("Environment name.", pattern=DEVOPS_NAME, rule=devops_name, maxLength=128)
    )
    description: str = field(default="", metadata=meta("Description.", maxLength=512))
    approvers: list[str] = field(default_factory=list, metadata=meta("Users or groups (e-mail or name)."))
    minApprovers: int = field(default=1, metadata=meta("Approvals needed.", minimum=1, maximum=100))
    instructions: str = field(default="", metadata=meta("Instructions shown to approvers.", maxLength=2048))
    timeoutMinutes: int = field(
        default=43200, metadata=meta("Minutes before a pending approval fails.", minimum=1, maximum=43200)
    )
    requesterCannotBeApprover: bool = field(default=False, metadata=meta("The requester may not approve."))


@dataclass(frozen=True)
class Cluster:
    resourceGroup: str = field(
        metadata=meta("Resource group of the AKS cluster.", pattern=RESOURCE_GROUP, maxLength=90)
    )
    name: str = field(
        metadata=meta("AKS cluster name.", pattern=r"^[a-zA-Z0-9]([-_a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$")
    )
    subscription: str | None = field(
        default=None, metadata=meta("Subscription of the cluster, when not azure.subscription.", pattern=GUID)
    )


@dataclass(frozen=True)
class Kubernetes:
    connection: str = field(
        metadata=meta(
            "Kubernetes service connection name.", pattern=DEVOPS_NAME, rule=devops_name, maxLength=256
        )
    )
    cluster: Cluster = field(metadata=meta("The private AKS cluster."))
    credentials: str = field(
        default="user",
        metadata=meta(
            "Which kubeconfig: the user credential, the admin credential (local accounts), or the Entra "
            "kubeconfig converted to the agents' managed identity.",
            enum=["user", "admin", "kubelogin-msi"],
        ),
    )
    namespace: str = field(
        default="default",
        metadata=meta("Default namespace.", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"),
    )
    authorizeAllPipelines: bool = field(
        default=False, metadata=meta("Let every pipeline use the connection.")
    )


@dataclass(frozen=True)
class DevOps:
    organization: str = field(
        metadata=meta(
            "Organization URL: https://dev.azure.com/ORG or https://ORG.visualstudio.com.",
            pattern=ORGANIZATION_URL,
        )
    )
    project: str = field(
        metadata=meta("Project name.", pattern=PROJECT_NAME, rule=devops_project, maxLength=64)
    )
    pool: Pool = field(metadata=meta("The scale-set (elastic) agent pool."))
    # Required with backend scaleSet (rules.py); a managed pool needs none.
    azureConnection: AzureConnection = field(
        default_factory=lambda: AzureConnection(""),
        metadata=meta("Azure Resource Manager connection the scale-set pool uses (backend scaleSet)."),
    )
    environments: list[Environment] = field(
        default_factory=list, metadata=meta("Environments with approvals.")
    )
    kubernetes: list[Kubernetes] = field(
        default_factory=list, metadata=meta("Kubernetes service connections for private clusters.")
    )
