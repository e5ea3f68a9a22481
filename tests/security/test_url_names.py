"""No name reaches a URL unescaped: every name agentctl puts in an Azure DevOps or ARM URL is
tried with ``../``, ``?``, ``#`` and ``&`` on the sandbox, bypassing pool.yaml's validation (which
refuses these) so the escaping itself is what is proven. The sandbox records each request as it
arrived: the name must come back whole, as one path segment or one query value."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentctl.azure.arm import Arm
from agentctl.cloud import target_of
from agentctl.devops import DevOps
from agentctl.errors import InvalidInput, NotFound
from agentctl.sandbox import Sandbox, start
from conformance.spec_check import assert_conforms

EVIL = "../x?api-version=1&top=9#frag"
PROJECT = "platform"


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = start(Path(tmp_path_factory.mktemp("urls")) / "sandbox")
    yield sandbox
    sandbox.stop()
    assert_conforms(sandbox.exchanges)


@pytest.fixture
def dev(sb: Sandbox) -> DevOps:
    return DevOps(target_of(sb, keep=False), PROJECT)


@pytest.fixture
def arm(sb: Sandbox) -> Arm:
    return Arm(target_of(sb, keep=False), sb.subscription_id)


def _sent(sb: Sandbox, since: int) -> list[dict[str, Any]]:
    """The requests to the services since ``since`` (token requests left out)."""
    return [x for x in sb.exchanges[since:] if x["service"] in ("arm", "devops")]


def _in_path(sent: list[dict[str, Any]], name: str) -> None:
    """Each request carries ``name`` as one whole path segment ("/" stays encoded), adds no query."""
    segment = name.replace("/", "%2F")
    assert sent, "no request was sent"
    for x in sent:
        assert f"/{segment}" in x["path"], x["path"]
        assert "/../" not in x["path"] and "top" not in x["query"] and "frag" not in str(x["query"])


def _in_query(sent: list[dict[str, Any]], key: str, name: str) -> None:
    """Each request carries ``name`` whole as the value of ``key``, and no key of its own."""
    assert sent, "no request was sent"
    for x in sent:
        assert x["query"][key] == name, x["query"]
        assert "top" not in x["query"] and "/x" not in x["path"]


# --- Azure DevOps ---------------------------------------------------------------------------------


def test_project_name_is_one_path_segment(sb: Sandbox) -> None:
    since = len(sb.exchanges)
    with pytest.raises(NotFound, match="does not exist"):
        DevOps(target_of(sb, keep=False), EVIL).project  # noqa: B018
    _in_path([x for x in _sent(sb, since) if x["operation"] == "devops.projects.get"], EVIL)


@pytest.mark.parametrize(
    ("lookup", "operation", "key"),
    [
        (lambda d, n: d.pool_by_name(n), "devops.pools.list", "poolName"),
        (lambda d, n: d.queue_by_name(n), "devops.queues.list", "queueName"),
        (lambda d, n: d.endpoint_by_name(n), "devops.endpoints.list", "endpointNames"),
        (
            lambda d, n: d.list_all("environment.list", {"project": PROJECT}, {"name": n}),
            "devops.environments.list",
            "name",
        ),
        (
            lambda d, n: d.call("identity.read", query={"searchFilter": "General", "filterValue": n}),
            "devops.identities.list",
            "filterValue",
        ),
    ],
    ids=["pool", "queue", "connection", "environment", "approver"],
)
def test_names_in_queries_are_one_value(
    sb: Sandbox, dev: DevOps, lookup: Any, operation: str, key: str
) -> None:
    dev.project  # noqa: B018  (read first, so only the lookup is checked below)
    since = len(sb.exchanges)
    found = lookup(dev, EVIL)
    assert not dev.values(found) if isinstance(found, dict) else not found
    _in_query([x for x in _sent(sb, since) if x["operation"] == operation], key, EVIL)


def test_pool_name_on_create_is_one_query_value(sb: Sandbox, dev: DevOps) -> None:
    """elastic.create takes the pool name in its query: the one write that carries a name so."""
    from agentctl.errors import CloudError

    project_id = dev.project["id"]
    since = len(sb.exchanges)
    query = {"poolName": EVIL, "authorizeAllPipelines": "false", "projectId": project_id}
    with pytest.raises((CloudError, NotFound)):  # no such service endpoint: refused, nothing made
        dev.call("elastic.create", query=query, body=_elastic_body(sb, project_id))
    _in_query(
        [x for x in _sent(sb, since) if x["operation"] == "devops.elasticpools.create"], "poolName", EVIL
    )


def _elastic_body(sb: Sandbox, project_id: str) -> dict[str, Any]:
    rid = (
        f"/subscriptions/{sb.subscription_id}/resourceGroups/rg-agents/providers"
        "/Microsoft.Compute/virtualMachineScaleSets/vmss-none"
    )
    return {
        "serviceEndpointId": "00000000-0000-0000-0000-000000000001",
        "serviceEndpointScope": project_id,
        "azureId": rid,
        "maxCapacity": 1,
        "desiredIdle": 0,
        "recycleAfterEachUse": False,
        "maxSavedNodeCount": 0,
        "osType": "linux",
        "agentInteractiveUI": False,
        "timeToLiveMinutes": 30,
    }


@pytest.mark.parametrize("name", ["..", "."])
def test_a_dot_segment_name_is_refused_before_any_request(sb: Sandbox, name: str) -> None:
    since = len(sb.exchanges)
    with pytest.raises(InvalidInput, match="cannot be a name"):
        DevOps(target_of(sb, keep=False), name).project  # noqa: B018
    assert _sent(sb, since) == []


# --- ARM ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "read",
    [
        lambda a, n: a.get_resource_group(n),
        lambda a, n: a.get_scale_set("rg-agents", n),
        lambda a, n: a.get_scale_set(n, "vmss"),
        lambda a, n: a.get_identity("rg-identity", n),
        lambda a, n: a.get_cluster(n, "aks"),
        lambda a, n: a.get_cluster("rg-aks", n),
        lambda a, n: a.get_gallery_image("rg-images", n, "img"),
        lambda a, n: a.get_gallery_image("rg-images", "agents", n),
        lambda a, n: a.get_virtual_network(n, "vnet"),
        lambda a, n: a.get_virtual_network("rg-network", n),
    ],
    ids=[
        "resource-group",
        "scale-set",
        "scale-set-group",
        "identity",
        "cluster-group",
        "cluster",
        "gallery",
        "image",
        "vnet-group",
        "vnet",
    ],
)
def test_arm_names_are_one_path_segment(sb: Sandbox, arm: Arm, read: Any) -> None:
    name = "x/../y?api-version=1#z"
    since = len(sb.exchanges)
    assert read(arm, name) is None  # not found, never another resource
    _in_path(_sent(sb, since), name)


@pytest.mark.parametrize(
    "read",
    [
        lambda a, n: a.get_scale_set("rg-agents", n),
        lambda a, n: a.get_resource_group(n),
        lambda a, n: a.get_virtual_network("rg-network", n),
        lambda a, n: a.list_role_assignments(f"/subscriptions/x/resourceGroups/{n}", "p"),
    ],
    ids=["scale-set", "resource-group", "vnet", "scope"],
)
@pytest.mark.parametrize("name", ["..", "."])
def test_an_arm_dot_segment_is_refused_before_any_request(
    sb: Sandbox, arm: Arm, read: Any, name: str
) -> None:
    since = len(sb.exchanges)
    with pytest.raises(InvalidInput):
        read(arm, name)
    assert _sent(sb, since) == []


def test_role_scope_is_encoded_segment_by_segment(sb: Sandbox, arm: Arm) -> None:
    rg = "rg(1)&$filter=x"
    scope = f"/subscriptions/{sb.subscription_id}/resourceGroups/{rg}"
    since = len(sb.exchanges)
    assert arm.list_role_assignments(scope, "00000000-0000-0000-0000-000000000000") == []
    (x,) = _sent(sb, since)
    assert f"/resourceGroups/{rg}/providers/Microsoft.Authorization/roleAssignments" in x["path"]
    assert x["query"]["$filter"] == "principalId eq '00000000-0000-0000-0000-000000000000'"


# --- the role lookup --------------------------------------------------------------------------------


def test_role_lookup_escapes_its_filter_and_wants_the_exact_name(sb: Sandbox, arm: Arm) -> None:
    scope = f"/subscriptions/{sb.subscription_id}"
    assert arm.role_definition_id(scope, "Reader").endswith("acdd72a7-3385-48ef-bd42-f606fba81ae7")
    since = len(sb.exchanges)
    injected = "Nobody' or roleName eq 'Owner"
    with pytest.raises(NotFound, match="does not exist"):
        arm.role_definition_id(scope, injected)
    (x,) = _sent(sb, since)
    assert x["query"]["$filter"] == "roleName eq 'Nobody'' or roleName eq ''Owner'"
    with pytest.raises(NotFound, match="did you mean 'Reader'"):
        arm.role_definition_id(scope, "reader")  # the service matches without case; agentctl does not
