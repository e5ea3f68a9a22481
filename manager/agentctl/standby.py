"""Standby agents over the week: a fixed count, or a weekly schedule in a time zone.

Pure functions, shared by both backends: the count in force at an instant and the next change
(what a scale-set pool's ``desiredIdle`` follows), the typical week (the chart and agent-hours of
``standby show``), and a Managed DevOps Pool's manual ``resourcePredictions``.

An entry names days, a local start time and a count; the count holds until the next entry, on the
same day or a later one, wrapping from Sunday to Monday. Start times are wall-clock times in the
schedule's zone: on the day clocks go forward, a start time the clock skips takes effect when the
clock jumps past it (02:30 at the jump from 02:00 to 03:00); a time the clock shows twice takes
effect the first time.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agentctl.errors import quoted

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # datetime.weekday() order
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES
_FULL = {d.lower(): i for i, d in enumerate(DAYS)} | {
    name: i
    for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}


@dataclass(frozen=True)
class Week:
    """Change points ``(minute of the week from Monday 00:00 local, count)``, sorted, at least one."""

    zone: str
    points: tuple[tuple[int, int], ...]

    @staticmethod
    def fixed(count: int) -> Week:
        return Week("UTC", ((0, count),))

    @property
    def is_fixed(self) -> bool:
        return len({count for _, count in self.points}) == 1

    @property
    def peak(self) -> int:
        return max(count for _, count in self.points)


def days_of(item: str) -> list[int]:
    """Weekday numbers of ``Mon``, ``monday`` or a range ``Mon-Fri`` (``Fri-Mon`` wraps); ValueError."""
    first, sep, last = item.strip().lower().partition("-")
    if first not in _FULL or (sep and last not in _FULL):
        raise ValueError(f"{quoted(item)} is not a day or a range of days (Mon..Sun, e.g. Mon-Fri)")
    start, end = _FULL[first], _FULL[last] if sep else _FULL[first]
    return [(start + i) % 7 for i in range((end - start) % 7 + 1)]


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError when this machine's time zone database lacks it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{quoted(name)} is not an IANA time zone (e.g. Europe/Amsterdam, America/New_York)"
        ) from None


def minute_of(start: str) -> int:
    hours, minutes = start.split(":")
    return int(hours) * 60 + int(minutes)


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def count_at(week: Week, at: datetime) -> int:
    """The count in force at the instant ``at`` (timezone-aware)."""
    instants = _instants(week, at)
    i = bisect.bisect_right([t for t, _ in instants], at) - 1
    return instants[i][1]


def next_change(week: Week, at: datetime) -> tuple[datetime, int] | None:
    """The first instant after ``at`` when the count changes, and the new count; None: it never does."""
    now = count_at(week, at)
    return next(((t, c) for t, c in _instants(week, at) if t > at and c != now), None)


def _instants(week: Week, around: datetime) -> list[tuple[datetime, int]]:
    """Every change point from eight days before ``around`` to eight days after, as UTC instants in
    order, with the count in force from each (of points a clock change puts at one instant, the one
    latest on the wall clock)."""
    zone = ZoneInfo(week.zone)
    first: date = around.astimezone(zone).date() - timedelta(days=8)
    out = []
    for offset in range(17):
        day = first + timedelta(days=offset)
        for minute, count in week.points:
            if minute // DAY_MINUTES == day.weekday():
                local = datetime.combine(day, time(minute % DAY_MINUTES // 60, minute % 60), zone)
                out.append((_resolved(local), offset * DAY_MINUTES + minute % DAY_MINUTES, count))
    in_force = {t: count for t, _, count in sorted(out)}  # at one instant, the last point wins
    return list(in_force.items())


def _resolved(local: datetime) -> datetime:
    """The first instant whose wall clock reads ``local`` or later: a repeated time's first occurrence
    (fold=0), and for a time skipped by a clock change, the moment the clock jumps past it."""
    instant = local.astimezone(UTC)
    wall = local.replace(tzinfo=None)
    if instant.astimezone(local.tzinfo).replace(tzinfo=None) == wall:
        return instant
    instant = local.replace(fold=1).astimezone(UTC)  # before the jump
    while instant.astimezone(local.tzinfo).replace(tzinfo=None) < wall:
        instant += timedelta(minutes=1)
    return instant


def at_minute(week: Week, minute: int) -> int:
    """The count at a minute of a typical week (wall clock, no clock changes)."""
    i = bisect.bisect_right([m for m, _ in week.points], minute % WEEK_MINUTES) - 1
    return week.points[i][1]  # i == -1: before the first point, the week's last count holds


def hourly(week: Week) -> list[list[int]]:
    """Agents at the start of each hour, per day Monday to Sunday (the chart of ``standby show``)."""
    return [[at_minute(week, d * DAY_MINUTES + h * 60) for h in range(24)] for d in range(7)]


def agent_hours(week: Week) -> float:
    """Standby agent-hours in a typical week."""
    points = list(week.points)
    total = 0
    for i, (minute, count) in enumerate(points):
        end = points[i + 1][0] if i + 1 < len(points) else points[0][0] + WEEK_MINUTES
        total += count * (end - minute)  # the last stretch wraps past Monday 00:00
    return total / 60


def resource_predictions(week: Week) -> dict[str, object]:
    """A Managed DevOps Pool's manual ``resourcePredictions``: a Windows time zone name and
    ``daysData``, seven maps from Sunday of ``"HH:MM:SS": count`` (one map: the same all week)."""
    if week.is_fixed:
        return {"timeZone": "UTC", "daysData": [{"00:00:00": week.points[0][1]}]}
    days: list[dict[str, int]] = [{} for _ in range(7)]
    for minute, count in week.points:
        days[(minute // DAY_MINUTES + 1) % 7][f"{clock(minute % DAY_MINUTES)}:00"] = count
    return {"timeZone": windows_zone(week.zone), "daysData": days}


def windows_zone(iana: str) -> str:
    """The Windows time zone name (what .NET's TimeZoneInfo and Managed DevOps Pools use) of an IANA
    zone, from the Unicode CLDR mapping that tzlocal ships; ValueError when it has none."""
    if iana in ("UTC", "Etc/UTC"):
        return "UTC"
    from tzlocal.windows_tz import tz_win

    try:
        return str(tz_win[iana])
    except KeyError:
        raise ValueError(
            f"{quoted(iana)} has no Windows time zone equivalent; choose its region's main zone"
        ) from None
