"""Azure DevOps security: the permission evaluation batch (``HasPermissionsBatch``).

Each evaluation names a security namespace, a token and a permission bit; the answer is the same
list with ``value`` set. The world's caller is the organization's owner: it holds every
permission of the namespaces agentctl asks about (agent pools, service endpoints, environments)
on tokens of the organization's projects, unless the world's ``devops.denied`` lists the
namespace and bit (``<namespace id>:<bit>``). Other namespaces and malformed tokens are false.
"""

from __future__ import annotations

from typing import Any

from agentctl.sandbox.devops import common
from agentctl.sandbox.http import Response
from agentctl.sandbox.registry import Ctx, Location, devops, location

EVALUATION = location(
    Location(
        "cf1faa59-1b63-4448-bf04-13d981a46f5d",
        "Security",
        "permissionEvaluationBatch",
        "_apis/security/{resource}",
        1,
        3.0,
        7.2,
        "0.0",
    )
)
AGENT_POOLS = "101eae8c-1709-47f9-b228-0e476c35b3ba"  # DistributedTask: View 1, Manage 2, ..., Create 32
ENDPOINTS = "49b48001-ca20-4adc-8111-5b60c903a50c"  # ServiceEndpoints: Use 1, Administer 2, Create 4
ENVIRONMENTS = (
    "83d4c2e6-e57d-4d6e-892b-b87222b7ad20"  # Environment: View 1, Manage 2, Administer 8, Create 32
)
TOKEN_PREFIX = {AGENT_POOLS: "agentpools", ENDPOINTS: "endpoints/", ENVIRONMENTS: "environments/"}


def _allowed(ctx: Ctx, namespace: str, token: str, bit: int) -> bool:
    ns = namespace.lower()
    prefix = TOKEN_PREFIX.get(ns)
    if prefix is None or not token.lower().startswith(prefix):
        return False
    if ns != AGENT_POOLS:  # project-scoped: endpoints/<project id>[/...]
        project_id = token.split("/")[1].lower() if "/" in token else ""
        if project_id not in {p.lower() for p in common.section(ctx.st, "projects")}:
            return False
    denied = {d.lower() for d in ctx.meta.get("devopsDenied") or []}
    return f"{ns}:{bit}" not in denied


@devops(EVALUATION, "POST", "devops.security.evaluate")
def evaluate(ctx: Ctx) -> Response:
    doc = common.body(ctx)
    out: list[dict[str, Any]] = []
    for e in doc.get("evaluations") or []:
        if not isinstance(e, dict) or not isinstance(e.get("permissions"), int):
            raise common.bad_request(
                "Each evaluation needs a securityNamespaceId, a token and integer permissions."
            )
        value = _allowed(
            ctx, str(e.get("securityNamespaceId", "")), str(e.get("token", "")), e["permissions"]
        )
        out.append({**e, "value": value})
    return Response(
        200, {"alwaysAllowAdministrators": bool(doc.get("alwaysAllowAdministrators")), "evaluations": out}
    )
