"""Micro-batching for classification: concurrent requests share one encoder pass.

Embedding is most of a classification's cost and the encoder does 32 texts in little more time than
one, so under load requests that arrive together are classified together; a lone request waits at
most `max_wait` seconds for company. One batch runs at a time, in a worker thread, so the event loop
stays free and threads do not fight over the CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

Classify = Callable[[list[str], Sequence[dict[str, Any] | None]], list[Any]]


class MicroBatcher:
    def __init__(self, classify: Classify, *, max_batch: int = 32, max_wait: float = 0.002) -> None:
        self.classify = classify
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: asyncio.Queue[tuple[str, dict[str, Any] | None, asyncio.Future[Any]]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, text: str, context: dict[str, Any] | None = None) -> Any:
        """The classification of one text, computed in whichever batch it joins."""
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._serve(self._queue))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((text, context, future))
        return await future

    async def aclose(self) -> None:
        """Stop the batching task (at app shutdown), so no task is left pending on a closing loop."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = self._queue = None

    async def _serve(self, queue: asyncio.Queue[tuple[str, dict[str, Any] | None, asyncio.Future[Any]]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await queue.get()]
            deadline = loop.time() + self.max_wait
            while len(batch) < self.max_batch:
                try:
                    batch.append(queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), remaining))
                except TimeoutError:
                    break
            live = [item for item in batch if not item[2].cancelled()]  # the client went away
            if not live:
                continue
            try:
                results = await asyncio.to_thread(self.classify, [t for t, _, _ in live], [c for _, c, _ in live])
            except Exception as exc:  # every waiting request gets the error, the loop carries on
                for _, _, future in live:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, _, future), result in zip(live, results, strict=True):
                if not future.done():
                    future.set_result(result)
