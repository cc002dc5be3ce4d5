"""Which Prefect task runner fans work out: none (the flow's own process) or a Dask cluster.

`COMMONGROUND_TASK_RUNNER=dask` selects Prefect's `DaskTaskRunner` (prefect-dask): with
`COMMONGROUND_DASK_ADDRESS` it connects to a running scheduler, without one it starts a local cluster of
`COMMONGROUND_DASK_WORKERS` processes for the length of one fan-out and stops it after. Workers only
compute and return frames; the flow's process does every warehouse write (DuckDB takes one writer).

A worker reports its task runs to the Prefect API the flow uses. A one-off command's temporary API
server lives inside the flow's process and no worker knows its address, so each worker would start a
temporary server of its own (measured: 2 workers took 128 s instead of seconds); the address of the
flow's server is handed to the workers instead. A remote cluster needs a server every machine reaches:
`prefect server start` and `PREFECT_API_URL` (README, "Running beyond one machine").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect.task_runners import TaskRunner

from warehouse.settings import Settings

# Dask logs every worker start and stop at INFO; a user wants to hear only when something is wrong.
QUIET_LOGGERS = ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker")


def uses_dask(settings: Settings) -> bool:
    return settings.task_runner == "dask"


def task_runner(settings: Settings) -> TaskRunner[Any]:
    """The task runner the settings choose (not yet started: use it as a context manager).

    `default` is Prefect's thread pool, which runs tasks inside the flow's process."""
    if not uses_dask(settings):
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=1)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ImportError(
            "COMMONGROUND_TASK_RUNNER=dask needs prefect-dask: pip install 'prefect-dask>=0.3.7,<0.4'"
        ) from exc
    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": settings.dask_workers,
            "threads_per_worker": 1,  # torch uses the cores; one task per worker process
            "processes": True,
            # No web server nobody asked for, and no INFO line for every worker started and stopped.
            "dashboard_address": None,
            "silence_logs": logging.WARNING,
        }
    )


@contextmanager
def started_runner(settings: Settings) -> Iterator[TaskRunner[Any]]:
    """The chosen task runner, started, with the workers told where the flow's Prefect API is."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Worker processes of a local cluster read Dask's logging level from the environment they inherit.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    with _api_for_workers(), task_runner(settings) as runner:
        yield runner


@contextmanager
def _api_for_workers() -> Iterator[None]:
    """Inside a flow run on Prefect's temporary server, make its address the API setting for what is
    submitted from here (the Dask runner sends the settings along with each task)."""
    from prefect.context import FlowRunContext
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    context = FlowRunContext.get()
    client = context.client if context is not None else None
    if get_current_settings().api.url or client is None:
        yield
        return
    with temporary_settings({PREFECT_API_URL: str(client.api_url).rstrip("/")}):
        yield
