"""Work fanned out to Dask workers: scoring chunks of distinct texts, fetching and normalising queries.

The workers compute and return; the flow's process does every warehouse write (DuckDB takes one writer).

`DaskToneModel` stands in for the tone model inside the flow's process: its `score` sends the distinct
texts in chunks to `score_chunk_task` on the workers (through Prefect's `DaskTaskRunner`,
flows/runners.py) and maps the scores back to input order, so everything after scoring - the tone
frame, the warehouse write - is the same code, in the same process, as without Dask. Each worker loads
the model once and keeps it for later chunks.

`prefetch` fetches and normalises every query of an ingest run on the workers at once and hands each
query's pages back as a `ReplayedSource`, which the ingest task writes exactly as it writes a live
source's pages (cursors, read budgets and quarantine included). A query's pages are held in memory
until they are written. X is never prefetched: its read budget is worked out query by query.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner

from flows.runners import started_runner, uses_dask
from flows.sources.base import Page, Source
from flows.sources.common import PlatformSource, TransientSourceError
from models.tone import load_tone_model, tone_model_version
from models.tone_base import ToneModel, ToneScore
from warehouse.settings import Settings
from warehouse.store import Warehouse


@dataclass(frozen=True)
class ToneSpec:
    """What a worker needs to load the same tone model as the flow (hashable: the worker's cache key)."""

    name: str
    batch_size: int
    max_length: int
    threads: int | None = None  # torch threads per worker; None: torch's default (every core)

    @classmethod
    def from_settings(cls, settings: Settings) -> ToneSpec:
        # The workers of a local cluster share this machine's cores: each takes its share, rather
        # than every worker starting a thread per core.
        share = None if settings.dask_address else max(1, (os.cpu_count() or 1) // settings.dask_workers)
        return cls(settings.tone_model, settings.tone_batch_size, settings.tone_max_length, share)


@dataclass(frozen=True)
class ScoredChunk:
    """A worker's answer: its model's version and attributes, and one score per text sent."""

    version: str
    attributes: tuple[str, ...]
    scores: list[ToneScore]
    worker: str  # host:pid of the process that scored


@lru_cache(maxsize=2)
def worker_tone_model(spec: ToneSpec) -> ToneModel:
    """Loading the encoder takes seconds: a worker process loads it once."""
    return load_tone_model(
        spec.name, batch_size=spec.batch_size, max_length=spec.max_length, threads=spec.threads
    )


@task(name="score-chunk", cache_policy=NO_CACHE)
def score_chunk_task(texts: list[str], spec: ToneSpec) -> ScoredChunk:
    """Score one chunk of texts on a worker; nothing is written here."""
    model = worker_tone_model(spec)
    scores = model.score(texts)
    return ScoredChunk(
        model.version, tuple(model.attributes), scores, f"{socket.gethostname()}:{os.getpid()}"
    )


def chunks(texts: Sequence[str], size: int) -> Iterator[list[str]]:
    """The distinct texts in first-seen order, `size` at a time."""
    distinct = list(dict.fromkeys(texts))
    for start in range(0, len(distinct), size):
        yield distinct[start : start + size]


class DaskToneModel:
    """The tone model as the flow sees it while the scoring runs on Dask workers (a `ToneModel`).

    Inside `with model:` the cluster is started by the first `score` call that has texts (a run with
    nothing new to score starts none) and kept for later calls until the block ends; a call outside
    such a block starts and stops a cluster for itself."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.spec = ToneSpec.from_settings(settings)
        # Known without loading the model, so the flow can ask which posts lack this version's score.
        self.version = tone_model_version(settings.tone_model)
        self.attributes: tuple[str, ...] = ()
        self.chunks_sent = 0
        self.workers: set[str] = set()  # the worker processes that scored (host:pid)
        self._stack: ExitStack | None = None
        self._runner: TaskRunner[Any] | None = None

    def __enter__(self) -> DaskToneModel:
        self._stack = ExitStack()
        return self

    def __exit__(self, *exc: object) -> None:
        stack, self._stack, self._runner = self._stack, None, None
        if stack is not None:
            stack.close()

    def score(self, texts: Sequence[str]) -> list[ToneScore]:
        if not texts:
            return []
        if self._stack is None:
            with self:
                return self.score(texts)
        if self._runner is None:
            self._runner = self._stack.enter_context(started_runner(self.settings))
        parts = list(chunks(texts, self._chunk_size(texts)))
        futures = [
            self._runner.submit(score_chunk_task, {"texts": part, "spec": self.spec}) for part in parts
        ]
        by_text: dict[str, ToneScore] = {}
        for part, future in zip(parts, futures, strict=True):
            result: ScoredChunk = future.result()
            self._check(result)
            by_text.update(zip(part, result.scores, strict=True))
        self.chunks_sent += len(parts)
        return [by_text[text] for text in texts]

    def _chunk_size(self, texts: Sequence[str]) -> int:
        """At most `dask_chunk_texts`, and small enough that every worker thread gets a chunk."""
        client = getattr(self._runner, "client", None)
        threads = sum(client.nthreads().values()) if client is not None else 1
        distinct = len(set(texts))
        return max(1, min(self.settings.dask_chunk_texts, -(-distinct // max(1, threads))))

    def _check(self, result: ScoredChunk) -> None:
        """A worker with other weights would mix two models' scores under one version: refuse."""
        if result.version != self.version:
            raise RuntimeError(
                f"A Dask worker scored with tone model {result.version}, the flow expects {self.version}: "
                "install the same commonground and COMMONGROUND_TONE_MODEL on every worker."
            )
        self.attributes = result.attributes
        self.workers.add(result.worker)

    def counts(self) -> dict[str, Any]:
        """What the fan-out did, for the run's counts."""
        return {"dask_chunks": self.chunks_sent, "dask_workers": sorted(self.workers)}


class Scorer:
    """Where the scoring step gets its model: `load()` (called only when there is something to score)
    and `counts()`, what the fan-out did, for the run's counts."""

    def __init__(self, load: Callable[[], ToneModel], dask: DaskToneModel | None = None) -> None:
        self._load = load
        self.dask = dask

    def load(self) -> ToneModel:
        return self.dask if self.dask is not None else self._load()

    def counts(self) -> dict[str, Any]:
        return self.dask.counts() if self.dask is not None else {}


@contextmanager
def scorer(settings: Settings, load: Callable[[], ToneModel]) -> Iterator[Scorer]:
    """`load` in this process, or the Dask stand-in when `COMMONGROUND_TASK_RUNNER=dask` (its cluster,
    started by the first texts to score, stops when the block ends)."""
    if not uses_dask(settings):
        yield Scorer(load)
        return
    with DaskToneModel(settings) as model:
        yield Scorer(load, model)


# --- ingestion ----------------------------------------------------------------------------------


class ReplayedSource(PlatformSource):
    """The pages a worker fetched for one query, replayed to the writer with the worker's notices."""

    def __init__(self, name: str, pages: list[Page], notices: list[str]) -> None:
        super().__init__()
        self.name = name
        self.pages = pages
        self.notices = list(notices)

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        yield from self.pages


# How a worker builds the source of a query: `flows.pipeline.make_source` (name, settings) -> Source.
SourceFactory = Callable[..., Source]


@dataclass(frozen=True)
class FetchedQuery:
    pages: list[Page]
    notices: list[str]
    worker: str


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retries a fetch after 429s, 5xx and timeouts, never after errors that stay."""
    return isinstance(state.data, TransientSourceError)


@task(name="fetch-query", cache_policy=NO_CACHE, retry_condition_fn=_transient)
def fetch_query_task(
    make_source: SourceFactory, settings: Settings, source_name: str, query: str, since: str | None
) -> FetchedQuery:
    """Fetch and normalise every page of one query after `since` on a worker; nothing is written here."""
    source = make_source(source_name, settings)
    pages = list(source.fetch(query, since=since))
    notices = source.notices if isinstance(source, PlatformSource) else []
    return FetchedQuery(pages, notices, f"{socket.gethostname()}:{os.getpid()}")


def prefetch(
    settings: Settings,
    warehouse: Warehouse,
    source_name: str,
    queries: Sequence[str],
    make_source: SourceFactory,
) -> dict[str, Source]:
    """With `COMMONGROUND_TASK_RUNNER=dask`: every query fetched on the workers at once, by query;
    otherwise (or for X, or a single query) nothing, and the ingest task fetches as it writes.

    `make_source` (the pipeline's) travels to the workers by name, so this module needs no import of
    the pipeline, which imports it."""
    if not uses_dask(settings) or source_name == "x" or len(queries) < 2:
        return {}
    fetch = fetch_query_task.with_options(
        retries=settings.ingest_task_retries, retry_delay_seconds=settings.ingest_task_retry_delays
    )
    with started_runner(settings) as runner:
        futures = {
            query: runner.submit(
                fetch,
                {
                    "make_source": make_source,
                    "settings": settings,
                    "source_name": source_name,
                    "query": query,
                    "since": warehouse.get_cursor(source_name, query),
                },
            )
            for query in queries
        }
        fetched: dict[str, FetchedQuery] = {query: future.result() for query, future in futures.items()}
    return {q: ReplayedSource(source_name, f.pages, f.notices) for q, f in fetched.items()}
