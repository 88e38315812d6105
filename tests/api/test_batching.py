"""The classification micro-batcher: concurrent requests share a batch, each gets its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from api.batching import MicroBatcher


def test_concurrent_requests_share_batches_and_get_their_own_results() -> None:
    batches: list[list[str]] = []

    def classify(texts: list[str], contexts: Sequence[dict[str, Any] | None]) -> list[Any]:
        batches.append(list(texts))
        return [(text.upper(), ctx) for text, ctx in zip(texts, contexts, strict=True)]

    async def main() -> list[Any]:
        batcher = MicroBatcher(classify, max_batch=8, max_wait=0.05)
        return await asyncio.gather(*(batcher.submit(f"t{i}", {"i": i}) for i in range(20)))

    results = asyncio.run(main())
    assert results == [(f"T{i}", {"i": i}) for i in range(20)]
    assert sorted(t for batch in batches for t in batch) == sorted(f"t{i}" for i in range(20))
    assert all(len(batch) <= 8 for batch in batches)
    assert len(batches) <= 4, f"20 concurrent requests took {len(batches)} batches"


def test_an_error_reaches_every_request_of_the_batch_and_the_next_batch_still_runs() -> None:
    calls = {"n": 0}

    def classify(texts: list[str], contexts: Sequence[dict[str, Any] | None]) -> list[Any]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("no model")
        return list(texts)

    async def main() -> tuple[list[Any], str]:
        batcher = MicroBatcher(classify, max_wait=0.05)
        failed = await asyncio.gather(batcher.submit("a"), batcher.submit("b"), return_exceptions=True)
        return failed, await batcher.submit("c")

    failed, later = asyncio.run(main())
    assert [str(e) for e in failed] == ["no model", "no model"] and later == "c"


def test_a_lone_request_does_not_wait_for_company_longer_than_max_wait() -> None:
    async def main() -> float:
        batcher = MicroBatcher(lambda texts, _c: list(texts), max_wait=0.01)
        loop = asyncio.get_running_loop()
        await batcher.submit("warm-up")
        start = loop.time()
        assert await batcher.submit("x") == "x"
        return loop.time() - start

    # Generous bound: it says "not seconds", not a speed target.
    assert asyncio.run(main()) < 2.0


@pytest.mark.parametrize("max_batch", [1, 3])
def test_max_batch_is_respected(max_batch: int) -> None:
    sizes: list[int] = []

    def classify(texts: list[str], _contexts: Sequence[dict[str, Any] | None]) -> list[Any]:
        sizes.append(len(texts))
        return list(texts)

    async def main() -> None:
        batcher = MicroBatcher(classify, max_batch=max_batch, max_wait=0.05)
        await asyncio.gather(*(batcher.submit(str(i)) for i in range(7)))

    asyncio.run(main())
    assert max(sizes) <= max_batch and sum(sizes) == 7


def test_aclose_stops_the_batching_task() -> None:
    async def main() -> bool:
        batcher = MicroBatcher(lambda texts, _c: list(texts))
        assert await batcher.submit("x") == "x"
        task = batcher._task
        await batcher.aclose()
        assert task is not None
        return task.cancelled()

    assert asyncio.run(main())
