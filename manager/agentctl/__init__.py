"""agentctl: private Azure DevOps scale-set agents for private AKS clusters and registries."""

__version__ = "0.1.0"
