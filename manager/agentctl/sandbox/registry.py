"""Routes, handlers and clock-driven tickers, registered by the service modules at import.

An ARM route is a path template with ``{name}`` segments (literal segments match
case-insensitively, as ARM does) or a leading ``{*scope}`` that matches any resource id. An
Azure DevOps route is an ``ApiResourceLocation`` (the same data ``OPTIONS {org}/_apis`` returns)
plus a method; the route parameter named ``key`` tells a GET of one item from a list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentctl.sandbox.faults import LRO_KINDS, FaultPlan, Timing
from agentctl.sandbox.http import Request, Response

State = dict[str, Any]


@dataclass(frozen=True)
class ApiVersions:
    """The api-versions an ARM resource type accepts; ``resource_type`` is named in errors."""

    resource_type: str
    versions: frozenset[str]

    @staticmethod
    def of(resource_type: str, *versions: str) -> ApiVersions:
        return ApiVersions(resource_type, frozenset(versions))


@dataclass(frozen=True)
class Location:
    """An Azure DevOps ApiResourceLocation."""

    id: str
    area: str
    resource: str
    template: str
    resource_version: int
    min_version: float
    max_version: float
    released: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "area": self.area,
            "resourceName": self.resource,
            "routeTemplate": self.template,
            "resourceVersion": self.resource_version,
            "minVersion": self.min_version,
            "maxVersion": self.max_version,
            "releasedVersion": self.released,
        }


@dataclass
class Env:
    """What handlers know besides the state: where they are served and how time behaves."""

    base: str  # "https://127.0.0.1:PORT/"
    timing: Timing
    faults: FaultPlan


@dataclass
class Ctx:
    st: State
    env: Env
    req: Request
    op: str
    now: float

    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.st["meta"]
        return meta

    def lro_shape(self) -> tuple[float, bool, int | None]:
        """(duration, ends in Failed, Retry-After) for an LRO this request starts."""
        duration, failed, retry = self.env.timing.lro_seconds, False, self.env.timing.lro_retry_after
        for f in self.env.faults.pick(self.op, LRO_KINDS):
            if f.kind == "lro-fail":
                failed = True
            elif f.kind == "lro-slow":
                duration = f.value
            else:
                retry = int(f.value)
        return duration, failed, retry


Handler = Callable[[Ctx], Response]


@dataclass
class Route:
    service: str  # "arm" | "devops"
    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler
    versions: ApiVersions | None = None  # ARM; None accepts any api-version
    location: Location | None = None  # Azure DevOps
    key: str = ""  # Azure DevOps: present (``key``) or absent (``!key``) route parameter


ROUTES: list[Route] = []
LOCATIONS: list[Location] = []
Ticker = Callable[[State, Env, float], None]
TICKERS: list[Ticker] = []


def _arm_pattern(template: str) -> re.Pattern[str]:
    out = ""
    for seg in template.strip("/").split("/"):
        if seg == "{*scope}":
            out += r"(?P<scope>(?:/[^/]+)*?)"
        elif seg.startswith("{"):
            out += rf"/(?P<{seg[1:-1]}>[^/]+)"
        else:
            out += "/" + re.escape(seg)
    return re.compile(f"^{out}/?$", re.IGNORECASE)


def arm(
    method: str, template: str, operation: str, versions: ApiVersions | None
) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES.append(Route("arm", method, _arm_pattern(template), operation, fn, versions))
        return fn

    return register


def _devops_pattern(loc: Location) -> re.Pattern[str]:
    """Route values other than a leading ``{project}`` may be left out, as the SDK does."""
    out = ""
    for i, seg in enumerate(
        loc.template.replace("{area}", loc.area).replace("{resource}", loc.resource).split("/")
    ):
        if seg.startswith("{"):
            name = seg.strip("{}*")
            out += rf"/(?P<{name}>[^/]+)" if i == 0 else rf"(?:/(?P<{name}>[^/]+))?"
        else:
            out += "/" + re.escape(seg)
    return re.compile(rf"^/(?P<organization>[^/]+){out}/?$", re.IGNORECASE)


def location(loc: Location) -> Location:
    LOCATIONS.append(loc)
    return loc


def devops(loc: Location, method: str, operation: str, key: str = "") -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES.append(Route("devops", method, _devops_pattern(loc), operation, fn, location=loc, key=key))
        return fn

    return register


def devops_path(method: str, suffix: str, operation: str) -> Callable[[Handler], Handler]:
    """A DevOps route that is not a resource location (``_apis`` discovery)."""

    def register(fn: Handler) -> Handler:
        pattern = re.compile(rf"^/(?P<organization>[^/]+)/{suffix}/?$", re.IGNORECASE)
        ROUTES.append(Route("devops", method, pattern, operation, fn))
        return fn

    return register


def ticker(fn: Ticker) -> Ticker:
    TICKERS.append(fn)
    return fn


@dataclass
class Match:
    route: Route | None
    params: dict[str, str] = field(default_factory=dict)
    methods: tuple[str, ...] = ()  # methods the path supports, when ``route`` is None


def _key_fits(route: Route, params: dict[str, str]) -> bool:
    if not route.key:
        return True
    name = route.key.lstrip("!")
    return (params.get(name) is None) == route.key.startswith("!")


def match(service: str, method: str, path: str) -> Match:
    methods: list[str] = []
    for route in ROUTES:
        if route.service != service:
            continue
        m = route.pattern.match(path)
        if m is None:
            continue
        params = {k: v for k, v in m.groupdict().items() if v is not None}
        if not _key_fits(route, params):
            continue
        if route.method == method:
            return Match(route, params)
        methods.append(route.method)
    return Match(None, methods=tuple(methods))
