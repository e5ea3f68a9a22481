"""Load and check a seed world (YAML): what exists in Azure and Azure DevOps before agentctl runs.

Every problem is reported with the file, line and field; ids left out are derived from names,
so a world always produces the same ids. Scalars are read as text and converted per field, so
YAML's implicit typing (``1.30`` as a float) cannot change a value.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from agentctl import yamlnodes
from agentctl.errors import Collected, InvalidInput
from agentctl.yamlnodes import MAX_BYTES, MAX_DEPTH

DEFAULT_WORLD = "default.yaml"
RESERVED_ORGS = {"subscriptions", "providers", "sandbox", "_apis"}


@dataclass
class Node:
    value: Any  # dict[str, Node] | list[Node] | str
    line: int
    path: str


class _Nodes(yamlnodes.Walker):
    """Nodes as ``Node``s with their text, lines and paths, within the walker's guards."""

    def mapping(self, node: yaml.Node, path: str, depth: int) -> Node:
        out: dict[str, Node] = {}
        for k, v in node.value:
            key = str(k.value)
            out[key] = self.walk(v, f"{path}.{key}" if path else key, depth + 1)
        return Node(out, yamlnodes.line_of(node), path)

    def sequence(self, node: yaml.Node, path: str, depth: int) -> Node:
        items = [self.walk(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node.value)]
        return Node(items, yamlnodes.line_of(node), path)

    def scalar(self, node: yaml.Node, path: str) -> Node:
        return Node(str(node.value), yamlnodes.line_of(node), path)


def _tree(text: str) -> Node | None:
    """The document as ``Node``s (None when empty); raises the walker's and PyYAML's errors."""
    root = yamlnodes.compose(text)
    return _Nodes().walk(root) if root is not None else None


class _Checker:
    def __init__(self, file: str) -> None:
        self.problems = Collected(file)

    def bad(self, node: Node, message: str) -> None:
        self.problems.add(message, node.path, node.line)

    def mapping(
        self, node: Node, allowed: set[str] | None = None, required: tuple[str, ...] = ()
    ) -> dict[str, Node]:
        if not isinstance(node.value, dict):
            self.bad(node, "expected a mapping")
            return {}
        for key, child in node.value.items():
            if allowed is not None and key not in allowed:
                self.bad(child, f"unknown field '{key}' (known: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in node.value:
                self.bad(node, f"missing field '{key}'")
        return node.value

    def text(self, node: Node | None, default: str = "") -> str:
        if node is None:
            return default
        if not isinstance(node.value, str) or not node.value:
            self.bad(node, "expected a non-empty string")
            return default
        return node.value

    def items(self, node: Node | None) -> list[Node]:
        if node is None:
            return []
        if not isinstance(node.value, list):
            self.bad(node, "expected a list")
            return []
        return list(node.value)

    def texts(self, node: Node | None) -> list[str]:
        return [self.text(n) for n in self.items(node)]

    def boolean(self, node: Node | None, default: bool) -> bool:
        if node is None:
            return default
        value = node.value.lower() if isinstance(node.value, str) else ""
        if value not in ("true", "false"):
            self.bad(node, "expected true or false")
            return default
        return value == "true"

    def guid(self, node: Node | None, seed: str) -> str:
        if node is None:
            return str(uuid.uuid5(uuid.NAMESPACE_URL, "agentctl-sandbox:" + seed.lower()))
        try:
            return str(uuid.UUID(self.text(node)))
        except ValueError:
            self.bad(node, "expected a GUID")
            return str(uuid.UUID(int=0))

    def prefix(self, node: Node) -> str:
        value = self.text(node)
        try:
            ipaddress.ip_network(value)
        except ValueError:
            self.bad(node, f"'{value}' is not an address prefix (like 10.0.1.0/24)")
        return value

    def timestamp(self, node: Node | None) -> float:
        if node is None:
            return 0.0
        try:
            return dt.datetime.fromisoformat(self.text(node).replace("Z", "+00:00")).timestamp()
        except ValueError:
            self.bad(node, "expected an ISO 8601 time like 2026-11-01T02:00:00Z")
            return 0.0

    def choice(self, node: Node | None, options: tuple[str, ...], default: str) -> str:
        value = self.text(node, default)
        if node is not None and value not in options:
            self.bad(node, f"expected one of {', '.join(options)}")
        return value


def _resource_group(c: _Checker, name: str, node: Node, location: str) -> dict[str, Any]:
    kinds = {
        "location",
        "tags",
        "virtualNetworks",
        "privateDnsZones",
        "galleries",
        "userAssignedIdentities",
        "managedClusters",
        "registries",
        "networkSecurityGroups",
        "routeTables",
        "natGateways",
    }
    fields = c.mapping(node, kinds)
    where = c.text(fields.get("location"), location)
    tags = {k: c.text(v) for k, v in c.mapping(fields["tags"]).items()} if "tags" in fields else {}

    def each(
        kind: str, allowed: set[str], required: tuple[str, ...] = ()
    ) -> list[tuple[str, dict[str, Node], Node]]:
        items = c.mapping(fields[kind]) if kind in fields else {}
        return [(n, c.mapping(v, allowed, required), v) for n, v in items.items()]

    def sub_map(f: dict[str, Node], key: str) -> dict[str, Node]:
        return c.mapping(f[key]) if key in f else {}

    return {
        "name": name,
        "location": where,
        "tags": tags,
        "virtualNetworks": [
            {
                "name": n,
                "location": c.text(f.get("location"), where),
                "addressPrefixes": [c.prefix(p) for p in c.items(f.get("addressPrefixes"))],
                "dnsServers": c.texts(f.get("dnsServers")),
                "subnets": {s: _subnet(c, p) for s, p in sub_map(f, "subnets").items()},
            }
            for n, f, _ in each(
                "virtualNetworks",
                {"location", "addressPrefixes", "subnets", "dnsServers"},
                ("addressPrefixes",),
            )
        ],
        "networkSecurityGroups": [
            {
                "name": n,
                "location": c.text(f.get("location"), where),
                "rules": _rules(c, f.get("securityRules")),
            }
            for n, f, _ in each("networkSecurityGroups", {"location", "securityRules"})
        ],
        "routeTables": [
            {
                "name": n,
                "location": c.text(f.get("location"), where),
                "routes": {
                    r: {
                        k: c.text(v)
                        for k, v in c.mapping(
                            rv,
                            {"addressPrefix", "nextHopType", "nextHopIpAddress"},
                            ("addressPrefix", "nextHopType"),
                        ).items()
                    }
                    for r, rv in sub_map(f, "routes").items()
                },
            }
            for n, f, _ in each("routeTables", {"location", "routes"})
        ],
        "natGateways": [
            {"name": n, "location": c.text(f.get("location"), where)}
            for n, f, _ in each("natGateways", {"location"})
        ],
        "privateDnsZones": [
            {
                "name": n,
                "links": {k: c.text(x) for k, x in sub_map(f, "virtualNetworkLinks").items()},
                "aRecords": {k: c.texts(x) for k, x in sub_map(f, "aRecords").items()},
            }
            for n, f, _ in each("privateDnsZones", {"virtualNetworkLinks", "aRecords"})
        ],
        "galleries": [
            {"name": n, "location": c.text(f.get("location"), where), "images": _images(c, f.get("images"))}
            for n, f, _ in each("galleries", {"location", "images"})
        ],
        "userAssignedIdentities": [
            {
                "name": n,
                "location": c.text(f.get("location"), where),
                "principalId": c.guid(f.get("principalId"), f"{name}/{n}/principal"),
                "clientId": c.guid(f.get("clientId"), f"{name}/{n}/client"),
            }
            for n, f, _ in each("userAssignedIdentities", {"location", "principalId", "clientId"})
        ],
        "managedClusters": [
            {
                "name": n,
                "location": c.text(f.get("location"), where),
                "kubernetesVersion": c.text(f.get("kubernetesVersion"), "1.33.2"),
                "privateCluster": c.boolean(f.get("privateCluster"), True),
                "entra": c.boolean(f.get("entra"), False),
                "localAccounts": c.boolean(f.get("localAccounts"), True),
                "subnet": c.text(f.get("subnet")),
                "privateDnsLinks": c.texts(f.get("privateDnsLinks")),
                "node": f.get("subnet", v),
            }
            for n, f, v in each(
                "managedClusters",
                {
                    "location",
                    "kubernetesVersion",
                    "privateCluster",
                    "entra",
                    "localAccounts",
                    "subnet",
                    "privateDnsLinks",
                },
            )
        ],
        "registries": [
            {
                "name": n,
                "location": c.text(f.get("location"), where),
                "sku": c.choice(f.get("sku"), ("Basic", "Standard", "Premium"), "Premium"),
            }
            for n, f, _ in each("registries", {"location", "sku"})
        ],
    }


SUBNET_FIELDS = {
    "addressPrefix",
    "networkSecurityGroup",
    "routeTable",
    "natGateway",
    "defaultOutboundAccess",
    "delegation",
}
RULE_FIELDS = {
    "priority",
    "direction",
    "access",
    "protocol",
    "destinationAddressPrefix",
    "destinationPortRange",
}


def _subnet(c: _Checker, node: Node) -> dict[str, Any]:
    """A subnet: its prefix, or a mapping naming the NSG, route table and NAT gateway of its group."""
    if isinstance(node.value, str):
        return {"addressPrefix": c.prefix(node)}
    f = c.mapping(node, SUBNET_FIELDS, ("addressPrefix",))
    out: dict[str, Any] = {"addressPrefix": c.prefix(f["addressPrefix"]) if "addressPrefix" in f else ""}
    for key in ("networkSecurityGroup", "routeTable", "natGateway", "delegation"):
        if key in f:
            out[key] = c.text(f[key])
    if "defaultOutboundAccess" in f:
        out["defaultOutboundAccess"] = c.boolean(f["defaultOutboundAccess"], True)
    return out


def _rules(c: _Checker, node: Node | None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, rnode in (c.mapping(node) if node is not None else {}).items():
        f = c.mapping(rnode, RULE_FIELDS, ("priority", "direction", "access"))
        rule: dict[str, Any] = {k: c.text(v) for k, v in f.items()}
        try:
            rule["priority"] = int(rule.get("priority", "0"))
        except ValueError:
            c.bad(f["priority"], "expected an integer between 100 and 4096")
        rule.setdefault("protocol", "*")
        out[name] = rule
    return out


def _images(c: _Checker, node: Node | None) -> list[dict[str, Any]]:
    if node is None:
        return []
    out = []
    for name, image in c.mapping(node).items():
        f = c.mapping(
            image, {"osType", "osState", "hyperVGeneration", "identifier", "versions"}, ("identifier",)
        )
        ident = (
            c.mapping(f["identifier"], {"publisher", "offer", "sku"}, ("publisher", "offer", "sku"))
            if "identifier" in f
            else {}
        )
        versions = []
        for version, vnode in (c.mapping(f["versions"]) if "versions" in f else {}).items():
            parts = version.split(".")
            if len(parts) != 3 or not all(p.isdigit() and int(p) < 2**31 for p in parts):
                c.bad(vnode, f"image version '{version}' must be Major.Minor.Patch (32-bit integers)")
            vf = c.mapping(vnode, {"publishedDate", "regions", "excludeFromLatest"})
            versions.append(
                {
                    "name": version,
                    "publishedDate": c.timestamp(vf.get("publishedDate")),
                    "regions": c.texts(vf.get("regions")),
                    "excludeFromLatest": c.boolean(vf.get("excludeFromLatest"), False),
                }
            )
        out.append(
            {
                "name": name,
                "osType": c.choice(f.get("osType"), ("Linux", "Windows"), "Linux"),
                "osState": c.choice(f.get("osState"), ("Generalized", "Specialized"), "Generalized"),
                "hyperVGeneration": c.choice(f.get("hyperVGeneration"), ("V1", "V2"), "V2"),
                "identifier": {k: c.text(v) for k, v in ident.items()},
                "versions": versions,
            }
        )
    return out


def _devops(c: _Checker, node: Node | None) -> dict[str, Any]:
    if node is None:
        c.problems.add("missing section 'devops'", "devops")
        return {
            "organization": "contoso",
            "organizationId": "",
            "projects": [],
            "users": [],
            "groups": [],
            "denied": [],
            "others": [],
        }
    f = c.mapping(
        node,
        {"organization", "organizationId", "projects", "users", "groups", "denied", "organizations"},
        ("organization",),
    )
    out = _organization(c, node, f, c.text(f.get("organization"), "contoso"))
    others = c.mapping(f["organizations"]) if "organizations" in f else {}
    out["others"] = [
        _organization(c, v, c.mapping(v, {"organizationId", "projects", "users", "groups", "denied"}), name)
        for name, v in others.items()
    ]
    names = [out["organization"].lower(), *(o["organization"].lower() for o in out["others"])]
    if len(set(names)) != len(names):
        c.bad(f["organizations"], "an organization is named twice")
    return out


def _organization(c: _Checker, node: Node, f: dict[str, Any], org: str) -> dict[str, Any]:
    """One organization: its projects, users, groups and the permissions it denies."""
    if org.lower() in RESERVED_ORGS or "/" in org:
        c.bad(f.get("organization", node), f"'{org}' cannot be an organization name here")
    projects = [
        {
            "name": n,
            "id": c.guid(p.get("id"), f"project/{n}"),
            "description": c.text(p.get("description"), ""),
        }
        for n, v in (c.mapping(f["projects"]) if "projects" in f else {}).items()
        for p in [c.mapping(v, {"id", "description"})]
    ]
    users = [
        {
            "mail": n,
            "displayName": c.text(u.get("displayName"), n),
            "objectId": c.guid(u.get("objectId"), f"user/{n}"),
            "id": c.guid(u.get("id"), f"identity/{n}"),
        }
        for n, v in (c.mapping(f["users"]) if "users" in f else {}).items()
        for u in [c.mapping(v, {"displayName", "objectId", "id"})]
    ]
    if not users:
        c.bad(node, "at least one user is needed: the first is the caller of the APIs")
    known = {u["mail"] for u in users}
    groups = []
    for n, v in (c.mapping(f["groups"]) if "groups" in f else {}).items():
        g = c.mapping(v, {"displayName", "objectId", "id", "members"})
        members = c.texts(g.get("members"))
        for m in members:
            if m not in known:
                c.bad(g["members"], f"member '{m}' is not one of the users")
        groups.append(
            {
                "mail": n,
                "displayName": c.text(g.get("displayName"), n),
                "objectId": c.guid(g.get("objectId"), f"group/{n}"),
                "id": c.guid(g.get("id"), f"identity/{n}"),
                "members": members,
            }
        )
    return {
        "organization": org,
        "organizationId": c.guid(f.get("organizationId"), f"organization/{org}"),
        "projects": projects,
        "users": users,
        "groups": groups,
        "denied": c.texts(f.get("denied")),
    }


def _merge(base: Node, over: Node) -> Node:
    """``over`` laid on ``base``: mappings merge key by key, a ``null`` removes the key, anything
    else (scalars, lists) replaces."""
    if not (isinstance(base.value, dict) and isinstance(over.value, dict)):
        return over
    merged = dict(base.value)
    for key, value in over.value.items():
        if isinstance(value.value, str) and value.value in ("null", "~"):
            merged.pop(key, None)
        else:
            merged[key] = _merge(merged[key], value) if key in merged else value
    return Node(merged, over.line, over.path)


def _extends(c: _Checker, top: Node) -> Node:
    """A world with ``extends: <built-in world>`` is that world with its own fields laid on top."""
    if not isinstance(top.value, dict) or "extends" not in top.value:
        return top
    ref = top.value["extends"]
    name = c.text(ref)
    known = built_in()
    if name not in known:
        c.bad(ref, f"'{name}' is not a built-in world ({', '.join(sorted(known))})")
        return top
    text = resources.files("agentctl.sandbox.worlds").joinpath(name).read_text(encoding="utf-8")
    base = _tree(text) or Node({}, 1, "")
    base = _extends(c, base)
    own = Node({k: v for k, v in top.value.items() if k != "extends"}, top.line, top.path)
    return _merge(base, own)


def parse(text: str, file: str) -> dict[str, Any]:
    """A world as plain data; raises ``InvalidInput`` listing every problem with its line."""
    c = _Checker(file)
    try:
        top = _tree(text)
    except yamlnodes.TooDeep as e:
        c.problems.add(f"nested deeper than {MAX_DEPTH} levels", line=e.line)
        c.problems.raise_if_any(f"world {file} is invalid")
    except yamlnodes.NodeLimit as e:
        c.problems.add(e.message, line=e.line)
        c.problems.raise_if_any(f"world {file} is invalid")
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        c.problems.add(
            f"not valid YAML: {getattr(e, 'problem', None) or e}", line=mark.line + 1 if mark else None
        )
        c.problems.raise_if_any(f"world {file} is invalid")
    if top is None:
        raise InvalidInput(f"{file} is empty")
    top = _extends(c, top)
    f = c.mapping(
        top,
        {
            "tenantId",
            "subscription",
            "location",
            "caller",
            "resourceGroups",
            "devops",
            "roleAssignments",
            "quota",
            "unregisteredProviders",
        },
        ("subscription",),
    )
    sub = c.mapping(f["subscription"], {"id", "name"}, ("id",)) if "subscription" in f else {}
    location = c.text(f.get("location"), "westeurope")
    world: dict[str, Any] = {
        "tenantId": c.guid(f.get("tenantId"), "tenant"),
        "subscriptionId": c.guid(sub.get("id"), "subscription"),
        "subscriptionName": c.text(sub.get("name"), "Sandbox subscription"),
        "location": location,
        "resourceGroups": [
            _resource_group(c, n, v, location)
            for n, v in (c.mapping(f["resourceGroups"]) if "resourceGroups" in f else {}).items()
        ],
        "devops": _devops(c, f.get("devops")),
        "roleAssignments": [
            {
                k: c.text(v)
                for k, v in c.mapping(a, {"principal", "role", "scope"}, ("principal", "role")).items()
            }
            for a in c.items(f.get("roleAssignments"))
        ],
        "quota": {
            region: {name: _count(c, v) for name, v in c.mapping(q).items()}
            for region, q in (c.mapping(f["quota"]) if "quota" in f else {}).items()
        },
        "unregisteredProviders": c.texts(f.get("unregisteredProviders")),
    }
    people = [u["mail"] for u in world["devops"]["users"]]
    world["caller"] = c.text(f.get("caller"), people[0] if people else "")
    if world["caller"] and world["caller"] not in people:
        c.bad(f["caller"], f"caller '{world['caller']}' is not one of the devops users")
    _resolve_cluster_subnets(c, world)
    _check_role_assignments(c, world, f.get("roleAssignments"))
    c.problems.raise_if_any(f"world {file} is invalid")
    return world


def _check_role_assignments(c: _Checker, world: dict[str, Any], node: Node | None) -> None:
    from agentctl.sandbox.arm.authorization import BUILT_IN

    people = {p["mail"] for p in world["devops"]["users"] + world["devops"]["groups"]}
    for item, a in zip(c.items(node), world["roleAssignments"], strict=False):
        if a.get("role") not in BUILT_IN:
            c.bad(item, f"role '{a.get('role')}' is not one the sandbox knows ({', '.join(BUILT_IN)})")
        if a.get("principal") not in people:
            c.bad(item, f"principal '{a.get('principal')}' is not one of the devops users or groups")


def _count(c: _Checker, node: Node) -> int:
    text = c.text(node, "0")
    if not text.isdigit():
        c.bad(node, "expected a whole number")
        return 0
    return int(text)


def _resolve_cluster_subnets(c: _Checker, world: dict[str, Any]) -> None:
    """A cluster's ``subnet`` is ``<vnet>/<subnet>`` of any group in the world, or a full id."""
    sub = world["subscriptionId"]
    subnets = {}
    for g in world["resourceGroups"]:
        for v in g["virtualNetworks"]:
            for s in v["subnets"]:
                rid = (
                    f"/subscriptions/{sub}/resourceGroups/{g['name']}/providers/Microsoft.Network"
                    f"/virtualNetworks/{v['name']}/subnets/{s}"
                )
                subnets[f"{v['name']}/{s}"] = rid
    for g in world["resourceGroups"]:
        for cluster in g["managedClusters"]:
            ref = cluster["subnet"]
            node = cluster.pop("node")
            if ref and not ref.startswith("/subscriptions/"):
                if ref not in subnets:
                    c.bad(node, f"subnet '{ref}' is not <vnet>/<subnet> of a virtual network in the world")
                cluster["subnet"] = subnets.get(ref, "")


def built_in() -> list[str]:
    """The file names of the built-in worlds."""
    files = resources.files("agentctl.sandbox.worlds").iterdir()
    return sorted(p.name for p in files if p.name.endswith(".yaml"))


def load(path: str | Path | None) -> dict[str, Any]:
    """The world in ``path``, or a built-in one by its name (``no-egress``), or the default."""
    named = f"{path}.yaml" if path is not None and not str(path).endswith(".yaml") else str(path)
    if path is None or (named in built_in() and not Path(path).exists()):
        name = DEFAULT_WORLD if path is None else named
        text = resources.files("agentctl.sandbox.worlds").joinpath(name).read_text(encoding="utf-8")
        return parse(text, name)
    p = Path(path)
    if not p.exists() and "/" not in str(path):
        worlds = ", ".join(n.removesuffix(".yaml") for n in built_in())
        raise InvalidInput(f"world {path} is neither a file nor a built-in world ({worlds})")
    try:
        if p.stat().st_size > MAX_BYTES:
            raise InvalidInput(f"world file {p} is larger than {MAX_BYTES // 1024} KiB")
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidInput(f"cannot read world file {p}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise InvalidInput(f"world file {p} is not UTF-8 text (byte {e.start})") from None
    return parse(text, str(p))
