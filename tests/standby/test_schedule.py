"""The standby schedule: the count in force, the next change, the typical week, a managed pool's form."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentctl import config
from agentctl.cli import cli
from agentctl.errors import Problem
from agentctl.kinds.pool import desired
from agentctl.standby import (
    Week,
    agent_hours,
    count_at,
    days_of,
    hourly,
    next_change,
    resource_predictions,
    windows_zone,
)
from testlib import EXAMPLE_POOL

AMS = "Europe/Amsterdam"  # CET / CEST: clocks go forward 2026-03-29, back 2026-10-25


def week(zone: str, *entries: tuple[str, str, int]) -> Week:
    """A week from entries (days, start, agents), read through pool.yaml's own model."""
    text = EXAMPLE_POOL.read_text().replace(
        "    desiredIdle: 1\n",
        f"    standby:\n      timeZone: {zone}\n      schedule:\n"
        + "".join(f"        - {{days: [{d}], start: '{s}', agents: {n}}}\n" for d, s, n in entries),
    )
    return config.loads(text).standby_week()


WORKDAYS = week(AMS, ("Mon-Fri", "08:00", 3), ("Mon-Fri", "18:00", 0))
WEEKEND_WRAP = week("UTC", ("Sat", "20:00", 2), ("Mon", "06:00", 5))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "at", "count"),
    [
        # Amsterdam in winter is UTC+1: Monday 08:00 local is 07:00 UTC.
        (WORKDAYS, "2026-12-07T06:59", 0),  # Monday before work: Friday 18:00's 0 held over the weekend
        (WORKDAYS, "2026-12-07T07:00", 3),
        (WORKDAYS, "2026-12-04T16:59", 3),  # Friday 17:59 local
        (WORKDAYS, "2026-12-04T17:00", 0),  # Friday 18:00 local
        (WORKDAYS, "2026-12-05T12:00", 0),  # Saturday
        (WORKDAYS, "2026-12-06T22:59", 0),  # Sunday 23:59 local
        # In summer (UTC+2) the same wall-clock entry is an hour earlier in UTC.
        (WORKDAYS, "2026-06-01T05:59", 0),
        (WORKDAYS, "2026-06-01T06:00", 3),
        # The count holds across days, and the week wraps from Sunday to Monday.
        (WEEKEND_WRAP, "2026-12-06T12:00", 2),  # Sunday: Saturday 20:00's count
        (WEEKEND_WRAP, "2026-12-07T05:59", 2),  # Monday before 06:00
        (WEEKEND_WRAP, "2026-12-07T06:00", 5),
        (WEEKEND_WRAP, "2026-12-05T19:59", 5),  # Saturday: Monday's count held all week
        (WEEKEND_WRAP, "2026-12-05T20:00", 2),
        (Week.fixed(4), "2026-12-05T20:00", 4),
    ],
)
def test_count_in_force(schedule: Week, at: str, count: int) -> None:
    assert count_at(schedule, utc(at)) == count


# 02:30 does not exist on 2026-03-29 and happens twice on 2026-10-25.
SUNDAY_NIGHT = week(AMS, ("Sun", "02:30", 4), ("Mon", "00:00", 1))


@pytest.mark.parametrize(
    ("at", "count", "change"),
    [
        # Clocks jump from 02:00 CET (01:00 UTC) to 03:00 CEST: 02:30 takes effect at the jump.
        ("2026-03-29T00:59", 1, ("2026-03-29T01:00", 4)),
        ("2026-03-29T01:00", 4, ("2026-03-29T22:00", 1)),  # Monday 00:00 CEST
        # Clocks go back from 03:00 CEST to 02:00 CET: 02:30 takes effect the first time (00:30 UTC).
        ("2026-10-25T00:29", 1, ("2026-10-25T00:30", 4)),
        ("2026-10-25T01:45", 4, ("2026-10-25T23:00", 1)),  # the second 02:30 changes nothing
    ],
)
def test_clock_changes(at: str, count: int, change: tuple[str, int]) -> None:
    assert count_at(SUNDAY_NIGHT, utc(at)) == count
    assert next_change(SUNDAY_NIGHT, utc(at)) == (utc(change[0]), change[1])


def test_next_change_skips_entries_that_change_nothing() -> None:
    same = week("UTC", ("Mon", "08:00", 2), ("Tue", "08:00", 2), ("Wed", "08:00", 0))
    assert next_change(same, utc("2026-12-07T09:00")) == (utc("2026-12-09T08:00"), 0)
    assert next_change(Week.fixed(2), utc("2026-12-07T09:00")) is None


def test_typical_week() -> None:
    assert agent_hours(WORKDAYS) == 5 * 10 * 3
    assert agent_hours(WEEKEND_WRAP) == 5 * (5 * 24 + 14) + 2 * (4 + 24 + 6)
    assert agent_hours(Week.fixed(2)) == 2 * 168
    rows = hourly(WORKDAYS)
    assert rows[0][7:9] == [0, 3] and rows[0][17:19] == [3, 0] and rows[5] == [0] * 24


def test_managed_pool_form() -> None:
    """Seven maps from Sunday, "HH:MM:SS": count, and the zone's Windows name (daylight saving kept)."""
    assert resource_predictions(WORKDAYS) == {
        "timeZone": "W. Europe Standard Time",
        "daysData": [{}, *[{"08:00:00": 3, "18:00:00": 0}] * 5, {}],
    }
    assert resource_predictions(WEEKEND_WRAP)["daysData"][1] == {"06:00:00": 5}
    assert resource_predictions(WEEKEND_WRAP)["daysData"][6] == {"20:00:00": 2}
    assert resource_predictions(Week.fixed(3)) == {"timeZone": "UTC", "daysData": [{"00:00:00": 3}]}
    assert windows_zone("America/New_York") == "Eastern Standard Time"
    with pytest.raises(ValueError, match="no Windows time zone"):
        windows_zone("Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("item", "days"),
    [
        ("Mon", [0]),
        ("sunday", [6]),
        ("Mon-Fri", [0, 1, 2, 3, 4]),
        ("Fri-Mon", [4, 5, 6, 0]),
        ("Sat-sat", [5]),
    ],
)
def test_days(item: str, days: list[int]) -> None:
    assert days_of(item) == days


SCHEDULE = "    standby:\n      timeZone: {zone}\n      schedule:{entries}"


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(config.InvalidInput) as err:
        config.loads(text)
    return err.value.problems


@pytest.mark.parametrize(
    ("zone", "entries", "field", "message", "anchor"),
    [
        ("Europe/Amsterdam", "\n        - {days: [Mon-Fri], start: '08:00', agents: 2}"
         "\n        - {days: [Fri], start: '08:00', agents: 1}\n",
         "devops.pool.standby.schedule[1]", "Fri 08:00 is already set by devops.pool.standby.schedule[0]",
         "[Fri]"),
        ("Europe/Amsterdam", "\n        - {days: [Mon-Fry], start: '08:00', agents: 2}\n",
         "devops.pool.standby.schedule[0].days[0]", "'Mon-Fry' is not a day or a range of days", "Mon-Fry"),
        ("Europe/Amsterdan", "\n        - {days: [Mon], start: '08:00', agents: 2}\n",
         "devops.pool.standby.timeZone", "'Europe/Amsterdan' is not an IANA time zone", "timeZone"),
        ("UTC", "\n        - {days: [Mon], start: '08:00', agents: 11}\n",
         "devops.pool.standby.schedule[0].agents", "(11) exceeds maxCapacity (10)", "agents: 11"),
        ("UTC", "\n        - {days: [Mon], start: '8:00', agents: 1}\n",
         "devops.pool.standby.schedule[0].start", "is not a valid value (Local start time", "'8:00'"),
        ("UTC", " []\n", "devops.pool.standby.schedule", "needs at least one entry", "schedule: []"),
    ],
)  # fmt: skip
def test_schedule_errors_name_line_and_field(
    zone: str, entries: str, field: str, message: str, anchor: str
) -> None:
    text = EXAMPLE_POOL.read_text().replace(
        "    desiredIdle: 1\n", SCHEDULE.format(zone=zone, entries=entries)
    )
    (problem,) = [p for p in problems_of(text) if p.field == field]
    assert message in problem.message
    assert problem.line is not None and anchor in text.splitlines()[problem.line - 1]


@pytest.mark.parametrize(
    ("replacement", "field", "message"),
    [
        ("    desiredIdle: 1\n    standby: 2\n", "devops.pool.desiredIdle", "not both"),
        ("    standby: {automatic: Balanced}\n", "devops.pool.standby.automatic", "Managed DevOps Pools"),
        ("    standby: 12\n", "devops.pool.standby", "(12) exceeds maxCapacity (10)"),
        ("    standby: 'two'\n", "devops.pool.standby", "expected a whole number"),
    ],
)
def test_fixed_and_automatic_standby(replacement: str, field: str, message: str) -> None:
    problems = problems_of(EXAMPLE_POOL.read_text().replace("    desiredIdle: 1\n", replacement))
    assert any(p.field == field and message in p.message for p in problems), problems


def test_validate_exits_3_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(
        EXAMPLE_POOL.read_text().replace("    desiredIdle: 1\n", "    standby: {automatic: Balanced}\n")
    )
    result = CliRunner().invoke(cli, ["validate", "-f", str(path)])
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert "devops.pool.standby.automatic" in result.output


def test_the_elastic_pool_wants_the_count_in_force() -> None:
    """plan and deploy-pool send the count in force when the facts are read: the timer and plan agree."""
    text = EXAMPLE_POOL.read_text().replace(
        "    desiredIdle: 1\n",
        "    standby:\n      timeZone: Europe/Amsterdam\n      schedule:\n"
        "        - {days: [Mon-Fri], start: '08:00', agents: 3}\n"
        "        - {days: [Mon-Fri], start: '18:00', agents: 0}\n",
    )
    spec = config.loads(text)
    assert desired.elastic_settings(spec, utc("2026-12-07T07:00"))["desiredIdle"] == 3
    assert desired.elastic_settings(spec, utc("2026-12-07T17:00"))["desiredIdle"] == 0
    connection = {"id": "e1"}
    observed = desired.elastic_settings(spec, utc("2026-12-07T07:00")) | {"serviceEndpointId": "e1"}
    assert desired.elastic_drift(spec, observed, connection, utc("2026-12-07T08:00")) == []
    drift = desired.elastic_drift(spec, observed, connection, utc("2026-12-07T17:00"))
    assert drift == [("desiredIdle", 3, 0)]
    assert (
        desired.elastic_settings(config.loads(EXAMPLE_POOL.read_text()), utc("2026-12-07T07:00"))[
            "desiredIdle"
        ]
        == 1
    )
