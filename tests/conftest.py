"""Shared test set-up: the azure-devops SDK caches route discovery under this folder."""

from __future__ import annotations

import os
import tempfile

# Must be set before azure.devops is imported anywhere.
os.environ.setdefault("AZURE_DEVOPS_CACHE_DIR", tempfile.mkdtemp(prefix="agentctl-azdo-cache-"))
