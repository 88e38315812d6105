"""Keeping the agents table in step with triage.toml."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.agents.tables import Agent
from triage.config import TriageConfig
from triage.events.service import record


def sync_agents(config: TriageConfig, *, session: Session) -> dict[str, int]:
    """Upsert agents by email; agents removed from the file are deactivated, never deleted (history)."""
    existing = {a.email: a for a in session.scalars(select(Agent))}
    added = updated = deactivated = 0
    for conf in config.agents:
        agent = existing.pop(conf.email, None)
        values = {"name": conf.name, "teams": list(conf.teams), "skills": list(conf.skills),
                  "languages": list(conf.languages), "capacity": conf.capacity, "channels": list(conf.channels),
                  "capacity_by_channel": dict(conf.capacity_by_channel) or None, "status": conf.status,
                  "timezone": conf.timezone, "working_hours": conf.working_hours, "active": True}
        if agent is None:
            session.add(Agent(email=conf.email, **values))
            added += 1
            continue
        if agent.active:
            # The file gives the starting status; afterwards `triage agents status` owns it, or every
            # restart would undo who went offline.
            values.pop("status")
        if any(getattr(agent, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(agent, key, value)
            updated += 1
    for agent in existing.values():
        if agent.active:
            agent.active = False
            agent.status = "offline"
            deactivated += 1
    session.flush()
    if added or updated or deactivated:
        record("agents.synced", session=session, added=added, updated=updated, deactivated=deactivated)
    return {"added": added, "updated": updated, "deactivated": deactivated}
