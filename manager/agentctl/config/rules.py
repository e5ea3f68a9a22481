"""pool.yaml's cross-field rules: what no single field's type or pattern can say."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

from agentctl import standby
from agentctl.config.backend_rules import backend_checks, managed_ids
from agentctl.config.devops import Standby
from agentctl.config.model import PoolSpec
from agentctl.config.names import MAX_INT32, parse_id
from agentctl.errors import Collected, quoted

Add = typing.Callable[[str, str], None]  # (message, field path)

_ID_EXAMPLES = {
    "devCenterProject": ".../resourceGroups/RG/providers/Microsoft.DevCenter/projects/NAME",
    "subnet": ".../resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/VNET/subnets/SUBNET",
    "galleryImage": ".../resourceGroups/RG/providers/Microsoft.Compute/galleries/GALLERY/images/IMAGE",
    "identity": ".../resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME",
    "registry": ".../resourceGroups/RG/providers/Microsoft.ContainerRegistry/registries/NAME",
}


def cross_checks(spec: PoolSpec, errs: Collected) -> None:
    """Report every rule ``spec`` breaks, each at its field's line."""

    def add(msg: str, path: str) -> None:
        errs.add(msg, path, spec.line(path))

    backend_checks(spec, add)
    _id_checks(spec, add)
    _standby_checks(spec, add)
    if not spec.devops.azureConnection.workloadIdentity:
        add(
            "only workload identity federation is supported (no secret is ever stored)",
            "devops.azureConnection.workloadIdentity",
        )
    _identity_checks(spec, add)
    _ssh_key_checks(spec, add)
    for i, env in enumerate(spec.devops.environments):
        if env.approvers and env.minApprovers > len(env.approvers):
            add(
                f"({env.minApprovers}) exceeds the number of approvers ({len(env.approvers)})",
                f"devops.environments[{i}].minApprovers",
            )
    _name_checks(spec, add)


def _id_checks(spec: PoolSpec, add: Add) -> None:
    """Resource ids well formed, the subnet in the scale set's subscription, image version parts."""
    shapes = {"network.subnetId": ("subnet", spec.network.subnetId)}
    if spec.has("image"):
        shapes["image.galleryImageId"] = ("galleryImage", spec.image.galleryImageId)
    if spec.has("scaleSet"):
        shapes["scaleSet.identity.userAssigned"] = ("identity", spec.scaleSet.identity.userAssigned)
    shapes |= managed_ids(spec)
    if spec.devops.azureConnection.identity:
        shapes["devops.azureConnection.identity"] = ("identity", spec.devops.azureConnection.identity)
    for i, reg in enumerate(spec.registries):
        shapes[f"registries[{i}].id"] = ("registry", reg.id)
        if reg.pushIdentity:
            shapes[f"registries[{i}].pushIdentity"] = ("identity", reg.pushIdentity)
    for path, (kind, value) in shapes.items():
        if parse_id(kind, value) is None:
            if kind == "galleryImage" and re.search(r"/versions/[^/]+$", value):
                add("name the image definition, not a version; pin a version with image.version", path)
            else:
                add(f"not a well-formed {kind} resource id (/subscriptions/<guid>{_ID_EXAMPLES[kind]})", path)

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


def _identity_checks(spec: PoolSpec, add: Add) -> None:
    """The pool-management and push identities are neither the agents' nor each other's."""
    agents = spec.scaleSet.identity.userAssigned.lower()
    manager = (spec.devops.azureConnection.identity or "").lower()
    named = [("devops.azureConnection.identity", manager)]
    named += [
        (f"registries[{i}].pushIdentity", (r.pushIdentity or "").lower())
        for i, r in enumerate(spec.registries)
    ]
    for path, identity in named:
        if identity and identity == agents:
            add(
                "must not be the agents' identity (scaleSet.identity.userAssigned): every job on the pool "
                "can use that one",
                path,
            )
        elif identity and identity == manager and path != named[0][0]:
            add("must not be the pool-management identity (devops.azureConnection.identity)", path)


def _ssh_key_checks(spec: PoolSpec, add: Add) -> None:
    """scaleSet.sshPublicKey is a public key's text or a readable .pub file (next to the pool file)."""
    key = spec.scaleSet.sshPublicKey
    if key is None or key.startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-")):
        return
    key_file = Path(key).expanduser()
    if not key_file.is_absolute() and spec.source:
        key_file = Path(spec.source).parent / key_file
    if not key_file.is_file():
        add("neither an SSH public key nor a readable .pub file", "scaleSet.sshPublicKey")
    elif "PRIVATE KEY" in key_file.read_text(errors="replace")[:200]:
        add("this is a private key; give the public key (.pub)", "scaleSet.sshPublicKey")


def _name_checks(spec: PoolSpec, add: Add) -> None:
    """Connection names, environment names and registries each listed once."""
    names: dict[str, str] = {spec.devops.azureConnection.name.lower(): "devops.azureConnection.name"}
    conns = [
        (f"devops.kubernetes[{i}].connection", k.connection) for i, k in enumerate(spec.devops.kubernetes)
    ]
    conns += [(f"registries[{i}].connection", r.connection) for i, r in enumerate(spec.registries)]
    for path, name in conns:
        if name.lower() in names:
            add(f"connection name {quoted(name)} is already used by {names[name.lower()]}", path)
        names[name.lower()] = path
    unique([(f"devops.environments[{i}].name", e.name) for i, e in enumerate(spec.devops.environments)], add)
    unique([(f"registries[{i}].id", r.id) for i, r in enumerate(spec.registries)], add)


def _standby_checks(spec: PoolSpec, add: Add) -> None:
    pool, at = spec.devops.pool, "devops.pool.standby"
    limit, limit_name = pool.maxCapacity, "maxCapacity"
    if spec.managed is not None:
        limit, limit_name = spec.managed.maximumConcurrency, "managedPool.maximumConcurrency"
    if pool.standby is not None and pool.desiredIdle is not None:
        add("give standby or its older spelling desiredIdle, not both", "devops.pool.desiredIdle")
        return
    if isinstance(pool.standby, Standby):
        if pool.standby.automatic is not None and spec.managed is None:
            add(
                "automatic standby is a Managed DevOps Pools feature; a scale-set pool takes a fixed count "
                "or a schedule",
                f"{at}.automatic",
            )
            return
        if pool.standby.automatic is not None:
            if pool.standby.schedule:
                add("give automatic or a schedule, not both", f"{at}.schedule")
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
            if entry.agents > limit:
                add(f"({entry.agents}) exceeds {limit_name} ({limit})", f"{at}.schedule[{i}].agents")
        return
    fixed = spec.standby_week().peak
    if fixed > limit:
        add(f"({fixed}) exceeds {limit_name} ({limit})", spec.standby_field)


def unique(items: list[tuple[str, Any]], add: Add) -> None:
    """Report every value listed again (text compared without case) at its path."""
    seen: dict[Any, str] = {}
    for path, value in items:
        key = value.lower() if isinstance(value, str) else value
        if key in seen:
            add(f"{quoted(value)} is listed twice (first at {seen[key]})", path)
        else:
            seen[key] = path
