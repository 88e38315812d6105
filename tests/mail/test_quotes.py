"""mail.quotes, one behaviour per test: reply headers, history markers, forwards, signatures, HTML containers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.parse import clean_text, strip_quotes, strip_signature
from mail.quotes import is_forward_subject, is_reply_header, split_reply, strip_html_quotes

QUOTE = "> Your order has shipped.\n"
FUZZ = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# -- reply headers ------------------------------------------------------------------------------------------------

def test_on_wrote_header_cuts_the_history() -> None:
    body = "Where is it?\n\nOn Mon, 9 Nov 2026 at 10:00, Support <s@larkspur.example> wrote:\nWe shipped it.\n"
    assert strip_quotes(body) == "Where is it?"


def test_header_wrapped_over_two_lines() -> None:
    body = "Where is it?\n\nOn Mon, 9 Nov 2026 at 10:00, Larkspur Support <s@larkspur.example>\nwrote:\n\n" + QUOTE
    assert strip_quotes(body) == "Where is it?"


def test_header_wrapped_over_three_lines() -> None:
    body = "Where is it?\n\nOn Nov 9, 2026, at 10:00 AM, Larkspur Support\n<s@larkspur.example>\nwrote:\n\n" + QUOTE
    assert strip_quotes(body) == "Where is it?"


def test_header_glued_to_the_address() -> None:
    body = ":+1:\n\nOn Tue, Sep 25, 2026 at 8:59 AM, Chris\n<notifications@example.com>wrote:\n\n" + QUOTE
    assert strip_quotes(body) == ":+1:"


HEADERS = {
    "en": "On Mon, 9 Nov 2026 at 10:00, Larkspur Support <s@larkspur.example> wrote:",
    "en-yahoo": "--- On Mon, 11/9/26, Larkspur Support <s@larkspur.example> wrote:",
    "de": "Am Mo., 9. Nov. 2026 um 10:15 Uhr schrieb Larkspur Support <s@larkspur.example>:",
    "fr": "Le lun. 9 nov. 2026 à 18:02, Larkspur Support <s@larkspur.example> a\u00a0écrit\u00a0:",
    "es": "El lun, 9 nov 2026 a las 11:20, Larkspur Support (<s@larkspur.example>) escribió:",
    "nl": "Op ma 9 nov. 2026 om 14:05 schreef Larkspur Support <s@larkspur.example>:",
    "it": "Il giorno lun 9 nov 2026 alle ore 12:30 Larkspur Support <s@larkspur.example> ha scritto:",
    "pt": "Em seg., 9 de nov. de 2026 às 15:45, Larkspur Support <s@larkspur.example> escreveu:",
    "sv": "Den mån 9 nov. 2026 kl 08:30 skrev Larkspur Support <s@larkspur.example>:",
    "da": "man. 9. nov. 2026 kl. 13.10 skrev Larkspur Support <s@larkspur.example>:",
    "pl": "W dniu 9.11.2026 o 17:25, Larkspur Support pisze:",
    "ru": "09.11.2026 14:20 пользователь Larkspur Support <s@larkspur.example> написал:",
    "ja": "2026年11月9日(月) 19:40 Larkspur Support <s@larkspur.example>:",
    "zh": "Larkspur Support <s@larkspur.example> 于2026年11月9日周一 21:30写道：",
    "yandex": "09.11.2026, 14:41, \"Larkspur Support\" <s@larkspur.example>:",
}


@pytest.mark.parametrize("header", HEADERS.values(), ids=HEADERS.keys())
def test_reply_header_in_each_language(header: str) -> None:
    assert strip_quotes(f"Danke.\n\n{header}\n{QUOTE}") == "Danke."


@pytest.mark.parametrize("line", ["On Monday your agent wrote:", "On Monday I tried your chat",
                                  "On your remote host you can run:", "On the login page it says:",
                                  "Am Ende schrieb ich:", "Please write to me at <me@example.com>:"])
def test_not_a_reply_header(line: str) -> None:
    assert not is_reply_header(line)


def test_on_monday_is_kept() -> None:
    body = "On Monday I tried your chat and nobody answered.\nPlease call me.\n"
    assert clean_text(body) == body.strip()


def test_sentence_before_a_wrapped_header_is_kept() -> None:
    body = "Hello\n09.11.2026 14:20 пользователь \"Support\" <\ns@larkspur.example> написал:\n\n" + QUOTE
    assert strip_quotes(body) == "Hello"


def test_quote_marks_are_dropped_without_a_header() -> None:
    assert strip_quotes("I agree with this:\n> We can refund you.\nPlease do.\n") == "I agree with this:\nPlease do."


def test_bottom_posted_answer_is_kept() -> None:
    body = "On Mon, 9 Nov 2026 at 10:00, Support <s@larkspur.example> wrote:\n" + QUOTE + "\nThanks, got it.\n"
    assert strip_quotes(body) == "Thanks, got it."


def test_inline_answers_are_kept() -> None:
    body = ("On Mon, 9 Nov 2026 at 10:00, Support <s@larkspur.example> wrote:\n> Which colour?\n\nSand.\n\n"
            "> Same address?\n\nYes.\n")
    assert strip_quotes(body) == "Sand.\n\nYes."


def test_header_followed_by_unquoted_history_cuts_everything_after_it() -> None:
    body = "Fine.\n\nOn Mon, 9 Nov 2026 at 10:00, Support <s@larkspur.example> wrote:\n\nWe shipped it.\n\nBye\n"
    assert strip_quotes(body) == "Fine."


def test_a_message_that_is_only_a_quote_keeps_its_text() -> None:
    body = "On Mon, 9 Nov 2026 at 10:00, Support <s@larkspur.example> wrote:\n" + QUOTE
    assert clean_text(body) == body.strip()


# -- other history markers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("separator", ["-----Original Message-----", "----- Original Message -----",
                                       "-----Ursprüngliche Nachricht-----", "-------- Message d'origine --------",
                                       "-----Mensaje original-----", "-----Oorspronkelijk bericht-----",
                                       "-----Messaggio originale-----", "-----Ursprungligt meddelande-----",
                                       "-----Wiadomość oryginalna-----"])
def test_original_message_separator(separator: str) -> None:
    assert strip_quotes(f"Refund me.\n\n{separator}\nWe refunded you.\n") == "Refund me."


BLOCKS = {
    "en": "From: Support <s@larkspur.example>\nSent: Monday, November 9, 2026 10:15\nTo: Anna\nSubject: Order",
    "de": "Von: Support <s@larkspur.example>\nGesendet: Montag, 9. November 2026 10:15\nAn: Anna\nBetreff: Order",
    "fr": "De : Support <s@larkspur.example>\nEnvoyé : lundi 9 novembre 2026 10:15\nÀ : Anna\nObjet : Order",
    "bold": "*From:* Support [mailto:s@larkspur.example]\n*Sent:* Monday, November 9, 2026\n*To:* Anna",
    "date-first": "Date: Mon, 9 Nov 2026 10:15\nSubject: Order\nFrom: s@larkspur.example\nTo: anna@example.com",
}


@pytest.mark.parametrize("block", BLOCKS.values(), ids=BLOCKS.keys())
def test_outlook_header_block(block: str) -> None:
    assert strip_quotes(f"Cancel it.\n\n{block}\n\nYour order is confirmed.\n") == "Cancel it."


def test_rule_above_a_header_block_is_trimmed() -> None:
    body = f"Cancel it.\n________________________________\n{BLOCKS['en']}\n\nConfirmed.\n"
    assert strip_quotes(body) == "Cancel it."


def test_from_line_alone_is_not_a_header_block() -> None:
    body = "From: my office in Leeds\nTo: be honest, I still have no parcel.\n"
    assert strip_quotes(body) == body.rstrip()


# -- forwards -----------------------------------------------------------------------------------------------------

FORWARD = ("---------- Forwarded message ---------\nFrom: Larkspur Home <orders@larkspur.example>\n"
           "Date: Sun, 8 Nov 2026 at 20:14\nSubject: Order confirmation LH-105512\n\nTotal charged: £89.99\n")


def test_inline_forward_under_a_short_note_is_kept() -> None:
    cleaned = clean_text("Charged twice!\n\n" + FORWARD)
    assert cleaned.startswith("Charged twice!\n\n---------- Forwarded message")
    assert cleaned.endswith("Total charged: £89.99")


def test_inline_forward_under_a_long_note_is_cut() -> None:
    note = "".join(f"Line {n} of a long complaint about the courier and the missing parcel.\n" for n in range(8))
    assert clean_text(note + "\n" + FORWARD) == note.strip()


def test_split_reply_separates_the_note_from_the_forward() -> None:
    own, forward = split_reply("FYI\n\n" + FORWARD)
    assert own == "FYI"
    assert forward.startswith("---------- Forwarded message") and forward.endswith("£89.99")


@pytest.mark.parametrize("marker", ["Begin forwarded message:", "-------- Forwarded Message --------",
                                    "---------- Weitergeleitete Nachricht ----------",
                                    "-------- Message transféré --------", "---------- Mensaje reenviado ---------"])
def test_forward_markers(marker: str) -> None:
    assert "Total charged" in clean_text(f"See below.\n\n{marker}\nFrom: a@example.com\n\nTotal charged: £1\n")


def test_signature_above_a_forward_is_dropped_and_the_forward_kept() -> None:
    cleaned = clean_text("See below.\n\nSent from my iPhone\n\nBegin forwarded message:\n\n> Parcel lost.\n")
    assert cleaned == "See below.\n\nBegin forwarded message:\n\n> Parcel lost."


def test_forwarded_flag_keeps_an_outlook_block() -> None:
    body = f"FYI\n\n{BLOCKS['en']}\n\nDelivery failed.\n"
    assert clean_text(body, forwarded=True).endswith("Delivery failed.")
    assert clean_text(body) == "FYI"


@pytest.mark.parametrize("subject", ["Fwd: Order", "FW: Order", "WG: Bestellung", "TR: Commande", "RV: Pedido",
                                     "[Ticket 12] Fwd: Order"])
def test_forward_subjects(subject: str) -> None:
    assert is_forward_subject(subject)


@pytest.mark.parametrize("subject", ["Re: Fwd: Order", "Forward planning", "AW: Bestellung", ""])
def test_not_forward_subjects(subject: str) -> None:
    assert not is_forward_subject(subject)


# -- signatures -----------------------------------------------------------------------------------------------------

def test_rfc_delimiter_cuts_the_signature() -> None:
    assert strip_signature("Help me.\n\n-- \nAnna Berg\nBerg & Co\n") == "Help me."


def test_bare_double_dash_far_above_the_end_is_kept() -> None:
    body = "Intro\n--\n" + "".join(f"Point {n}: the lamp flickers in a new way.\n" for n in range(25))
    assert strip_signature(body) == body.rstrip()


def test_double_dash_inside_a_line_is_not_a_delimiter() -> None:
    body = "Here is a fix -- this is not a signature.\n\nkthxbai"
    assert strip_signature(body) == body


MOBILE = ["Sent from my iPhone", "Sent from my Samsung Galaxy smartphone.", "Sent from my Verizon Wireless BlackBerry",
          "Sent from Mail for Windows", "Get Outlook for Android", "Get Outlook for iOS<https://aka.ms/o0ukef>",
          "Von meinem iPhone gesendet", "Envoyé de mon iPhone", "Enviado desde mi iPhone", "Inviato da iPhone",
          "Verzonden vanaf mijn iPhone", "Skickat från min iPhone", "Wysłane z mojego iPhone'a", "iPhoneから送信"]


@pytest.mark.parametrize("line", MOBILE)
def test_mobile_signature_line(line: str) -> None:
    assert strip_signature(f"Where is my parcel?\n\n{line}\n") == "Where is my parcel?"


def test_sent_from_my_sentence_is_kept() -> None:
    body = "Here is another email\n\nSent from my desk, is much easier then my mobile phone."
    assert strip_signature(body) == body


def test_mobile_line_far_above_the_end_is_kept() -> None:
    body = "Sent from my iPhone\n\n" + "".join(f"Detail {n} about the order.\n" for n in range(6))
    assert strip_signature(body) == body.rstrip()


def test_signoff_and_name_are_kept_by_default() -> None:
    body = "Where is my lamp?\n\nThanks,\nMaria"
    assert strip_signature(body) == body


def test_signoff_mode_drops_signoff_and_name() -> None:
    assert strip_signature("Where is my lamp?\n\nBest regards,\nMaria", signoff=True) == "Where is my lamp?"


def test_signoff_mode_drops_a_german_signoff() -> None:
    body = "Bitte Rechnung senden.\n\nMit freundlichen Grüßen\nHans"
    assert strip_signature(body, signoff=True) == "Bitte Rechnung senden."


def test_signoff_with_the_name_on_the_same_line() -> None:
    assert strip_signature("Got it.\n\nCheers, Sam", signoff=True) == "Got it."


def test_default_mode_drops_contact_details_below_the_name() -> None:
    body = "Can you deliver by Friday?\n\nThanks,\nMaria Jensen\nHead of Ops | Brightwater Ltd\n+44 161 496 0142\n"
    assert strip_signature(body) == "Can you deliver by Friday?\n\nThanks,\nMaria Jensen"


def test_signoff_mode_drops_contact_details_too() -> None:
    body = "Can you deliver by Friday?\n\nThanks,\nMaria Jensen\nHead of Ops | Brightwater Ltd\n+44 161 496 0142\n"
    assert strip_signature(body, signoff=True) == "Can you deliver by Friday?"


def test_signoff_in_the_middle_of_long_text_is_kept() -> None:
    body = ("The pitcher arrived.\n\nThanks,\nHannah\n\n"
            + "".join(f"One more thing, number {n}: the lid leaks when I pour water from it.\n" for n in range(8)))
    assert strip_signature(body, signoff=True) == body.rstrip()


def test_signoff_followed_by_a_postscript_is_kept() -> None:
    body = "Refund please.\n\nThanks,\nMaria\n\nP.S. The box was also damaged when it arrived yesterday."
    assert strip_signature(body, signoff=True) == body


def test_thanks_for_sentence_is_not_a_signoff() -> None:
    body = "The lamp works again.\n\nThanks for the quick reply"
    assert strip_signature(body, signoff=True) == body


def test_order_number_below_the_name_is_kept() -> None:
    body = "Refund me.\n\nThanks,\nLiam O'Brien\nACC-55231"
    assert strip_signature(body, signoff=True) == body


def test_name_and_contact_block_without_signoff() -> None:
    body = "Please call me back.\n\nGina Fox\ngina@example.com\n(555) 346-9947\nwww.example.com"
    assert strip_signature(body, signoff=True) == "Please call me back."
    assert strip_signature(body) == "Please call me back.\n\nGina Fox"


def test_sender_name_block_without_contact_details() -> None:
    body = "I can't go any higher.\n\nStavros Papas\nvia mobile"
    assert strip_signature(body, sender="Stavros Papas", signoff=True) == "I can't go any higher."
    assert strip_signature(body, signoff=True) == body


def test_mailing_list_footer_is_dropped() -> None:
    body = ("Any tips?\n\n_______________________________________________\nriak-users mailing list\n"
            "riak-users@lists.example.com\nhttp://lists.example.com/mailman/listinfo/riak-users\n")
    assert strip_signature(body) == "Any tips?"


def test_underlined_heading_is_kept() -> None:
    body = "Details\n-------\nLamp: 2\nBulbs: 4"
    assert strip_signature(body) == body


def test_clean_text_passes_the_sender_on() -> None:
    body = "I can't go any higher.\n\nStavros Papas\nvia mobile"
    assert clean_text(body, sender="Stavros Papas", signoff=True) == "I can't go any higher."


# -- HTML ---------------------------------------------------------------------------------------------------------

def _text(html: str) -> str:
    from mail.parse import html_to_text

    return html_to_text(strip_html_quotes(html))


def test_gmail_quote_container_is_removed() -> None:
    html = ('<div>Still broken.</div><div class="gmail_quote"><div class="gmail_attr">On Mon, 9 Nov 2026, '
            'S &lt;s@larkspur.example&gt; wrote:</div><blockquote class="gmail_quote">Try again.</blockquote></div>')
    assert _text(html) == "Still broken."


def test_gmail_forward_container_is_kept() -> None:
    html = ('<div>See below.<div class="gmail_quote">---------- Forwarded message ---------<br>From: A<br><br>'
            "Total: £5</div></div>")
    assert "Total: £5" in _text(html)


def test_outlook_reply_block_cuts_the_rest() -> None:
    html = ('<div>Use the new name.</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> S'
            "</div><div>Which name?</div>")
    assert _text(html) == "Use the new name."


def test_outlook_border_top_block_cuts_the_rest() -> None:
    html = ('<p>Die Rechnung fehlt.</p><div style="border:none;border-top:solid #E1E1E1 1.0pt">'
            "<p><b>Von:</b> S<br><b>Gesendet:</b> Montag</p></div><p>Anbei die Rechnung.</p>")
    assert _text(html) == "Die Rechnung fehlt."


def test_rule_above_a_from_line_cuts_the_rest() -> None:
    html = "<div>Hi there<hr><b>From: </b>bob@example.com<br><b>Sent: </b>Friday<br><p>Hello</p></div>"
    assert _text(html) == "Hi there"


def test_plain_rule_is_kept() -> None:
    html = "<div>Part one<hr>Part two</div>"
    assert strip_html_quotes(html) == html


def test_cite_blockquote_is_removed_and_a_bottom_answer_kept() -> None:
    html = ('<div class="moz-cite-prefix">On 09.11.26 10:00, S wrote:</div><blockquote type="cite">Delete it?'
            "</blockquote><p>Yes, delete it.</p>")
    assert _text(html) == "Yes, delete it."


def test_apple_forward_blockquote_is_kept() -> None:
    html = '<div>See below.</div><div>Begin forwarded message:</div><blockquote type="cite">Parcel lost.</blockquote>'
    assert "Parcel lost." in _text(html)


def test_html_without_quotes_is_returned_unchanged() -> None:
    html = "<p>Hello <b>there</b></p>"
    assert strip_html_quotes(html) is html


def test_forwarded_flag_leaves_html_alone() -> None:
    html = '<div>FYI</div><div class="gmail_quote">Old text</div>'
    assert strip_html_quotes(html, forwarded=True) is html


@pytest.mark.parametrize("html", ["", "   ", "<<<>>>", "<!-- x", "\x00\x01", '<?xml version="1.0" encoding="x"?><p>a'])
def test_unparseable_html_never_raises(html: str) -> None:
    assert isinstance(strip_html_quotes(html), str)


# -- never raises --------------------------------------------------------------------------------------------------

@FUZZ
@given(st.text(alphabet=st.sampled_from(list("On wrote:>-_ \n\t2026<@.>Von:Sent:From:Thanks,Mariaé年")), max_size=300),
       st.booleans(), st.booleans())
def test_clean_text_never_raises(text: str, forwarded: bool, signoff: bool) -> None:
    assert isinstance(clean_text(text, forwarded=forwarded, signoff=signoff), str)


@FUZZ
@given(st.text(max_size=300))
def test_strip_html_quotes_never_raises(html: str) -> None:
    assert isinstance(strip_html_quotes(f'<div class="gmail_quote">{html}</div><hr>{html}'), str)
