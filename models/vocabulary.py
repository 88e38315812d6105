"""The task and label vocabulary, declared once: model tasks, urgency and priority levels, sentiment labels.

Everything else (the classifiers, training, the ticket tables, the SLA policies, the API schemas) imports
these names. The `Literal` types are the declarations, so that type checkers and pydantic see the values;
the tuples are derived from them. It lives in `models/` because `triage/` imports `models/`, never the
other way round.
"""

from __future__ import annotations

from typing import Literal, get_args

# The three classifiers, in the order the suite runs and reports them.
Task = Literal["intent", "sentiment", "urgency"]
TASKS: tuple[Task, ...] = get_args(Task)

# The urgency classifier's labels, least pressing first.
Urgency = Literal["low", "normal", "high", "critical"]
URGENCY_LEVELS: tuple[Urgency, ...] = get_args(Urgency)

# A ticket's priority (SLA policies are set per priority), least pressing first. The top level is
# "urgent" for a ticket where the classifier says "critical" (issue 13).
Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[Priority, ...] = get_args(Priority)

# A ticket's priority follows its classified (or corrected) urgency, level for level.
URGENCY_TO_PRIORITY: dict[str, str] = dict(zip(URGENCY_LEVELS, PRIORITIES, strict=True))

Sentiment = Literal["negative", "neutral", "positive"]
SENTIMENTS: tuple[Sentiment, ...] = get_args(Sentiment)

# The intent served for a message that is no support request, whatever the training data called it.
OUT_OF_SCOPE = "other"
