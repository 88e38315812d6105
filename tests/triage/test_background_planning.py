"""`triage serve` runs the survey invitations and the emerging-issue pass on their intervals (issue 17)."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from tests.triage.test_surveys import Shop
from triage.background import Background, BackgroundOptions
from triage.db import utcnow
from triage.runtime import Triage
from triage.surveys.tables import SurveyInvitation

QUIET = {"worker": False, "outbox": False, "imap": False, "sla": False, "shifts": False, "retention": False}


def test_serve_invites_for_solved_tickets_when_surveys_are_on(rt: Triage) -> None:
    rt.config.surveys.enabled = True
    rt.config.planning.alert_interval = ""  # alerts off: no loop for them
    with rt.db.transaction() as session:
        shop = Shop(session)
        shop.solved(shop.customer("maria@example.com"), solved=utcnow() - timedelta(hours=1))
    services = Background(rt, BackgroundOptions(**QUIET))
    services.start()
    try:
        deadline = time.monotonic() + 30
        invited: list[SurveyInvitation] = []
        while not invited and time.monotonic() < deadline:
            with rt.db.session() as session:
                invited = list(session.scalars(select(SurveyInvitation)))
            time.sleep(0.2)
        names = {t.name for t in services.threads}
    finally:
        services.stop()
    assert len(invited) == 1
    assert "triage-surveys" in names and "triage-alerts" not in names


def test_no_survey_loop_while_surveys_are_off_and_alerts_on_by_default(rt: Triage) -> None:
    assert rt.config.surveys.enabled is False and rt.config.planning.alert_interval == "1h"
    services = Background(rt, BackgroundOptions(**QUIET, planning=True))
    services.start()
    names = {t.name for t in services.threads}
    services.stop()
    assert "triage-alerts" in names and "triage-surveys" not in names
