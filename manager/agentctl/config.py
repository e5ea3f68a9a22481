"""pool.yaml: the typed model, its defaults, its validation, and its JSON Schema.

The dataclasses below are the single source of truth: the loader checks a document against
their field types and ``metadata`` (description, enum, pattern, bounds), cross-field rules
follow, and ``json_schema()`` derives the editor schema from the same definitions.
Every problem names the file, the line and the field.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentctl import standby, yamlsrc
from agentctl.errors import QUOTE_LIMIT, Collected, InvalidInput, quoted

# --- name rules ----------------------------------------------------------------------------
# Azure's own rules ("Naming rules and restrictions for Azure resources"): "alphanumeric" there
# means ASCII a-z, A-Z and 0-9, so these classes spell it out (Python's \w and \d also match
# other scripts' letters and digits). Resource group names alone take any Unicode letter or digit.
GUID = r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
RESOURCE_GROUP = r"^[-\w.()]{0,89}[-\w()]$"  # 1-90, not ending with a period
_RG = RESOURCE_GROUP[1:-1]
_SUB = rf"/subscriptions/(?P<sub>[0-9a-fA-F-]{{36}})/resourceGroups/(?P<rg>{_RG})/providers"
_NET_NAME = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{{0,{n}}}[A-Za-z0-9_])?"  # start alnum, end alnum or _
RESOURCE_IDS = {
    "subnet": _SUB
    + rf"/Microsoft\.Network/virtualNetworks/(?P<vnet>{_NET_NAME.format(n=62)})"
    + rf"/subnets/(?P<name>{_NET_NAME.format(n=78)})",
    "galleryImage": _SUB
    + r"/Microsoft\.Compute/galleries/(?P<gallery>[A-Za-z0-9](?:[A-Za-z0-9.]{0,78}[A-Za-z0-9])?)"
    + r"/images/(?P<name>[A-Za-z0-9](?:[-A-Za-z0-9.]{0,78}[A-Za-z0-9])?)",
    "identity": _SUB
    + r"/Microsoft\.ManagedIdentity/userAssignedIdentities/(?P<name>[A-Za-z0-9][-A-Za-z0-9_]{2,127})",
    "registry": _SUB + r"/Microsoft\.ContainerRegistry/registries/(?P<name>[a-zA-Z0-9]{5,50})",
}
IMAGE_VERSION = r"^[0-9]{1,10}\.[0-9]{1,10}\.[0-9]{1,10}$"
MAX_INT32 = 2**31 - 1

# Azure DevOps ("Naming restrictions and conventions"). Organizations: 1-50 letters, digits and
# hyphens, starting and ending with a letter or digit, in either URL form.
_ORG = r"[A-Za-z0-9](?:[-A-Za-z0-9]{0,48}[A-Za-z0-9])?"
ORGANIZATION_URL = rf"^https://(dev\.azure\.com/{_ORG}|{_ORG}\.visualstudio\.com)/?$"
# Project names: at most 64 characters,
# none of these printable ones, not starting with _ or ., not ending with ., not a reserved name.
_PROJECT_REFUSED = "/:\\~&%;@'\"?<>|#$*{},+=[]"
# Agent pool, environment and service connection names: these printable characters (a superset
# of what the service lists for environments), which also keeps every URL and query character out.
_NAME_REFUSED = "\\/:*?\"<>|;#$%&'@^`~{}[]=+,"
RESERVED_PROJECT_NAMES = [
    "AUX", "CON", "NUL", "PRN", "SERVER", "SignalR", "DefaultCollection", "Web", "bin", "web.config",
    *(f"COM{i}" for i in range(1, 11)), *(f"LPT{i}" for i in range(1, 10)),
    "App_Browsers", "App_code", "App_Data", "App_GlobalResources", "App_LocalResources", "App_Themes",
    "App_WebResources",
]  # fmt: skip
# Unicode categories no Azure DevOps name may hold: control, format (bidi controls, zero-width
# characters), surrogates, unassigned, line and paragraph separators.
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible format character (bidi control or zero-width)",
    "Cs": "a surrogate",
    "Cn": "an unassigned code point",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


def _not_in(chars: str) -> str:
    """A regex class of every character but ``chars`` (valid in Python and in JSON Schema)."""
    return "[^" + "".join("\\" + c if c in "\\]^-[" else c for c in chars) + "]"


_DEVOPS_NAME = rf"^{_not_in(_NAME_REFUSED)}+$"
_PROJECT_NAME = rf"^(?![_.]){_not_in(_PROJECT_REFUSED)}*{_not_in(_PROJECT_REFUSED + '.')}$"


def _devops_text(value: str, refused: str) -> str | None:
    """Why Azure DevOps would refuse ``value`` as a name, or None. Names the first bad character:
    one of ``refused``, a character of a refused category, or one beyond U+FFFF (the service
    stores UTF-16, where it is a surrogate pair); a name of whitespace only is refused too."""
    if not value.strip():
        return "is empty or only whitespace"
    for i, ch in enumerate(value, 1):
        kind = _REFUSED_CATEGORIES.get(unicodedata.category(ch))
        if kind is None and ord(ch) > 0xFFFF:
            kind = "beyond U+FFFF (a surrogate pair in UTF-16, such as an emoji)"
        if kind is not None:
            return f"character {i} (U+{ord(ch):04X}) is {kind}, which Azure DevOps refuses in names"
        if ch in refused:
            return f"character {i} {ch!r} is one Azure DevOps refuses in names (any of {refused})"
    return None


def devops_name(value: str) -> str | None:
    """The agent pool, environment and service connection name rule."""
    return _devops_text(value, _NAME_REFUSED)


def devops_project(value: str) -> str | None:
    """The project name rule."""
    problem = _devops_text(value, _PROJECT_REFUSED)
    if problem is None and value.startswith(("_", ".")):
        problem = "must not start with _ or ."
    if problem is None and value.endswith("."):
        problem = "must not end with ."
    if problem is None and value.lower() in {n.lower() for n in RESERVED_PROJECT_NAMES}:
        problem = f"{quoted(value)} is a name Azure DevOps reserves; choose another"
    return problem


NameRule = Callable[[str], "str | None"]
# The least built-in role that lets Azure DevOps scale, reimage and delete a scale set's instances.
POOL_ROLE = "Virtual Machine Contributor"
# Names Azure refuses for a VM's admin user (osProfile.adminUsername, Compute REST API).
RESERVED_ADMIN_NAMES = [
    "administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1", "123",
    "a", "actuser", "adm", "admin2", "aspnet", "backup", "console", "david", "guest", "john", "owner",
    "root", "server", "sql", "support", "support_388945a0", "sys", "test2", "test3", "user4", "user5",
]  # fmt: skip


def meta(description: str, **constraints: Any) -> dict[str, Any]:
    """Field metadata: JSON Schema keywords, and ``rule`` (a ``NameRule``, checked by the loader
    only: the schema carries its ``pattern``)."""
    return {"description": description, **constraints}


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
    name: str = field(
        metadata=meta("Agent pool name.", pattern=_DEVOPS_NAME, rule=devops_name, maxLength=128)
    )
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
            pattern=_DEVOPS_NAME,
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
        metadata=meta("Environment name.", pattern=_DEVOPS_NAME, rule=devops_name, maxLength=128)
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
            "Kubernetes service connection name.", pattern=_DEVOPS_NAME, rule=devops_name, maxLength=256
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
class Registry:
    id: str = field(metadata=meta("Resource id of the Azure Container Registry."))
    connection: str = field(
        metadata=meta(
            "Docker registry service connection name.",
            pattern=_DEVOPS_NAME,
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
class DevOps:
    organization: str = field(
        metadata=meta(
            "Organization URL: https://dev.azure.com/ORG or https://ORG.visualstudio.com.",
            pattern=ORGANIZATION_URL,
        )
    )
    project: str = field(
        metadata=meta("Project name.", pattern=_PROJECT_NAME, rule=devops_project, maxLength=64)
    )
    pool: Pool = field(metadata=meta("The scale-set (elastic) agent pool."))
    azureConnection: AzureConnection = field(
        metadata=meta("Azure Resource Manager connection the pool uses.")
    )
    environments: list[Environment] = field(
        default_factory=list, metadata=meta("Environments with approvals.")
    )
    kubernetes: list[Kubernetes] = field(
        default_factory=list, metadata=meta("Kubernetes service connections for private clusters.")
    )


@dataclass(frozen=True)
class PoolSpec:
    azure: Azure = field(metadata=meta("Where the scale set lives."))
    network: Network = field(metadata=meta("The private subnet."))
    image: Image = field(metadata=meta("The agent image."))
    scaleSet: ScaleSet = field(metadata=meta("The VM scale set."))
    devops: DevOps = field(metadata=meta("Azure DevOps side."))
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


# --- loading -------------------------------------------------------------------------------


def load(path: str | Path) -> PoolSpec:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{p}: no such file", hint="create one with `agentctl init`") from None
    except OSError as e:
        raise InvalidInput(f"{p}: cannot read ({e.strerror})") from None
    return loads(data, str(p))


def loads(text: str | bytes, source: str = "pool.yaml") -> PoolSpec:
    value, lines = yamlsrc.load(text, source)
    errs = Collected(source)
    if not isinstance(value, dict):
        errs.add("the document must be a mapping with azure, network, image, scaleSet and devops", "", 1)
        errs.raise_if_any()
    spec = _build(PoolSpec, value, "", lines, errs)
    errs.raise_if_any()
    assert isinstance(spec, PoolSpec)
    spec = dataclasses.replace(spec, source=source, lines=lines)
    _cross_checks(spec, errs)
    errs.raise_if_any()
    return spec


def _fields(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls) if not f.metadata.get("internal")]


def _line(lines: dict[str, int], path: str) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path.rsplit(".", 1)[0] if "." in path else ""
    return lines.get("")


def _build(tp: Any, value: Any, path: str, lines: dict[str, int], errs: Collected) -> Any:
    """Check ``value`` against the type ``tp``; return the typed value (or None after an error)."""

    def bad(msg: str) -> None:
        errs.add(msg, path, _line(lines, path))

    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        return _build(_branch(tp, value), value, path, lines, errs)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            bad(f"expected a mapping, got {_kind(value)}")
            return None
        known = _fields(tp)
        names = [f.name for f, _ in known]
        for key in value:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
                hint = (
                    f" (did you mean '{close[0]}'?)" if close else f" (expected one of: {', '.join(names)})"
                )
                where = _line(lines, yamlsrc.join(path, key))
                if len(key) > QUOTE_LIMIT:  # a field path would echo it whole: quote it shortened
                    errs.add(f"unknown key {quoted(key)}{hint}", path, where)
                else:
                    errs.add(f"unknown key{hint}", yamlsrc.join(path, key), where)
        kwargs: dict[str, Any] = {}
        for f, ftype in known:
            child = yamlsrc.join(path, f.name)
            if f.name not in value:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    errs.add("required field is missing", child, _line(lines, path))
                continue
            built = _build(ftype, value[f.name], child, lines, errs)
            if built is not None or value[f.name] is None:
                _constrain(f.metadata, built, child, lines, errs)
                kwargs[f.name] = built
        try:
            return tp(**kwargs)
        except TypeError:
            return None  # a required field was missing or invalid; already reported
    if origin is list:
        if not isinstance(value, list):
            bad(f"expected a list, got {_kind(value)}")
            return None
        (item_t,) = typing.get_args(tp)
        return [_build(item_t, v, yamlsrc.join(path, i), lines, errs) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            bad(f"expected a mapping, got {_kind(value)}")
            return None
        out = {}
        for k, v in value.items():
            if not isinstance(v, str | int | float | bool) or v is None:
                errs.add(f"expected a string, got {_kind(v)}", yamlsrc.join(path, k), _line(lines, path))
                continue
            out[k] = str(v).lower() if isinstance(v, bool) else str(v)
        return out
    ok = {str: isinstance(value, str), int: isinstance(value, int) and not isinstance(value, bool)}
    ok[bool] = isinstance(value, bool)
    if not ok.get(tp, False):
        bad(f"expected {_TYPE_NAMES[tp]}, got {_kind(value)}")
        return None
    return value


_TYPE_NAMES = {str: "a string", int: "a whole number", bool: "true or false"}


def _branch(tp: Any, value: Any) -> Any:
    """Of ``X | None`` the X; of ``int | SomeDataclass``, the dataclass for a mapping, else the int."""
    inner = [a for a in typing.get_args(tp) if a is not type(None)]
    if len(inner) == 1:
        return inner[0]
    mapped = next(a for a in inner if dataclasses.is_dataclass(a))
    return mapped if isinstance(value, dict) else next(a for a in inner if a is not mapped)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({quoted(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _constrain(
    m: typing.Mapping[str, Any], value: Any, path: str, lines: dict[str, int], errs: Collected
) -> None:
    if value is None:
        return
    line = _line(lines, path)
    if "enum" in m and value not in m["enum"]:
        close = difflib.get_close_matches(str(value), m["enum"], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        errs.add(f"{quoted(value)} is not one of {', '.join(m['enum'])}{hint}", path, line)
    if isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value) if v is not None]  # None: reported
        for item_path, v in items:
            _constrain({"description": m["description"], **m.get("items", {})}, v, item_path, lines, errs)
        if m.get("uniqueItems"):
            _unique(items, lambda msg, p: errs.add(msg, p, _line(lines, p)))
    if isinstance(value, str):
        rule: NameRule | None = m.get("rule")
        problem = rule(value) if rule else None
        if "maxLength" in m and len(value) > m["maxLength"]:
            errs.add(f"is {len(value)} characters long; the limit is {m['maxLength']}", path, line)
        elif problem:
            errs.add(problem, path, line)
        elif "pattern" in m and not re.fullmatch(m["pattern"], value):
            errs.add(f"{quoted(value)} is not a valid value ({m['description'].rstrip('.')})", path, line)
        elif value in m.get("not", {}).get("enum", []):
            errs.add(f"{quoted(value)} is a name Azure reserves; choose another", path, line)
    if isinstance(value, int) and not isinstance(value, bool):
        if "minimum" in m and value < m["minimum"]:
            errs.add(f"{value} is below the minimum {m['minimum']}", path, line)
        if "maximum" in m and value > m["maximum"]:
            errs.add(f"{value} is above the maximum {m['maximum']}", path, line)


# --- cross-field rules ---------------------------------------------------------------------


def parse_id(kind: str, value: str) -> dict[str, str] | None:
    m = re.fullmatch(RESOURCE_IDS[kind], value, flags=re.IGNORECASE)
    return m.groupdict() if m else None


def _cross_checks(spec: PoolSpec, errs: Collected) -> None:
    def add(msg: str, path: str) -> None:
        errs.add(msg, path, spec.line(path))

    shapes = {
        "network.subnetId": ("subnet", spec.network.subnetId),
        "image.galleryImageId": ("galleryImage", spec.image.galleryImageId),
        "scaleSet.identity.userAssigned": ("identity", spec.scaleSet.identity.userAssigned),
    }
    if spec.devops.azureConnection.identity:
        shapes["devops.azureConnection.identity"] = ("identity", spec.devops.azureConnection.identity)
    for i, reg in enumerate(spec.registries):
        shapes[f"registries[{i}].id"] = ("registry", reg.id)
        if reg.pushIdentity:
            shapes[f"registries[{i}].pushIdentity"] = ("identity", reg.pushIdentity)
    example = {
        "subnet": ".../resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/VNET/subnets/SUBNET",
        "galleryImage": ".../resourceGroups/RG/providers/Microsoft.Compute/galleries/GALLERY/images/IMAGE",
        "identity": ".../resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME",
        "registry": ".../resourceGroups/RG/providers/Microsoft.ContainerRegistry/registries/NAME",
    }
    for path, (kind, value) in shapes.items():
        if parse_id(kind, value) is None:
            if kind == "galleryImage" and re.search(r"/versions/[^/]+$", value):
                add("name the image definition, not a version; pin a version with image.version", path)
            else:
                add(f"not a well-formed {kind} resource id (/subscriptions/<guid>{example[kind]})", path)

    subnet = parse_id("subnet", spec.network.subnetId)
    if subnet and subnet["sub"].lower() != spec.azure.subscription.lower():
        add(
            f"the subnet is in subscription {subnet['sub']}, the scale set in {spec.azure.subscription}: "
            "a scale set can only use a subnet of its own subscription",
            "network.subnetId",
        )
    if spec.image.version:
        parts = [int(p) for p in spec.image.version.split(".")]
        if any(p > MAX_INT32 for p in parts):
            add("each part of an image version must fit in a 32-bit integer", "image.version")

    _standby_checks(spec, add)
    if not spec.devops.azureConnection.workloadIdentity:
        add(
            "only workload identity federation is supported (no secret is ever stored)",
            "devops.azureConnection.workloadIdentity",
        )
    agents = spec.scaleSet.identity.userAssigned.lower()
    manager = (spec.devops.azureConnection.identity or "").lower()
    named = [("devops.azureConnection.identity", manager)]
    named += [
        (f"registries[{i}].pushIdentity", (r.pushIdentity or "").lower())
        for i, r in enumerate(spec.registries)
    ]
    for path, identity in named:
        if identity == agents:
            add(
                "must not be the agents' identity (scaleSet.identity.userAssigned): every job on the pool "
                "can use that one",
                path,
            )
        elif identity and identity == manager and path != named[0][0]:
            add("must not be the pool-management identity (devops.azureConnection.identity)", path)
    key = spec.scaleSet.sshPublicKey
    if key is not None and not key.startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-")):
        key_file = Path(key).expanduser()
        if not key_file.is_absolute() and spec.source:
            key_file = Path(spec.source).parent / key_file
        if not key_file.is_file():
            add("neither an SSH public key nor a readable .pub file", "scaleSet.sshPublicKey")
        elif "PRIVATE KEY" in key_file.read_text(errors="replace")[:200]:
            add("this is a private key; give the public key (.pub)", "scaleSet.sshPublicKey")

    for i, env in enumerate(spec.devops.environments):
        if env.approvers and env.minApprovers > len(env.approvers):
            add(
                f"({env.minApprovers}) exceeds the number of approvers ({len(env.approvers)})",
                f"devops.environments[{i}].minApprovers",
            )

    names: dict[str, str] = {spec.devops.azureConnection.name.lower(): "devops.azureConnection.name"}
    conns = [
        (f"devops.kubernetes[{i}].connection", k.connection) for i, k in enumerate(spec.devops.kubernetes)
    ]
    conns += [(f"registries[{i}].connection", r.connection) for i, r in enumerate(spec.registries)]
    for path, name in conns:
        if name.lower() in names:
            add(f"connection name {quoted(name)} is already used by {names[name.lower()]}", path)
        names[name.lower()] = path
    _unique([(f"devops.environments[{i}].name", e.name) for i, e in enumerate(spec.devops.environments)], add)
    _unique([(f"registries[{i}].id", r.id) for i, r in enumerate(spec.registries)], add)


def _standby_checks(spec: PoolSpec, add: typing.Callable[[str, str], None]) -> None:
    pool, at = spec.devops.pool, "devops.pool.standby"
    if pool.standby is not None and pool.desiredIdle is not None:
        add("give standby or its older spelling desiredIdle, not both", "devops.pool.desiredIdle")
        return
    if isinstance(pool.standby, Standby):
        if pool.standby.automatic is not None:
            add(
                "automatic standby is a Managed DevOps Pools feature; a scale-set pool takes a fixed count "
                "or a schedule",
                f"{at}.automatic",
            )
            return
        if not pool.standby.schedule:
            add("a schedule needs at least one entry {days, start, agents}", f"{at}.schedule")
            return
        try:
            standby.zone_of(pool.standby.timeZone)
        except ValueError as e:
            add(str(e), f"{at}.timeZone")
        seen: dict[tuple[int, str], str] = {}
        for i, entry in enumerate(pool.standby.schedule):
            for j, item in enumerate(entry.days):
                try:
                    days = standby.days_of(item)
                except ValueError as e:
                    add(str(e), f"{at}.schedule[{i}].days[{j}]")
                    continue
                for day in days:
                    first = seen.setdefault((day, entry.start), f"{at}.schedule[{i}]")
                    if first != f"{at}.schedule[{i}]":
                        add(
                            f"{standby.DAYS[day]} {entry.start} is already set by {first}",
                            f"{at}.schedule[{i}]",
                        )
            if entry.agents > pool.maxCapacity:
                add(
                    f"({entry.agents}) exceeds maxCapacity ({pool.maxCapacity})", f"{at}.schedule[{i}].agents"
                )
        return
    fixed = spec.standby_week().peak
    if fixed > pool.maxCapacity:
        add(f"({fixed}) exceeds maxCapacity ({pool.maxCapacity})", spec.standby_field)


def _unique(items: list[tuple[str, Any]], add: typing.Callable[[str, str], None]) -> None:
    """Report every value listed again (text compared without case) at its path."""
    seen: dict[Any, str] = {}
    for path, value in items:
        key = value.lower() if isinstance(value, str) else value
        if key in seen:
            add(f"{quoted(value)} is listed twice (first at {seen[key]})", path)
        else:
            seen[key] = path


# --- JSON Schema ---------------------------------------------------------------------------

SCHEMA_ID = "https://agentctl.dev/schemas/pool.schema.json"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of pool.yaml, derived from the model (kept in the repo for editors)."""
    schema = _schema_of(PoolSpec)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "agentctl pool",
        **schema,
    }


def _schema_of(tp: Any) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) == 1:
            return _schema_of(inner[0])
        return {"oneOf": [_schema_of(a) for a in inner]}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        props: dict[str, Any] = {}
        required = []
        for f, ftype in _fields(tp):
            s = _schema_of(ftype)
            m = dict(f.metadata)
            m.pop("rule", None)  # the loader's; the schema has the pattern
            s["description"] = m.pop("description")
            if "items" in m:
                s["items"].update(m.pop("items"))
            s.update(m)
            if f.default is not dataclasses.MISSING and f.default is not None:
                s["default"] = f.default
                if type(None) in typing.get_args(ftype):  # null turns the default off
                    s["type"] = [s["type"], "null"]
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                required.append(f.name)
            props[f.name] = s
        out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            out["required"] = required
        return out
    if origin is list:
        return {"type": "array", "items": _schema_of(typing.get_args(tp)[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": {"type": "string"}}
    return {"type": {str: "string", int: "integer", bool: "boolean"}[tp]}


def schema_path() -> Path:
    from agentctl import schemas

    return schemas.path("pool")
