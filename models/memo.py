"""Work shared between the models that look at the same texts in one call.

Intent, sentiment and urgency each normalise a text, cut it into the same word and character n-grams and
(sentiment and urgency) run the same signal regexes. Inside `shared_work()` such results are computed once
per text and reused; outside it every call computes afresh. The cache lives only as long as the `with`
block (one batch), so a long-running server never accumulates texts.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_scope: ContextVar[dict[Hashable, object] | None] = ContextVar("models_shared_work", default=None)


@contextmanager
def shared_work() -> Iterator[None]:
    """Reuse per-text results inside the block (nested blocks share the outermost cache)."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def memo(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per key inside `shared_work()`; always afresh outside it.

    Callers must treat the result as read-only: inside the block every caller gets the same object.
    """
    cache = _scope.get()
    if cache is None:
        return compute()
    try:
        return cache[key]  # type: ignore[return-value]
    except KeyError:
        value = cache[key] = compute()
        return value
