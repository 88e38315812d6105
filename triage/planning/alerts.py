"""Emerging issues (issue 17 item 3): counts above their seasonal baseline, and new topics.

**Rises.** For every intent and every queue, the tickets of the last `alert_window` are compared with the same
hours of the week in each of the previous `BASELINE_WEEKS` weeks (the seasonal baseline: a Monday morning is
compared with Monday mornings, so the ordinary weekly rhythm never fires). The test is the exact conditional
test of two Poisson rates: with X tickets now and Y in the n baseline windows, under "no rise" X given X + Y
is Binomial(X + Y, 1 / (n + 1)); the upper tail is the p-value. It fires when p < alert_alpha / m (Bonferroni
over the m intents and queues tested in the pass), X >= alert_min_count and X exceeds the baseline mean by
`alert_min_rise` (at thousands of tickets a week a few percent of ordinary growth is significant already).
Testing against the baseline windows' own counts, not a fixed expected rate, keeps a thin baseline (two quiet
weeks) from looking certain.

**New topics.** Customer messages of the last `topic_window` that the classifier was unsure of or put out of
scope are embedded and clustered with DBSCAN (scikit-learn, cosine distance); a cluster of at least
`topic_min_size` is a topic, named by its most distinctive words (class-based TF-IDF against the other
unsure messages) and its messages nearest the centroid.

**Episodes.** An alert opens an episode (`AlertEpisode`); `triage.flows.alerts` notifies it once, through the
channels SLA escalations use: mail to `alert_notify` and the lead of the team concerned, and a webhook to
`alert_webhook_url`, both through the outbox. While the episode is open later passes only update it; it
closes when the window's count falls to its baseline (a topic: when no cluster matches it in a pass).
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.vocabulary import OUT_OF_SCOPE
from triage.config import TriageConfig, parse_duration
from triage.conversations.tables import Message, Ticket
from triage.db import utcnow
from triage.events.service import record
from triage.planning.schemas import AlertOut, AlertsReport
from triage.planning.tables import AlertEpisode

log = logging.getLogger(__name__)

BASELINE_WEEKS = 4
WEEK = timedelta(weeks=1)
KINDS: tuple[str, ...] = ("intent", "queue")
Encode = Callable[[Sequence[str]], np.ndarray]
TOPIC_TERMS = 3
TOPIC_EXAMPLES = 3
EXAMPLE_CHARS = 160
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# Words that name no topic in the languages we detect (a short list: TF-IDF already discounts common words).
_STOP = (
    "the and for you your are was with have has this that not but can from our out get got any all about would "
    "could please hello thanks thank regards dear there help need want know just still been will what when why how "
    "where der die das und ist nicht ich sie mit für von den dem ein eine bitte danke hallo les des est pas pour une "
    "que qui dans avec vous nous merci bonjour los las por para una con del hola gracias"
)
STOP_WORDS = frozenset(_STOP.split(" "))


# -- the count test -----------------------------------------------------------------------------------------

def rise_p_value(observed: int, baseline: Sequence[int]) -> float:
    """P(X >= observed) when X | X + Y ~ Binomial(X + Y, 1 / (n + 1)): the exact conditional test that the
    window's rate is no higher than that of the n baseline windows with counts `baseline`."""
    from scipy.stats import binom

    n = len(baseline)
    if n == 0 or observed == 0:
        return 1.0
    total = observed + int(sum(baseline))
    return float(binom.sf(observed - 1, total, 1.0 / (n + 1)))


@dataclass(frozen=True)
class Rise:
    kind: str
    key: str
    observed: int
    expected: float  # mean of the baseline windows
    p_value: float
    fired: bool


def score_rises(counts: dict[tuple[str, str], tuple[int, list[int]]], *, alpha: float, min_count: int,
                min_rise: float = 0.0) -> list[Rise]:
    """The test for every (kind, key) with (window count, baseline window counts), Bonferroni-corrected; a rise
    must also exceed the baseline mean by `min_rise` (0.5: 50%), since at high volume a few percent of ordinary
    growth is already significant."""
    tested = max(1, len(counts))
    out = []
    for (kind, key), (observed, baseline) in sorted(counts.items()):
        p = rise_p_value(observed, baseline)
        expected = float(np.mean(baseline)) if baseline else 0.0
        fired = (bool(baseline) and observed >= min_count and p < alpha / tested
                 and observed > (1 + min_rise) * expected)
        out.append(Rise(kind, key, observed, round(expected, 2), p, fired))
    return out


def window_counts(*, session: Session, now: datetime, window: timedelta, weeks: int = BASELINE_WEEKS) \
        -> dict[tuple[str, str], tuple[int, list[int]]]:
    """Per (kind, key): tickets created in [now - window, now) and in the same window 1..weeks weeks earlier
    (only weeks after the first ticket of all count, so a new installation has no false zeros)."""
    first = session.scalar(select(func.min(Ticket.created_at)))
    if first is None:
        return {}
    spans = [(now - window - k * WEEK, now - k * WEEK) for k in range(weeks + 1)]
    spans = [s for k, s in enumerate(spans) if k == 0 or s[0] >= first]
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(spans))
    for i, (start, end) in enumerate(spans):
        for kind, column in (("intent", Ticket.intent), ("queue", Ticket.queue)):
            query = (select(column, func.count()).where(Ticket.created_at >= start, Ticket.created_at < end)
                     .group_by(column))
            for value, n in session.execute(query):
                if value is None or (kind == "intent" and value == OUT_OF_SCOPE):
                    continue  # unclassified is no issue; what falls outside the intents is the topics' job
                out[(kind, value)][i] = int(n)
    return {key: (values[0], values[1:]) for key, values in out.items()}


# -- new topics ------------------------------------------------------------------------------------------

@dataclass
class Topic:
    terms: list[str]
    examples: list[str]
    size: int
    message_ids: list[int] = field(default_factory=list)

    @property
    def key(self) -> str:
        return " ".join(self.terms)


def unsure_messages(*, session: Session, config: TriageConfig, since: datetime, until: datetime) \
        -> list[tuple[int, str]]:
    """(message id, text) of customer messages in [since, until) on tickets flagged for review, out of scope or
    below the review confidence."""
    threshold = config.review.intent_confidence
    query = (select(Message.id, Message.text).join(Ticket, Ticket.id == Message.ticket_id)
             .where(Message.direction == "in", Message.author_kind == "customer", Message.auto_kind.is_(None),
                    Message.sent_at >= since, Message.sent_at < until,
                    or_(Ticket.needs_review.is_(True), Ticket.intent == OUT_OF_SCOPE,
                        Ticket.intent_confidence < threshold))
             .order_by(Message.id))
    return [(i, t) for i, t in session.execute(query) if t and t.strip()]


def _words(text: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOP_WORDS]


def find_topics(texts: Sequence[str], vectors: np.ndarray, *, min_size: int, max_distance: float = 0.35,
                ids: Sequence[int] | None = None) -> list[Topic]:
    """Density clusters of the embedded texts (DBSCAN, cosine distance), each named by its most distinctive words.

    DBSCAN rather than HDBSCAN: HDBSCAN ranks densities relative to each other, so a handful of unrelated
    messages still came out as one "topic" and two clear topics merged into one; a fixed neighbourhood radius
    in cosine distance (`topic_distance`) keeps unrelated messages as noise. With the bundled MiniLM encoder,
    messages on one topic lie within 0.3 of each other, different topics 0.68 or more apart.
    """
    from sklearn.cluster import DBSCAN

    if len(texts) < min_size:
        return []
    vectors = np.asarray(vectors, dtype=float)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1.0, norms)
    labels = DBSCAN(eps=max_distance, min_samples=min_size, metric="cosine").fit_predict(vectors)
    words = [_words(t) for t in texts]
    clusters = sorted({int(c) for c in labels if c >= 0})
    if not clusters:
        return []
    # Class-based TF-IDF: a word's share of its cluster's words, times log(1 + mean words per cluster / the
    # word's count over every unsure message), so words common to all of them (the noise included) rank low.
    overall = Counter(w for ws in words for w in ws)
    mean_words = sum(overall.values()) / (len(clusters) + 1)
    topics = []
    for c in clusters:
        members = [i for i, label in enumerate(labels) if label == c]
        freq = Counter(w for i in members for w in words[i])
        total = sum(freq.values()) or 1
        score = {w: n / total * np.log(1 + mean_words / overall[w]) for w, n in freq.items()}
        terms = [w for w, _ in sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))[:TOPIC_TERMS]]
        centroid = vectors[members].mean(axis=0)
        nearest = sorted(members, key=lambda i: -float(vectors[i] @ centroid))[:TOPIC_EXAMPLES]
        examples = [" ".join(texts[i].split())[:EXAMPLE_CHARS] for i in nearest]
        topics.append(Topic(terms, examples, len(members), [int(ids[i]) for i in members] if ids else []))
    return sorted(topics, key=lambda t: -t.size)


def _same_topic(a: str, b: str) -> bool:
    """Two topic names share most of their words: the same topic seen again."""
    x, y = set(a.split()), set(b.split())
    return len(x & y) >= max(1, min(len(x), len(y)) - 1)


# -- episodes and notifications -------------------------------------------------------------------------------

def _open_episodes(session: Session) -> dict[tuple[str, str], AlertEpisode]:
    rows = session.scalars(select(AlertEpisode).where(AlertEpisode.open_key.is_not(None)))
    return {(e.kind, e.key): e for e in rows}


def _claim(session: Session, *, kind: str, key: str, now: datetime, observed: int, expected: float,
           p_value: float | None, details: dict[str, Any]) -> AlertEpisode | None:
    """Open an episode; None when another process opened the same one first (the unique open_key)."""
    episode = AlertEpisode(kind=kind, key=key[:200], open_key=f"{kind}:{key}"[:220], opened_at=now,
                           last_seen_at=now, observed=observed, expected=expected, p_value=p_value,
                           details=details)
    try:
        with session.begin_nested():
            session.add(episode)
            session.flush()
    except IntegrityError:
        return None
    return episode


def _opened(episode: AlertEpisode, *, session: Session, on_open: Callable[[AlertEpisode], object] | None) -> None:
    record("alert.opened", session=session, actor="alerts", episode_id=episode.id, alert_kind=episode.kind,
           key=episode.key)
    if on_open is not None:
        on_open(episode)


def _out(e: AlertEpisode, *, new: bool) -> AlertOut:
    return AlertOut(id=e.id, kind=e.kind, key=e.key, new=new, opened_at=e.opened_at, last_seen_at=e.last_seen_at,
                    closed_at=e.closed_at, observed=e.observed, expected=e.expected, p_value=e.p_value,
                    terms=e.details.get("terms", []), examples=e.details.get("examples", []))


def check_alerts(*, session: Session, config: TriageConfig, now: datetime | None = None,
                 encode: Encode | None = None, on_open: Callable[[AlertEpisode], object] | None = None) -> AlertsReport:
    """One detection pass: test every intent and queue, group new topics (when `encode` is given), open new
    episodes (calling `on_open` for each: the flow notifies), update or close the open ones. Flushes; the caller
    commits."""
    plan = config.planning
    now = now or utcnow()
    window = parse_duration(plan.alert_window)
    episodes = _open_episodes(session)
    alerts: list[AlertOut] = []
    rises = score_rises(window_counts(session=session, now=now, window=window), alpha=plan.alert_alpha,
                        min_count=plan.alert_min_count, min_rise=plan.alert_min_rise)
    for rise in rises:
        open_episode = episodes.get((rise.kind, rise.key))
        if rise.fired and open_episode is not None:
            open_episode.last_seen_at, open_episode.observed = now, max(open_episode.observed, rise.observed)
            alerts.append(_out(open_episode, new=False))
        elif rise.fired:
            episode = _claim(session, kind=rise.kind, key=rise.key, now=now, observed=rise.observed,
                             expected=rise.expected, p_value=rise.p_value, details={"window": plan.alert_window})
            if episode is not None:
                _opened(episode, session=session, on_open=on_open)
                alerts.append(_out(episode, new=True))
        elif open_episode is not None and rise.observed <= rise.expected:
            open_episode.open_key, open_episode.closed_at = None, now
    for (kind, _key), e in episodes.items():  # a key with no ticket at all this pass is back to normal too
        if kind != "topic" and e.open_key is not None and not any((r.kind, r.key) == (kind, e.key) for r in rises):
            e.open_key, e.closed_at = None, now
    topics: list[Topic] = []
    if encode is not None:
        since = now - parse_duration(plan.topic_window)
        rows = unsure_messages(session=session, config=config, since=since, until=now)
        if len(rows) >= plan.topic_min_size:
            texts = [t for _, t in rows]
            topics = find_topics(texts, encode(texts), min_size=plan.topic_min_size, max_distance=plan.topic_distance,
                                 ids=[i for i, _ in rows])
        seen = set()
        for topic in topics:
            match = next((e for (k, key), e in episodes.items() if k == "topic" and _same_topic(key, topic.key)),
                         None)
            details = {"terms": topic.terms, "examples": topic.examples, "window": plan.topic_window}
            if match is not None:
                match.last_seen_at, match.observed = now, max(match.observed, topic.size)
                seen.add(match.id)
                alerts.append(_out(match, new=False))
                continue
            episode = _claim(session, kind="topic", key=topic.key, now=now, observed=topic.size, expected=0.0,
                             p_value=None, details=details)
            if episode is not None:
                _opened(episode, session=session, on_open=on_open)
                alerts.append(_out(episode, new=True))
        for (kind, _key), e in episodes.items():
            if kind == "topic" and e.id not in seen:
                e.open_key, e.closed_at = None, now
    session.flush()
    log.info("alerts: %d tested, %d active, %d new", len(rises), len(alerts), sum(a.new for a in alerts))
    return AlertsReport(at=now, window=plan.alert_window, tested=len(rises), alerts=alerts,
                        topics_checked=encode is not None)


def list_alerts(*, session: Session, include_closed: bool = False, limit: int = 100) -> list[AlertOut]:
    """Episodes, newest first: the open ones, or every one with `include_closed`."""
    query = select(AlertEpisode).order_by(AlertEpisode.opened_at.desc(), AlertEpisode.id.desc()).limit(limit)
    if not include_closed:
        query = query.where(AlertEpisode.open_key.is_not(None))
    return [_out(e, new=False) for e in session.scalars(query)]
