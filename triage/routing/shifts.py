"""Working hours gate routing ("auto status", issue 14): an agent off shift takes no new tickets.

An agent's `working_hours` are wall-clock hours in the agent's own `timezone` ("Mon-Fri 09:00-17:00",
the syntax of the SLA calendars), so a daylight-saving change moves them in UTC. The status an agent
or supervisor sets is kept as it is; outside working hours "online" reads as "away" to the router, to
`triage agents list` and to the agents API, with the reason. An empty `working_hours` means no limit.

Pure: callers pass `now`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from triage.sla.calendar import BusinessCalendar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EffectiveStatus:
    status: str  # what the router goes by: online, away or offline
    reason: str  # why it differs from the status that was set ("" when it does not)
    on_shift: bool


@lru_cache(maxsize=256)
def _calendar(timezone: str, hours: str) -> BusinessCalendar | None:
    try:
        return BusinessCalendar(timezone or "UTC", hours)
    except ValueError as exc:  # triage.toml validates both; a bad row must not stop routing for everyone
        log.warning("ignoring working hours %r in %r: %s", hours, timezone, exc)
        return None


def on_shift(timezone: str, working_hours: str, now: datetime) -> bool:
    """Whether `now` falls within the working hours (always, when there are none)."""
    cal = _calendar(timezone, working_hours.strip()) if working_hours.strip() else None
    return cal is None or cal.is_working(now)


def next_on_shift(timezone: str, working_hours: str, now: datetime) -> datetime | None:
    """When an agent off shift at `now` is on shift again (UTC); None when on shift now or without hours."""
    if on_shift(timezone, working_hours, now):
        return None
    cal = _calendar(timezone, working_hours.strip())
    assert cal is not None  # on_shift is True without a calendar
    return cal.next_working(now)


def effective_status(status: str, timezone: str, working_hours: str, now: datetime) -> EffectiveStatus:
    """The status the router obeys: "online" outside working hours becomes "away", saying until when."""
    if on_shift(timezone, working_hours, now):
        return EffectiveStatus(status, "", True)
    if status != "online":
        return EffectiveStatus(status, "", False)
    cal = _calendar(timezone, working_hours.strip())
    back_utc = next_on_shift(timezone, working_hours, now)
    assert cal is not None and back_utc is not None  # on_shift is True without a calendar
    back = back_utc.astimezone(cal.tz)
    return EffectiveStatus("away", f"outside working hours ({working_hours.strip()}, {timezone}); "
                                   f"on shift again {back:%a %Y-%m-%d %H:%M %Z}", False)
