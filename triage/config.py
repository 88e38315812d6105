"""Settings (environment) and the `triage.toml` file (teams, agents, mailboxes, SLA policies).

Settings come from the environment with the `TRIAGE_` prefix and are passed around explicitly;
nothing reads them at import time. `triage.toml` describes the support organisation.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.vocabulary import Priority
from triage.errors import UserError
from triage.sla.calendar import BusinessCalendar, parse_hours

Channel = Literal["email", "chat"]
CHANNELS: tuple[Channel, ...] = ("email", "chat")
AgentStatus = Literal["online", "away", "offline"]

_DEV_SECRET = "change-me"


class Settings(BaseSettings):
    """Process settings; `home` holds the SQLite database, models, indexes and logs."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    home: Path = Path("./var")
    database_url: str | None = None
    config_file: Path | None = None
    environment: Literal["development", "production", "test"] = "development"
    secret_key: str = _DEV_SECRET
    log_level: str = "INFO"
    # Where trained models live (default: TRIAGE_HOME/models); several homes may share one.
    models_path: Path | None = None
    # Largest HTTP request body the API reads (bytes), counted while it streams in: 413 above it.
    api_max_body: int = Field(default=10 * 1024 * 1024, ge=1024)
    # The dense share of hybrid knowledge-base search (0 = BM25 only, 1 = dense only). Unset: the value tuned on
    # labelled queries and stored with the index, else 0.8 (docs/knowledge.md#search).
    kb_hybrid_alpha: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key == _DEV_SECRET:
            raise ValueError("TRIAGE_SECRET_KEY must be set to a real secret outside development")
        return self

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: PostgreSQL when configured, else SQLite inside `home`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'triage.db').resolve()}"

    @property
    def models_dir(self) -> Path:
        return self.models_path if self.models_path else self.home / "models"

    @property
    def config_path(self) -> Path:
        return self.config_file if self.config_file else self.home / "triage.toml"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)\s*$")


def parse_duration(text: str) -> timedelta:
    """Parse '30s', '30m', '4h' or '2d' (the units people write in SLA policies and timers)."""
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"invalid duration {text!r}: use a number followed by s, m, h or d (e.g. '4h')")
    value, unit = float(m.group(1)), m.group(2)
    return {"s": timedelta(seconds=value), "m": timedelta(minutes=value), "min": timedelta(minutes=value),
            "h": timedelta(hours=value), "d": timedelta(days=value)}[unit]


def _duration_field(v: str) -> str:
    parse_duration(v)
    return v


def read_secret(value: str | None, file: Path | None, *, what: str) -> str | None:
    """A password given inline or in a file (first line); the file wins so secrets stay out of triage.toml."""
    if file is None:
        return value
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"{what}: cannot read password file {file}: {exc.strerror}") from exc
    return lines[0].strip() if lines else ""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamConfig(_Strict):
    """A team owns one queue; messages whose intent is listed land in it."""

    name: str
    intents: list[str] = Field(default_factory=list)
    lead: str | None = None  # agent email
    calendar: str | None = None  # name of a [[calendars]] entry; default: around the clock, UTC


class AgentConfig(_Strict):
    name: str
    email: str
    teams: list[str]
    skills: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    capacity: Annotated[int, Field(ge=0)] = 10  # tickets held at once per channel, unless capacity_by_channel
    channels: list[Channel] = Field(default_factory=lambda: list(CHANNELS))
    capacity_by_channel: dict[Channel, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    status: AgentStatus = "online"
    timezone: str = "UTC"
    # e.g. "Mon-Fri 09:00-17:00" in `timezone`: outside them the agent gets no new tickets (issue 14); "" = always
    working_hours: str = ""

    @model_validator(mode="after")
    def _channels(self) -> AgentConfig:
        if not self.channels:
            raise ValueError("channels must list at least one of email, chat")
        extra = sorted(set(self.capacity_by_channel) - set(self.channels))
        if extra:
            raise ValueError(f"capacity_by_channel names {extra} but channels is {self.channels}")
        return self

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if "@" not in v:
            raise ValueError(f"{v!r} is not an email address")
        return v.strip().lower()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, v: str) -> str:
        if v.strip():
            parse_hours(v)  # its ValueError says what is wrong
        return v.strip()


class ImapConfig(_Strict):
    """Where to pull a mailbox's mail from, and what to do with a message once it is stored."""

    host: str
    port: int | None = None  # default: 993 for tls, 143 otherwise
    security: Literal["tls", "starttls", "none"] = "tls"
    user: str
    password: str | None = None
    password_file: Path | None = None
    folder: str = "INBOX"
    after: Literal["seen", "move", "leave"] = "seen"
    move_to: str | None = None
    poll_interval: Annotated[str, AfterValidator(_duration_field)] = "60s"
    idle: bool = True
    verify_tls: bool = True
    ca_file: Path | None = None

    @model_validator(mode="after")
    def _move_needs_target(self) -> ImapConfig:
        if self.after == "move" and not self.move_to:
            raise ValueError("after = 'move' needs move_to (the folder to move stored messages to)")
        if self.password is None and self.password_file is None:
            raise ValueError("give password or password_file")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)


class MailboxConfig(_Strict):
    """One of our addresses; mail to it is accepted, mail from it counts as an agent reply."""

    address: str
    team: str | None = None
    imap: ImapConfig | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        if "@" not in v:
            raise ValueError(f"{v!r} is not an email address")
        return v.strip().lower()


class SlaPolicy(_Strict):
    """Targets in business time of the ticket's team calendar."""

    channel: Channel
    priority: Priority
    first_response: str
    resolution: str
    next_response: str | None = None  # from the oldest unanswered customer message after the first reply

    @field_validator("first_response", "resolution", "next_response")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v


class CalendarConfig(_Strict):
    """Business hours of a team: when SLA clocks run."""

    name: str
    timezone: str = "UTC"
    hours: str = "24x7"  # e.g. "Mon-Fri 09:00-12:00,13:00-17:00; Sat 10:00-14:00"
    holidays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> CalendarConfig:
        self.calendar()  # raises ValueError naming the bad zone, day or time
        return self

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.timezone, self.hours, frozenset(self.holidays))


SlaMetric = Literal["first_response", "next_response", "resolution"]
SLA_METRICS: tuple[str, ...] = ("first_response", "next_response", "resolution")
EscalationAction = Literal["raise_priority", "reassign_to_lead", "notify_email", "notify_customer", "webhook"]


class EscalationRule(_Strict):
    """What to do when a warning or breach fires for the listed metrics and priorities (empty: all)."""

    on: Literal["warning", "breach"]
    metrics: list[SlaMetric] = Field(default_factory=list)
    priorities: list[Priority] = Field(default_factory=list)
    actions: list[EscalationAction]
    notify: list[str] = Field(default_factory=list)  # addresses, or "lead" / "assignee"
    webhook_url: str | None = None

    @model_validator(mode="after")
    def _targets(self) -> EscalationRule:
        if "notify_email" in self.actions and not self.notify:
            raise ValueError("notify_email needs notify (addresses, 'lead' or 'assignee')")
        for target in self.notify:
            if target not in ("lead", "assignee") and "@" not in target:
                raise ValueError(f"notify: {target!r} is neither an address nor 'lead' / 'assignee'")
        if "webhook" in self.actions and not (self.webhook_url or "").startswith(("http://", "https://")):
            raise ValueError("webhook needs webhook_url (an http:// or https:// URL)")
        if self.webhook_url is not None and len(self.webhook_url) > 320:
            raise ValueError("webhook_url is longer than 320 characters")
        return self

    def matches(self, kind: str, metric: str, priority: str) -> bool:
        return (kind == self.on and (not self.metrics or metric in self.metrics)
                and (not self.priorities or priority in self.priorities))


class CustomerNoticeTemplate(_Strict):
    """The customer notice in one language; what it leaves out comes from [sla_timers.customer_notice]."""

    language: str
    subject: str | None = None
    body: str | None = None
    chat_body: str | None = None

    @model_validator(mode="after")
    def _has_text(self) -> CustomerNoticeTemplate:
        if self.body is None and self.chat_body is None:
            raise ValueError("a customer notice template needs body, chat_body or both")
        return self


class CustomerNoticeConfig(_Strict):
    """What `notify_customer` tells the customer when their ticket is late (Jinja2; issue 15)."""

    subject: str = "Re: {{ subject }} [#{{ ticket_id }}]"
    body: str = (
        "Hello {{ customer_name or 'there' }},\n\n"
        "we have not forgotten your message about \"{{ subject }}\" (ticket #{{ ticket_id }}). It is taking us "
        "longer than we promised, and we are sorry for the wait. The team is on it and you will hear from a "
        "person soon; there is no need to write again.\n\n"
        "{{ company }} support\n"
    )
    chat_body: str = ("Sorry for the wait! We have not forgotten you: an agent will be with you soon. "
                      "There is no need to send your message again.")
    templates: list[CustomerNoticeTemplate] = Field(default_factory=list)

    def pick(self, language: str | None, *, chat: bool = False) -> tuple[str | None, str, str]:
        """(language of the chosen template or None for the English default, subject, body)."""
        language = (language or "").lower()
        for t in self.templates:
            text = t.chat_body if chat else t.body
            if language and t.language.lower() == language and text is not None:
                return t.language.lower(), t.subject or self.subject, text
        return None, self.subject, self.chat_body if chat else self.body


class SlaTimersConfig(_Strict):
    """The SLA scheduler inside `triage serve`: when to warn and what escalation does."""

    warn_at: Annotated[float, Field(gt=0, lt=1)] = 0.75  # share of the target after which a warning fires
    check_interval: Annotated[str, AfterValidator(_duration_field)] = "10s"
    webhook_timeout: Annotated[float, Field(gt=0)] = 10.0
    escalations: list[EscalationRule] = Field(default_factory=list)
    customer_notice: CustomerNoticeConfig = Field(default_factory=CustomerNoticeConfig)


class SmtpUser(_Strict):
    user: str
    password: str | None = None
    password_file: Path | None = None


class SmtpServerConfig(_Strict):
    """Our inbound SMTP server (part of `triage serve`)."""

    host: str = "127.0.0.1"
    port: int = 2525
    hostname: str | None = None  # name announced in the greeting
    max_message_bytes: Annotated[int, Field(gt=0)] = 25 * 1024 * 1024
    tls_cert: Path | None = None  # both set: STARTTLS offered
    tls_key: Path | None = None
    require_tls: bool = False
    auth_required: bool = False
    users: list[SmtpUser] = Field(default_factory=list)

    @model_validator(mode="after")
    def _pairs(self) -> SmtpServerConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if self.auth_required and not self.users:
            raise ValueError("auth_required needs at least one entry in users")
        return self


class SmtpRelayConfig(_Strict):
    """Where outgoing mail (auto-replies, agents' replies) is handed over."""

    host: str = "127.0.0.1"
    port: int = 25
    security: Literal["tls", "starttls", "none"] = "none"
    user: str | None = None
    password: str | None = None
    password_file: Path | None = None
    timeout: Annotated[float, Field(gt=0)] = 30.0
    max_attempts: Annotated[int, Field(ge=1)] = 10


class AutoReplyTemplate(_Strict):
    """An acknowledgement and/or chat answer for one language and/or intent (the most specific match wins)."""

    language: str | None = None
    intent: str | None = None
    subject: str | None = None  # default: the [auto_reply] subject
    body: str | None = None  # default: the [auto_reply] body
    chat_body: str | None = None  # default: the [auto_reply] chat_body

    @model_validator(mode="after")
    def _selects(self) -> AutoReplyTemplate:
        if self.language is None and self.intent is None:
            raise ValueError("a template needs language, intent or both (the default is [auto_reply] body)")
        if self.body is None and self.chat_body is None:
            raise ValueError("a template needs body, chat_body or both")
        return self


class AutoReplyConfig(_Strict):
    """The acknowledgement sent when a new email ticket opens, and the chat bot's first answer (Jinja2)."""

    enabled: bool = True
    from_address: str | None = None  # default: the mailbox the customer wrote to
    subject: str = "Re: {{ subject }} [#{{ ticket_id }}]"
    body: str = (
        "Hello {{ customer_name or 'there' }},\n\n"
        "thank you for contacting {{ company }}. We have received your message and opened ticket "
        "#{{ ticket_id }} for it. Please keep [#{{ ticket_id }}] in the subject if you write again.\n\n"
        "{% if expected_reply %}You can expect our reply by {{ expected_reply }}.\n\n{% endif %}"
        "{{ company }} support\n"
    )
    per_ticket: Annotated[int, Field(ge=0)] = 1
    per_sender: Annotated[int, Field(ge=0)] = 5
    sender_window: Annotated[str, AfterValidator(_duration_field)] = "1d"
    templates: list[AutoReplyTemplate] = Field(default_factory=list)
    chat_enabled: bool = True
    chat_body: str = (
        "{% if team_back %}Thanks for your message! Our team is not available right now; we are back on "
        "{{ team_back_day }} at {{ team_back_time }} ({{ team_back_zone }}). If you leave your email address "
        "here, we will answer you by email, so you do not need to keep this chat open."
        "{% else %}Thanks for your message! You are number {{ queue_position }} in the queue. "
        "{% if expected_wait %}The expected wait is {{ expected_wait }}.{% else %}"
        "We will answer as soon as an agent is available.{% endif %}{% endif %}"
    )

    def pick(self, language: str | None, intent: str | None, *, chat: bool = False) -> AutoReplyTemplate | None:
        """The template with a body (a chat_body when `chat`) for a language and intent: both match, then
        language, then intent; None means the [auto_reply] default."""
        language = (language or "").lower() or None

        def lang(t: AutoReplyTemplate) -> str | None:
            return t.language.lower() if t.language else None

        rules = ((lambda t: t.language and t.intent and lang(t) == language and t.intent == intent),
                 (lambda t: t.language and not t.intent and lang(t) == language),
                 (lambda t: not t.language and t.intent == intent))
        usable = [t for t in self.templates if (t.chat_body if chat else t.body) is not None]
        for rule in rules:
            for t in usable:
                if rule(t):
                    return t
        return None

    def template_for(self, language: str | None, intent: str | None) -> tuple[str, str]:
        """(subject, body) for a language and intent: both match, then language, then intent, then default."""
        t = self.pick(language, intent)
        if t is None or t.body is None:
            return self.subject, self.body
        return t.subject or self.subject, t.body

    def chat_body_for(self, language: str | None, intent: str | None) -> str:
        """The chat bot's first answer for a language and intent, chosen as `template_for` chooses."""
        t = self.pick(language, intent, chat=True)
        return t.chat_body if t is not None and t.chat_body is not None else self.chat_body


class InboxConfig(_Strict):
    """The intake worker's crash-loop guard (issue 14)."""

    # A row begun this many times without finishing killed its worker each time: it is quarantined.
    max_attempts: Annotated[int, Field(ge=1)] = 3


class MailConfig(_Strict):
    instance_id: str = "triage"  # our loop header carries it: mail bearing it is ours and never answered
    accept_domains: list[str] = Field(default_factory=list)  # any local part at these domains is accepted
    attachment_content_limit: Annotated[int, Field(ge=0)] = 1024 * 1024
    thread_window: Annotated[str, AfterValidator(_duration_field)] = "14d"

    @field_validator("accept_domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in v]


_RUBRIC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class RubricItem(_Strict):
    """One line of the QA scorecard: scored on a whole-number scale, weighted in the total."""

    name: str
    label: str | None = None
    description: str = ""
    weight: Annotated[float, Field(gt=0)] = 1.0
    scale_min: int = 1
    scale_max: int = 5

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _RUBRIC_NAME.match(v):
            raise ValueError(f"{v!r}: use lower-case letters, digits and _ (e.g. 'tone'), at most 40")
        return v

    @model_validator(mode="after")
    def _scale(self) -> RubricItem:
        if self.scale_min >= self.scale_max:
            raise ValueError(f"scale_min ({self.scale_min}) must be below scale_max ({self.scale_max})")
        if self.scale_max - self.scale_min > 100:
            raise ValueError("a scale spans at most 100 steps")
        return self


DEFAULT_RUBRIC: tuple[RubricItem, ...] = (
    RubricItem(name="accuracy", weight=0.25, description="The facts, policy and steps given are correct."),
    RubricItem(name="spelling", weight=0.10, description="No spelling mistakes."),
    RubricItem(name="grammar", weight=0.10, description="Clear sentences, correct grammar and punctuation."),
    RubricItem(name="personalisation", weight=0.15,
               description="Uses the customer's name and answers their specifics, not a bare template."),
    RubricItem(name="tone", weight=0.15, description="Friendly, calm, empathetic where needed; never blaming."),
    RubricItem(name="resolution", weight=0.25,
               description="Solves the request or gives a clear next step and owner."),
)


_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class LanguageConfig(_Strict):
    """Which languages detection chooses between (models/language.py): the ones customers write to you in."""

    detect: list[str] = Field(default_factory=lambda: ["en", "de", "fr", "es"])

    @field_validator("detect")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        codes = [c.strip().lower() for c in codes]
        bad = [c for c in codes if not _LANGUAGE_CODE.match(c)]
        if bad or not codes:
            raise ValueError(f"detect needs ISO 639-1 codes such as en, de, fr (got {bad or 'none'})")
        return list(dict.fromkeys(codes))


class ReviewConfig(_Strict):
    """When a ticket's intent is flagged for an agent to check (tickets list --needs-review)."""

    # Intent confidences are calibrated (temperature scaling on held-out folds): below 0.5 the model
    # expects to be wrong more often than right. Out-of-scope intents are always flagged.
    intent_confidence: Annotated[float, Field(ge=0, le=1)] = 0.5
    # Drafts: below intent_confidence, an intent that the best-matching knowledge-base article also answers
    # still gets a full draft (two independent readings agree), down to this confidence.
    agreement_confidence: Annotated[float, Field(ge=0, le=1)] = 0.25


class CustomersConfig(_Strict):
    """What the urgency classifier is told about a message's sender (models.signals: VIP, repeat contact)."""

    # VIP customers: addresses ("ceo@client.example") or whole domains ("client.example"). A customer
    # whose vip flag is set (`set_vip`) counts too.
    vip: list[str] = Field(default_factory=list)
    # The customer's own messages received within this window before a new one count as repeat contact.
    contact_window: Annotated[str, AfterValidator(_duration_field)] = "7d"

    @field_validator("vip")
    @classmethod
    def _vip(cls, v: list[str]) -> list[str]:
        entries = [e.strip().lower().removeprefix("@") for e in v]  # "@client.example" is the domain too
        bad = [e for e in entries if e.startswith("@") or e.count("@") > 1 or "." not in e.rsplit("@", 1)[-1]]
        if bad:
            raise ValueError(f"vip needs addresses or domains such as ceo@client.example, client.example: {bad}")
        return entries

    def is_vip_address(self, address: str) -> bool:
        """Whether an address is listed, itself or by its domain."""
        address = address.strip().lower()
        domain = address.rsplit("@", 1)[-1] if "@" in address else ""
        return address in self.vip or (bool(domain) and domain in self.vip)


class PrivacyConfig(_Strict):
    """How long customers' raw data is kept (issue 14): see docs/data.md#privacy."""

    # Raw bytes (stored emails, chat records, sent mail) and attachment contents older than this many days are
    # deleted by `triage serve` (and `triage customers purge`); the parsed text, tickets and labels stay.
    # None keeps them until a customer is erased. Unprocessed and failed intake rows are never purged.
    retention_days: Annotated[int, Field(ge=1)] | None = None
    purge_interval: Annotated[str, AfterValidator(_duration_field)] = "1h"  # how often `triage serve` purges


class QaConfig(_Strict):
    """QA e-monitoring: how replies are sampled for review and the scorecard they are scored on."""

    period: Literal["day", "week", "month"] = "week"  # what `triage qa sample` covers by default (UTC)
    sample_size: Annotated[int, Field(ge=0, le=1000)] = 5  # random replies per agent and period
    include_sla_breaches: bool = True  # plus every reply on a ticket that breached its SLA
    include_negative_sentiment: bool = True  # plus every reply on a ticket that ended negative
    calibration_samples: Annotated[int, Field(ge=0, le=100)] = 2  # replies every reviewer on a panel scores
    calibration_reviewers: Annotated[int, Field(ge=2, le=20)] = 3  # reviewers per calibration sample
    spelling_ignore: list[str] = Field(default_factory=list)  # extra words the spelling check accepts
    tone_model: bool = True  # show the sentiment model's reading of the reply beside the tone signals
    rubric: list[RubricItem] = Field(default_factory=lambda: [item.model_copy() for item in DEFAULT_RUBRIC])

    @field_validator("rubric")
    @classmethod
    def _rubric(cls, v: list[RubricItem]) -> list[RubricItem]:
        if not v:
            raise ValueError("the rubric needs at least one item")
        names = [item.name for item in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rubric item names must be unique: {', '.join(dupes)}")
        return v


def _default_handle_times() -> dict[Channel, str]:
    return {"email": "12m", "chat": "8m"}  # the routing simulation's mean work per channel


class PlanningConfig(_Strict):
    """Volume forecasts, staffing to SLA and emerging-issue alerts (issue 17): see docs/planning.md."""

    history_weeks: Annotated[int, Field(ge=2, le=104)] = 8  # weeks of tickets the forecast learns from
    service_level: Annotated[float, Field(gt=0, lt=1)] = 0.80  # share of chats answered within the target
    # Chat answer target for Erlang C; default: the chat/normal first_response policy (else 10m).
    chat_answer_within: Annotated[str, AfterValidator(_duration_field)] | None = None
    # Email: work arriving is spread over this window; default: the email/normal first_response (else 8h), <= 1d.
    email_window: Annotated[str, AfterValidator(_duration_field)] | None = None
    shrinkage: Annotated[float, Field(ge=0, lt=1)] = 0.30  # share of paid time not available for tickets
    max_occupancy: Annotated[float, Field(gt=0, le=1)] = 0.85  # busiest an agent may be kept on average
    # Handling times are learned per intent and channel from the history; with fewer tickets than this an
    # intent takes its channel's figure, a channel without enough takes `default_handle_time`.
    min_handle_samples: Annotated[int, Field(ge=1)] = 20
    # A reply more than this after the customer's message counts this much work: the rest was waiting.
    max_handle_gap: Annotated[str, AfterValidator(_duration_field)] = "30m"
    default_handle_time: dict[Channel, Annotated[str, AfterValidator(_duration_field)]] = Field(
        default_factory=_default_handle_times)
    # Emerging issues: a count is tested against its seasonal baseline over this window, at this family-wise
    # false-alarm rate (Bonferroni over every intent and queue tested), and needs at least `alert_min_count`.
    alert_window: Annotated[str, AfterValidator(_duration_field)] = "3h"
    # How often `triage serve` runs the emerging-issue pass (as `triage alerts` does); "" turns it off.
    alert_interval: Annotated[str, AfterValidator(_duration_field)] | Literal[""] = "1h"
    alert_alpha: Annotated[float, Field(gt=0, lt=0.5)] = 0.01
    alert_min_count: Annotated[int, Field(ge=1)] = 5
    alert_min_rise: Annotated[float, Field(ge=0)] = 0.5  # and at least this much above the baseline (0.5: +50%)
    alert_notify: list[str] = Field(default_factory=list)  # addresses mailed once per episode
    alert_webhook_url: str | None = None  # POSTed once per episode
    # New topics: unsure or out-of-scope messages of the last `topic_window`, clustered; a topic needs this many.
    topic_window: Annotated[str, AfterValidator(_duration_field)] = "2d"
    topic_min_size: Annotated[int, Field(ge=2)] = 5
    # Messages within this cosine distance are neighbours (bundled encoder: one topic < 0.3, different ones > 0.6).
    topic_distance: Annotated[float, Field(gt=0, lt=1)] = 0.35

    @field_validator("alert_notify")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if "@" not in a]
        if bad:
            raise ValueError(f"alert_notify needs email addresses: {bad}")
        return [a.strip().lower() for a in v]

    @field_validator("alert_webhook_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and (not v.startswith(("http://", "https://")) or len(v) > 320):
            raise ValueError("alert_webhook_url needs an http:// or https:// URL of at most 320 characters")
        return v


class SurveysConfig(_Strict):
    """Customer satisfaction surveys after a ticket is solved (issue 17): see docs/planning.md#satisfaction-surveys."""

    enabled: bool = False  # `triage surveys send` invites only when enabled
    send_interval: Annotated[str, AfterValidator(_duration_field)] = "15m"  # `triage serve` invites this often
    public_url: str = "http://127.0.0.1:8000"  # where customers reach the rating page (no sign-in)
    customer_window: Annotated[str, AfterValidator(_duration_field)] = "30d"  # at most one invitation per customer
    expire_after: Annotated[str, AfterValidator(_duration_field)] = "14d"  # a link older than this is refused
    solved_within: Annotated[str, AfterValidator(_duration_field)] = "3d"  # tickets solved this recently are invited
    subject: str = "How did we do? [#{ticket_id}]"
    body: str = (
        "Hello {customer_name},\n\nyour request #{ticket_id} is solved. How satisfied are you with our help? "
        "Rate us from 1 to 5 here (it takes a few seconds):\n\n{link}\n\n"
        "To receive no more of these questions: {opt_out_link}\n\n{company} support\n"
    )

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("public_url needs an http:// or https:// URL")
        return v.rstrip("/")


_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$|^https?://\[[0-9a-f:.]+\](:\d{1,5})?$")


class ChatConfig(_Strict):
    """The live chat widget (issue 16 item 6): see docs/desk.md#live-chat-widget."""

    # Sites that may embed the widget (CSP frame-ancestors) and call its routes, as origins
    # ("https://shop.example", no path). Empty: the widget is off and its routes answer 404.
    allowed_origins: list[str] = Field(default_factory=list)
    max_message_chars: Annotated[int, Field(ge=1, le=100_000)] = 2000
    conversations_per_ip_per_hour: Annotated[int, Field(ge=1)] = 10
    messages_per_conversation_per_minute: Annotated[int, Field(ge=1)] = 20
    messages_per_ip_per_minute: Annotated[int, Field(ge=1)] = 60

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        origins = [o.strip().lower().rstrip("/") for o in v]
        bad = [o for o in origins if not _ORIGIN.match(o)]
        if bad:
            raise ValueError(f"allowed_origins needs origins such as https://shop.example (no path): {bad}")
        return list(dict.fromkeys(origins))


class TriageConfig(_Strict):
    """The parsed `triage.toml`."""

    company: str = "Triage"
    default_team: str
    teams: list[TeamConfig]
    agents: list[AgentConfig] = Field(default_factory=list)
    mailboxes: list[MailboxConfig] = Field(default_factory=list)
    sla: list[SlaPolicy] = Field(default_factory=list)
    mail: MailConfig = Field(default_factory=MailConfig)
    inbox: InboxConfig = Field(default_factory=InboxConfig)
    smtp_server: SmtpServerConfig = Field(default_factory=SmtpServerConfig)
    smtp_relay: SmtpRelayConfig = Field(default_factory=SmtpRelayConfig)
    auto_reply: AutoReplyConfig = Field(default_factory=AutoReplyConfig)
    calendars: list[CalendarConfig] = Field(default_factory=list)
    sla_timers: SlaTimersConfig = Field(default_factory=SlaTimersConfig)
    qa: QaConfig = Field(default_factory=QaConfig)
    language: LanguageConfig = Field(default_factory=LanguageConfig)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    customers: CustomersConfig = Field(default_factory=CustomersConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    planning: PlanningConfig = Field(default_factory=PlanningConfig)
    surveys: SurveysConfig = Field(default_factory=SurveysConfig)
    chat: ChatConfig = Field(default_factory=ChatConfig)

    @model_validator(mode="after")
    def _consistent(self) -> TriageConfig:
        names = [t.name for t in self.teams]
        if len(set(names)) != len(names):
            raise ValueError("team names must be unique")
        calendars = [c.name for c in self.calendars]
        if len(set(calendars)) != len(calendars):
            raise ValueError("calendar names must be unique")
        for team in self.teams:
            if team.calendar is not None and team.calendar not in calendars:
                raise ValueError(f"team {team.name!r} uses unknown calendar {team.calendar!r} (known: {calendars})")
        if self.default_team not in names:
            raise ValueError(f"default_team {self.default_team!r} is not one of the teams {names}")
        seen: dict[str, str] = {}
        for team in self.teams:
            for intent in team.intents:
                if intent in seen:
                    raise ValueError(f"intent {intent!r} is mapped to both {seen[intent]!r} and {team.name!r}")
                seen[intent] = team.name
        emails = [a.email for a in self.agents]
        if len(set(emails)) != len(emails):
            raise ValueError("agent emails must be unique")
        for agent in self.agents:
            for team_name in agent.teams:
                if team_name not in names:
                    raise ValueError(f"agent {agent.email} is in unknown team {team_name!r}")
        for box in self.mailboxes:
            if box.team is not None and box.team not in names:
                raise ValueError(f"mailbox {box.address} points at unknown team {box.team!r}")
        return self

    def team_for_intent(self, intent: str | None) -> str:
        for team in self.teams:
            if intent in team.intents:
                return team.name
        return self.default_team

    def team(self, name: str | None) -> TeamConfig | None:
        return next((t for t in self.teams if t.name == name), None)

    def calendar_for(self, team: str | None) -> BusinessCalendar:
        """The team's business calendar; around the clock in UTC when it names none."""
        conf = self.team(team)
        for cal in self.calendars:
            if conf is not None and cal.name == conf.calendar:
                return cal.calendar()
        return BusinessCalendar()

    def sla_for(self, channel: str, priority: str) -> SlaPolicy | None:
        for policy in self.sla:
            if policy.channel == channel and policy.priority == priority:
                return policy
        return None

    def our_addresses(self) -> set[str]:
        return {box.address for box in self.mailboxes}

    def accepts(self, address: str) -> bool:
        """Whether we receive mail for this address (a mailbox, or any address at an accepted domain)."""
        address = address.strip().lower()
        if address in self.our_addresses():
            return True
        domain = address.rsplit("@", 1)[-1] if "@" in address else ""
        return bool(domain) and domain in self.mail.accept_domains


def default_config_text() -> str:
    """The commented default `triage.toml` shipped with the package."""
    return resources.files("triage.samples").joinpath("triage.toml").read_text(encoding="utf-8")


def load_config(path: Path | None = None, *, settings: Settings | None = None) -> TriageConfig:
    """Load and validate `triage.toml`; fall back to the bundled default when the file is absent."""
    if path is None and settings is not None:
        path = settings.config_path
    if path is not None and path.exists():
        text, origin = path.read_text(encoding="utf-8"), str(path)
    elif path is not None and settings is not None and settings.config_file is not None:
        raise UserError(f"config file {path} does not exist")
    else:
        text, origin = default_config_text(), "bundled default triage.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{origin}: not valid TOML: {exc}") from exc
    try:
        return TriageConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise UserError(f"{origin}: {problems}") from exc
