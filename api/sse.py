"""Server-sent event streams fed by reading the database by id (the desk's live notices, the chat widget).

Both poll rather than listen: any process may write the rows (a worker, another `triage serve`), and a read by id
every second or two costs one indexed query. A stream ends after a few minutes and the browser reconnects with
`Last-Event-ID`, so a stopping server never waits on open streams.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
from fastapi.responses import StreamingResponse


async def polled_events(poll: Callable[[], Awaitable[list[str]]], *, retry_ms: int, seconds: float, every: float,
                        keepalive: float, begin: Callable[[], Awaitable[None]] | None = None) -> AsyncIterator[str]:
    """`retry`, then what `poll` returns (whole events, "id: ...\\n...\\n\\n") every `every` seconds for `seconds`,
    with a comment line after `keepalive` quiet seconds so that proxies keep an idle stream open. `begin` runs
    first (where the stream starts reading), before anything is sent."""
    if begin is not None:
        await begin()
    yield f"retry: {retry_ms}\n\n"
    started = quiet_since = time.monotonic()
    while time.monotonic() - started < seconds:
        events = await poll()
        for event in events:
            yield event
        if events:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > keepalive:
            yield ": still here\n\n"
            quiet_since = time.monotonic()
        await anyio.sleep(every)


def event_stream(events: AsyncIterator[str]) -> StreamingResponse:
    """The response for an event stream: never cached, never buffered by a proxy."""
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
