"""Reply drafts from templates, slots and knowledge-base snippets (no language model runs offline).

A draft is: greeting with the customer's name, one sentence acknowledging their problem (intent plus
the order number or product they mentioned), empathy when they are upset or it is urgent, the best
snippets rewritten as plain sentences, a concrete next step, and the agent's signature. Templates
exist for English and German; other languages get the English template.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from triage.knowledge.prose import reply_sentences, select_sentences

NEGATIVE = {"negative", "angry", "very_negative"}
PRESSING = {"high", "critical", "urgent"}

# Acknowledgements per intent. Slots: {order} " LH-104233" or "", {for_order} " for order LH-104233" or "",
# {product} " with your Aurora lamp"-style phrase or "".
_ACK = {
    "en": {
        "order_status": "Thank you for asking about the status of your order{order}.",
        "delivery_problem": "Thank you for letting us know that something went wrong with the delivery of your "
                            "order{order}.",
        "shipping_info": "Thank you for your question about shipping.",
        "cancel_order": "Thank you for your message about cancelling your order{order}.",
        "return_exchange": "Thank you for getting in touch about returning or exchanging an item{for_order}.",
        "refund_request": "Thank you for asking about your refund{for_order}.",
        "billing_issue": "Thank you for telling us about the charge that does not look right{for_order}.",
        "payment_problem": "Thank you for your message about the payment{for_order}.",
        "invoice_request": "Thank you for asking for an invoice{for_order}.",
        "pricing_plans": "Thank you for your question about our plans and prices.",
        "cancel_subscription": "Thank you for your message about cancelling your membership.",
        "account_access": "Thank you for letting us know that you cannot get into your account.",
        "account_update": "Thank you for asking us to update your account details.",
        "account_deletion": "Thank you for your request about closing your account and the data we hold.",
        "technical_problem": "Thank you for reporting the problem{product}.",
        "product_question": "Thank you for your question{product}.",
        "warranty_repair": "Thank you for getting in touch about a warranty repair{product}.",
        "security_fraud": "Thank you for alerting us to activity on your account that you do not recognise.",
        "complaint": "Thank you for taking the time to tell us about your experience.",
        "feedback": "Thank you very much for your feedback.",
        "": "Thank you for contacting us{for_order}.",
    },
    "de": {
        "order_status": "vielen Dank für Ihre Frage zum Stand Ihrer Bestellung{order}.",
        "delivery_problem": "vielen Dank für Ihren Hinweis, dass bei der Lieferung Ihrer Bestellung{order} etwas "
                            "schiefgegangen ist.",
        "shipping_info": "vielen Dank für Ihre Frage zum Versand.",
        "cancel_order": "vielen Dank für Ihre Nachricht zur Stornierung Ihrer Bestellung{order}.",
        "return_exchange": "vielen Dank für Ihre Nachricht zur Rücksendung oder zum Umtausch{for_order}.",
        "refund_request": "vielen Dank für Ihre Frage zu Ihrer Erstattung{for_order}.",
        "billing_issue": "vielen Dank für Ihren Hinweis auf die Abbuchung, die nicht stimmt{for_order}.",
        "payment_problem": "vielen Dank für Ihre Nachricht zur Zahlung{for_order}.",
        "invoice_request": "vielen Dank für Ihre Anfrage nach einer Rechnung{for_order}.",
        "pricing_plans": "vielen Dank für Ihre Frage zu unseren Tarifen und Preisen.",
        "cancel_subscription": "vielen Dank für Ihre Nachricht zur Kündigung Ihrer Mitgliedschaft.",
        "account_access": "vielen Dank für Ihren Hinweis, dass Sie nicht in Ihr Kundenkonto kommen.",
        "account_update": "vielen Dank für Ihre Bitte, Ihre Kontodaten zu ändern.",
        "account_deletion": "vielen Dank für Ihre Anfrage zur Löschung Ihres Kontos und Ihrer Daten.",
        "technical_problem": "vielen Dank, dass Sie uns das Problem{product} melden.",
        "product_question": "vielen Dank für Ihre Frage{product}.",
        "warranty_repair": "vielen Dank für Ihre Nachricht zu einer Garantiereparatur{product}.",
        "security_fraud": "vielen Dank für Ihren Hinweis auf Vorgänge in Ihrem Konto, die Sie nicht kennen.",
        "complaint": "vielen Dank, dass Sie sich die Zeit nehmen, uns von Ihren Erfahrungen zu berichten.",
        "feedback": "vielen Dank für Ihre Rückmeldung.",
        "": "vielen Dank für Ihre Nachricht{for_order}.",
    },
}

_GROUPS = {
    "delivery": ("order_status", "delivery_problem", "shipping_info"),
    "order_change": ("cancel_order", "return_exchange"),
    "money": ("refund_request", "billing_issue", "payment_problem", "invoice_request"),
    "plan": ("pricing_plans", "cancel_subscription"),
    "account": ("account_access", "account_update", "account_deletion"),
    "security": ("security_fraud",),
    "device": ("technical_problem", "product_question", "warranty_repair"),
    "complaint": ("complaint",),
    "feedback": ("feedback",),
}
_GROUP_OF = {intent: group for group, intents in _GROUPS.items() for intent in intents}

# The concrete next step per group. Slot: {quoting_order} " quoting order LH-104233" or "".
_NEXT = {
    "en": {
        "delivery": "If the parcel has not arrived or anything still looks wrong, reply to this email{quoting_order} "
                    "and we will take it up with the carrier straight away.",
        "order_change": "Reply to this email{quoting_order} if you would like us to start this for you, and we "
                        "will confirm each step by email.",
        "money": "If anything is still unclear, reply to this email{quoting_order} and we will check the payment "
                 "records for you.",
        "plan": "Reply to this email if you would like us to make the change for you, and we will confirm it in "
                "writing.",
        "account": "If this does not solve it, reply from the email address on your account and we will help you "
                   "further.",
        "security": "Please do not share codes or passwords with anyone, and reply straight away if you notice "
                    "anything else you do not recognise.",
        "device": "If the problem continues after these steps, reply with a short description or a photo and we "
                  "will arrange the next step, including a repair if needed.",
        "complaint": "I have shared your message with our team lead, who will follow up with you personally.",
        "feedback": "I have shared your message with the team.",
        "": "Reply to this email if you have any further questions.",
    },
    "de": {
        "delivery": "Falls das Paket nicht ankommt oder etwas nicht stimmt, antworten Sie einfach auf diese "
                    "E-Mail{quoting_order}, und wir klären es sofort mit dem Zusteller.",
        "order_change": "Antworten Sie auf diese E-Mail{quoting_order}, wenn wir das für Sie in die Wege leiten "
                        "sollen; jeden Schritt bestätigen wir Ihnen per E-Mail.",
        "money": "Wenn noch etwas unklar ist, antworten Sie auf diese E-Mail{quoting_order}, und wir prüfen die "
                 "Zahlungsdaten für Sie.",
        "plan": "Antworten Sie auf diese E-Mail, wenn wir die Änderung für Sie vornehmen sollen; wir bestätigen "
                "sie Ihnen schriftlich.",
        "account": "Falls das nicht hilft, antworten Sie bitte von der E-Mail-Adresse Ihres Kontos, und wir "
                   "helfen Ihnen weiter.",
        "security": "Bitte geben Sie Codes und Passwörter an niemanden weiter und melden Sie sich sofort, wenn "
                    "Ihnen noch etwas Unbekanntes auffällt.",
        "device": "Wenn das Problem danach weiter besteht, antworten Sie mit einer kurzen Beschreibung oder einem "
                  "Foto, und wir veranlassen den nächsten Schritt, bei Bedarf auch eine Reparatur.",
        "complaint": "Ich habe Ihre Nachricht an unsere Teamleitung weitergegeben, die sich persönlich bei Ihnen "
                     "meldet.",
        "feedback": "Ich habe Ihre Nachricht an das Team weitergegeben.",
        "": "Antworten Sie gern auf diese E-Mail, wenn Sie weitere Fragen haben.",
    },
}

_TEXT = {
    "en": {
        "greeting": "Hello {name},", "greeting_anon": "Hello,",
        "sorry": "I am sorry for the trouble this has caused, and I understand how frustrating it is.",
        "urgent": "I understand this is urgent, so I have made it a priority.",
        "sorry_urgent": "I am sorry for the trouble this has caused, and I understand it is urgent, so I have made "
                        "it a priority.",
        "more": "You can read more in our help article \"{title}\".",
        "nothing": "I am looking into this for you and will come back to you with the details shortly.",
        "order": " {number}", "for_order": " for order {number}", "quoting_order": " quoting order {number}",
        "product": " with your {product}", "product_question": " about the {product}",
        "closing": "Kind regards,", "team": "{company} support",
    },
    "de": {
        "greeting": "Guten Tag {name},", "greeting_anon": "Guten Tag,",
        "sorry": "Es tut mir leid, dass Ihnen das Ärger bereitet hat, und ich verstehe, wie ärgerlich das ist.",
        "urgent": "Mir ist klar, dass es eilt, deshalb habe ich Ihr Anliegen vorgezogen.",
        "sorry_urgent": "Es tut mir leid, dass Ihnen das Ärger bereitet hat; da es eilt, habe ich Ihr Anliegen "
                        "vorgezogen.",
        "more": "Mehr dazu lesen Sie in unserem Hilfeartikel „{title}“.",
        "nothing": "Ich kümmere mich darum und melde mich in Kürze mit den Einzelheiten bei Ihnen.",
        "order": " {number}", "for_order": " zur Bestellung {number}", "quoting_order": " mit der Bestellnummer "
                                                                                       "{number}",
        "product": " mit Ihrem Gerät {product}", "product_question": " zum Produkt {product}",
        "closing": "Mit freundlichen Grüßen", "team": "{company} Kundenservice",
    },
}

LANGUAGES = tuple(_TEXT)


@dataclass
class DraftInput:
    """Everything the template needs; snippets are (title, Markdown text) pairs, best first."""

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


def draft_language(language: str | None) -> str:
    """The customer's language when we have templates for it, else English."""
    return language if language in _TEXT else "en"


def _greeting_name(name: str | None, language: str) -> str | None:
    if not name or "@" in name or not name.strip():
        return None
    name = name.strip()
    # English mail greets by first name; German business mail keeps the full name.
    return name.split()[0] if language == "en" else name


def compose(d: DraftInput, *, max_sentences: int = 5) -> str:
    """The draft reply as plain text, paragraphs separated by blank lines."""
    lang = draft_language(d.language)
    text = _TEXT[lang]
    name = _greeting_name(d.customer_name, lang)
    greeting = text["greeting"].format(name=name) if name else text["greeting_anon"]

    intent = d.intent if d.intent in _ACK[lang] else ""
    product_slot = "product_question" if intent == "product_question" else "product"
    slots = {
        "order": text["order"].format(number=d.order_number) if d.order_number else "",
        "for_order": text["for_order"].format(number=d.order_number) if d.order_number else "",
        "quoting_order": text["quoting_order"].format(number=d.order_number) if d.order_number else "",
        "product": text[product_slot].format(product=d.product) if d.product else "",
    }
    ack = _ACK[lang][intent].format(**slots)
    ack = ack[:1].upper() + ack[1:] if lang == "en" else ack  # German continues the greeting line's sentence
    opening = [ack]
    upset, pressing = (d.sentiment or "") in NEGATIVE, (d.urgency or "") in PRESSING
    if upset or pressing:
        opening.append(text["sorry_urgent" if upset and pressing else "sorry" if upset else "urgent"])

    paragraphs = [greeting, " ".join(opening)]
    if d.snippets:
        # The best snippet comes whole when it fits; further snippets of its article fill the remaining room.
        first = reply_sentences(d.snippets[0][1], lang)
        chosen = select_sentences(first, d.query, limit=max_sentences)
        for _title, body in d.snippets[1:]:
            room = max_sentences - len(chosen)
            if room <= 0:
                break
            more = [s for s in reply_sentences(body, lang) if s not in chosen]
            chosen += select_sentences(more, d.query, limit=room)
        paragraphs.append(" ".join([*chosen, text["more"].format(title=d.snippets[0][0])]))
    else:
        paragraphs.append(text["nothing"])
    paragraphs.append(_NEXT[lang][_GROUP_OF.get(d.intent or "", "")].format(**slots))
    signature = [text["closing"]]
    if d.agent_name:
        signature.append(d.agent_name)
    signature.append(text["team"].format(company=d.company))
    paragraphs.append("\n".join(signature))
    return "\n\n".join(paragraphs)
