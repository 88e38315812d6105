"""Reply drafts an agent would send: templates, slots and knowledge-base sentences (no language model runs).

An email draft is: a greeting in the customer's language, the safety instruction first when the customer
reports a hazard, one sentence acknowledging what they wrote about (intent plus the order number or product
they named), empathy only when they are upset or it is pressing, an answer to what they explicitly asked
(a call back, a deadline, a quantity), the best snippets rewritten as plain sentences, a concrete next step and
a sign-off with the agent's name. A chat draft says the same in three or four short sentences without the
letter around it. When the intent is uncertain the draft is a short holding reply, and mail that is no support
request gets a short note that it reached us by mistake: a confident-sounding answer to the wrong question is
worse than none. The words live in `triage.knowledge.draft_texts` (English, German, French, Spanish).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from models.signals import Requests
from models.vocabulary import OUT_OF_SCOPE
from triage.knowledge.draft_texts import ACK, FULL_NAME_GREETING, GROUP_OF, NEXT, TEXT
from triage.knowledge.prose import reply_sentences, select_sentences

NEGATIVE = {"negative", "angry", "very_negative"}
PRESSING = {"high", "critical", "urgent"}
CHAT_ARTICLE_CHARS = 320  # a chat answer is read on a phone: two or three short sentences of the article
_GERMAN_NOUNS = frozenset({"montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag", "ende",
                           "woche", "wochenende", "januar", "februar", "märz", "april", "mai", "juni", "juli",
                           "august", "september", "oktober", "november", "dezember", "mittag", "abend"})
CHAT_CHARS = 480  # what a chat draft aims to stay under, all sentences included
BULK = 10  # from this many items on, consumer prices and delivery terms do not apply: the answer is a quote


@dataclass
class DraftInput:
    """Everything the template needs; snippets are (title, Markdown text) pairs of one article, in its order.

    `confident` says the intent is one the model is sure of (or an agent set); `safety` holds the knowledge
    base's safety instruction in the draft's language, used when `requests.hazard` is set.
    """

    language: str
    customer_name: str | None
    intent: str | None
    sentiment: str | None
    urgency: str | None
    order_number: str | None
    product: str | None
    query: str
    snippets: list[tuple[str, str]] = field(default_factory=list)
    agent_name: str | None = None
    company: str = "Triage"
    channel: str = "email"
    confident: bool = True
    requests: Requests = field(default_factory=Requests)
    phone: str | None = None
    safety: list[str] = field(default_factory=list)
    focus: int = 0  # which snippet the search ranked first; the others are its article's other sections


def draft_language(language: str | None) -> str:
    """The customer's language when we have templates for it, else English."""
    return language if language in TEXT else "en"


def is_bulk(requests: Requests) -> bool:
    """True when the customer asks about enough items that the answer is a quote, not the price list."""
    return any(int(q.split()[0].rstrip("xX")) >= BULK for q in requests.quantities if q.split()[0].rstrip("xX")
               .isdigit())


def _greeting_name(name: str | None, language: str, channel: str) -> str | None:
    if not name or "@" in name or not name.strip():
        return None
    name = " ".join(name.split())
    return name if language in FULL_NAME_GREETING and channel == "email" else name.split()[0]


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _said(words: str, language: str) -> str:
    """The customer's words for a sentence of ours: shouting ("by TOMORROW") lowered, German nouns capitalised."""
    def lower(m: re.Match[str]) -> str:
        word = m.group(0).lower()
        return _capital(word) if language == "de" and word in _GERMAN_NOUNS else word

    return re.sub(r"\b[^\W\d_]{2,}\b", lambda m: lower(m) if m.group(0).isupper() else m.group(0), words)


def _request_sentences(d: DraftInput, text: dict[str, str]) -> list[str]:
    out = []
    if d.requests.callback:
        out.append(text["callback"].format(at_number=text["at_number"].format(number=d.phone)) if d.phone
                   else text["callback_no_number"])
    if d.requests.deadline:
        out.append(text["deadline"].format(deadline=_said(d.requests.deadline[0], d.language)))
    if d.requests.quantities:
        out.append(text["quantity"].format(quantity=d.requests.quantities[0]))
    return out


def _article(d: DraftInput, lang: str, *, limit: int, chars: int | None = None) -> list[str]:
    """The sentences of the article that answer the query best, in the article's order; the section the search
    ranked first (`focus`) is preferred, the others complete it (a timeline, a condition, the next step)."""
    sentences: list[str] = []
    bonus: list[float] = []
    for i, (_title, body) in enumerate(d.snippets):
        for n, sentence in enumerate(reply_sentences(body, lang)):
            if sentence not in sentences:
                sentences.append(sentence)
                # The ranked section first, its opening most; an article's introduction is rarely the answer.
                bonus.append((1.5 + (0.5 if n == 0 else 0.0)) if i == d.focus else 0.0)
    return select_sentences(sentences, d.query, limit=limit, bonus=bonus, chars=chars)


def compose(d: DraftInput, *, max_sentences: int = 5) -> str:
    """The draft reply as plain text, paragraphs separated by blank lines."""
    lang = draft_language(d.language)
    text = TEXT[lang]
    chat = d.channel == "chat"
    hazard = bool(d.requests.hazard)
    asks = bool(d.requests.callback or d.requests.quantities)  # a date alone is also in an invitation
    # A message that asks for something concrete is never told it reached us by mistake: a holding reply instead.
    out_of_scope = d.confident and d.intent == OUT_OF_SCOPE and not hazard and not asks
    answer = d.confident and d.intent != OUT_OF_SCOPE  # a draft built on the intent
    intent = d.intent if answer and d.intent in ACK[lang] else ""
    product_slot = "product_question" if intent == "product_question" else "product"
    number = d.order_number
    slots = {
        "order": text["order"].format(number=number) if number else "",
        "for_order": text["for_order"].format(number=number) if number else "",
        "quoting_order": text["quoting_order"].format(number=number) if number else "",
        "product": text[product_slot].format(product=d.product) if d.product else "",
    }
    name = _greeting_name(d.customer_name, lang, d.channel)
    key = "chat_greeting" if chat else "greeting"
    greeting = text[key].format(name=name) if name else text[f"{key}_anon"]

    ack = ACK[lang][intent].format(**slots)
    ack = ack if lang == "de" and not chat else _capital(ack)  # German mail continues the greeting's sentence
    # A complaint is unhappy by definition, whatever the sentiment model read into its polite words.
    upset = (d.sentiment or "") in NEGATIVE or (answer and d.intent == "complaint")
    pressing = (d.urgency or "") in PRESSING
    feeling = []
    if chat and upset:
        feeling.append(text["chat_sorry"])
    elif not chat and (upset or (pressing and not out_of_scope)):
        feeling.append(text["sorry_urgent" if upset and pressing else "sorry" if upset else "urgent"])
    safety = (d.safety or [text["safety"]]) if hazard else []
    if chat:
        safety = safety[:2]
    asked = [] if out_of_scope else _request_sentences(d, text)

    body: list[str] = []
    if out_of_scope:
        body = [text["chat_out_of_scope" if chat else "out_of_scope"].format(company=d.company)]
    elif not answer:
        body = [text["chat_holding" if chat else "holding"]]
    elif d.snippets and not hazard and not is_bulk(d.requests):
        room = None
        if chat:  # the sentences that matter most and fit, not the first three cut to fit
            rest = len(" ".join([greeting, *safety, ack, *feeling, *asked, text["chat_next"]]))
            room = max(0, min(CHAT_ARTICLE_CHARS, CHAT_CHARS - rest))
        sentences = _article(d, lang, limit=3 if chat else max_sentences, chars=room)
        body = sentences if chat else [*sentences, text["more"].format(title=d.snippets[d.focus][0])]
    elif not asked and not hazard:
        body = [text["nothing"]]

    if chat:
        first = " ".join([greeting, *safety])
        middle = " ".join([*([] if out_of_scope else [ack]), *feeling, *asked, *body])
        closing = "" if out_of_scope else text["chat_next"]
        return "\n\n".join(p for p in (first, middle, closing) if p)

    paragraphs = [greeting]
    if safety:
        paragraphs.append(" ".join(safety))
    paragraphs.append(" ".join([ack, *feeling]))
    for part in (asked, body):
        if part:
            paragraphs.append(" ".join(part))
    if answer or hazard:
        group = "hazard" if hazard else GROUP_OF.get(intent, "")
        paragraphs.append(NEXT[lang][group].format(**slots))
    signature = [text["closing"]]
    if d.agent_name:
        signature.append(d.agent_name)
    signature.append(text["team"].format(company=d.company))
    paragraphs.append("\n".join(signature))
    return "\n\n".join(paragraphs)
