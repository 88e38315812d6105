"""The models pages in real headless Chromium: a data scientist compares two versions and promotes one.

Screenshots go to var/test-artifacts/desk/ as for the other desk pages.
"""

from __future__ import annotations

import json
import re

# Fixtures shared with the other desk tests: Chromium, and the HTTP tests' SQLite database, own copy of the
# registry, people and seeded versions.
from tests.api.desk.browser import BROWSER_MARKS, chromium_browser, shot, sign_in_page  # noqa: F401
from tests.api.desk.test_models_desk import (  # noqa: F401
    Versions,
    database_url,
    models_server,
    mood_rows,
    settings,
)
from triage.runtime import Triage

pytestmark = BROWSER_MARKS


def test_data_scientist_compares_two_versions_and_promotes_one(rt: Triage, browser: object,
                                                               models_server: tuple[str, Versions],  # noqa: F811
                                                               ) -> None:
    from playwright.sync_api import expect

    base, v = models_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        sign_in_page(page, base, "dana")
        page.wait_for_url(f"{base}/models")  # a data scientist lands on the models page, not a queue
        assert page.get_by_role("link", name="Models").is_visible()
        assert page.get_by_role("link", name="My queue").count() == 0
        sentiment = page.locator("#task-sentiment")
        assert sentiment.locator(".served-version").inner_text() == v.base
        shot(page, "models")

        page.get_by_label("Version A").select_option(v.base)
        page.get_by_label("Version B").select_option(v.worse)
        page.get_by_role("button", name="Compare").click()
        page.wait_for_url(f"{base}/models/compare?a={v.base}&b={v.worse}")
        macro = page.locator("tr", has=page.locator("th", has_text="macro_f1"))
        assert "delta-worse" in (macro.get_attribute("class") or "")
        assert "-0.0500" in macro.inner_text() and "(worse)" in macro.inner_text()
        shot(page, "models-compare")

        page.get_by_role("button", name=f"Promote {v.worse}").click()
        page.wait_for_url(f"{base}/models?promoted={v.worse}")
        assert page.locator("p.notice").inner_text() == f"{v.worse} is served from now on."
        assert page.locator("#task-sentiment .served-version").inner_text() == v.worse
        assert rt.registry.current("sentiment") == v.worse

        page.get_by_role("link", name=v.worse, exact=True).first.click()
        page.wait_for_url(f"{base}/models/{v.worse}")
        figure = page.get_by_role("img", name=f"Confusion matrix of {v.worse}")
        # The image came through the desk's session-checked route and decoded: it has a width.
        assert figure.evaluate("img => img.complete && img.naturalWidth > 0")
        shot(page, "models-version")

        # A training job started from the form: its page follows it (static/models.js) until it succeeds.
        page.goto(f"{base}/models")
        page.get_by_label("Task").select_option("sentiment")
        page.get_by_label("A file I upload").check()
        data = "".join(json.dumps(r) + "\n" for r in mood_rows()).encode()
        page.get_by_label("File (for an upload)").set_input_files(
            {"name": "moods.jsonl", "mimeType": "application/jsonl", "buffer": data})
        page.get_by_role("button", name="Start training").click()
        page.wait_for_url(re.compile(r".*/models/jobs/\d+$"))
        status = page.locator("[data-field=status]")
        assert status.inner_text() in ("queued", "running")  # training takes seconds: not done at first sight
        # Without a reload: only the script's polling can change these.
        expect(status).to_have_text("succeeded", timeout=90_000)
        assert page.locator("progress").evaluate("bar => bar.value") == 100
        outcome = page.locator("[data-field=outcome]")
        assert "not promoted" in outcome.inner_text()
        assert outcome.get_by_role("link").inner_text().startswith("sentiment-")
        shot(page, "models-job")
    finally:
        context.close()
