"""QA e-monitoring: sampling runs, scorecards, calibration agreement and per-agent reports.

Plain functions: they take a keyword-only session and flush; the caller commits.
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import mean
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from models.language import detect_language
from triage.agents.tables import Agent, Assignment
from triage.config import RubricItem, TriageConfig, parse_duration
from triage.conversations.tables import Customer, Message, Ticket
from triage.db import on_postgres, utcnow
from triage.errors import BadRequest, Conflict, InvalidInput, NotFound, UserError
from triage.events.service import record
from triage.knowledge.tables import KbArticle, Suggestion, SuggestionFeedback
from triage.qa import prechecks as checks
from triage.qa.kappa import cohen_kappa, fleiss_kappa, interpret
from triage.qa.periods import Period
from triage.qa.sampling import AgentTally, Candidate, assign_reviewers, select_calibration, select_review
from triage.qa.schemas import (
    AgentReport,
    CalibrationReport,
    ItemAgreement,
    MessageBrief,
    PairAgreement,
    PeriodReport,
    ReviewerBias,
    ReviewOut,
    RubricItemOut,
    RunOut,
    SampleDetail,
    SampleSummary,
    ScorecardIn,
)
from triage.qa.tables import SAMPLE_PURPOSES, SAMPLE_STATUSES, QaReview, QaRun, QaSample
from triage.sla.tables import SlaEvent
from triage.users.tables import User

Sentiment = Callable[[list[str]], list[tuple[str, float]]]


class NotFoundError(NotFound):
    """A sample, run, agent or reviewer that does not exist (HTTP 404)."""


class NotAssignedError(UserError):
    """Someone other than the assigned reviewer tried to score a sample (HTTP 403)."""

    http_status = 403
    title = "Forbidden"


class ConflictError(Conflict):
    """A second submission without amending, or an amendment of nothing (HTTP 409)."""


class ScorecardError(InvalidInput):
    """Scores that do not fit the rubric (HTTP 422)."""


def _agent_reply() -> tuple[Any, ...]:
    return (Message.direction == "out", Message.author_kind == "agent", Message.auto_kind.is_(None))


def _chunks(ids: Iterable[int], size: int = 500) -> Iterable[list[int]]:
    items = sorted(set(ids))
    for start in range(0, len(items), size):
        yield items[start:start + size]


def rubric_of(run: QaRun) -> list[RubricItem]:
    return [RubricItem.model_validate(item) for item in run.rubric]


def rubric_out(items: Iterable[RubricItem]) -> list[RubricItemOut]:
    return [RubricItemOut(**item.model_dump()) for item in items]


# ---------------------------------------------------------------------------- replies in a period


def ticket_breaches(ticket_ids: Iterable[int], *, session: Session) -> dict[int, list[str]]:
    """SLA metrics each ticket breached: breaches the scheduler recorded, and a late first reply or solution."""
    out: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(ticket_ids):
        for ticket_id, metric in session.execute(select(SlaEvent.ticket_id, SlaEvent.metric)
                                                 .where(SlaEvent.ticket_id.in_(chunk), SlaEvent.kind == "breach")):
            out[ticket_id].add(metric)
        rows = session.execute(select(Ticket.id, Ticket.first_responded_at, Ticket.first_response_due,
                                      Ticket.solved_at, Ticket.resolution_due).where(Ticket.id.in_(chunk)))
        for ticket_id, responded, response_due, solved, resolution_due in rows:
            if responded and response_due and responded > response_due:
                out[ticket_id].add("first_response")
            if solved and resolution_due and solved > resolution_due:
                out[ticket_id].add("resolution")
    return {k: sorted(v) for k, v in out.items()}


def _attribution(ticket_ids: Iterable[int], *, session: Session) -> dict[int, list[tuple[datetime, int | None, str]]]:
    history: dict[int, list[tuple[datetime, int | None, str]]] = defaultdict(list)
    for chunk in _chunks(ticket_ids):
        for ticket_id, created, agent_id, action in session.execute(
                select(Assignment.ticket_id, Assignment.created_at, Assignment.agent_id, Assignment.action)
                .where(Assignment.ticket_id.in_(chunk)).order_by(Assignment.id)):
            history[ticket_id].append((created, agent_id, action))
    return history


_INTRODUCTION = re.compile(r"\b(?:this is|it'?s|i am|i'm|my name is|hier ist|ich bin|je suis|c'est)\s+(\w+)"
                           r"|\b(\w+)\s+(?:here|hier|ici)\b", re.IGNORECASE)


def introduced_agent(text: str, first_names: dict[str, int]) -> int | None:
    """The agent a chat reply introduces ("Hi Maria, Nadia here", "this is Ines"), by a first name only one
    agent has; imported transcripts say "agent" where the author's name should be."""
    for m in _INTRODUCTION.finditer(text):
        name = (m.group(1) or m.group(2) or "").lower()
        if name in first_names:
            return first_names[name]
    return None


def unique_first_names(agents: Iterable[tuple[int, str]]) -> dict[str, int]:
    seen: dict[str, list[int]] = defaultdict(list)
    for agent_id, name in agents:
        if name.split():
            seen[name.split()[0].lower()].append(agent_id)
    return {first: ids[0] for first, ids in seen.items() if len(ids) == 1}


def reply_author(author: str, sent_at: datetime, assignee_id: int | None,
                 history: Sequence[tuple[datetime, int | None, str]], agents_by_email: dict[str, int],
                 introduced: int | None = None) -> int | None:
    """Which agent wrote a reply, from the best evidence available.

    In order: the author's address when it is an agent's (replies sent through Triage); the agent who
    introduced himself earlier in the conversation (imported chats); the last assignment before the reply;
    the first assignment (a conversation imported after the fact was routed after its replies were
    written); the current assignee.
    """
    by_address = agents_by_email.get(author.strip().lower())
    if by_address is not None:
        return by_address
    if introduced is not None:
        return introduced
    before = [(agent_id, action) for created, agent_id, action in history if created <= sent_at]
    if before and before[-1][0] is not None and before[-1][1] in ("assigned", "reassigned"):
        return before[-1][0]
    first = next((agent_id for _created, agent_id, _action in history if agent_id is not None), None)
    return first if first is not None else assignee_id


def _introductions(ticket_ids: Iterable[int], first_names: dict[str, int], *,
                   session: Session) -> dict[int, int]:
    """Reply id -> the agent who last introduced himself in that conversation, up to and including the reply."""
    out: dict[int, int] = {}
    for chunk in _chunks(ticket_ids):
        current: dict[int, int] = {}
        for message_id, ticket_id, body in session.execute(
                select(Message.id, Message.ticket_id, Message.text).where(Message.ticket_id.in_(chunk),
                                                                          *_agent_reply())
                .order_by(Message.ticket_id, Message.sent_at, Message.id)):
            named = introduced_agent(body, first_names)
            if named is not None:
                current[ticket_id] = named
            if ticket_id in current:
                out[message_id] = current[ticket_id]
    return out


def period_candidates(period: Period, *, session: Session) -> tuple[list[Candidate], int]:
    """Agents' replies sent in the period, each attributed to an agent and flagged; and how many had no agent."""
    rows = session.execute(
        select(Message.id, Message.ticket_id, Message.author, Message.sent_at, Ticket.assignee_id, Ticket.sentiment)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(*_agent_reply(), Message.sent_at >= period.start, Message.sent_at < period.end)
        .order_by(Message.id)).all()
    ticket_ids = {r.ticket_id for r in rows}
    history = _attribution(ticket_ids, session=session)
    breaches = ticket_breaches(ticket_ids, session=session)
    agents = session.execute(select(Agent.id, Agent.email, Agent.name)).all()
    agents_by_email = {a.email: a.id for a in agents}
    introductions = _introductions(ticket_ids, unique_first_names((a.id, a.name) for a in agents), session=session)
    out: list[Candidate] = []
    unattributed = 0
    for r in rows:
        agent_id = reply_author(r.author, r.sent_at, r.assignee_id, history.get(r.ticket_id, []), agents_by_email,
                                introduced=introductions.get(r.id))
        if agent_id is None:
            unattributed += 1
            continue
        flags = set()
        if breaches.get(r.ticket_id):
            flags.add("sla_breach")
        if r.sentiment == "negative":
            flags.add("negative_sentiment")
        out.append(Candidate(r.id, agent_id, r.ticket_id, r.sent_at, frozenset(flags)))
    return out, unattributed


# ---------------------------------------------------------------------------- pre-checks


@dataclass
class PrecheckContext:
    """What every pre-check of a run shares: words to accept, products to recognise, the tone model's readings."""

    config: TriageConfig
    ignore: set[str]
    products: list[str]
    breaches: dict[int, list[str]]
    model: dict[int, tuple[str, float]] = field(default_factory=dict)


def _kb_vocabulary(session: Session) -> tuple[set[str], list[str]]:
    words: set[str] = set()
    products: set[str] = set()
    for title, body, tags, product in session.execute(select(KbArticle.title, KbArticle.body, KbArticle.tags,
                                                              KbArticle.product)):
        words.update(checks.words_of(f"{title} {body} {' '.join(tags or [])}"))
        if product:
            products.add(product.replace("-", " "))
            words.update(checks.words_of(product.replace("-", " ")))
    return words, sorted(products)


def precheck_context(ticket_ids: Iterable[int], *, session: Session, config: TriageConfig) -> PrecheckContext:
    kb_words, products = _kb_vocabulary(session)
    names: set[str] = set()
    for (name,) in session.execute(select(Agent.name)):
        names.update(checks.words_of(name))
    names.update(checks.words_of(config.company))
    ignore = kb_words | names | {w.lower() for w in config.qa.spelling_ignore}
    return PrecheckContext(config=config, ignore=ignore, products=products,
                           breaches=ticket_breaches(ticket_ids, session=session))


def _is_agent_reply(m: Message) -> bool:
    return m.direction == "out" and m.author_kind == "agent" and m.auto_kind is None


def _is_customer(m: Message) -> bool:
    return m.direction == "in" and m.author_kind == "customer" and m.auto_kind is None


def _before(ticket: Ticket, reply: Message) -> list[Message]:
    key = (reply.sent_at, reply.id)
    return [m for m in ticket.messages if (m.sent_at, m.id) < key]


def answered_messages(ticket: Ticket, reply: Message) -> tuple[list[Message], Message | None]:
    """The customer messages this reply answers (since the previous agent reply) and that previous reply."""
    earlier = _before(ticket, reply)
    previous = next((m for m in reversed(earlier) if _is_agent_reply(m)), None)
    since = [m for m in earlier if _is_customer(m) and (previous is None or (m.sent_at, m.id) > (previous.sent_at,
                                                                                                  previous.id))]
    return since, previous


def _suggestion_for(ticket_id: int, reply: Message, *, session: Session) -> tuple[Suggestion | None, str | None]:
    """The draft the agent had in front of him: one whose feedback recorded this text, else the latest before."""
    suggestions = list(session.scalars(select(Suggestion).where(Suggestion.ticket_id == ticket_id)
                                       .order_by(Suggestion.id)))
    if not suggestions:
        return None, None
    feedback = {f.suggestion_id: f for f in session.scalars(
        select(SuggestionFeedback).where(SuggestionFeedback.suggestion_id.in_([s.id for s in suggestions]))
        .order_by(SuggestionFeedback.id))}
    sent = " ".join(reply.text.split())
    for s in reversed(suggestions):
        f = feedback.get(s.id)
        if f is not None and f.final_text and " ".join(f.final_text.split()) == sent:
            return s, f.action
    earlier = [s for s in suggestions if s.created_at <= reply.created_at]
    chosen = earlier[-1] if earlier else None
    if chosen is None:
        return None, None
    f = feedback.get(chosen.id)
    return chosen, f.action if f is not None else None


def compute_prechecks(reply: Message, ticket: Ticket, *, session: Session, context: PrecheckContext) -> dict[str, Any]:
    """All pre-checks for one reply (stored with the sample, so reviewers see what the reply was judged on)."""
    from models.entities import EntityExtractor

    config = context.config
    customer: Customer = ticket.customer
    answered, previous = answered_messages(ticket, reply)
    customer_text = "\n".join(m.text for m in answered) or next(
        (m.text for m in reversed(_before(ticket, reply)) if _is_customer(m)), "")
    # The reply's own language when the detector is sure of it (en, de, fr, es), else the customer's.
    guess = detect_language(reply.text, config.language.detect)
    language = guess.code if guess is not None and guess.confident else (customer.language or "en")[:2].lower()
    ignore = context.ignore | set(checks.words_of(customer.name or ""))
    entities = [(e.label, e.text) for e in EntityExtractor(context.products).extract(customer_text)] \
        if customer_text else []

    policy = config.sla_for(ticket.channel, ticket.priority)
    calendar = config.calendar_for(ticket.queue)
    if previous is None:
        metric, start, due = "first_response", ticket.created_at, ticket.first_response_due
        target = parse_duration(policy.first_response) if policy else None
        if due is None and target is not None:
            due = calendar.add(start, target)
    elif answered:
        metric, start = "next_response", answered[0].sent_at
        target = parse_duration(policy.next_response) if policy and policy.next_response else None
        due = calendar.add(start, target) if target is not None else None
    else:
        metric, start, due, target = "follow_up", None, None, None

    suggestion, action = _suggestion_for(ticket.id, reply, session=session)
    return {
        "language": language,
        "spelling": checks.spelling(reply.text, language=language, ignore=ignore, customer_text=customer_text,
                                    templates=checks.config_templates(config)),
        "personalisation": checks.personalisation(reply.text, customer_text, customer.name, language=language,
                                                  entities=entities),
        "response_time": checks.response_time(reply_at=reply.sent_at, metric=metric, clock_start=start, due_at=due,
                                              target=target, calendar=calendar,
                                              breaches=context.breaches.get(ticket.id, [])),
        "tone": checks.tone(reply.text, model=context.model.get(reply.id), language=language),
        "draft": checks.draft_kept(reply.text, suggestion.draft if suggestion else None,
                                   suggestion_id=suggestion.id if suggestion else None, feedback=action),
    }


def check_verdicts(prechecks: dict[str, Any]) -> dict[str, Any]:
    """The one-line view of the pre-checks for lists."""
    if not prechecks:
        return {}
    return {"spelling_errors": prechecks["spelling"]["count"],
            "personalisation": prechecks["personalisation"]["verdict"],
            "within_sla": prechecks["response_time"]["within_sla"],
            "tone": prechecks["tone"]["verdict"],
            "draft_kept": prechecks["draft"]["kept_share"]}


def suite_sentiment(suite: Any) -> Sentiment:
    """Adapt the classifier suite to the tone check: (label, confidence) of the sentiment model per text."""
    def read(texts: list[str]) -> list[tuple[str, float]]:
        return [(row["sentiment"][0].label, float(row["sentiment"][0].confidence)) for row in suite.classify(texts)]
    return read


# ---------------------------------------------------------------------------- sampling runs


def qa_reviewers(*, session: Session, names: Sequence[str] | None = None) -> list[User]:
    """Active users with the qa role (optionally only the named ones, each of which must be one)."""
    users = list(session.scalars(select(User).where(User.role == "qa", User.active.is_(True)).order_by(User.id)))
    if names:
        by_name = {u.name: u for u in users}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise BadRequest(f"not an active QA reviewer (users with role qa): {', '.join(missing)}")
        users = [by_name[n] for n in dict.fromkeys(names)]
    return users


def open_load(*, session: Session) -> dict[int, int]:
    """Reviews assigned and not yet submitted, per reviewer: what least-loaded assignment balances."""
    rows = session.execute(select(QaReview.reviewer_id, func.count()).where(QaReview.submitted_at.is_(None))
                           .group_by(QaReview.reviewer_id))
    return {reviewer: int(n) for reviewer, n in rows}


_RUN_LOCK = 0x5141_5255  # "QARU": the advisory lock that serialises sampling runs on PostgreSQL


def _one_run_at_a_time(session: Session) -> None:
    """Two runs drawing at once would both see a reply as unsampled; the second waits for the first to commit.

    SQLite needs nothing: every transaction begins IMMEDIATE, holding the write lock from its first read.
    """
    if on_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RUN_LOCK})


def create_run(period: Period, *, session: Session, config: TriageConfig, seed: int | None = None,
               sample_size: int | None = None, reviewers: Sequence[str] | None = None, created_by: str = "",
               sentiment: Sentiment | None = None) -> QaRun:
    """Sample the period's replies per agent, compute their pre-checks and assign them to QA reviewers.

    Per agent: every reply on a ticket that breached its SLA or ended negative (as configured), plus
    `sample_size` random others (the same number for every agent who wrote that many). A reply already
    sampled for review is never drawn again; calibration replies go to a panel of reviewers.
    """
    qa = config.qa
    size = qa.sample_size if sample_size is None else sample_size
    if not 0 <= size <= 1000:
        raise BadRequest("sample size must be between 0 and 1000")
    seed = secrets.randbelow(2**31) if seed is None else seed
    if not 0 <= seed < 2**31:
        raise BadRequest("seed must be between 0 and 2147483647")
    staff = qa_reviewers(session=session, names=reviewers)
    if not staff:
        raise BadRequest("no QA reviewers to assign samples to: add one with `triage users add NAME --role qa`")
    _one_run_at_a_time(session)

    candidates, unattributed = period_candidates(period, session=session)
    reviewed = set(session.scalars(select(QaSample.message_id).where(QaSample.purpose == "review")))
    calibrated = set(session.scalars(select(QaSample.message_id).where(QaSample.purpose == "calibration")))
    mandatory = [reason for reason, on in (("sla_breach", qa.include_sla_breaches),
                                           ("negative_sentiment", qa.include_negative_sentiment)) if on]
    picks, tallies = select_review(candidates, per_agent=size, seed=seed, exclude=reviewed, mandatory=mandatory)
    notes: list[str] = []
    panel_size = min(qa.calibration_reviewers, len(staff))
    calibration: list[Candidate] = []
    if qa.calibration_samples:
        if panel_size < 2:
            notes.append("no calibration samples: calibration needs at least two QA reviewers")
        else:
            calibration = select_calibration(candidates, size=qa.calibration_samples, seed=seed, exclude=calibrated,
                                             avoid={p.candidate.message_id for p in picks})
            if panel_size < qa.calibration_reviewers:
                notes.append(f"calibration panels have {panel_size} reviewers: only {len(staff)} QA reviewers exist")
    if unattributed:
        notes.append(f"{unattributed} replies could not be attributed to an agent and were not sampled")
    if not candidates and not unattributed:
        notes.append(f"no agent replies were sent in {period.label}")

    load = open_load(session=session)
    load_before = {u.id: load.get(u.id, 0) for u in staff}
    # One reviewer reads all of a ticket's sampled replies; tickets are shuffled so each gets a mix of agents.
    by_ticket: dict[int, int] = defaultdict(int)
    for pick in picks:
        by_ticket[pick.candidate.ticket_id] += 1
    order = sorted(by_ticket)
    random.Random(f"assign:{seed}").shuffle(order)
    ticket_panels = assign_reviewers(order, [u.id for u in staff], load, sizes=by_ticket)
    review_panels = {i: ticket_panels[pick.candidate.ticket_id] for i, pick in enumerate(picks)}
    calibration_panels = assign_reviewers(list(range(len(calibration))), [u.id for u in staff], load,
                                          per_key=panel_size) if calibration else {}

    run = QaRun(period=period.label, period_start=period.start, period_end=period.end, seed=seed, sample_size=size,
                rubric=[item.model_dump() for item in qa.rubric], created_by=created_by)
    session.add(run)
    session.flush()

    chosen: list[tuple[Candidate, str, list[str], list[int]]] = []
    for i, pick in enumerate(picks):
        chosen.append((pick.candidate, "review", pick.reasons, review_panels[i]))
    for i, cand in enumerate(calibration):
        chosen.append((cand, "calibration", sorted(cand.flags) or ["random"], calibration_panels[i]))
    tickets = _load_tickets({c.ticket_id for c, *_ in chosen}, session=session)
    messages = {m.id: m for t in tickets.values() for m in t.messages}
    context = precheck_context(tickets, session=session, config=config)
    if sentiment is not None and qa.tone_model and chosen:
        ids = sorted({c.message_id for c, *_ in chosen})
        context.model = dict(zip(ids, sentiment([messages[i].text for i in ids]), strict=True))

    per_agent_samples: dict[int, int] = defaultdict(int)
    assigned: dict[int, int] = defaultdict(int)
    for cand, purpose, reasons, panel in chosen:
        reply = messages[cand.message_id]
        sample = QaSample(run_id=run.id, message_id=reply.id, ticket_id=cand.ticket_id, agent_id=cand.agent_id,
                          purpose=purpose, reasons=reasons, status="assigned", sent_at=reply.sent_at,
                          prechecks=compute_prechecks(reply, tickets[cand.ticket_id], session=session,
                                                      context=context))
        session.add(sample)
        session.flush()
        for reviewer_id in panel:
            session.add(QaReview(sample_id=sample.id, reviewer_id=reviewer_id))
            assigned[reviewer_id] += 1
        if purpose == "review":
            per_agent_samples[cand.agent_id] += 1

    agents = {a.id: a for a in session.scalars(select(Agent))}
    for agent in agents.values():  # an active agent who wrote nothing still shows in the fairness report
        if agent.active and agent.id not in tallies:
            tallies[agent.id] = AgentTally(agent_id=agent.id, shortfall=size)
    run.summary = {
        "replies": len(candidates) + unattributed,
        "agents": [{**tally.as_dict(), "agent": agents[aid].name if aid in agents else f"agent {aid}",
                    "email": agents[aid].email if aid in agents else None, "samples": per_agent_samples.get(aid, 0)}
                   for aid, tally in sorted(tallies.items())],
        "reviewers": [{"user_id": u.id, "name": u.name, "open_before": load_before[u.id],
                       "assigned": assigned.get(u.id, 0)} for u in staff],
        "calibration": {"samples": len(calibration), "panel_size": panel_size if calibration else 0},
        "notes": notes,
    }
    session.flush()
    record("qa.run.created", session=session, actor=created_by or "system", run_id=run.id, period=period.label,
           seed=seed, samples=len(chosen))
    return run


def _load_tickets(ids: Iterable[int], *, session: Session) -> dict[int, Ticket]:
    out: dict[int, Ticket] = {}
    for chunk in _chunks(ids):
        for t in session.scalars(select(Ticket).where(Ticket.id.in_(chunk)).options(
                selectinload(Ticket.messages), selectinload(Ticket.customer))):
            out[t.id] = t
    return out


def run_out(run: QaRun, *, session: Session) -> RunOut:
    counts = dict(session.execute(select(QaSample.purpose, func.count()).where(QaSample.run_id == run.id)
                                  .group_by(QaSample.purpose)).all())
    return RunOut(id=run.id, period=run.period, period_start=run.period_start, period_end=run.period_end,
                  seed=run.seed, sample_size=run.sample_size, samples=int(counts.get("review", 0)),
                  calibration_samples=int(counts.get("calibration", 0)), created_by=run.created_by,
                  created_at=run.created_at, rubric=rubric_out(rubric_of(run)), summary=run.summary)


def get_run(run_id: int, *, session: Session) -> QaRun:
    run = session.get(QaRun, run_id)
    if run is None:
        raise NotFoundError(f"no QA run #{run_id}")
    return run


def list_runs(*, session: Session, limit: int = 50) -> list[QaRun]:
    return list(session.scalars(select(QaRun).order_by(QaRun.id.desc()).limit(limit)))


# ---------------------------------------------------------------------------- samples


def _as_id(text: str) -> int | None:
    """A row id typed by a person: plain ASCII digits that fit the column, else None."""
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


def resolve_agent(ref: str | int, *, session: Session) -> Agent:
    """An agent by id or email."""
    text = str(ref).strip()
    number = _as_id(text)
    agent = session.get(Agent, number) if number is not None else session.scalar(
        select(Agent).where(Agent.email == text.lower()))
    if agent is None:
        raise NotFoundError(f"no agent {text!r} (give an agent id or email)")
    return agent


def resolve_reviewer(ref: str | int, *, session: Session) -> User:
    text = str(ref).strip()
    number = _as_id(text)
    user = session.get(User, number) if number is not None else session.scalar(select(User).where(User.name == text))
    if user is None:
        raise NotFoundError(f"no user {text!r} (give a user id or name)")
    return user


def list_samples(*, session: Session, run_id: int | None = None, reviewer_id: int | None = None,
                 agent_id: int | None = None, status: str | None = None, purpose: str | None = None,
                 limit: int = 50, after_id: int | None = None) -> list[QaSample]:
    """Samples newest first; `after_id` pages by id (cursor pagination)."""
    if status is not None and status not in SAMPLE_STATUSES:
        raise BadRequest(f"unknown status {status!r}: one of {', '.join(SAMPLE_STATUSES)}")
    if purpose is not None and purpose not in SAMPLE_PURPOSES:
        raise BadRequest(f"unknown purpose {purpose!r}: one of {', '.join(SAMPLE_PURPOSES)}")
    query = (select(QaSample).options(selectinload(QaSample.reviews), selectinload(QaSample.run))
             .order_by(QaSample.id.desc()).limit(limit))
    if run_id is not None:
        query = query.where(QaSample.run_id == run_id)
    if reviewer_id is not None:
        query = query.where(QaSample.id.in_(select(QaReview.sample_id).where(QaReview.reviewer_id == reviewer_id)))
    if agent_id is not None:
        query = query.where(QaSample.agent_id == agent_id)
    if status is not None:
        query = query.where(QaSample.status == status)
    if purpose is not None:
        query = query.where(QaSample.purpose == purpose)
    if after_id is not None:
        query = query.where(QaSample.id < after_id)
    return list(session.scalars(query))


def get_sample(sample_id: int, *, session: Session) -> QaSample:
    sample = session.scalar(select(QaSample).where(QaSample.id == sample_id)
                            .options(selectinload(QaSample.reviews), selectinload(QaSample.run)))
    if sample is None:
        raise NotFoundError(f"no QA sample #{sample_id}")
    return sample


def _names(samples: Sequence[QaSample], *, session: Session) -> tuple[dict[int, Agent], dict[int, str],
                                                                         dict[int, Ticket]]:
    agent_ids = {s.agent_id for s in samples}
    user_ids = {r.reviewer_id for s in samples for r in s.reviews}
    agents = {a.id: a for chunk in _chunks(agent_ids)
              for a in session.scalars(select(Agent).where(Agent.id.in_(chunk)))}
    users = {uid: name for chunk in _chunks(user_ids)
             for uid, name in session.execute(select(User.id, User.name).where(User.id.in_(chunk)))}
    tickets = {t.id: t for chunk in _chunks({s.ticket_id for s in samples})
               for t in session.scalars(select(Ticket).where(Ticket.id.in_(chunk)))}
    return agents, users, tickets


def _submitted(sample: QaSample) -> list[QaReview]:
    return [r for r in sample.reviews if r.submitted_at is not None]


def sample_total(sample: QaSample) -> float | None:
    totals = [r.total for r in _submitted(sample) if r.total is not None]
    return round(mean(totals), 2) if totals else None


def summaries(samples: Sequence[QaSample], *, session: Session) -> list[SampleSummary]:
    agents, users, tickets = _names(samples, session=session)
    return [_summary(s, agents, users, tickets) for s in samples]


def _summary(s: QaSample, agents: dict[int, Agent], users: dict[int, str], tickets: dict[int, Ticket]) -> SampleSummary:
    agent = agents.get(s.agent_id)
    ticket = tickets.get(s.ticket_id)
    return SampleSummary(
        id=s.id, run_id=s.run_id, period=s.run.period, purpose=s.purpose, status=s.status, reasons=s.reasons,
        agent_id=s.agent_id, agent=agent.name if agent else "", agent_email=agent.email if agent else "",
        ticket_id=s.ticket_id, message_id=s.message_id, channel=ticket.channel if ticket else "",
        sent_at=s.sent_at, reviewers=[users.get(r.reviewer_id, f"user {r.reviewer_id}") for r in s.reviews],
        total=sample_total(s), checks=check_verdicts(s.prechecks))


def _brief(m: Message) -> MessageBrief:
    return MessageBrief(id=m.id, direction=m.direction, author_kind=m.author_kind, author=m.author,
                        sent_at=m.sent_at, subject=m.subject, text=m.text)


def review_visible(sample: QaSample, review: QaReview, *, viewer_role: str, viewer_id: int | None) -> bool:
    """Calibration is blind: a QA reviewer sees colleagues' scores on a panel only once everyone submitted."""
    if viewer_role != "qa" or sample.purpose != "calibration" or review.reviewer_id == viewer_id:
        return True
    return sample.status == "scored"


def _review_out(sample: QaSample, r: QaReview, users: dict[int, str], *, viewer_role: str,
                viewer_id: int | None) -> ReviewOut:
    shown = review_visible(sample, r, viewer_role=viewer_role, viewer_id=viewer_id)
    status = "submitted" if r.submitted_at is not None else "assigned"
    if not shown:
        status = "hidden" if r.submitted_at is not None else status
        return ReviewOut(reviewer_id=r.reviewer_id, reviewer=users.get(r.reviewer_id, ""), status=status, scores=None,
                         item_comments={}, comment="", total=None, amendments=r.amendments, assigned_at=r.assigned_at,
                         submitted_at=r.submitted_at, amended_at=r.amended_at)
    return ReviewOut(reviewer_id=r.reviewer_id, reviewer=users.get(r.reviewer_id, ""), status=status, scores=r.scores,
                     item_comments=r.item_comments or {}, comment=r.comment, total=r.total, amendments=r.amendments,
                     assigned_at=r.assigned_at, submitted_at=r.submitted_at, amended_at=r.amended_at)


def sample_detail(sample: QaSample, *, session: Session, viewer_role: str = "supervisor",
                  viewer_id: int | None = None) -> SampleDetail:
    """The reply, what the customer wrote, the conversation so far, the pre-checks and the scorecards."""
    agents, users, _ = _names([sample], session=session)
    ticket = session.scalar(select(Ticket).where(Ticket.id == sample.ticket_id).options(selectinload(Ticket.messages)))
    assert ticket is not None
    reply = next(m for m in ticket.messages if m.id == sample.message_id)
    thread = [*_before(ticket, reply), reply]
    answered, _previous = answered_messages(ticket, reply)
    customer = answered[-1] if answered else next((m for m in reversed(thread) if _is_customer(m)), None)
    summary = _summary(sample, agents, users, {ticket.id: ticket})
    if viewer_role == "qa" and sample.purpose == "calibration" and sample.status != "scored":
        summary.total = None  # blind until the panel is done
    return SampleDetail(**summary.model_dump(), reply=_brief(reply),
                        customer_message=_brief(customer) if customer else None,
                        thread=[_brief(m) for m in thread[-20:]], prechecks=sample.prechecks,
                        rubric=rubric_out(rubric_of(sample.run)),
                        reviews=[_review_out(sample, r, users, viewer_role=viewer_role, viewer_id=viewer_id)
                                 for r in sample.reviews])


# ---------------------------------------------------------------------------- scorecards


def weighted_total(rubric: Sequence[RubricItem], scores: dict[str, int]) -> float:
    """The weighted mean of each item's position on its scale (lowest 0, highest 1), as a percentage."""
    weight = sum(item.weight for item in rubric)
    points = sum(item.weight * (scores[item.name] - item.scale_min) / (item.scale_max - item.scale_min)
                 for item in rubric)
    return round(100 * points / weight, 2)


def validate_scorecard(rubric: Sequence[RubricItem], card: ScorecardIn) -> None:
    """Every rubric item scored, nothing else, each a whole number on its scale; comments only on items."""
    names = [item.name for item in rubric]
    problems = []
    missing = [n for n in names if n not in card.scores]
    unknown = sorted(set(card.scores) - set(names))
    if missing:
        problems.append(f"missing scores for {', '.join(missing)}")
    if unknown:
        problems.append(f"not on the rubric: {', '.join(unknown)} (items: {', '.join(names)})")
    for item in rubric:
        value = card.scores.get(item.name)
        if value is not None and not item.scale_min <= value <= item.scale_max:
            problems.append(f"{item.name}: {value} is outside {item.scale_min}-{item.scale_max}")
    stray = sorted(set(card.item_comments) - set(names))
    if stray:
        problems.append(f"comments on items not on the rubric: {', '.join(stray)}")
    long = sorted(k for k, v in card.item_comments.items() if len(v) > 2000)
    if long:
        problems.append(f"item comments longer than 2000 characters: {', '.join(long)}")
    if problems:
        raise ScorecardError("; ".join(problems))


def _refresh_status(sample: QaSample) -> None:
    done = len(_submitted(sample))
    sample.status = "scored" if done == len(sample.reviews) else "partly_scored" if done else "assigned"


def submit_scorecard(sample_id: int, card: ScorecardIn, *, reviewer_id: int, session: Session,
                     amend_reason: str | None = None, actor: str = "") -> QaReview:
    """Store the assigned reviewer's scorecard; a second one only as an explicit amendment with a reason."""
    sample = get_sample(sample_id, session=session)
    review = session.scalar(select(QaReview).where(QaReview.sample_id == sample.id,
                                                   QaReview.reviewer_id == reviewer_id).with_for_update())
    if review is None:
        raise NotAssignedError(f"QA sample #{sample.id} is not assigned to you; only its reviewers can score it")
    validate_scorecard(rubric_of(sample.run), card)
    now = utcnow()
    if amend_reason is None:
        if review.submitted_at is not None:
            raise ConflictError(f"QA sample #{sample.id} was already scored by you on "
                                f"{review.submitted_at:%Y-%m-%d %H:%M} UTC; amend it (PUT) with a reason")
        review.submitted_at = now
    else:
        if review.submitted_at is None:
            raise ConflictError(f"nothing to amend on QA sample #{sample.id}: submit the scorecard first (POST)")
        record("qa.scorecard.amended", session=session, ticket_id=sample.ticket_id, actor=actor or str(reviewer_id),
               sample_id=sample.id, reason=amend_reason, previous={"scores": review.scores, "total": review.total,
                                                                   "comment": review.comment,
                                                                   "item_comments": review.item_comments})
        review.amendments += 1
        review.amended_at = now
    review.scores = dict(card.scores)
    review.item_comments = dict(card.item_comments)
    review.comment = card.comment
    review.total = weighted_total(rubric_of(sample.run), card.scores)
    session.flush()
    session.refresh(sample, ["reviews"])
    _refresh_status(sample)
    session.flush()
    if amend_reason is None:
        record("qa.scorecard.submitted", session=session, ticket_id=sample.ticket_id, actor=actor or str(reviewer_id),
               sample_id=sample.id, total=review.total)
    return review


# ---------------------------------------------------------------------------- calibration


def _runs_in(period: Period | None, run_id: int | None, *, session: Session) -> list[QaRun]:
    query = select(QaRun).order_by(QaRun.id)
    if run_id is not None:
        query = query.where(QaRun.id == run_id)
    if period is not None:
        query = query.where(QaRun.period_start < period.end, QaRun.period_end > period.start)
    runs = list(session.scalars(query))
    if run_id is not None and not runs:
        raise NotFoundError(f"no QA run #{run_id}")
    return runs


def calibration_report(*, session: Session, run_id: int | None = None,
                       period: Period | None = None) -> CalibrationReport:
    """Agreement per rubric item on calibration samples: Fleiss' kappa, Cohen's kappa per pair of reviewers
    (plain and quadratic-weighted, which credits near misses on the ordinal scale) and raw agreement."""
    runs = _runs_in(period, run_id, session=session)
    notes: list[str] = []
    scales: dict[str, tuple[int, int]] = {}
    for run in runs:
        for item in rubric_of(run):
            lo, hi = scales.get(item.name, (item.scale_min, item.scale_max))
            scales[item.name] = (min(lo, item.scale_min), max(hi, item.scale_max))
    samples = list(session.scalars(select(QaSample).where(QaSample.run_id.in_([r.id for r in runs]),
                                                          QaSample.purpose == "calibration")
                                   .options(selectinload(QaSample.reviews)).order_by(QaSample.id))) if runs else []
    users = {uid: name for uid, name in session.execute(select(User.id, User.name))}
    scored = [[r for r in s.reviews if r.submitted_at is not None and r.scores] for s in samples]
    complete = sum(1 for s in samples if s.status == "scored")

    items: list[ItemAgreement] = []
    for name, (lo, hi) in scales.items():
        categories = list(range(lo, hi + 1))
        by_sample = [{r.reviewer_id: r.scores[name] for r in reviews if r.scores and name in r.scores}
                     for reviews in scored]
        subjects = [list(ratings.values()) for ratings in by_sample if len(ratings) >= 2]
        raters = sorted({rid for ratings in by_sample for rid in ratings})
        pairs: list[PairAgreement] = []
        for a, b in itertools.combinations(raters, 2):
            common = [(ratings[a], ratings[b]) for ratings in by_sample if a in ratings and b in ratings]
            if not common:
                continue
            xs, ys = [x for x, _ in common], [y for _, y in common]
            pairs.append(PairAgreement(
                reviewer_a=users.get(a, str(a)), reviewer_b=users.get(b, str(b)), samples=len(common),
                cohen_kappa=_round(cohen_kappa(xs, ys, categories=categories)),
                cohen_kappa_quadratic=_round(cohen_kappa(xs, ys, categories=categories, weights="quadratic"))))
        same = near = total_pairs = 0
        for ratings in subjects:
            for x, y in itertools.combinations(ratings, 2):
                total_pairs += 1
                same += x == y
                near += abs(x - y) <= 1
        fleiss = fleiss_kappa(subjects, categories=categories) if subjects else None
        items.append(ItemAgreement(
            item=name, scale=[lo, hi], samples=len(subjects), ratings=sum(len(s) for s in subjects),
            fleiss_kappa=_round(fleiss), cohen_kappa=_light(pairs, "cohen_kappa"),
            cohen_kappa_quadratic=_light(pairs, "cohen_kappa_quadratic"),
            exact_agreement=round(same / total_pairs, 4) if total_pairs else None,
            within_one=round(near / total_pairs, 4) if total_pairs else None,
            interpretation=interpret(fleiss), pairs=pairs))

    bias: dict[int, list[float]] = defaultdict(list)
    totals: dict[int, list[float]] = defaultdict(list)
    for reviews in scored:
        marks = [(r.reviewer_id, r.total) for r in reviews if r.total is not None]
        for rid, total in marks:
            totals[rid].append(total)
        if len(marks) >= 2:
            panel_mean = mean(t for _, t in marks)
            for rid, total in marks:
                bias[rid].append(total - panel_mean)
    reviewers = [ReviewerBias(reviewer=users.get(rid, str(rid)), samples=len(totals[rid]),
                              mean_total=round(mean(totals[rid]), 2),
                              bias=round(mean(bias[rid]), 2) if bias.get(rid) else None)
                 for rid in sorted(totals, key=lambda r: users.get(r, str(r)))]
    if not samples:
        notes.append("no calibration samples in these runs (set [qa] calibration_samples and have two or more "
                     "QA reviewers)")
    elif complete < 10:
        notes.append(f"only {complete} calibration samples fully scored: kappa from fewer than about 10 samples "
                     "is unstable; read it with the raw agreement")
    if any(i.samples and i.fleiss_kappa is None for i in items):
        notes.append("kappa is undefined for an item where every score was the same: agreement is perfect but "
                     "chance agreement is too")
    return CalibrationReport(runs=[r.id for r in runs], samples=len(samples), complete_samples=complete,
                             reviewers=reviewers, items=items, notes=notes)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _light(pairs: Sequence[PairAgreement], attr: str) -> float | None:
    """Light's kappa: the mean of the pairwise Cohen's kappas, weighted by the samples each pair shares."""
    values = [(getattr(p, attr), p.samples) for p in pairs if getattr(p, attr) is not None]
    if not values:
        return None
    return round(sum(v * n for v, n in values) / sum(n for _, n in values), 4)


# ---------------------------------------------------------------------------- agent reports


def _share(values: Iterable[bool | None]) -> float | None:
    known = [bool(v) for v in values if v is not None]
    return round(sum(known) / len(known), 3) if known else None


def _mean(values: Iterable[float | int | None]) -> float | None:
    known = [float(v) for v in values if v is not None]
    return round(mean(known), 2) if known else None


def agent_report(agent_ref: str | int, *, session: Session, periods: int | None = None) -> AgentReport:
    """An agent's review scores per period (oldest first), the change between periods and the overall trend."""
    agent = resolve_agent(agent_ref, session=session)
    samples = list(session.scalars(
        select(QaSample).where(QaSample.agent_id == agent.id, QaSample.purpose == "review")
        .options(selectinload(QaSample.reviews), selectinload(QaSample.run)).order_by(QaSample.id)))
    groups: dict[tuple[datetime, datetime, str], list[QaSample]] = defaultdict(list)
    for s in samples:
        groups[(s.run.period_start, s.run.period_end, s.run.period)].append(s)
    keys = sorted(groups)
    if periods is not None:
        keys = keys[-periods:]
    out: list[PeriodReport] = []
    all_reviews: list[QaReview] = []
    previous: float | None = None
    for start, end, label in keys:
        group = groups[(start, end, label)]
        reviews = [r for s in group for r in _submitted(s)]
        all_reviews += reviews
        totals = [t for t in (sample_total(s) for s in group) if t is not None]
        mean_total = round(mean(totals), 2) if totals else None
        reasons: dict[str, int] = defaultdict(int)
        for s in group:
            for reason in s.reasons:
                reasons[reason] += 1
        pre = [s.prechecks for s in group if s.prechecks]
        out.append(PeriodReport(
            period=label, start=start, end=end, sampled=len(group), scored=len(totals), mean_total=mean_total,
            min_total=min(totals) if totals else None, max_total=max(totals) if totals else None,
            change=round(mean_total - previous, 2) if mean_total is not None and previous is not None else None,
            items=_item_means(reviews), reasons=dict(sorted(reasons.items())),
            checks={"spelling_errors_per_reply": _mean(p["spelling"]["count"] for p in pre),
                    "uses_name": _share(p["personalisation"]["uses_name"] for p in pre),
                    "specific": _share(p["personalisation"]["specific"] for p in pre),
                    "within_sla": _share(p["response_time"]["within_sla"] for p in pre),
                    "tone_concerns": sum(p["tone"]["verdict"] == "concern" for p in pre),
                    "draft_kept": _mean(p["draft"]["kept_share"] for p in pre)}))
        if mean_total is not None:
            previous = mean_total
    points = [(i, p.mean_total) for i, p in enumerate(out) if p.mean_total is not None]
    trend: dict[str, Any] = {"slope_per_period": None, "direction": "not enough periods", "periods": len(points)}
    if len(points) >= 2:
        xs, ys = [float(x) for x, _ in points], [float(y) for _, y in points]
        mx, my = mean(xs), mean(ys)
        slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
        trend["slope_per_period"] = round(slope, 2)
        trend["direction"] = "improving" if slope >= 1 else "declining" if slope <= -1 else "steady"
    scored_totals = [p.mean_total for p in out if p.mean_total is not None]
    weights = [p.scored for p in out if p.mean_total is not None]
    overall = round(sum(t * w for t, w in zip(scored_totals, weights, strict=True)) / sum(weights), 2) \
        if weights else None
    return AgentReport(agent_id=agent.id, agent=agent.name, agent_email=agent.email, periods=out,
                       scored=sum(p.scored for p in out), mean_total=overall, items=_item_means(all_reviews),
                       trend=trend)


def _item_means(reviews: Sequence[QaReview]) -> dict[str, float | None]:
    values: dict[str, list[int]] = defaultdict(list)
    for r in reviews:
        for name, score in (r.scores or {}).items():
            values[name].append(score)
    return {name: round(mean(v), 2) for name, v in values.items()}

