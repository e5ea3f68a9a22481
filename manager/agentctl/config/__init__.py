"""pool.yaml: the typed model, its defaults, its validation, and its JSON Schema.

- ``names``: Azure and Azure DevOps naming rules, resource id shapes, field metadata (``meta``).
- ``model`` and ``devops``: the dataclasses, the single source of truth (``PoolSpec`` at the top).
- ``loader``: ``load``/``loads`` check a document against the dataclasses' types and metadata.
- ``rules``: the cross-field rules that follow.
- ``schema``: ``json_schema()`` derives the editor schema from the same definitions.

Every problem names the file, the line and the field.
"""

from agentctl.config.devops import (
    PREDICTION_PREFERENCES,
    AzureConnection,
    Cluster,
    DevOps,
    Environment,
    Kubernetes,
    Pool,
    Standby,
    StandbyEntry,
)
from agentctl.config.loader import load, loads
from agentctl.config.model import (
    Azure,
    Identity,
    Image,
    Network,
    OsDisk,
    PoolSpec,
    Registry,
    ScaleSet,
    fields_of,
)
from agentctl.config.names import (
    GUID,
    IMAGE_VERSION,
    MAX_INT32,
    ORGANIZATION_URL,
    POOL_ROLE,
    RESERVED_ADMIN_NAMES,
    RESERVED_PROJECT_NAMES,
    RESOURCE_GROUP,
    RESOURCE_IDS,
    NameRule,
    devops_name,
    devops_project,
    meta,
    parse_id,
)
from agentctl.config.schema import SCHEMA_ID, json_schema, schema_path
from agentctl.errors import InvalidInput

__all__ = [
    "GUID",
    "IMAGE_VERSION",
    "MAX_INT32",
    "ORGANIZATION_URL",
    "POOL_ROLE",
    "PREDICTION_PREFERENCES",
    "RESERVED_ADMIN_NAMES",
    "RESERVED_PROJECT_NAMES",
    "RESOURCE_GROUP",
    "RESOURCE_IDS",
    "SCHEMA_ID",
    "Azure",
    "AzureConnection",
    "Cluster",
    "DevOps",
    "Environment",
    "Identity",
    "Image",
    "InvalidInput",
    "Kubernetes",
    "NameRule",
    "Network",
    "OsDisk",
    "Pool",
    "PoolSpec",
    "Registry",
    "ScaleSet",
    "Standby",
    "StandbyEntry",
    "devops_name",
    "devops_project",
    "fields_of",
    "json_schema",
    "load",
    "loads",
    "meta",
    "parse_id",
    "schema_path",
]
