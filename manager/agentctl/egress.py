"""The hosts a pool's agents must reach on TCP 443, kept in this one place (docs/network.md
explains each and cites its source).

Each host carries the service tags Azure serves it under, so a network security group rule or a
route that names a tag can be judged against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from agentctl.cloud import CLOUDS
from agentctl.config import PoolSpec

PORT = 443
AGENT_DOWNLOAD = "download.agent.dev.azure.com"
AGENT_TOOLS = "vstsagenttools.blob.core.windows.net"
UBUNTU_ARCHIVE = "azure.archive.ubuntu.com"


@dataclass(frozen=True)
class Host:
    name: str  # a host name, or *.suffix
    why: str
    tags: tuple[str, ...]  # service tags it is served under (Internet always applies)
    required: bool = True  # False: only in a case doctor cannot see (named in ``why``)


def _org_host(organization: str) -> str:
    return (urlsplit(organization).hostname or "dev.azure.com").lower()


def required_hosts(spec: PoolSpec) -> list[Host]:
    """What the agents of ``spec`` must reach: Azure DevOps, Entra ID, ARM, the agent download."""
    cloud = CLOUDS.get(spec.azure.cloud, CLOUDS["public"])
    devops_tags = ("AzureDevOps", "AzureFrontDoor.Frontend", "AzureCloud")
    return [
        Host(
            _org_host(spec.devops.organization),
            "the Azure DevOps organization: the agent registers, listens for jobs and reports",
            devops_tags,
        ),
        Host(
            cloud.authority,
            "Microsoft Entra ID: the agents' managed identity and workload-identity tokens",
            ("AzureActiveDirectory", "AzureCloud"),
        ),
        Host(
            (urlsplit(cloud.arm_endpoint).hostname or "management.azure.com").lower(),
            "Azure Resource Manager: AzureCLI and deployment tasks on the agents",
            ("AzureResourceManager", "AzureCloud"),
        ),
        Host(
            AGENT_DOWNLOAD,
            "the agent download: the scale set's agent extension downloads the agent on every new VM",
            devops_tags,
        ),
        Host(
            AGENT_TOOLS,
            "agent tools and task packages the agent fetches",
            ("Storage", "AzureCloud"),
        ),
        Host(
            "*.vsassets.io",
            "Azure DevOps static assets and task downloads",
            ("AzureFrontDoor.Frontend", "AzureCloud"),
        ),
        Host(
            UBUNTU_ARCHIVE,
            "the Ubuntu archive: only if the image lacks the agent's dependencies (agentctl's "
            "image has them)",
            (),
            required=False,
        ),
    ]
