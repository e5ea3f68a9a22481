"""How ``agentctl status`` shows a managed pool: its state, usage against maximum concurrency, its
agents by status with their image versions, and the standby in force with its next change."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.markup import escape


def managed_rows(table: Any, mp: dict[str, Any]) -> None:
    if not mp["exists"]:
        table.add_row("managed pool", f"{escape(mp['name'])}: missing")
        return
    usage = f"{mp['inUse']} of {mp['maximumConcurrency']} agents"
    table.add_row("managed pool", f"{escape(mp['name'])}: {mp['provisioningState']}; {usage}")
    states = ", ".join(f"{k} {v}" for k, v in sorted(mp["states"].items())) or "none"
    table.add_row("agents", states)
    versions = Counter(f"{a.get('image')} {a.get('imageVersion')}" for a in mp["agents"])
    for image, count in sorted(versions.items()):
        table.add_row("image", f"{escape(image)}: {count} agent(s)")
    standby = mp["standby"]
    if standby["automatic"]:
        table.add_row("standby", f"automatic ({standby['automatic']})")
    else:
        upcoming = standby["next"]
        then = f"; {upcoming['agents']} from {upcoming['at']}" if upcoming else ""
        table.add_row("standby", f"{standby['now']} now{then}")
