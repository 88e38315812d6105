"""Never auto-reply to automatic mail, lists, bounces, robots, ourselves or our own loop header."""

from __future__ import annotations

import pytest

from mail.loops import auto_reply_blocker, is_robot_address

OURS = {"support@larkspur.example", "billing@larkspur.example"}


def _blocker(headers: dict[str, str], sender: str = "maria@example.com", auto_kind: str | None = None) -> str | None:
    return auto_reply_blocker(headers, sender, our_addresses=OURS, instance_id="triage-test", auto_kind=auto_kind)


def test_ordinary_customer_mail_may_be_answered() -> None:
    assert _blocker({"auto-submitted": "no", "precedence": "first-class"}) is None
    assert _blocker({}) is None


@pytest.mark.parametrize(("headers", "reason"), [
    ({"x-triage-loop": "triage-test"}, "loop header"),
    ({"auto-submitted": "auto-replied"}, "Auto-Submitted"),
    ({"auto-submitted": "auto-generated"}, "Auto-Submitted"),
    ({"precedence": "bulk"}, "Precedence"),
    ({"precedence": "junk"}, "Precedence"),
    ({"precedence": "list"}, "Precedence"),
    ({"precedence": "auto_reply"}, "Precedence"),
    ({"x-autoreply": "yes"}, "x-autoreply"),
    ({"x-autorespond": "Out of office"}, "x-autorespond"),
    ({"x-auto-response-suppress": "All"}, "Suppress"),
    ({"x-auto-response-suppress": "OOF, AutoReply"}, "Suppress"),
    ({"list-id": "<customers.lists.example.org>"}, "mailing-list"),
    ({"list-unsubscribe": "<mailto:leave@example.org>"}, "mailing-list"),
    ({"return-path": "<>"}, "Return-Path"),
    ({"x-failed-recipients": "someone@example.net"}, "bounce"),
])
def test_automatic_markers_block(headers: dict[str, str], reason: str) -> None:
    blocked = _blocker(headers)
    assert blocked is not None and reason.lower() in blocked.lower()


def test_a_different_instance_loop_header_is_not_ours() -> None:
    assert _blocker({"x-triage-loop": "another-instance"}) is None


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.com", "postmaster@example.org", "noreply@shop.example",
                                    "no-reply@bank.example", "do-not-reply@x.example", "donotreply@x.example",
                                    "list-bounces@lists.example.org", "owner-customers@lists.example.org"])
def test_robot_senders(sender: str) -> None:
    assert is_robot_address(sender)
    assert "robot" in (_blocker({}, sender=sender) or "")


@pytest.mark.parametrize("sender", ["maria@example.com", "noreen@example.com", "replyguy@example.com",
                                    "post.master.chef@example.com"])
def test_people_are_not_robots(sender: str) -> None:
    assert not is_robot_address(sender)


def test_our_own_addresses_and_bounces() -> None:
    assert "our own" in (_blocker({}, sender="Support@Larkspur.example") or "")
    assert "bounce" in (_blocker({}, auto_kind="bounce") or "")
    assert _blocker({}, sender="") is not None
