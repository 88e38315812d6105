"""QA sampling without a database: fairness per agent, mandatory replies, reproducibility, reviewer balance."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from triage.errors import UserError
from triage.qa.periods import parse_period
from triage.qa.sampling import Candidate, assign_reviewers, select_calibration, select_review
from triage.qa.service import introduced_agent, reply_author, unique_first_names

T0 = datetime(2026, 11, 16, 9, tzinfo=UTC)


def _replies(agent_id: int, n: int, *, start: int, flags: dict[int, frozenset[str]] | None = None) -> list[Candidate]:
    flags = flags or {}
    return [Candidate(start + i, agent_id, 1000 + start + i, T0 + timedelta(minutes=i), flags.get(i, frozenset()))
            for i in range(n)]


def _team() -> list[Candidate]:
    # Agent 1 writes a lot, agent 2 a fair amount, agent 3 very little; two of agent 2's replies are on
    # tickets that breached their SLA and one of agent 3's ended negative.
    return (_replies(1, 40, start=0)
            + _replies(2, 12, start=100, flags={3: frozenset({"sla_breach"}),
                                                7: frozenset({"sla_breach", "negative_sentiment"})})
            + _replies(3, 3, start=200, flags={0: frozenset({"negative_sentiment"})}))


def test_each_agent_gets_the_same_number_of_random_replies_when_he_has_them() -> None:
    picks, tallies = select_review(_team(), per_agent=5, seed=42, exclude=set())
    random_per_agent = Counter(p.candidate.agent_id for p in picks if "random" in p.reasons)
    assert random_per_agent == {1: 5, 2: 5, 3: 3}  # agent 3 wrote only 3 replies
    assert tallies[3].shortfall == 2 and tallies[1].shortfall == tallies[2].shortfall == 0
    assert tallies[1].random_pool == 40 and tallies[2].random_pool == 12


def test_a_mass_breach_leaves_every_agents_random_sample_intact() -> None:
    everything = frozenset({"sla_breach"})
    team = _replies(1, 30, start=0, flags=dict.fromkeys(range(30), everything)) + _replies(2, 8, start=100)
    picks, tallies = select_review(team, per_agent=4, seed=7, exclude=set())
    random_per_agent = Counter(p.candidate.agent_id for p in picks if "random" in p.reasons)
    assert random_per_agent == {1: 4, 2: 4}
    assert sum(1 for p in picks if p.candidate.agent_id == 1) == 30  # each breached reply once, random ones included
    assert len({p.candidate.message_id for p in picks}) == len(picks)
    assert tallies[1].mandatory == 30 and tallies[1].random == 4


def test_every_breached_or_negative_reply_is_included_with_its_reasons() -> None:
    picks, tallies = select_review(_team(), per_agent=2, seed=1, exclude=set())
    by_message = {p.candidate.message_id: p.reasons for p in picks}
    assert by_message[103] == ["sla_breach"]
    assert by_message[107] == ["negative_sentiment", "sla_breach"]
    assert by_message[200] == ["negative_sentiment"]
    assert tallies[2].mandatory == 2 and tallies[2].random == 2
    assert tallies[2].reasons == {"sla_breach": 2, "negative_sentiment": 1, "random": 2}
    # Mandatory replies come on top of the random quota, never instead of it.
    assert sum(1 for p in picks if p.candidate.agent_id == 2) == 4


def test_mandatory_reasons_follow_the_configuration() -> None:
    picks, _ = select_review(_team(), per_agent=0, seed=1, exclude=set(), mandatory=["sla_breach"])
    assert sorted(p.candidate.message_id for p in picks) == [103, 107]
    assert {tuple(p.reasons) for p in picks} == {("sla_breach",)}


def test_same_seed_same_samples_other_seed_other_samples() -> None:
    first, _ = select_review(_team(), per_agent=5, seed=2026, exclude=set())
    again, _ = select_review(list(reversed(_team())), per_agent=5, seed=2026, exclude=set())  # order of rows is moot
    other, _ = select_review(_team(), per_agent=5, seed=2027, exclude=set())
    ids = [p.candidate.message_id for p in first]
    assert ids == [p.candidate.message_id for p in again]
    assert ids != [p.candidate.message_id for p in other]


def test_one_agents_draw_does_not_depend_on_the_others() -> None:
    alone, _ = select_review(_replies(1, 40, start=0), per_agent=5, seed=9, exclude=set())
    with_team, _ = select_review(_team(), per_agent=5, seed=9, exclude=set())
    assert [p.candidate.message_id for p in alone] == [p.candidate.message_id for p in with_team
                                                      if p.candidate.agent_id == 1]


def test_a_reply_is_never_sampled_twice_for_review() -> None:
    first, _ = select_review(_team(), per_agent=5, seed=3, exclude=set())
    taken = {p.candidate.message_id for p in first}
    second, tallies = select_review(_team(), per_agent=5, seed=3, exclude=taken)
    assert not taken & {p.candidate.message_id for p in second}
    assert tallies[2].already_sampled == 7 and tallies[2].mandatory == 0  # breached replies were taken already
    # Exhausting the pool: everything is sampled exactly once overall.
    seen = Counter(p.candidate.message_id for p in first + second)
    rest, _ = select_review(_team(), per_agent=100, seed=3, exclude=set(seen))
    seen.update(p.candidate.message_id for p in rest)
    assert set(seen) == {c.message_id for c in _team()} and max(seen.values()) == 1


def test_reviewers_get_equal_shares_and_a_backlog_is_respected() -> None:
    shares = assign_reviewers(list(range(10)), [7, 8, 9], {})
    counts = Counter(r for panel in shares.values() for r in panel)
    assert sorted(counts.values()) == [3, 3, 4]
    load = {7: 6, 8: 0, 9: 0}  # reviewer 7 still has six open reviews
    shares = assign_reviewers(list(range(6)), [7, 8, 9], load)
    counts = Counter(r for panel in shares.values() for r in panel)
    assert counts == {8: 3, 9: 3} and load == {7: 6, 8: 3, 9: 3}


def test_a_ticket_with_several_samples_counts_as_that_many_reviews() -> None:
    load: dict[int, int] = {}
    shares = assign_reviewers(["t1", "t2", "t3", "t4"], [1, 2], load, sizes={"t1": 3, "t2": 1, "t3": 1, "t4": 1})
    assert shares == {"t1": [1], "t2": [2], "t3": [2], "t4": [2]} and load == {1: 3, 2: 3}


def test_calibration_panels_have_distinct_reviewers() -> None:
    panels = assign_reviewers(["a", "b"], [1, 2, 3, 4], {}, per_key=3)
    assert all(len(set(p)) == 3 for p in panels.values())
    assert Counter(r for p in panels.values() for r in p) == {1: 2, 2: 2, 3: 1, 4: 1}
    with pytest.raises(ValueError, match="3 reviewers needed"):
        assign_reviewers(["a"], [1, 2], {}, per_key=3)


def test_calibration_spreads_over_agents_and_prefers_replies_not_under_review() -> None:
    team = _team()
    review, _ = select_review(team, per_agent=5, seed=5, exclude=set())
    in_review = {p.candidate.message_id for p in review}
    spread = select_calibration(team, size=3, seed=5, exclude=set(), avoid=set())
    assert {c.agent_id for c in spread} == {1, 2, 3}  # one per agent in turn
    chosen = select_calibration(team, size=3, seed=5, exclude=set(), avoid=in_review)
    # All of agent 3's replies are under review already: the panel takes others' rather than overlap.
    assert len(chosen) == 3 and {c.agent_id for c in chosen} == {1, 2}
    assert not {c.message_id for c in chosen} & in_review
    # Already calibrated replies never come back; when only reviewed ones are left they are used.
    everything = {c.message_id for c in team}
    assert select_calibration(team, size=3, seed=5, exclude=everything, avoid=set()) == []
    only_reviewed = select_calibration(team, size=2, seed=5, exclude=everything - in_review, avoid=in_review)
    assert len(only_reviewed) == 2 and {c.message_id for c in only_reviewed} <= in_review
    assert select_calibration(team, size=3, seed=5, exclude=set(), avoid=in_review) == chosen  # seeded


def test_periods() -> None:
    week = parse_period("2026-W47", kind="week")
    assert (week.label, week.start, week.end) == ("2026-W47", datetime(2026, 11, 16, tzinfo=UTC),
                                                  datetime(2026, 11, 23, tzinfo=UTC))
    december = parse_period("2026-12", kind="week")
    assert december.start == datetime(2026, 12, 1, tzinfo=UTC) and december.end == datetime(2027, 1, 1, tzinfo=UTC)
    assert parse_period("2026-11-18", kind="week").label == "2026-W47"
    assert parse_period("2026-11-18", kind="month").label == "2026-11"
    assert parse_period("2026-11-18", kind="day").end == datetime(2026, 11, 19, tzinfo=UTC)
    span = parse_period("2026-11-01..2026-11-15", kind="week")
    assert span.end - span.start == timedelta(days=15)
    monday = date(2026, 11, 23)
    assert parse_period(None, kind="week", today=monday).label == "2026-W47"  # the last complete week
    assert parse_period("current", kind="week", today=monday).label == "2026-W48"
    assert parse_period("previous", kind="month", today=monday).label == "2026-10"
    for bad in ("2026-W60", "2026-13", "2026-02-30", "last week", "2026-11-15..2026-11-01"):
        with pytest.raises(UserError, match="period"):
            parse_period(bad, kind="week")


def test_who_wrote_a_reply() -> None:
    names = unique_first_names([(1, "Nadia Brooks"), (2, "Ines Costa"), (3, "Omar Haddad"), (4, "Omar Said")])
    assert names == {"nadia": 1, "ines": 2}  # two Omars: the first name proves nothing
    assert introduced_agent("Hi Maria, Nadia here. I can see the parcel.", names) == 1
    assert introduced_agent("Hi, this is Ines. Sorry it's not what you expected.", names) == 2
    assert introduced_agent("Guten Tag, hier ist Ines Costa.", names) == 2
    assert introduced_agent("Hi, Omar here.", names) is None
    assert introduced_agent("I'm sorry, it's Friday already.", names) is None
    emails = {"nadia@x.example": 1, "ines@x.example": 2}
    history = [(T0, 1, "assigned"), (T0 + timedelta(hours=2), 2, "reassigned")]
    assert reply_author("ines@x.example", T0, None, history, emails, introduced=1) == 2  # the address wins
    assert reply_author("agent", T0 + timedelta(hours=1), None, history, emails, introduced=2) == 2
    assert reply_author("agent", T0 + timedelta(hours=1), None, history, emails) == 1  # held the ticket then
    assert reply_author("agent", T0 + timedelta(hours=3), None, history, emails) == 2
    assert reply_author("agent", T0 - timedelta(hours=1), None, history, emails) == 1  # imported, routed later
    assert reply_author("agent", T0, 3, [(T0, None, "queued")], emails) == 3
    assert reply_author("support@x.example", T0, None, [], emails) is None
