"""The QA desk over HTTP on a real socket: who may see it, the scorecard form's validation, amend with a reason,
calibration and an agent's trend (issue 16 item 4)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import select

from api.desk.qa_pages import trend_bars
from tests.api.desk.conftest import PASSWORD, Seeded, hidden, sign_in
from tests.triage.qa_data import CHLOE, NADIA, OMAR, WEEK_47, conversation
from triage.events.tables import Event
from triage.qa import service
from triage.qa.periods import parse_period
from triage.qa.schemas import ScorecardIn
from triage.qa.tables import QaReview, QaSample
from triage.runtime import Triage
from triage.users.service import create_user

GOOD = {"accuracy": 5, "spelling": 4, "grammar": 4, "personalisation": 3, "tone": 5, "resolution": 2}  # 68.75 %
RUDE = "Dear customer, we recieved your message. As I already said, it is NOT our problem."


@dataclass
class QaSeeded:
    run_id: int
    mine: int  # a review sample assigned to quinn
    others: int  # a review sample assigned to rita only
    calibration: list[int]  # samples both reviewers score


def seed_qa(rt: Triage) -> QaSeeded:
    """QA reviewers quinn and rita (desk passwords) and a week-47 run over replies by Nadia, Chloe and Omar."""
    with rt.db.transaction() as session:
        create_user("quinn", "qa", session=session, password=PASSWORD)
        create_user("rita", "qa", session=session, password=PASSWORD)
        for i in range(3):
            conversation(session, agent=NADIA, at=WEEK_47 + timedelta(hours=i))
            conversation(session, agent=CHLOE, at=WEEK_47 + timedelta(hours=i, minutes=5))
        conversation(session, agent=OMAR, at=WEEK_47 + timedelta(days=1), breached=True, answer=RUDE)
        run = service.create_run(parse_period("2026-W47", kind="week"), session=session, config=rt.config, seed=3,
                                 sample_size=1, reviewers=["quinn", "rita"], created_by="test")
        samples = list(session.scalars(select(QaSample).where(QaSample.run_id == run.id).order_by(QaSample.id)))
        quinn, rita = (service.resolve_reviewer(n, session=session).id for n in ("quinn", "rita"))

        def review_for(reviewer: int) -> int:
            return next(s.id for s in samples if s.purpose == "review" and [r.reviewer_id for r in s.reviews]
                        == [reviewer])

        calibration = [s.id for s in samples if s.purpose == "calibration"]
        assert calibration, "the run drew no calibration samples"
        return QaSeeded(run.id, review_for(quinn), review_for(rita), calibration)


def _form(client: httpx.Client, sample_id: int, **values: str) -> httpx.Response:
    """POST the scorecard form as the page shows it (its CSRF token and mode), with these fields."""
    page = client.get(f"/qa/samples/{sample_id}")
    assert page.status_code == 200, page.text
    data = {"csrf": hidden(page.text, "csrf"), "mode": hidden(page.text, "mode"), **values}
    return client.post(f"/qa/samples/{sample_id}/scorecard", data=data)


def _scores(**changes: int | str) -> dict[str, str]:
    return {f"score_{name}": str(value) for name, value in {**GOOD, **changes}.items()}


def _field_error(page: str, item: str) -> str:
    found = re.search(rf'<p class="field-error" id="error-{item}">([^<]*)</p>', page)
    assert found is not None, f"no error shown next to {item}"
    return html.unescape(found.group(1))


def _value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert found is not None, name
    return html.unescape(found.group(1))


def test_qa_desk_is_for_qa_staff_and_supervisors(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    qa = seed_qa(rt)
    with httpx.Client(base_url=base, timeout=60) as agent:
        assert sign_in(agent, "nadia").status_code == 303
        assert 'href="/qa"' not in agent.get("/").text  # no QA link in an agent's nav
        for path in ("/qa", f"/qa/samples/{qa.mine}", "/qa/calibration", f"/qa/agents/{NADIA}"):
            refused = agent.get(path)
            assert refused.status_code == 403, path
            assert "Nadia" not in refused.text and "recieved" not in refused.text
        csrf = hidden(agent.get("/").text, "csrf")
        posted = agent.post(f"/qa/samples/{qa.mine}/scorecard", data={"csrf": csrf, "mode": "score", **_scores()})
        assert posted.status_code == 403
    with httpx.Client(base_url=base, timeout=60) as boss:
        assert sign_in(boss, "boss").status_code == 303
        home = boss.get("/qa")
        assert home.status_code == 200 and 'href="/qa"' in home.text
        assert f'href="/qa/samples/{qa.mine}"' in home.text  # open in the latest run, though not his to score
        sample = boss.get(f"/qa/samples/{qa.mine}")
        assert sample.status_code == 200 and "not assigned to you" in sample.text
        assert "score_accuracy" not in sample.text
        assert boss.get("/qa/samples/999999").status_code == 404
        assert boss.get("/qa/agents/nobody@example.com").status_code == 404
        assert boss.get("/qa/calibration", params={"run": 999999}).status_code == 404
    with httpx.Client(base_url=base, timeout=60) as rita:
        assert sign_in(rita, "rita").status_code == 303
        landing = rita.get("/")  # QA staff have no queue of their own: their desk opens on the samples
        assert landing.status_code == 303 and landing.headers["location"] == "/qa"
        page = rita.get(f"/qa/samples/{qa.mine}")  # QA staff read any sample, and score only their own
        assert page.status_code == 200 and "score_accuracy" not in page.text
        stolen = rita.post(f"/qa/samples/{qa.mine}/scorecard", data={"csrf": hidden(page.text, "csrf"),
                                                                     "mode": "score", **_scores()})
        assert stolen.status_code == 403 and "not assigned to you" in stolen.text
    with rt.db.session() as session:
        assert all(r.submitted_at is None for r in session.scalars(select(QaReview)))


def test_sample_page_shows_the_reply_in_context_and_its_prechecks(rt: Triage,
                                                                  desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    qa = seed_qa(rt)
    with rt.db.session() as session:
        [omar] = [s for s in session.scalars(select(QaSample).where(QaSample.purpose == "review"))
                  if "sla_breach" in s.reasons]
        name = service.resolve_reviewer(omar.reviews[0].reviewer_id, session=session).name
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, name).status_code == 303
        page = client.get(f"/qa/samples/{omar.id}")
        assert page.status_code == 200
        text = html.unescape(page.text)
        # The customer's question, then the sampled reply, marked as such.
        assert text.index("has not arrived") < text.index("we recieved your message") and 'id="reply"' in text
        # Verdicts with the service's own explanations.
        assert re.search(r"Spelling: <span class=\"verdict\">check</span>", page.text)
        assert "recieved" in text and "received" in text  # the misspelling and the suggestion
        assert "Tone: <span class=\"verdict\">concern</span>" in page.text
        assert "Personalisation: <span class=\"verdict\">generic</span>" in page.text
        assert "the ticket breached: resolution" in text
        # One labelled number field per rubric item, with its scale.
        for item in GOOD:
            assert re.search(rf'<label for="score-{item}">[^<]*\(1–5\)</label>', text), item
            assert f'id="score-{item}" name="score_{item}" type="number"' in page.text
        assert hidden(page.text, "mode") == "score" and 'name="reason"' not in page.text
        assert qa.run_id


def test_scorecard_validation_keeps_what_was_entered(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    qa = seed_qa(rt)
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "quinn").status_code == 303
        entered = {**_scores(resolution=0, tone=4), "score_grammar": "four", "score_accuracy": "",
                   "comment": "Facts right, <b>no</b> next step."}
        refused = _form(client, qa.mine, **entered)
        assert refused.status_code == 422
        page = refused.text
        assert _field_error(page, "accuracy") == "Give a score: a whole number from 1 to 5."
        assert _field_error(page, "grammar") == "'four' is not a whole number from 1 to 5."
        assert _field_error(page, "resolution") == "0 is outside the scale: a whole number from 1 to 5."
        assert 'id="error-tone"' not in page and 'id="error-spelling"' not in page
        # What the reviewer typed is still there, wrong values included, so only the mistakes need fixing.
        assert _value(page, "score_tone") == "4" and _value(page, "score_grammar") == "four"
        assert _value(page, "score_resolution") == "0" and _value(page, "score_accuracy") == ""
        assert "Facts right, &lt;b&gt;no&lt;/b&gt; next step.</textarea>" in page
        assert 'aria-invalid="true"' in page and 'aria-describedby="help-grammar error-grammar"' in page
        assert _form(client, qa.mine, **_scores(tone=-2)).status_code == 422
        assert _form(client, qa.mine, **_scores(tone="4.5")).status_code == 422
        assert _form(client, qa.mine, **_scores(tone="٤")).status_code == 422
        missing_token = client.post(f"/qa/samples/{qa.mine}/scorecard", data={"mode": "score", **_scores()})
        assert missing_token.status_code == 403
    with rt.db.session() as session:
        review = session.scalars(select(QaReview).where(QaReview.sample_id == qa.mine)).one()
        assert review.submitted_at is None and review.scores is None


def test_score_then_amend_with_a_reason(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    qa = seed_qa(rt)
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "quinn").status_code == 303
        home = client.get("/qa").text
        row = re.search(rf'<tr class="unscored">\s*<td><a href="/qa/samples/{qa.mine}"', home)
        assert row is not None, "my sample is listed as unscored"
        assert f'href="/qa/samples/{qa.others}"' in home  # rita's, open in the latest run

        scored = _form(client, qa.mine, **_scores(), comment="Good facts,\r\nno next step.")
        assert scored.status_code == 303 and scored.headers["location"] == f"/qa/samples/{qa.mine}?saved=scored"
        page = client.get(scored.headers["location"]).text
        assert "Scorecard saved." in page and "68.8 %" in page
        assert hidden(page, "mode") == "amend" and _value(page, "score_resolution") == "2"
        assert re.search(r'<input id="score-reason" name="reason" value="" required', page)
        assert re.search(rf'<tr class="scored">\s*<td><a href="/qa/samples/{qa.mine}"', client.get("/qa").text)

        # An amendment without a reason is refused; the entered scores stay; nothing changes.
        no_reason = _form(client, qa.mine, **_scores(resolution=4), reason="   ")
        assert no_reason.status_code == 422 and "Say why" in _field_error(no_reason.text, "reason")
        assert _value(no_reason.text, "score_resolution") == "4"
        # A stale "score" form (say, another tab) does not overwrite the submitted scorecard.
        stale = client.post(f"/qa/samples/{qa.mine}/scorecard",
                            data={"csrf": hidden(page, "csrf"), "mode": "score", **_scores(resolution=5)})
        assert stale.status_code == 422 and "amend it (PUT) with a reason" in html.unescape(stale.text)

        amended = _form(client, qa.mine, **_scores(resolution=4), comment="Good facts.", reason="misread the refund")
        assert amended.status_code == 303 and amended.headers["location"].endswith("?saved=amended")
        assert "amended 1×" in client.get(amended.headers["location"]).text
    with rt.db.session() as session:
        review = session.scalars(select(QaReview).where(QaReview.sample_id == qa.mine)).one()
        assert review.scores == {**GOOD, "resolution": 4} and review.total == 81.25 and review.amendments == 1
        assert review.comment == "Good facts."
        sample = session.get(QaSample, qa.mine)
        assert sample is not None and sample.status == "scored"
        audit = session.scalars(select(Event).where(Event.kind == "qa.scorecard.amended")).one()
        assert audit.data["reason"] == "misread the refund" and audit.data["previous"]["total"] == 68.75
        assert audit.data["previous"]["comment"] == "Good facts,\nno next step."


def test_calibration_table_and_agent_trend(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    qa = seed_qa(rt)
    with rt.db.transaction() as session:
        for sample_id in qa.calibration:
            for name, score in (("quinn", 4), ("rita", 2)):
                service.submit_scorecard(sample_id, ScorecardIn(scores={**GOOD, "tone": score}), session=session,
                                         reviewer_id=service.resolve_reviewer(name, session=session).id)
        nadia = session.scalars(select(QaSample).where(QaSample.purpose == "review",
                                                       QaSample.agent_id == service.resolve_agent(
                                                           NADIA, session=session).id)).one()
        reviewer = nadia.reviews[0].reviewer_id
        service.submit_scorecard(nadia.id, ScorecardIn(scores=GOOD), session=session, reviewer_id=reviewer)
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "quinn").status_code == 303
        page = client.get("/qa/calibration", params={"run": qa.run_id})
        assert page.status_code == 200
        text = html.unescape(page.text)
        tone = re.search(r'<tr><th scope="row">tone</th>(.*?)</tr>', text, flags=re.S)
        assert tone is not None and "0 %" in tone.group(1)  # quinn and rita never gave the same tone score
        accuracy = re.search(r'<tr><th scope="row">accuracy</th>(.*?)</tr>', text, flags=re.S)
        assert accuracy is not None and "100 %" in accuracy.group(1)
        # Pairs, and the bias: quinn's totals are 3.75 points above the panel's mean (65 against 57.5).
        assert "quinn and rita" in text and "+3.8" in text

        trend = client.get(f"/qa/agents/{NADIA}")
        assert trend.status_code == 200
        assert '<svg role="img"' in trend.text and "<rect " in trend.text
        week = re.search(r'<tr><th scope="row">2026-W47</th>(.*?)</tr>', trend.text, flags=re.S)
        assert week is not None and "68.8 %" in week.group(1)
    assert trend_bars([{"period": "2026-W46", "mean_total": None},
                       {"period": "2026-W47", "mean_total": 50.0}])[1]["height"] == 60.0
