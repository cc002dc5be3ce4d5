"""A large import file normalised in worker processes while this one writes: the same pages, in order.

Normalising (JSON, checks, records) is most of an import's CPU, writing (DuckDB) the rest. Each worker
runs the file source's own `chunks`, taking every n-th chunk of the file's items (one worker: all of
them), so page boundaries, line numbers, quarantine reasons and the rule that a post read again starts
a new page are those of reading in this process; this one takes the chunks back in the file's order.
A worker stays at most `AHEAD_CHUNKS` chunks ahead, so memory does not grow with the file. Workers are
started without this process's main script (`_without_main_script`): "spawn" would otherwise run that
script again in a worker (a user's own script, or a Streamlit page a test ran as `__main__`).
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import duckdb

from flows.sources.base import Page
from warehouse.store import schema_statements
from warehouse.writes import pack

AHEAD_CHUNKS = 2
POLL_SECONDS = 1.0
CHUNK, DONE, FAILED = "chunk", "done", "failed"


class PagedFile(Protocol):
    """What a worker runs: a file source's chunks (`FileSource.chunks`), picklable to reach it."""

    def chunks(self, path: Path, worker: int, workers: int) -> Iterator[list[Page]]: ...


def pages_in_workers(source: PagedFile, path: Path, workers: int = 1) -> Iterator[Page]:
    """`source.pages(path)`, normalised by `workers` processes ("spawn": nothing of this process's
    threads or open DuckDB files is copied), chunk k by worker k mod `workers`. A failure in a worker is
    raised here, after the pages before it, as reading here would; the workers are stopped if the
    caller stops early."""
    context = multiprocessing.get_context("spawn")
    queues: list[Any] = [context.Queue(maxsize=AHEAD_CHUNKS) for _ in range(workers)]
    processes = [
        context.Process(
            target=_normalise_chunks,
            args=(source, str(path), queues[w], w, workers),
            name=f"commonground-normalise-{w}",
            daemon=True,
        )
        for w in range(workers)
    ]
    with _without_main_script():
        for process in processes:
            process.start()
    try:
        yield from _in_order(queues, processes, path)
    finally:
        for process, chunks in zip(processes, queues, strict=True):
            if process.is_alive():
                process.terminate()
            process.join()
            chunks.close()


def _in_order(queues: list[Any], processes: list[Any], path: Path) -> Iterator[Page]:
    """The workers' pages, chunk by chunk in the file's order, until the worker whose turn it is says
    the file ended; a worker that sent fewer chunks than it says lost one in the pipe (an error)."""
    received = [0] * len(queues)
    chunk = 0
    while True:
        turn = chunk % len(queues)
        kind, value = _next(queues[turn], processes[turn], path)
        if kind == CHUNK:
            received[turn] += 1
            chunk += 1
            yield from value
        elif kind == FAILED:
            raise value
        elif value != received[turn]:
            raise RuntimeError(
                f"{path}: a worker normalising it sent {received[turn]} of its {value} chunks; "
                "import the file again (re-running never duplicates)"
            )
        else:
            return


@contextmanager
def _without_main_script() -> Iterator[None]:
    """While a "spawn" worker starts, `__main__` is a bare module, so the worker does not import this
    process's main script again: the worker needs only `_normalise_chunks` and the source, by module name."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _next(chunks: Any, worker: Any, path: Path) -> tuple[str, Any]:
    """The worker's next message; a worker that ended without saying so (killed) is an error."""
    while True:
        try:
            return chunks.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if worker.is_alive():
                continue
        try:
            return chunks.get(timeout=POLL_SECONDS)  # what it sent just before it ended
        except queue.Empty:
            raise RuntimeError(
                f"{path}: the worker process normalising it ended (exit code {worker.exitcode}) before "
                "the end of the file, killed or out of memory; the pages before were stored. Import it "
                "again (re-running never duplicates)"
            ) from None


def _normalise_chunks(source: PagedFile, path: str, chunks: Any, worker: int, workers: int) -> None:
    """In a worker: its chunks, then how many (a chunk lost in the pipe is noticed), or the failure.
    Pages go as tables (`PackedBatch`): the writing process then builds no row of them."""
    sent = 0
    try:
        tables = duckdb.connect(":memory:")  # the warehouse's tables, for the columns of their rows
        for table in ("posts", "accounts", "interactions"):
            tables.execute(schema_statements()[table])
        for pages in source.chunks(Path(path), worker, workers):
            chunks.put((CHUNK, [replace(page, batch=pack(tables, page.batch)) for page in pages]))
            sent += 1
        chunks.put((DONE, sent))
    except BaseException as exc:
        chunks.put((FAILED, _sendable(exc)))


def _sendable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling (the queue pickles in a thread that would drop it
    silently), else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
