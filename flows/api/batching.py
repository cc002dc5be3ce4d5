"""Micro-batching: texts of requests that arrive together are scored in one model call.

The encoder pays per call as well as per text, so a burst of single-comment requests scored as one
batch finishes sooner than the same requests one by one (`commonground bench api` measures the ratio).
Scoring runs in one worker thread; the event loop stays free to accept requests meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from models.tone_base import ToneScore

ScoreFn = Callable[[Sequence[str]], list[ToneScore]]


class MicroBatcher:
    """`await score(texts)`; requests queued within `max_wait_ms` of the first, up to `max_texts` texts,
    share one call of `score_fn`. `max_texts=1` scores every request on its own."""

    def __init__(self, score_fn: ScoreFn, *, max_texts: int = 64, max_wait_ms: float = 5.0) -> None:
        self.score_fn = score_fn
        self.max_texts = max(1, max_texts)
        self.max_wait = max(0.0, max_wait_ms) / 1000
        self.calls = 0  # model calls made, and texts they scored (the metrics read these)
        self.texts = 0
        self._queue: asyncio.Queue[tuple[list[str], asyncio.Future[list[ToneScore]]]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tone")

    async def score(self, texts: Sequence[str]) -> list[ToneScore]:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run())
        future: asyncio.Future[list[ToneScore]] = asyncio.get_running_loop().create_future()
        await self._queue.put((list(texts), future))
        return await future

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _collect(self) -> list[tuple[list[str], asyncio.Future[list[ToneScore]]]]:
        assert self._queue is not None
        batch = [await self._queue.get()]
        n = len(batch[0][0])
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while n < self.max_texts:
            left = deadline - asyncio.get_running_loop().time()
            try:
                item = (
                    self._queue.get_nowait() if left <= 0 else await asyncio.wait_for(self._queue.get(), left)
                )
            except (asyncio.QueueEmpty, TimeoutError):
                break
            batch.append(item)
            n += len(item[0])
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            texts = [t for request, _ in batch for t in request]
            try:
                scores = await loop.run_in_executor(self._executor, self.score_fn, texts)
            except Exception as exc:  # every waiting request hears of it; the worker goes on
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.calls += 1
            self.texts += len(texts)
            start = 0
            for request, future in batch:
                if not future.done():
                    future.set_result(scores[start : start + len(request)])
                start += len(request)
