"""pool.yaml's backend rules: which sections each backend needs, and what a Managed DevOps Pool
refuses that can be known offline (its name, images, agent profile, permissions)."""

from __future__ import annotations

import re
import typing

from agentctl import standby
from agentctl.config.managed import ManagedPool
from agentctl.config.model import PoolSpec
from agentctl.config.names import MANAGED_POOL_NAME
from agentctl.errors import quoted

Add = typing.Callable[[str, str], None]  # (message, field path)
WEEK_SECONDS = 7 * 24 * 3600
_SPAN = re.compile(r"^(?:(\d+)\.)?(\d{2}):(\d{2}):(\d{2})$")


def backend_checks(spec: PoolSpec, add: Add) -> None:
    """The sections the selected backend needs; the other backend's may stay (a switch removes what
    they name)."""
    if spec.backend == "scaleSet":
        for path in ("image", "scaleSet", "devops.azureConnection"):
            if not spec.has(path):
                add("required field is missing (backend scaleSet)", path)
        return
    if spec.managedPool is None:
        add("required field is missing (backend managedPool)", "managedPool")
        return
    if not re.fullmatch(MANAGED_POOL_NAME, spec.devops.pool.name):
        add(
            f"{quoted(spec.devops.pool.name)}: a managed pool's name is 3-44 letters, digits, '-' or '.', "
            "starting with a letter or digit",
            "devops.pool.name",
        )
    _images(spec.managedPool, add)
    _agent_profile(spec.managedPool, add)
    _permissions(spec.managedPool, add)
    _identity_needed(spec, add)
    zone = getattr(spec.devops.pool.standby, "timeZone", "UTC")
    try:
        standby.windows_zone(zone)
    except ValueError as e:
        add(str(e), "devops.pool.standby.timeZone")


def managed_ids(spec: PoolSpec) -> dict[str, tuple[str, str]]:
    """The managed pool's resource ids, for the shape checks: field path -> (kind, value)."""
    m = spec.managedPool
    if m is None:
        return {}
    out = {
        f"managedPool.images[{i}].galleryImageId": ("galleryImage", str(image.galleryImageId))
        for i, image in enumerate(m.images)
        if image.galleryImageId
    }
    if m.devCenterProject:
        out["managedPool.devCenterProject"] = ("devCenterProject", m.devCenterProject)
    if m.identity is not None:
        out["managedPool.identity.userAssigned"] = ("identity", m.identity.userAssigned)
    return out


def _images(m: ManagedPool, add: Add) -> None:
    if not m.images:
        add("a managed pool needs at least one image", "managedPool.images")
    shares = 0
    seen: dict[str, str] = {}
    for i, image in enumerate(m.images):
        at = f"managedPool.images[{i}]"
        if bool(image.galleryImageId) == bool(image.wellKnownImageName):
            add("give galleryImageId or wellKnownImageName (one of them)", at)
        if image.version and not image.galleryImageId:
            add("a version pins a gallery image; a well-known image has none", f"{at}.version")
        shares += int(image.buffer) if image.buffer != "*" else 0
        for j, alias in enumerate(image.aliases):
            first = seen.setdefault(alias.lower(), f"{at}.aliases[{j}]")
            if first != f"{at}.aliases[{j}]":
                add(f"alias {quoted(alias)} is already used by {first}", f"{at}.aliases[{j}]")
    if shares > 100:
        add(f"the images' buffer percentages add up to {shares}; at most 100", "managedPool.images")


def _seconds(span: str) -> int:
    m = _SPAN.fullmatch(span)
    days, hours, minutes, seconds = (int(g or 0) for g in m.groups()) if m else (0, 0, 0, 0)
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def _agent_profile(m: ManagedPool, add: Add) -> None:
    profile, at = m.agentProfile, "managedPool.agentProfile"
    for name in ("maxAgentLifetime", "gracePeriodTimeSpan"):
        value = getattr(profile, name)
        if value and profile.kind == "stateless":
            add("only a stateful agent profile has it", f"{at}.{name}")
        elif value and _seconds(value) > WEEK_SECONDS:
            add(f"{value} is longer than the service allows (7.00:00:00)", f"{at}.{name}")


def _permissions(m: ManagedPool, add: Add) -> None:
    perm, at = m.permissions, "managedPool.permissions"
    if perm.kind == "specificAccounts" and not (perm.users or perm.groups):
        add("specificAccounts needs users or groups", at)
    elif perm.kind != "specificAccounts" and (perm.users or perm.groups):
        add("users and groups are for kind specificAccounts", at)


def _identity_needed(spec: PoolSpec, add: Add) -> None:
    """The agents' identity is what registries and kubelogin-msi connections use."""
    if spec.managedPool is None or spec.managedPool.identity is not None:
        return
    for i in range(len(spec.registries)):
        add("a registry is pulled with the agents' identity: set managedPool.identity", f"registries[{i}].id")
    for i, kc in enumerate(spec.devops.kubernetes):
        if kc.credentials == "kubelogin-msi":
            add(
                "kubelogin-msi signs in as the agents' identity: set managedPool.identity",
                f"devops.kubernetes[{i}].credentials",
            )
