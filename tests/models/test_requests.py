"""Explicit requests in customer text (hazard, call back, deadline, quantity) in the four shipped languages."""

from __future__ import annotations

import pytest

from models.signals import explicit_requests


@pytest.mark.parametrize(("text", "hazard", "callback", "deadline", "quantity"), [
    ("My Ember heater smells of burning. Please call me back on 0171 234567, I need it fixed by Friday!",
     ["burning"], ["call me back"], ["by Friday"], []),
    ("Wir möchten 20 Cirrus-Luftreiniger bestellen. Bitte rufen Sie mich an, wir brauchen sie bis Freitag.",
     [], ["rufen Sie mich an"], ["bis Freitag"], ["20 Cirrus-Luftreiniger"]),
    ("Mon radiateur fait des étincelles ! Rappelez-moi, j'en ai besoin pour demain.",
     ["étincelles"], ["Rappelez-moi"], ["demain"], []),
    ("Necesito 15 unidades antes del viernes. Llámeme, por favor.",
     [], ["Llámeme"], ["antes del viernes"], ["15 unidades"]),
    ("I need it TOMORROW.", [], [], ["TOMORROW"], []),
])
def test_requests_in_each_language(text: str, hazard: list[str], callback: list[str], deadline: list[str],
                                   quantity: list[str]) -> None:
    found = explicit_requests(text)
    assert [h.lower() for h in found.hazard] == [h.lower() for h in hazard]
    assert found.callback == callback
    assert found.deadline[:1] == deadline
    assert found.quantities == quantity


def test_what_is_not_a_request() -> None:
    # A relaxed customer has no deadline; a year, one item or a price is no quantity; "call" alone is no callback.
    found = explicit_requests("No rush at all, whenever you can by Friday. I bought 1 lamp in 2024 for 49 EUR "
                              "and my call with the bank went fine.")
    assert (found.hazard, found.callback, found.deadline, found.quantities) == ([], [], [], [])
