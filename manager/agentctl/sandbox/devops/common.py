"""Azure DevOps state helpers: the organization's collections, projects, identity references,
ids, URLs, the ``{count, value}`` list wrapper and continuation-token paging."""

from __future__ import annotations

from typing import Any

from agentctl.sandbox.http import Response, ServiceError, devops_error
from agentctl.sandbox.registry import Ctx, State

Item = dict[str, Any]
CORE = "Microsoft.TeamFoundation.Core.WebApi"


def section(st: State, name: str) -> dict[str, Any]:
    """A collection (id -> item) of the organization's state."""
    devops: dict[str, Any] = st.setdefault("devops", {})
    out: dict[str, Any] = devops.setdefault(name, {})
    return out


def next_id(st: State, kind: str, start: int = 1) -> int:
    counters: dict[str, int] = st.setdefault("counters", {})
    value = counters.get(kind, start)
    counters[kind] = value + 1
    return value


def org_url(ctx: Ctx) -> str:
    return f"{ctx.env.base}{ctx.meta['organization']}"


def wrap(items: list[Any]) -> dict[str, Any]:
    return {"count": len(items), "value": items}


CONTINUATION = "X-MS-ContinuationToken"


def paged(ctx: Ctx, items: list[Item], default_top: int) -> Response:
    """One page of ``items`` (ordered by their integer ``id``), as the service pages a list:
    at most ``$top`` (else ``default_top``) from the ``continuationToken`` on, and the token of the
    next page in the ``X-MS-ContinuationToken`` header while there is one. The token is opaque to
    clients; here it is the id of the next page's first item."""
    try:
        top = int(ctx.req.arg("$top") or default_top)
        start = int(ctx.req.arg("continuationToken") or 0)
    except ValueError:
        top = 0
    if top < 1:
        raise bad_request("$top must be a positive number and continuationToken one the service returned.")
    rest = sorted((i for i in items if int(i["id"]) >= start), key=lambda i: int(i["id"]))
    page, more = rest[:top], rest[top:]
    return Response(200, wrap(page), {CONTINUATION: str(more[0]["id"])} if more else {})


def project(ctx: Ctx, ref: str | None = None) -> Item:
    """A project by name or id (the ``project`` route value by default), or the service's 404."""
    key = ref if ref is not None else ctx.req.params.get("project", "")
    for p in section(ctx.st, "projects").values():
        if key.lower() in (p["id"].lower(), p["name"].lower()):
            return dict(p)
    raise devops_error(
        404,
        "ProjectDoesNotExistWithNameException",
        f"TF200016: The following project does not exist: {key}. Verify that the name of the project is "
        "correct and that the project exists on the specified Azure DevOps organization.",
        namespace=CORE,
    )


def project_ref(p: Item) -> Item:
    return {"id": p["id"], "name": p["name"]}


def identity(st: State, key: str) -> Item | None:
    """An identity by id, descriptor, subject descriptor or account name (mail)."""
    low = key.lower()
    for ident in section(st, "identities").values():
        names = (
            ident["id"],
            ident["descriptor"],
            ident["subjectDescriptor"],
            ident["properties"]["Account"]["$value"],
        )
        if low in (n.lower() for n in names):
            return dict(ident)
    return None


def identity_ref(ctx: Ctx, ident: Item) -> Item:
    """An IdentityRef, as items carry for createdBy / owner / approvers."""
    account = ident["properties"]["Account"]["$value"]
    avatar = f"{org_url(ctx)}/_apis/GraphProfile/MemberAvatars/{ident['subjectDescriptor']}"
    return {
        "displayName": ident["providerDisplayName"],
        "url": f"{org_url(ctx)}/_apis/Identities/{ident['id']}",
        "_links": {"avatar": {"href": avatar}},
        "id": ident["id"],
        "uniqueName": account,
        "imageUrl": avatar,
        "descriptor": ident["subjectDescriptor"],
    }


def caller(ctx: Ctx) -> Item:
    found = identity(ctx.st, ctx.meta["caller"])
    assert found is not None, "the world's caller is one of its users"
    return identity_ref(ctx, found)


def int_param(ctx: Ctx, name: str) -> int:
    """An integer route value; the service answers 404 when it is not one."""
    raw = ctx.req.params.get(name, "")
    try:
        return int(raw)
    except ValueError:
        raise devops_error(404, "ResourceNotFoundException", f"'{raw}' is not a valid {name}.") from None


def bad_request(message: str, type_key: str = "ArgumentException", namespace: str = "System") -> ServiceError:
    return devops_error(400, type_key, message, namespace=namespace)


def body(ctx: Ctx) -> Item:
    """The JSON object a write must carry."""
    doc = ctx.req.body
    if not isinstance(doc, dict):
        raise bad_request("Value cannot be null.\r\nParameter name: body", "ArgumentNullException")
    return doc


# pipeline resources that carry permissions and checks -> the collection holding them
PROTECTED = {"endpoint": "endpoints", "queue": "queues", "environment": "environments"}


def protected_resource(st: State, kind: str, rid: str, project_id: str) -> Item | None:
    """An endpoint, queue or environment by id, if it belongs to (or is shared with) the project."""
    item: Item | None = section(st, PROTECTED[kind]).get(rid.lower()) if kind in PROTECTED else None
    if item is None:
        return None
    shared = any(
        r["projectReference"]["id"] == project_id for r in item.get("serviceEndpointProjectReferences", [])
    )
    owner = item.get("projectId") or item.get("project", {}).get("id")
    return item if owner == project_id or shared else None
