"""QA runs, scorecards, calibration and agent reports on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.triage.qa_data import CHLOE, NADIA, OMAR, WEEK_47, agent_id, conversation, reviewers
from triage.errors import UserError
from triage.events.tables import Event
from triage.knowledge.tables import Suggestion, SuggestionFeedback
from triage.qa.kappa import fleiss_kappa
from triage.qa.periods import parse_period
from triage.qa.schemas import ScorecardAmend, ScorecardIn
from triage.qa.service import (
    ConflictError,
    NotAssignedError,
    ScorecardError,
    agent_report,
    calibration_report,
    create_run,
    get_sample,
    list_samples,
    sample_detail,
    submit_scorecard,
)
from triage.qa.tables import QaReview, QaRun, QaSample
from triage.runtime import Triage

W47 = parse_period("2026-W47", kind="week")
GOOD = {"accuracy": 5, "spelling": 4, "grammar": 4, "personalisation": 3, "tone": 5, "resolution": 2}


def _world(rt: Triage) -> dict[str, object]:
    """Nadia and Chloe answer nine times each in week 47, Omar twice; one breached and one negative ticket."""
    with rt.db.transaction() as session:
        staff = reviewers(session, "ana", "ben", "cy")
        nadia = [conversation(session, agent=NADIA, at=WEEK_47 + timedelta(hours=i)) for i in range(8)]
        breached = conversation(session, agent=NADIA, at=WEEK_47 + timedelta(days=1), replies=2, breached=True)
        chloe = [conversation(session, agent=CHLOE, at=WEEK_47 + timedelta(hours=i), by_assignment=True)
                 for i in range(8)]
        negative = conversation(session, agent=CHLOE, at=WEEK_47 + timedelta(days=2), sentiment="negative")
        omar = [conversation(session, agent=OMAR, at=WEEK_47 + timedelta(days=3, hours=i)) for i in range(2)]
        earlier = conversation(session, agent=NADIA, at=WEEK_47 - timedelta(days=3))  # week 46
        return {"staff": staff, "nadia": nadia, "breached": breached, "chloe": chloe, "negative": negative,
                "omar": omar, "earlier": earlier,
                "agents": {e: agent_id(session, e) for e in (NADIA, CHLOE, OMAR)}}


def test_a_run_samples_each_agent_fairly_and_takes_every_flagged_reply(rt: Triage) -> None:
    world = _world(rt)
    agents = world["agents"]
    with rt.db.transaction() as session:
        run = create_run(W47, session=session, config=rt.config, seed=11, sample_size=3, created_by="lead")
        run_id = run.id
        review = [s for s in session.scalars(select(QaSample).where(QaSample.run_id == run.id))
                  if s.purpose == "review"]
        random_per_agent = Counter(s.agent_id for s in review if s.reasons == ["random"])
        assert random_per_agent == {agents[NADIA]: 3, agents[CHLOE]: 3, agents[OMAR]: 2}
        flagged = {s.message_id: s.reasons for s in review if s.reasons != ["random"]}
        assert flagged == {**{m: ["sla_breach"] for m in world["breached"].reply_ids},
                           world["negative"].reply_ids[0]: ["negative_sentiment"]}
        assert world["earlier"].reply_ids[0] not in {s.message_id for s in review}  # outside the period
        summary = {a["email"]: a for a in run.summary["agents"]}
        assert summary[OMAR]["shortfall"] == 1 and summary[NADIA]["shortfall"] == 0
        assert summary[NADIA]["samples"] == 5 and summary[CHLOE]["samples"] == 4
        assert summary["kenji.watanabe@larkspur.example"]["replies"] == 0  # no replies, still reported
        assert run.summary["replies"] == 21

        # Reviews are spread evenly; the two calibration samples each go to all three reviewers.
        reviews = list(session.scalars(select(QaReview).join(QaSample).where(QaSample.run_id == run.id,
                                                                            QaSample.purpose == "review")))
        per_reviewer = Counter(r.reviewer_id for r in reviews)
        # Balanced up to one ticket's worth: the breached ticket's two replies go to the same reviewer.
        assert len(reviews) == len(review) == 11 and max(per_reviewer.values()) - min(per_reviewer.values()) <= 2
        assert len({r.reviewer_id for r in reviews if r.sample.ticket_id == world["breached"].ticket_id}) == 1
        calibration = list(session.scalars(select(QaSample).where(QaSample.run_id == run.id,
                                                                  QaSample.purpose == "calibration")))
        assert len(calibration) == 2 and all(len(s.reviews) == 3 for s in calibration)
        assert not {s.message_id for s in calibration} & {s.message_id for s in review}

        # Pre-checks are stored with each sample.
        sample = next(s for s in review if s.agent_id == agents[NADIA] and s.reasons == ["random"])
        checks = sample.prechecks
        assert checks["spelling"]["count"] == 0
        assert checks["personalisation"]["verdict"] == "personal"
        assert checks["personalisation"]["shared_entities"] == ["LH-104233"]
        assert checks["response_time"]["metric"] == "first_response"
        assert checks["response_time"]["within_sla"] is True and checks["response_time"]["waited_minutes"] == 20.0
        assert checks["draft"]["verdict"] == "no_draft"
    with rt.db.session() as session:
        assert len(list_samples(session=session, run_id=run_id, agent_id=agents[OMAR])) == 2
        assert len(list_samples(session=session, reviewer_id=world["staff"]["ana"])) == per_reviewer[
            world["staff"]["ana"]] + 2


def test_the_same_seed_draws_the_same_replies_and_no_reply_is_reviewed_twice(rt: Triage) -> None:
    _world(rt)
    with rt.db.transaction() as session:
        first = create_run(W47, session=session, config=rt.config, seed=5, sample_size=3)
        drawn = sorted(session.scalars(select(QaSample.message_id).where(QaSample.run_id == first.id)))
        session.delete(first)  # the samples go with it
        session.flush()
        again = create_run(W47, session=session, config=rt.config, seed=5, sample_size=3)
        assert sorted(session.scalars(select(QaSample.message_id).where(QaSample.run_id == again.id))) == drawn
        second = create_run(W47, session=session, config=rt.config, seed=6, sample_size=3)
        later = list(session.scalars(select(QaSample).where(QaSample.run_id == second.id)))
        reviewed_before = set(session.scalars(select(QaSample.message_id).where(QaSample.run_id == again.id,
                                                                               QaSample.purpose == "review")))
        assert later and not {s.message_id for s in later if s.purpose == "review"} & reviewed_before
        assert all(s.reasons == ["random"] for s in later if s.purpose == "review")  # flagged ones were taken
        totals = Counter((s.message_id, s.purpose) for s in session.scalars(select(QaSample)))
        assert max(totals.values()) == 1


def test_no_reviewers_no_run(rt: Triage) -> None:
    with rt.db.transaction() as session, pytest.raises(UserError, match="no QA reviewers"):
        create_run(W47, session=session, config=rt.config)
    with rt.db.transaction() as session:
        reviewers(session, "ana")
        with pytest.raises(UserError, match="not an active QA reviewer"):
            create_run(W47, session=session, config=rt.config, reviewers=["ana", "zed"])
        run = create_run(W47, session=session, config=rt.config, reviewers=["ana"])
        assert "calibration needs at least two QA reviewers" in run.summary["notes"][0]


def test_scorecards_are_validated_and_amended_only_explicitly(rt: Triage) -> None:
    world = _world(rt)
    staff = world["staff"]
    with rt.db.transaction() as session:
        run = create_run(W47, session=session, config=rt.config, seed=3, sample_size=1)
        sample = next(s for s in session.scalars(select(QaSample).where(QaSample.run_id == run.id))
                      if s.purpose == "review")
        sample_id, owner = sample.id, sample.reviews[0].reviewer_id
    other = next(uid for uid in staff.values() if uid != owner)
    with rt.db.transaction() as session:
        with pytest.raises(NotAssignedError, match="not assigned to you"):
            submit_scorecard(sample_id, ScorecardIn(scores=GOOD), reviewer_id=other, session=session)
        bad = [({**GOOD, "tone": 6}, "tone: 6 is outside 1-5"),
               ({k: v for k, v in GOOD.items() if k != "grammar"}, "missing scores for grammar"),
               ({**GOOD, "empathy": 3}, "not on the rubric: empathy")]
        for scores, message in bad:
            with pytest.raises(ScorecardError, match=message):
                submit_scorecard(sample_id, ScorecardIn(scores=scores), reviewer_id=owner, session=session)
        with pytest.raises(ScorecardError, match="comments on items not on the rubric: speed"):
            submit_scorecard(sample_id, ScorecardIn(scores=GOOD, item_comments={"speed": "slow"}),
                             reviewer_id=owner, session=session)
        with pytest.raises(ConflictError, match="submit the scorecard first"):
            submit_scorecard(sample_id, ScorecardAmend(scores=GOOD, reason="typo"), reviewer_id=owner,
                             session=session, amend_reason="typo")
        review = submit_scorecard(sample_id, ScorecardIn(scores=GOOD, comment="Clear, but no next step."),
                                  reviewer_id=owner, session=session)
        # Weights .25 .10 .10 .15 .15 .25; positions on 1-5: 1, .75, .75, .5, 1, .25
        # -> .25 + .075 + .075 + .075 + .15 + .0625 = .6875
        assert review.total == 68.75
        assert get_sample(sample_id, session=session).status == "scored"
    with rt.db.transaction() as session:
        with pytest.raises(ConflictError, match="already scored"):
            submit_scorecard(sample_id, ScorecardIn(scores=GOOD), reviewer_id=owner, session=session)
    with rt.db.transaction() as session:
        amended = submit_scorecard(sample_id, ScorecardIn(scores={**GOOD, "resolution": 4}), reviewer_id=owner,
                                   session=session, amend_reason="missed the refund link", actor="ana")
        assert amended.amendments == 1 and amended.total == 81.25
        event = session.scalars(select(Event).where(Event.kind == "qa.scorecard.amended")).one()
        assert event.data["previous"]["total"] == 68.75 and event.data["reason"] == "missed the refund link"


def test_calibration_is_blind_until_the_panel_is_done_and_reports_agreement(rt: Triage) -> None:
    world = _world(rt)
    staff = world["staff"]
    with rt.db.transaction() as session:
        run = create_run(W47, session=session, config=rt.config, seed=8, sample_size=0)
        panels = [(s.id, [r.reviewer_id for r in s.reviews]) for s in
                  session.scalars(select(QaSample).where(QaSample.run_id == run.id,
                                                         QaSample.purpose == "calibration").order_by(QaSample.id))]
        run_id = run.id
    assert len(panels) == 2 and all(sorted(p) == sorted(staff.values()) for _, p in panels)
    # Scores per sample and reviewer (ana, ben, cy); only tone differs.
    given = {0: {"ana": GOOD, "ben": GOOD, "cy": {**GOOD, "tone": 4}},
             1: {"ana": {**GOOD, "tone": 2}, "ben": {**GOOD, "tone": 2}, "cy": {**GOOD, "tone": 2}}}
    with rt.db.transaction() as session:
        sample_id = panels[0][0]
        submit_scorecard(sample_id, ScorecardIn(scores=given[0]["ana"]), reviewer_id=staff["ana"], session=session)
        seen_by_ben = sample_detail(get_sample(sample_id, session=session), session=session, viewer_role="qa",
                                    viewer_id=staff["ben"])
        ana = next(r for r in seen_by_ben.reviews if r.reviewer == "ana")
        assert ana.status == "hidden" and ana.scores is None and seen_by_ben.total is None
        seen_by_ana = sample_detail(get_sample(sample_id, session=session), session=session, viewer_role="qa",
                                    viewer_id=staff["ana"])
        assert next(r for r in seen_by_ana.reviews if r.reviewer == "ana").scores == GOOD
        supervisor = sample_detail(get_sample(sample_id, session=session), session=session)
        assert next(r for r in supervisor.reviews if r.reviewer == "ana").scores == GOOD
        assert get_sample(sample_id, session=session).status == "partly_scored"
    with rt.db.transaction() as session:
        for index, (sample_id, _panel) in enumerate(panels):
            for name, scores in given[index].items():
                if (index, name) != (0, "ana"):
                    submit_scorecard(sample_id, ScorecardIn(scores=scores), reviewer_id=staff[name], session=session)
        seen_by_ben = sample_detail(get_sample(panels[0][0], session=session), session=session, viewer_role="qa",
                                    viewer_id=staff["ben"])
        assert all(r.scores is not None for r in seen_by_ben.reviews)
    with rt.db.session() as session:
        report = calibration_report(session=session, run_id=run_id)
    assert report.samples == report.complete_samples == 2
    items = {i.item: i for i in report.items}
    assert items["accuracy"].fleiss_kappa is None and items["accuracy"].exact_agreement == 1.0  # no variation
    tone = items["tone"]
    assert tone.fleiss_kappa == pytest.approx(fleiss_kappa([[5, 5, 4], [2, 2, 2]], categories=[1, 2, 3, 4, 5]),
                                              abs=1e-4)
    assert tone.samples == 2 and tone.ratings == 6 and len(tone.pairs) == 3
    ana_ben = next(p for p in tone.pairs if {p.reviewer_a, p.reviewer_b} == {"ana", "ben"})
    assert ana_ben.cohen_kappa == 1.0
    assert tone.exact_agreement == pytest.approx(4 / 6, abs=1e-4) and tone.within_one == 1.0
    cy = next(r for r in report.reviewers if r.reviewer == "cy")
    assert cy.bias is not None and cy.bias < 0  # cy scored tone lower than the panel
    assert any("unstable" in n for n in report.notes)


def test_agent_report_over_periods_with_trend(rt: Triage) -> None:
    world = _world(rt)
    staff = world["staff"]
    week_46 = parse_period("2026-W46", kind="week")
    with rt.db.transaction() as session:
        for period in (week_46, W47):
            run = create_run(period, session=session, config=rt.config, seed=1, sample_size=2)
            for sample in session.scalars(select(QaSample).where(QaSample.run_id == run.id,
                                                                 QaSample.purpose == "review")):
                poor = period is week_46
                for review in sample.reviews:
                    submit_scorecard(sample.id, ScorecardIn(scores={**GOOD, "resolution": 1 if poor else 5}),
                                     reviewer_id=review.reviewer_id, session=session)
        report = agent_report(NADIA, session=session)
        assert [p.period for p in report.periods] == ["2026-W46", "2026-W47"]
        w46, w47 = report.periods
        assert (w46.sampled, w46.scored, w46.mean_total) == (1, 1, 62.5)
        assert w47.scored == 4 and w47.mean_total == 87.5 and w47.change == 25.0
        assert w47.items["resolution"] == 5.0 and w47.reasons == {"random": 2, "sla_breach": 2}
        assert w47.checks["uses_name"] == 1.0 and w47.checks["within_sla"] == 1.0
        assert report.trend["direction"] == "improving" and report.trend["slope_per_period"] == 25.0
        assert report.scored == 5 and report.mean_total == pytest.approx((62.5 + 4 * 87.5) / 5, abs=0.01)
        assert agent_report(agent_id(session, NADIA), session=session, periods=1).periods[0].period == "2026-W47"
        with pytest.raises(UserError, match="no agent"):
            agent_report("nobody@larkspur.example", session=session)
        assert session.scalar(select(QaRun.id).where(QaRun.period == "2026-W46")) is not None
        _ = staff


def test_prechecks_see_the_draft_and_the_sentiment_model(rt: Triage) -> None:
    with rt.db.transaction() as session:
        reviewers(session, "ana")
        draft = "Hello Maria, your order LH-104233 left our warehouse today and should arrive on Friday."
        convo = conversation(session, agent=NADIA, at=WEEK_47,
                             answer="Hi {first}, your order LH-104233 left our warehouse today and arrives Friday.")
        suggestion = Suggestion(ticket_id=convo.ticket_id, intent="order_status", language="en", draft=draft,
                                snippets=[])
        session.add(suggestion)
        session.flush()
        session.add(SuggestionFeedback(suggestion_id=suggestion.id, ticket_id=convo.ticket_id, intent="order_status",
                                       action="edited", final_text="Hi Maria, your order LH-104233 left our warehouse "
                                       "today and arrives Friday.", actor="nadia"))
        session.flush()
        seen: list[list[str]] = []

        def model(texts: list[str]) -> list[tuple[str, float]]:
            seen.append(texts)
            return [("positive", 0.8) for _ in texts]

        run = create_run(W47, session=session, config=rt.config, seed=1, sentiment=model)
        sample = session.scalars(select(QaSample).where(QaSample.run_id == run.id)).one()
        assert seen == [["Hi Maria, your order LH-104233 left our warehouse today and arrives Friday."]]
        assert sample.prechecks["tone"]["model"] == {"label": "positive", "confidence": 0.8}
        kept = sample.prechecks["draft"]
        assert kept["suggestion_id"] == suggestion.id and kept["feedback"] == "edited"
        assert kept["verdict"] == "edited" and 0.6 < kept["kept_share"] < 1


def test_a_spanish_reply_is_checked_in_spanish_with_the_customers_own_words(rt: Triage) -> None:
    """The run detects the reply's language and accepts words the customer wrote (issue 15 item 4)."""
    with rt.db.transaction() as session:
        reviewers(session, "ana")
        conversation(session, agent=NADIA, at=WEEK_47, customer="Lucía Fernández",
                     question="Hola, mi pedido LH-104233 con la lámpara Lumiqo todavía no ha llegado.",
                     answer="Hola {first}, lo siento mucho: he revisado su pedido LH-104233 y la lámpara Lumiqo "
                            "llegará el viernes. Gracias por su paciencia.")
        run = create_run(W47, session=session, config=rt.config, seed=1)
        checks = session.scalars(select(QaSample).where(QaSample.run_id == run.id)).one().prechecks
    assert checks["language"] == "es"
    assert checks["spelling"]["verdict"] == "ok", checks["spelling"]
    assert checks["tone"]["verdict"] == "warm"
    assert checks["personalisation"]["verdict"] == "personal"


def test_two_runs_at_once_neither_fails_nor_shares_a_reply(rt: Triage) -> None:
    import threading

    _world(rt)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sample(seed: int) -> None:
        try:
            with rt.db.transaction() as session:
                barrier.wait(timeout=30)
                create_run(W47, session=session, config=rt.config, seed=seed, sample_size=4)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sample, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with rt.db.session() as session:
        rows = list(session.scalars(select(QaSample)))
        assert len({s.run_id for s in rows}) == 2
        assert len({(s.message_id, s.purpose) for s in rows}) == len(rows)
        # The second run saw the first: between them every flagged reply was taken exactly once.
        flagged = [s for s in rows if s.purpose == "review" and s.reasons != ["random"]]
        assert len(flagged) == 3
