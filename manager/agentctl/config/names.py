"""pool.yaml's name rules: Azure and Azure DevOps naming limits, resource id shapes, field metadata."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from agentctl.errors import quoted

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
    "devCenterProject": _SUB + r"/Microsoft\.DevCenter/projects/(?P<name>[a-zA-Z0-9][-a-zA-Z0-9_.]{2,62})",
}
# A Managed DevOps Pool's name (also its Azure DevOps pool's): 3-44 letters, digits, - or .
MANAGED_POOL_NAME = r"^[a-zA-Z0-9][a-zA-Z0-9-.]{2,43}$"
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


DEVOPS_NAME = rf"^{_not_in(_NAME_REFUSED)}+$"
PROJECT_NAME = rf"^(?![_.]){_not_in(_PROJECT_REFUSED)}*{_not_in(_PROJECT_REFUSED + '.')}$"


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


def parse_id(kind: str, value: str) -> dict[str, str] | None:
    """The parts of a resource id of ``kind`` (a key of ``RESOURCE_IDS``), or None when malformed."""
    m = re.fullmatch(RESOURCE_IDS[kind], value, flags=re.IGNORECASE)
    return m.groupdict() if m else None
