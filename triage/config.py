"""Settings (environment) and the `triage.toml` file (teams, agents, mailboxes, SLA policies).

Settings come from the environment with the `TRIAGE_` prefix and are passed around explicitly;
nothing reads them at import time. `triage.toml` describes the support organisation.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
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

from triage.errors import UserError

Channel = Literal["email", "chat"]
Priority = Literal["low", "normal", "high", "urgent"]
AgentStatus = Literal["online", "away", "offline"]
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")

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


class AgentConfig(_Strict):
    name: str
    email: str
    teams: list[str]
    skills: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    capacity: Annotated[int, Field(ge=0)] = 10  # tickets held at once per channel, unless capacity_by_channel
    channels: list[Channel] = Field(default_factory=lambda: ["email", "chat"])
    capacity_by_channel: dict[Channel, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    status: AgentStatus = "online"
    timezone: str = "UTC"
    working_hours: str = "Mon-Fri 09:00-17:00"

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
    channel: Channel
    priority: Priority
    first_response: str
    resolution: str

    @field_validator("first_response", "resolution")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v


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


class AutoReplyConfig(_Strict):
    """The acknowledgement sent when a new email ticket opens (Jinja2 templates)."""

    enabled: bool = True
    from_address: str | None = None  # default: the mailbox the customer wrote to
    subject: str = "Re: {{ subject }} [#{{ ticket_id }}]"
    body: str = (
        "Hello {{ customer_name or 'there' }},\n\n"
        "thank you for contacting {{ company }}. We have received your message and opened ticket "
        "#{{ ticket_id }} for it. Please keep [#{{ ticket_id }}] in the subject if you write again.\n\n"
        "{{ company }} support\n"
    )
    per_ticket: Annotated[int, Field(ge=0)] = 1
    per_sender: Annotated[int, Field(ge=0)] = 5
    sender_window: Annotated[str, AfterValidator(_duration_field)] = "1d"


class MailConfig(_Strict):
    instance_id: str = "triage"  # our loop header carries it: mail bearing it is ours and never answered
    accept_domains: list[str] = Field(default_factory=list)  # any local part at these domains is accepted
    attachment_content_limit: Annotated[int, Field(ge=0)] = 1024 * 1024
    thread_window: Annotated[str, AfterValidator(_duration_field)] = "14d"

    @field_validator("accept_domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in v]


class TriageConfig(_Strict):
    """The parsed `triage.toml`."""

    company: str = "Triage"
    default_team: str
    teams: list[TeamConfig]
    agents: list[AgentConfig] = Field(default_factory=list)
    mailboxes: list[MailboxConfig] = Field(default_factory=list)
    sla: list[SlaPolicy] = Field(default_factory=list)
    mail: MailConfig = Field(default_factory=MailConfig)
    smtp_server: SmtpServerConfig = Field(default_factory=SmtpServerConfig)
    smtp_relay: SmtpRelayConfig = Field(default_factory=SmtpRelayConfig)
    auto_reply: AutoReplyConfig = Field(default_factory=AutoReplyConfig)

    @model_validator(mode="after")
    def _consistent(self) -> TriageConfig:
        names = [t.name for t in self.teams]
        if len(set(names)) != len(names):
            raise ValueError("team names must be unique")
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
            for team in agent.teams:
                if team not in names:
                    raise ValueError(f"agent {agent.email} is in unknown team {team!r}")
        for box in self.mailboxes:
            if box.team is not None and box.team not in names:
                raise ValueError(f"mailbox {box.address} points at unknown team {box.team!r}")
        return self

    def team_for_intent(self, intent: str | None) -> str:
        for team in self.teams:
            if intent in team.intents:
                return team.name
        return self.default_team

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
