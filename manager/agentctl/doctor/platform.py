"""Checks of what Azure itself must allow: vCPU quota, the image, resource providers, and the
federated credential behind the Azure Resource Manager connection. Pure functions of the facts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentctl.config import PoolSpec
from agentctl.doctor import ERROR, INFO, WARNING, Finding
from agentctl.doctor.access import providers
from agentctl.kinds import common
from agentctl.kinds.pool import desired

if TYPE_CHECKING:
    from agentctl.doctor.gather import Facts

AUDIENCE = "api://AzureADTokenExchange"


def _props(doc: dict[str, Any] | None) -> dict[str, Any]:
    return (doc or {}).get("properties") or {}


def _capability(sku: dict[str, Any], name: str) -> str:
    return next((str(c.get("value")) for c in sku.get("capabilities") or [] if c.get("name") == name), "")


def check_quota(spec: PoolSpec, facts: Facts) -> list[Finding]:
    size = spec.scaleSet.sku
    sub, region = spec.azure.subscription, spec.azure.location
    where = f"/subscriptions/{sub}/providers/Microsoft.Compute/locations/{region}"
    sku = next((s for s in facts.skus if str(s.get("name", "")).lower() == size.lower()), None)
    if sku is None:
        return [
            Finding(
                "quota.sku_unavailable",
                ERROR,
                f"{where}/skus/{size}",
                f"{size} is not offered in {spec.azure.location}",
                "choose a VM size the region offers (az vm list-skus -l REGION)",
            )
        ]
    blocked = [r for r in sku.get("restrictions") or [] if r.get("type") == "Location"]
    if blocked:
        reason = blocked[0].get("reasonCode", "")
        return [
            Finding(
                "quota.sku_restricted",
                ERROR,
                f"{where}/skus/{size}",
                f"{size} is restricted in {spec.azure.location} for this subscription ({reason})",
                "choose another VM size, or ask Azure support to lift the restriction",
            )
        ]
    vcpus = int(_capability(sku, "vCPUs") or 0)
    own = int(((facts.scale_set or {}).get("sku") or {}).get("capacity") or 0)
    need = max(0, spec.devops.pool.maxCapacity - own) * vcpus
    out: list[Finding] = []
    family = str(sku.get("family", ""))
    for name, label in ((family, f"the {family} family"), ("cores", "the region")):
        usage = next((u for u in facts.usages if (u.get("name") or {}).get("value") == name), None)
        if usage is None:
            continue
        free = int(usage.get("limit", 0)) - int(usage.get("currentValue", 0))
        if need > free:
            out.append(
                Finding(
                    "quota.short",
                    ERROR,
                    f"{where}/usages/{name}",
                    f"{label} has {free} vCPUs free in {spec.azure.location} ({usage.get('currentValue')} of "
                    f"{usage.get('limit')} used); maxCapacity {spec.devops.pool.maxCapacity} x "
                    f"{vcpus} vCPUs of "
                    f"{size} needs {need} more",
                    "request a quota increase for "
                    f"{(usage.get('name') or {}).get('localizedValue') or name} in "
                    f"{spec.azure.location} to at least "
                    f"{int(usage.get('currentValue', 0)) + need}, or lower maxCapacity",
                )
            )
    return out


def check_image(spec: PoolSpec, facts: Facts) -> list[Finding]:
    image_id = spec.image.galleryImageId
    if facts.image is None:
        return [
            Finding(
                "image.missing",
                ERROR,
                image_id,
                "the gallery image does not exist",
                "fix image.galleryImageId, or build the image (make image)",
            )
        ]
    names = [str(v.get("name")) for v in facts.versions]
    if spec.image.version and spec.image.version not in names:
        return [
            Finding(
                "image.version_missing",
                ERROR,
                f"{image_id}/versions/{spec.image.version}",
                f"version {spec.image.version} does not exist (the gallery has {', '.join(names) or 'none'})",
                "pin an existing version, or drop image.version to use the latest",
            )
        ]
    if facts.version is None:
        found = (
            "has no version" if not names else f"has only versions excluded from latest ({', '.join(names)})"
        )
        return [
            Finding(
                "image.no_latest",
                ERROR,
                image_id,
                f"the image {found}: the pool uses the latest version",
                "publish a version that is not excluded from latest, or pin one with image.version",
            )
        ]
    out: list[Finding] = []
    vid = str(facts.version.get("id"))
    vprops = _props(facts.version)
    if not spec.image.version and names and names[-1] != facts.version.get("name"):
        out.append(
            Finding(
                "image.newest_excluded",
                INFO,
                f"{image_id}/versions/{names[-1]}",
                f"version {names[-1]} is excluded from latest; the pool gets {facts.version.get('name')}",
            )
        )
    if vprops.get("provisioningState") != "Succeeded":
        out.append(
            Finding(
                "image.not_provisioned",
                ERROR,
                vid,
                f"version {facts.version.get('name')} is {vprops.get('provisioningState')}",
                "wait for the version to finish, or publish a new one",
            )
        )
    region = spec.azure.location.lower()
    targets = [
        str(t.get("name", "")).replace(" ", "").lower()
        for t in (vprops.get("publishingProfile") or {}).get("targetRegions") or []
    ]
    if region not in targets:
        out.append(
            Finding(
                "image.not_replicated",
                ERROR,
                vid,
                f"version {facts.version.get('name')} is replicated to "
                f"{', '.join(targets) or 'no region'}, not to {spec.azure.location}",
                f"add {spec.azure.location} to the version's target regions (az sig image-version "
                "update --add "
                f"publishingProfile.targetRegions name={spec.azure.location})",
            )
        )
    else:
        summary = (vprops.get("replicationStatus") or {}).get("summary") or []
        state = next(
            (s.get("state") for s in summary if str(s.get("region", "")).replace(" ", "").lower() == region),
            None,
        )
        if state not in (None, "Completed"):
            out.append(
                Finding(
                    "image.replicating",
                    WARNING,
                    vid,
                    f"replication to {spec.azure.location} is {state}",
                    "wait for it to complete before deploying",
                )
            )
    iprops = _props(facts.image)
    if iprops.get("osType") != "Linux":
        out.append(
            Finding(
                "image.os_type",
                ERROR,
                image_id,
                f"the image is {iprops.get('osType')}; agentctl's pools run Linux agents",
                "use a Linux image",
            )
        )
    sku = next((s for s in facts.skus if str(s.get("name", "")).lower() == spec.scaleSet.sku.lower()), None)
    generations = _capability(sku or {}, "HyperVGenerations")
    generation = str(iprops.get("hyperVGeneration") or "V1")
    if generations and generation not in generations.split(","):
        out.append(
            Finding(
                "image.generation",
                ERROR,
                image_id,
                f"the image is Hyper-V generation {generation}; {spec.scaleSet.sku} supports {generations}",
                "use a VM size that supports the image's generation, or an image of a supported generation",
            )
        )
    return out


def check_providers(spec: PoolSpec, facts: Facts) -> list[Finding]:
    out = []
    for ns in providers(spec):
        doc = facts.providers.get(ns)
        state = (doc or {}).get("registrationState", "NotRegistered")
        if state != "Registered":
            out.append(
                Finding(
                    "providers.not_registered",
                    ERROR,
                    f"/subscriptions/{spec.azure.subscription}/providers/{ns}",
                    f"resource provider {ns} is {state}",
                    f"az provider register --namespace {ns}",
                )
            )
    return out


def check_connection(spec: PoolSpec, facts: Facts) -> list[Finding]:
    name = spec.devops.azureConnection.name
    identity_id = spec.scaleSet.identity.userAssigned
    if facts.identity is None:
        return [
            Finding(
                "identity.missing",
                ERROR,
                identity_id,
                "the user-assigned identity does not exist",
                "fix scaleSet.identity.userAssigned, or create the identity",
            )
        ]
    if facts.connection is None:
        return [
            Finding(
                "connection.absent",
                INFO,
                name,
                "the service connection does not exist yet: deploy-pool creates it with its "
                "federated credential",
            )
        ]
    issuer, subject = common.wif_issuer_subject(facts.connection)
    client_id = str(
        ((facts.connection.get("authorization") or {}).get("parameters") or {}).get("serviceprincipalid")
        or ""
    )
    identity_id = desired.pool_identity_id(spec)
    mine = str(_props(facts.pool_identity).get("clientId") or "")
    if not mine or client_id.lower() != mine.lower():
        return [
            Finding(
                "connection.other_identity",
                WARNING,
                name,
                f"the connection signs in as client {client_id}, not the identity "
                f"{identity_id.rsplit('/', 1)[-1]}",
                "run deploy-pool to point the connection at the pool's identity",
            )
        ]
    match = [
        f
        for f in facts.federated_credentials
        if _props(f).get("issuer") == issuer
        and _props(f).get("subject") == subject
        and AUDIENCE in (_props(f).get("audiences") or [])
    ]
    if not match:
        return [
            Finding(
                "connection.credential_mismatch",
                ERROR,
                identity_id,
                f"no federated credential on {identity_id.rsplit('/', 1)[-1]} has the issuer "
                f"{issuer} and subject "
                f"{subject} the connection {name} reports: Entra refuses its tokens (AADSTS700213)",
                "run deploy-pool (it writes the credential), or add a federated credential with that issuer, "
                f"subject and audience {AUDIENCE}",
            )
        ]
    return []


def check(spec: PoolSpec, facts: Facts) -> list[Finding]:
    return [
        *check_quota(spec, facts),
        *check_image(spec, facts),
        *check_providers(spec, facts),
        *check_connection(spec, facts),
    ]
