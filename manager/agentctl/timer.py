"""The standby commands: keep a scale-set pool's ``desiredIdle`` at the count in force, and show
what the week of standby agents amounts to. Only Azure DevOps is called (and the public Retail
Prices API for ``show``): the timer needs no Azure rights.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from agentctl import prices, standby
from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.devops import DevOps
from agentctl.errors import UsageError
from agentctl.images import owned_elastic_pool
from agentctl.kinds.pool import desired

log = logging.getLogger(__name__)


def _when(week: standby.Week, at: datetime) -> dict[str, Any]:
    return {"utc": at.isoformat(), "local": at.astimezone(ZoneInfo(week.zone)).isoformat(), "zone": week.zone}


def set_standby(spec: PoolSpec, target: Target, at: datetime) -> dict[str, Any]:
    """PATCH the elastic pool's ``desiredIdle`` to the count in force at ``at``, only when it differs.
    The other settings are sent back as Azure DevOps has them (the timer leaves drift to deploy-pool)."""
    if spec.managed is not None:
        raise UsageError(
            f"pool {spec.devops.pool.name} is a managed pool: the service follows its standby schedule",
            hint="deploy-pool sends the schedule; no timer is needed (docs/standby.md)",
        )
    week = spec.standby_week()
    count = standby.count_at(week, at)
    dev = DevOps(target, spec.devops.project)
    elastic = owned_elastic_pool(dev, spec)
    before = elastic.get("desiredIdle")
    if before != count:
        keys = [*desired.elastic_settings(spec, at), "serviceEndpointId", "serviceEndpointScope"]
        body = {k: elastic.get(k) for k in keys} | {"desiredIdle": count}
        dev.call("elastic.update", {"poolId": elastic["poolId"]}, body=body)
        log.info("pool %s: desiredIdle %s -> %s", spec.devops.pool.name, before, count)
    change = standby.next_change(week, at)
    return {
        "pool": spec.devops.pool.name,
        "at": _when(week, at),
        "standby": count,
        "previous": before,
        "changed": before != count,
        "next": None if change is None else {**_when(week, change[0]), "standby": change[1]},
    }


def week_report(spec: PoolSpec, target: Target | None) -> dict[str, Any]:
    """The week of standby agents, its agent-hours against the alternatives, and (with ``target``) the
    monthly cost at the region's pay-as-you-go price."""
    week = spec.standby_week()
    hours = standby.agent_hours(week)
    m = spec.managed  # a managed pool: its sku, and maximumConcurrency in place of maxCapacity
    sku = m.sku if m is not None else spec.scaleSet.sku
    always = {
        "scheduled": hours,
        "fixedAtPeak": week.peak * 168.0,
        "maxCapacity": (m.maximumConcurrency if m is not None else spec.devops.pool.maxCapacity) * 168.0,
    }
    report: dict[str, Any] = {
        "pool": spec.devops.pool.name,
        "zone": week.zone,
        "fixed": week.is_fixed,
        "peak": week.peak,
        "hourly": standby.hourly(week),
        "agentHoursPerWeek": always,
        "cost": None,
        "costUnavailable": "",
    }
    if target is None:
        report["costUnavailable"] = "offline"
        return report
    price = prices.hourly_price(sku, spec.azure.location, target.prices_url, target.ca_bundle)
    if price.hourly is None:
        report["costUnavailable"] = price.reason
        return report
    report["cost"] = {
        "sku": sku,
        "region": spec.azure.location,
        "hourly": price.hourly,
        "currency": price.currency,
        "perMonth": {k: round(v * prices.WEEKS_PER_MONTH * price.hourly, 2) for k, v in always.items()},
        "note": "compute only (pay-as-you-go Linux); disks and networking are extra",
    }
    return report
