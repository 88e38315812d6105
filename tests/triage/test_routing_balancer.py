"""The pure routing rules: who qualifies, who is chosen, the waiting order and the wait estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from triage.routing.balancer import (
    AgentSnapshot,
    EffortModel,
    TicketNeeds,
    choose,
    estimate_wait,
    queue_key,
)

T0 = datetime(2026, 11, 16, 9, tzinfo=UTC)


def agent(id: int, **kw: object) -> AgentSnapshot:
    values: dict[str, object] = {"name": f"a{id}", "capacity": {"email": 3, "chat": 2}}
    values.update(kw)
    return AgentSnapshot(id=id, **values)  # type: ignore[arg-type]


def test_lowest_weighted_load_wins_not_the_fewest_tickets() -> None:
    effort = EffortModel()
    for _ in range(50):
        effort.observe("technical_problem", "email", 60.0)
    one_long = agent(1, open_count={"email": 1}, load=effort.expected("technical_problem", "email"))
    two_short = agent(2, open_count={"email": 2}, load=2 * effort.expected("order_status", "email"))
    decision = choose([one_long, two_short], TicketNeeds(channel="email"), effort)
    assert decision.agent_id == 2 and "lowest weighted load" in decision.reason


def test_ties_go_to_the_longest_idle_agent() -> None:
    recent = agent(1, idle_since=T0)
    idle = agent(2, idle_since=T0 - timedelta(hours=1))
    assert choose([recent, idle], TicketNeeds(channel="chat"), EffortModel()).agent_id == 2


def test_never_above_capacity_in_the_ticket_channel() -> None:
    full_chat = agent(1, open_count={"chat": 2}, load=0.0)
    busy = agent(2, open_count={"email": 3, "chat": 1}, load=100.0)
    assert choose([full_chat, busy], TicketNeeds(channel="chat"), EffortModel()).agent_id == 2
    everyone_full = [agent(1, open_count={"chat": 2}), agent(2, open_count={"chat": 2})]
    decision = choose(everyone_full, TicketNeeds(channel="chat"), EffortModel())
    assert decision.agent_id is None and decision.reason == "all agents in queue at capacity"


def test_skills_languages_and_channels_are_respected() -> None:
    billing = agent(1, skills=frozenset({"refund_request"}), load=50.0)
    tech = agent(2, skills=frozenset({"technical_problem"}), languages=frozenset({"de"}))
    effort = EffortModel()
    assert choose([billing, tech], TicketNeeds(channel="email", intent="refund_request"), effort).agent_id == 1
    # nobody speaks French: the language is waived (and said so) rather than leaving the ticket stuck
    decision = choose([billing, tech], TicketNeeds(channel="email", intent="technical_problem", language="fr"),
                      effort)
    assert decision.agent_id == 2 and "nobody speaks fr" in decision.reason
    email_only = agent(3, channels=frozenset({"email"}), capacity={"email": 3})
    assert choose([email_only], TicketNeeds(channel="chat"), effort).agent_id is None


def test_skilled_agent_offline_means_waiting_not_an_unskilled_agent() -> None:
    skilled = agent(1, status="offline", skills=frozenset({"refund_request"}))
    other = agent(2, skills=frozenset({"order_status"}))
    decision = choose([skilled, other], TicketNeeds(channel="email", intent="refund_request"), EffortModel())
    assert decision.agent_id is None and decision.reason == "no qualified agent online"
    # an intent nobody lists goes to anyone in the queue
    anyone = choose([skilled, other], TicketNeeds(channel="email", intent="feedback"), EffortModel())
    assert anyone.agent_id == 2 and "nobody lists skill feedback" in anyone.reason


def test_previous_agent_is_kept_unless_overloaded() -> None:
    effort = EffortModel()
    prev_light = agent(1, open_count={"email": 1}, load=12.0)
    idle = agent(2)
    sticky = choose([prev_light, idle], TicketNeeds(channel="email", last_agent_id=1), effort)
    assert sticky.agent_id == 1 and sticky.sticky
    prev_heavy = agent(1, open_count={"email": 2}, load=120.0)
    assert choose([prev_heavy, idle], TicketNeeds(channel="email", last_agent_id=1), effort).agent_id == 2
    prev_full = agent(1, open_count={"email": 3}, load=12.0)
    assert choose([prev_full, idle], TicketNeeds(channel="email", last_agent_id=1), effort).agent_id == 2
    # an urgent ticket does not wait for a familiar face
    urgent = TicketNeeds(channel="email", priority="urgent", last_agent_id=1)
    assert choose([prev_light, idle], urgent, effort).agent_id == 2


def test_waiting_queue_order_urgency_then_deadline_then_age() -> None:
    rows = [
        ("normal", T0 + timedelta(minutes=5), T0, 1),
        ("urgent", T0 + timedelta(hours=2), T0 + timedelta(minutes=9), 2),
        ("high", T0 + timedelta(hours=1), T0 + timedelta(minutes=3), 3),
        ("high", T0 + timedelta(minutes=30), T0 + timedelta(minutes=8), 4),
        ("critical", None, T0 + timedelta(minutes=1), 5),
    ]
    assert [r[3] for r in sorted(rows, key=lambda r: queue_key(*r))] == [2, 5, 4, 3, 1]


def test_effort_model_moves_from_default_to_history() -> None:
    effort = EffortModel()
    assert effort.expected("refund_request", "email") == pytest.approx(12.0)
    for _ in range(95):
        effort.observe("refund_request", "email", 30.0)
    assert effort.expected("refund_request", "email") == pytest.approx((95 * 30 + 5 * 12) / 100)
    assert effort.expected("refund_request", "chat") == pytest.approx(8.0)


def test_estimate_wait() -> None:
    assert estimate_wait(0, 10.0, 3) == 0
    assert estimate_wait(6, 10.0, 3) == pytest.approx(20.0)
    assert estimate_wait(2, 10.0, 0) is None
    with pytest.raises(ValueError, match="negative"):
        estimate_wait(-1, 10.0, 2)
