"""A QA reviewer scores a sample and amends the scorecard in real headless Chromium (issue 16 item 4).

Screenshots go to var/test-artifacts/desk/ beside the other desk pages'.
"""

from __future__ import annotations

from sqlalchemy import select

from tests.api.desk.browser import BROWSER_MARKS, chromium_browser, shot, sign_in_page, sqlite_database_url  # noqa: F401
from tests.api.desk.conftest import Seeded
from tests.api.desk.test_qa_desk import GOOD, seed_qa
from triage.qa.tables import QaReview
from triage.runtime import Triage

pytestmark = BROWSER_MARKS


def test_qa_reviewer_scores_a_sample_and_amends_it(rt: Triage, browser: object,
                                                   desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    qa = seed_qa(rt)
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        sign_in_page(page, base, "quinn")
        page.wait_for_url(f"{base}/qa")  # QA staff land on their samples
        mine = page.locator("table.mine tbody tr")
        row = mine.filter(has=page.locator(f'a[href="/qa/samples/{qa.mine}"]'))
        assert row.locator(".badge").inner_text() == "unscored"
        shot(page, "qa-home")

        row.get_by_role("link", name=f"Sample {qa.mine}").click()
        page.wait_for_url(f"{base}/qa/samples/{qa.mine}")
        assert page.get_by_label("The sampled reply").is_visible()
        assert page.locator(".prechecks .check").count() >= 4
        # A slip first: the server names the field and keeps what was typed.
        for item, score in GOOD.items():
            page.get_by_label(item.capitalize(), exact=False).fill(str(score))
        page.get_by_label("Resolution", exact=False).fill("9")
        page.get_by_label("Comment for the agent").fill("Right facts; say when the parcel arrives.")
        page.get_by_role("button", name="Submit scorecard").click()
        assert "9 is outside the scale" in page.locator("#error-resolution").inner_text()
        assert page.get_by_label("Tone", exact=False).input_value() == "5"
        page.get_by_label("Resolution", exact=False).fill("2")
        page.get_by_role("button", name="Submit scorecard").click()
        page.wait_for_url(f"{base}/qa/samples/{qa.mine}?saved=scored")
        assert "Scorecard saved." in page.locator("p.notice").inner_text()
        assert "68.8 %" in page.locator("table.scorecards").inner_text()
        shot(page, "qa-sample-scored")

        page.goto(f"{base}/qa")
        row = page.locator("table.mine tbody tr").filter(has=page.locator(f'a[href="/qa/samples/{qa.mine}"]'))
        assert row.locator(".badge").inner_text() == "scored"

        page.goto(f"{base}/qa/samples/{qa.mine}")
        assert page.get_by_label("Resolution", exact=False).input_value() == "2"  # my scores, to amend
        page.get_by_label("Resolution", exact=False).fill("4")
        page.get_by_label("Reason for the change").fill("misread the delivery date")
        page.get_by_role("button", name="Amend scorecard").click()
        page.wait_for_url(f"{base}/qa/samples/{qa.mine}?saved=amended")
        assert "amended 1×" in page.locator("table.scorecards").inner_text()
        shot(page, "qa-sample-amended")

        page.locator("h1 a").click()  # the agent's trend
        page.wait_for_url(f"{base}/qa/agents/*")
        assert page.locator("svg rect").count() == 1 and "81.2 %" in page.locator("table.trend").inner_text()
        shot(page, "qa-agent-trend")
        page.get_by_role("link", name="QA", exact=True).click()
        page.get_by_role("link", name="Calibration").click()
        page.wait_for_url(f"{base}/qa/calibration")
        assert "2 calibration samples" in page.locator("p.meta").inner_text()
        shot(page, "qa-calibration")
    finally:
        context.close()
    with rt.db.session() as session:
        review = session.scalars(select(QaReview).where(QaReview.sample_id == qa.mine)).one()
        assert review.scores == {**GOOD, "resolution": 4} and review.total == 81.25 and review.amendments == 1
