"""agentctl standby against the sandbox: the count in force at four times of the week, one PATCH per
change and none otherwise; plan agrees with the timer; show reads the week and its price."""

from __future__ import annotations

from typing import Any

SCHEDULE = """    standby:
      timeZone: Europe/Amsterdam
      schedule:
        - {days: [Mon-Fri], start: '08:00', agents: 3}
        - {days: [Mon-Fri], start: '18:00', agents: 1}
        - {days: [Sat], start: '00:00', agents: 0}
"""


def test_timer_follows_the_schedule(world: Any, capsys: Any) -> None:
    world.edit("    desiredIdle: 1\n", SCHEDULE)
    pool = str(world.pool)
    assert world.agentctl("deploy-pool", "-f", pool, "--yes") == 0
    world.new_requests()
    seen = []
    for at, count in [
        ("2026-12-07T09:00+01:00", 3),  # Monday morning, Amsterdam time
        ("2026-12-07T17:59+01:00", 3),  # the same count: nothing sent
        ("2026-12-07T18:00:00Z", 1),  # Monday 19:00 local
        ("2026-12-12T11:00:00Z", 0),  # Saturday
    ]:
        code, out = world.json(capsys, "standby", "-f", pool, "--at", at)
        assert code == 0, out
        data = out["data"]
        writes = world.writes(world.new_requests())
        assert data["standby"] == count and data["changed"] == (data["previous"] != count)
        assert writes == (["PATCH " + writes[0].split(" ", 1)[1]] if data["changed"] else []), writes
        assert all("elasticpools" in w for w in writes)
        code, status = world.json(capsys, "status", "-f", pool)
        assert status["data"]["pool"]["settings"]["desiredIdle"] == count
        world.new_requests()
        seen.append((data["changed"], out["status"]))
    assert seen[1:] == [(False, "ok"), (True, "changed"), (True, "changed")]
    code, out = world.json(capsys, "standby", "-f", pool, "--at", "2026-12-12T11:00:00Z")
    assert out["data"]["next"]["standby"] == 3 and out["data"]["next"]["local"].startswith("2026-12-14T08:00")

    # Now: the timer sets the count in force, and plan (which wants the same count) has nothing to do.
    assert world.agentctl("standby", "-f", pool) == 0
    code, out = world.json(capsys, "plan", "-f", pool)
    assert code == 0 and out["data"]["changed"] is False, out


def test_timer_needs_a_deployed_pool(world: Any, capsys: Any) -> None:
    code, out = world.json(capsys, "standby", "-f", str(world.pool))
    assert code == 5 and "scale-set agent pool private-agents does not exist" in out["errors"][0]["message"]


def test_show_charts_the_week(world: Any, capsys: Any) -> None:
    world.edit("    desiredIdle: 1\n", SCHEDULE)
    code, out = world.json(capsys, "standby", "show", "-f", str(world.pool), "--offline")
    assert code == 0
    data = out["data"]
    # Monday starts at Saturday's 0; Tuesday starts at Monday evening's 1.
    assert (
        data["hourly"][0][7:9] == [0, 3]
        and data["hourly"][1][7:9] == [1, 3]
        and data["hourly"][5] == [0] * 24
    )
    assert data["agentHoursPerWeek"] == {
        "scheduled": 5 * 10 * 3 + 4 * 14 * 1 + 6 * 1,  # Friday 18:00 to Saturday 00:00: 6 h at 1
        "fixedAtPeak": 3 * 168.0,
        "maxCapacity": 10 * 168.0,
    }
    assert data["cost"] is None and data["costUnavailable"] == "offline"
    capsys.readouterr()
    assert world.agentctl("standby", "show", "-f", str(world.pool), "--offline") == 0
    text = capsys.readouterr().out
    assert "Mon ········3333333333111111" in text and "Sat ························" in text


def test_show_prices_the_week_from_the_retail_prices_api(world: Any, capsys: Any) -> None:
    world.edit("    desiredIdle: 1\n", SCHEDULE)
    code, out = world.json(capsys, "standby", "show", "-f", str(world.pool))
    assert code == 0
    cost = out["data"]["cost"]
    # the sandbox's Linux pay-as-you-go price of Standard_D4s_v5 (Windows, Spot and Low Priority left out)
    assert cost["hourly"] == 0.192 and cost["currency"] == "USD"
    assert cost["perMonth"]["scheduled"] == round(212 * 730 / 168 * 0.192, 2)
    assert cost["perMonth"]["maxCapacity"] == round(1680 * 730 / 168 * 0.192, 2)
    assert next(e for e in world.log() if e["path"] == "/api/retail/prices")["status"] == 200
