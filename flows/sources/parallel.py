"""A large import file normalised in a worker process while this one writes: the same pages, in order.

Normalising (JSON, checks, records) and writing (DuckDB) each take about half of an import's time on one
core. The worker runs the file source's own `pages`, so page boundaries, line numbers, quarantine
reasons and the rule that a post read again starts a new page are those of reading in this process;
it stays at most `AHEAD_PAGES` pages ahead, so memory does not grow with the file. The worker is started
without this process's main script (`_without_main_script`): "spawn" would otherwise run that script again
in the worker (a user's own script, or a Streamlit page a test ran as `__main__`).
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from flows.sources.base import Page

AHEAD_PAGES = 2
POLL_SECONDS = 1.0
PAGE, DONE, FAILED = "page", "done", "failed"


class PagedFile(Protocol):
    """What the worker runs: a file source's pages (`FileSource.pages`), picklable to reach it."""

    def pages(self, path: Path) -> Iterator[Page]: ...


def pages_in_worker(source: PagedFile, path: Path) -> Iterator[Page]:
    """`source.pages(path)`, normalised by a worker process ("spawn": nothing of this process's
    threads or open DuckDB files is copied). A failure in the worker is raised here, after the pages
    before it, as reading here would; the worker is stopped if the caller stops early."""
    context = multiprocessing.get_context("spawn")
    pages: Any = context.Queue(maxsize=AHEAD_PAGES)
    worker = context.Process(
        target=_normalise_file, args=(source, str(path), pages), name="commonground-normalise", daemon=True
    )
    with _without_main_script():
        worker.start()
    try:
        received = 0
        while True:
            kind, value = _next(pages, worker, path)
            if kind == PAGE:
                received += 1
                yield value
            elif kind == FAILED:
                raise value
            elif value != received:
                raise RuntimeError(
                    f"{path}: the worker normalising it sent {received} of its {value} pages; "
                    "import the file again (re-running never duplicates)"
                )
            else:
                return
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()
        pages.close()


@contextmanager
def _without_main_script() -> Iterator[None]:
    """While a "spawn" worker starts, `__main__` is a bare module, so the worker does not import this
    process's main script again: the worker needs only `_normalise_file` and the source, by module name."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _next(pages: Any, worker: Any, path: Path) -> tuple[str, Any]:
    """The worker's next message; a worker that ended without saying so (killed) is an error."""
    while True:
        try:
            return pages.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if worker.is_alive():
                continue
        try:
            return pages.get(timeout=POLL_SECONDS)  # what it sent just before it ended
        except queue.Empty:
            raise RuntimeError(
                f"{path}: the worker process normalising it ended (exit code {worker.exitcode}) before "
                "the end of the file, killed or out of memory; the pages before were stored. Import it "
                "again (re-running never duplicates)"
            ) from None


def _normalise_file(source: PagedFile, path: str, pages: Any) -> None:
    """In the worker: every page, then how many (a page lost in the pipe is noticed), or the failure."""
    sent = 0
    try:
        for page in source.pages(Path(path)):
            pages.put((PAGE, page))
            sent += 1
        pages.put((DONE, sent))
    except BaseException as exc:
        pages.put((FAILED, _sendable(exc)))


def _sendable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling (the queue pickles in a thread that would drop it
    silently), else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
