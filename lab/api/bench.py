"""`commonground bench api`: the Perspective-compatible service under a bounded load on loopback.

Starts `commonground api`'s app under uvicorn on 127.0.0.1, sends a fixed number of requests from a fixed
number of concurrent clients (single comments, then batches of ten), and reports requests/s and p50/p95/p99
latency. The same burst of single comments is then sent to a service that scores every request on its
own (`api_batch_texts=1`): the ratio is what micro-batching concurrent requests buys, measured in the run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
import numpy as np

from flows.api.app import create_app
from flows.api.server import running
from lab.tone.bench import sample_texts
from models.tone import load_tone_model
from models.tone_base import ToneModel
from warehouse.settings import Settings

FULL = {"singles": 400, "batches": 60, "clients": 16}
QUICK = {"singles": 40, "batches": 6, "clients": 4}
BATCH = 10


@contextmanager
def _served(model: ToneModel, data_dir: Path, **settings: Any) -> Iterator[str]:
    app = create_app(model, Settings(data_dir=data_dir, api_requests_per_minute=1_000_000, **settings))
    with running(app) as url:
        yield url


async def _load(url: str, bodies: Sequence[dict[str, Any]], clients: int) -> tuple[float, list[float]]:
    """Send every body with at most `clients` in flight; (wall seconds, each request's latency)."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            reply = await http.post(url, json=body)
            reply.raise_for_status()
            latencies.append(time.perf_counter() - started)

    async with httpx.AsyncClient(timeout=120) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return time.perf_counter() - started, latencies


def _line(what: str, n: int, wall: float, latencies: list[float]) -> str:
    p50, p95, p99 = (1000 * float(np.percentile(latencies, q)) for q in (50, 95, 99))
    return f"{what}: {n / wall:.1f} requests/s; latency p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms"


def run(quick: bool = False, model: ToneModel | None = None) -> list[str]:
    size = QUICK if quick else FULL
    model = model or load_tone_model(threads=None)
    texts = [t for t in sample_texts() if t.strip()]
    singles = [
        {"comment": {"text": texts[i % len(texts)]}, "requestedAttributes": {"TOXICITY": {}, "INSULT": {}}}
        for i in range(size["singles"])
    ]
    batches = [{"texts": texts[i * BATCH : (i + 1) * BATCH]} for i in range(size["batches"])]
    lines = [f"model {model.version}; {size['clients']} concurrent clients on loopback"]
    with TemporaryDirectory() as tmp:
        with _served(model, Path(tmp)) as url:
            asyncio.run(
                _load(f"{url}/v1alpha1/comments:analyze", singles[: size["clients"]], size["clients"])
            )
            wall, lat = asyncio.run(_load(f"{url}/v1alpha1/comments:analyze", singles, size["clients"]))
            lines.append(_line(f"{len(singles)} single comments (micro-batched)", len(singles), wall, lat))
            batched = len(singles) / wall
            wall, lat = asyncio.run(_load(f"{url}/v1/score", batches, size["clients"]))
            lines.append(_line(f"{len(batches)} requests of {BATCH} texts", len(batches), wall, lat))
            lines.append(f"  = {len(batches) * BATCH / wall:.1f} texts/s")
        with _served(model, Path(tmp), api_batch_texts=1) as url:
            wall, lat = asyncio.run(_load(f"{url}/v1alpha1/comments:analyze", singles, size["clients"]))
            lines.append(
                _line(f"{len(singles)} single comments, one model call each", len(singles), wall, lat)
            )
            alone = len(singles) / wall
    lines.append(f"ratio: {batched / alone:.2f} (micro-batched vs one call per request, single comments)")
    return lines
