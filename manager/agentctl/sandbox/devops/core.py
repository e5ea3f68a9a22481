"""Azure DevOps discovery (``OPTIONS {org}/_apis``, ``ResourceAreas``), projects and identities."""

from __future__ import annotations

from agentctl.sandbox.devops import common
from agentctl.sandbox.http import Response, devops_error
from agentctl.sandbox.registry import LOCATIONS, Ctx, Location, devops, devops_path, location

PROJECTS = location(
    Location(
        "603fe2ac-9723-48b9-88ad-09305aa6c6e1",
        "core",
        "projects",
        "_apis/{resource}/{*projectId}",
        4,
        1.0,
        7.2,
        "7.1",
    )
)
RESOURCE_AREAS = location(
    Location(
        "e81700f7-3be2-46de-8624-2eb35882fcaa",
        "Location",
        "ResourceAreas",
        "_apis/{resource}/{areaId}",
        1,
        3.2,
        7.2,
        "0.0",
    )
)
IDENTITIES = location(
    Location(
        "28010c54-d0c0-4c89-a5b0-1c9e188b9fb7",
        "IMS",
        "Identities",
        "_apis/{resource}/{identityId}",
        2,
        1.0,
        7.2,
        "0.0",
    )
)
IMS = "Microsoft.VisualStudio.Services.Identity"


@devops_path("OPTIONS", "_apis", "devops.discovery.options")
def options(ctx: Ctx) -> Response:
    return Response(200, common.wrap([loc.to_json() for loc in LOCATIONS]))


@devops(RESOURCE_AREAS, "GET", "devops.resourceareas.list")
def resource_areas(ctx: Ctx) -> Response:
    """Empty: every client then uses the organization URL."""
    return Response(200, common.wrap([]))


def _project(ctx: Ctx, p: common.Item) -> common.Item:
    return {
        "id": p["id"],
        "name": p["name"],
        "description": p["description"],
        "url": f"{common.org_url(ctx)}/_apis/projects/{p['id']}",
        "state": "wellFormed",
        "revision": p["revision"],
        "visibility": "private",
        "lastUpdateTime": p["lastUpdateTime"],
    }


@devops(PROJECTS, "GET", "devops.projects.get", key="projectId")
def get_project(ctx: Ctx) -> Response:
    p = common.project(ctx, ctx.req.params["projectId"])
    body = _project(ctx, p)
    body["_links"] = {"self": {"href": body["url"]}}
    if ctx.req.arg("includeCapabilities").lower() == "true":
        body["capabilities"] = {
            "versioncontrol": {"sourceControlType": "Git"},
            "processTemplate": {
                "templateName": "Agile",
                "templateTypeId": "adcc42ab-9882-485e-a3ed-7678f01f66bc",
            },
        }
    return Response(200, body)


@devops(PROJECTS, "GET", "devops.projects.list", key="!projectId")
def list_projects(ctx: Ctx) -> Response:
    items = sorted(common.section(ctx.st, "projects").values(), key=lambda p: p["name"].lower())
    return Response(200, common.wrap([_project(ctx, p) for p in items]))


def _identity(ctx: Ctx, ident: common.Item) -> common.Item:
    return {k: v for k, v in ident.items() if k != "objectId"}


@devops(IDENTITIES, "GET", "devops.identities.get", key="identityId")
def get_identity(ctx: Ctx) -> Response:
    found = common.identity(ctx.st, ctx.req.params["identityId"])
    if found is None:
        raise devops_error(
            404, "IdentityNotFoundException", "The identity could not be found.", namespace=IMS
        )
    return Response(200, _identity(ctx, found))


@devops(IDENTITIES, "GET", "devops.identities.list", key="!identityId")
def read_identities(ctx: Ctx) -> Response:
    """By ``descriptors``, ``identityIds`` or ``subjectDescriptors`` (comma-separated), or by
    ``searchFilter`` (General, AccountName, DisplayName, MailAddress) and ``filterValue``."""
    idents = list(common.section(ctx.st, "identities").values())
    for param, field in (
        ("descriptors", "descriptor"),
        ("identityIds", "id"),
        ("subjectDescriptors", "subjectDescriptor"),
    ):
        wanted = ctx.req.arg(param)
        if wanted:
            keys = [k.strip().lower() for k in wanted.split(",")]
            by_key = {i[field].lower(): i for i in idents}
            # the service keeps the order asked for and answers null for unknown ones
            return Response(
                200, common.wrap([_identity(ctx, by_key[k]) if k in by_key else None for k in keys])
            )
    search, value = ctx.req.arg("searchFilter"), ctx.req.arg("filterValue")
    if not search or not value:
        raise common.bad_request(
            "A filter must be given: descriptors, identityIds, subjectDescriptors, or searchFilter with "
            "filterValue."
        )
    search = search.lower()
    if search not in SEARCH_FILTERS:
        raise common.bad_request(f"The search filter '{ctx.req.arg('searchFilter')}' is not supported.")
    low = value.lower()
    found = [i for i in idents if low in (n.lower() for n in _names(i, search))]
    return Response(200, common.wrap([_identity(ctx, i) for i in found]))


SEARCH_FILTERS = ("general", "accountname", "mailaddress", "displayname")


def _names(ident: common.Item, search: str) -> list[str]:
    account = ident["properties"]["Account"]["$value"]
    mail = ident["properties"]["Mail"]["$value"]
    display = ident["providerDisplayName"]
    return {
        "general": [account, mail, display],
        "accountname": [account],
        "mailaddress": [mail],
        "displayname": [display],
    }[search]
