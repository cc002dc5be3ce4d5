"""The schedules: every deployment `commonground serve` registers, and serving them until Ctrl-C or SIGTERM.

One `prefect.serve(...)` call serves, with cron strings read in one time zone (all from settings):
- `ingest/commonground-ingest-<source>` for each configured source (hourly by default), with a
  deployment concurrency limit of 1 that queues a run while the previous one of the same source is
  still going, so two ingests of one source never overlap (Prefect keeps it on the server as the
  global concurrency limit `deployment:<id>`, so it holds across several `serve` processes too);
- `analyze-and-publish/commonground-analyze-and-publish` (daily): score what was collected, map the
  latest window and publish the dashboard snapshot;
- `weekly-report/commonground-weekly-report` (Mondays 07:00): the report for the last complete ISO week.
The runner itself starts at most `schedule_max_concurrent_runs` runs at a time (1: DuckDB has one writer).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from prefect import flow

from flows.options import RunOptions
from warehouse.settings import Settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

TAGS = ["commonground"]
# Prefect's run observers log the websocket's closing as a warning with a full traceback whenever the
# server goes away (it sends 1012 "service restart" when it stops); one line says the same.
QUIET_LOGGERS = ("prefect.FlowRunCancellingObserver", "prefect.FlowRunSuspendingObserver")


@flow(name="analyze-and-publish", log_prints=True)
def analyze_and_publish(options: RunOptions | None = None) -> dict[str, Any]:
    """Score the posts the ingests collected (text features and tone), map the camps and constructive
    voices of the latest window, and publish the dashboard's snapshot."""
    from flows.pipeline import analyze, enrich, load_settings, open_warehouse, publish
    from warehouse.lifecycle import apply_retention

    counts: dict[str, Any] = {}
    settings = load_settings(options)
    if settings.retention_days:  # as in `pipeline`: nothing about to be deleted is scored or analysed
        counts["retention"] = apply_retention(open_warehouse(settings), settings.retention_days).as_counts()
    counts.update(enrich=enrich(options), analyze=analyze(options))
    counts["snapshot"] = publish(options)
    return counts


def _parameters(options: RunOptions) -> dict[str, Any]:
    """A run's options as deployment parameters; unset choices stay unset so settings decide at run time."""
    chosen = options.model_dump(mode="json", exclude_none=True)
    return {"options": chosen} if chosen else {}


def _cron(cron: str, settings: Settings) -> Any:
    from prefect.schedules import Cron

    return Cron(cron, timezone=settings.schedule_timezone)


def _deployment(
    flow_to_serve: Any, name: str, cron: str, settings: Settings, parameters: dict[str, Any], **extra: Any
) -> RunnerDeployment:
    from prefect.deployments.runner import EntrypointType, RunnerDeployment

    deployment = flow_to_serve.to_deployment(
        name=name,
        schedules=[_cron(cron, settings)],
        parameters=parameters,
        tags=TAGS,
        # The runner re-imports the flow by module, so `serve` works from any working directory.
        entrypoint_type=EntrypointType.MODULE_PATH,
        **extra,
    )
    if not isinstance(deployment, RunnerDeployment):  # to_deployment gives a coroutine inside an event loop
        raise TypeError("Build the deployments outside an event loop.")
    return deployment


def ingest_deployments(settings: Settings, options: RunOptions) -> list[RunnerDeployment]:
    """One ingest deployment per configured source; runs of one source queue rather than overlap."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    from flows.pipeline import ingest

    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)
    return [
        _deployment(
            ingest,
            f"commonground-ingest-{source}",
            settings.schedule_ingest_cron,
            settings,
            {**_parameters(options), "source": source},
            concurrency_limit=one_at_a_time,
        )
        for source in dict.fromkeys(settings.sources)
    ]


def analyze_deployment(settings: Settings, options: RunOptions) -> RunnerDeployment:
    return _deployment(
        analyze_and_publish,
        "commonground-analyze-and-publish",
        settings.schedule_analyze_cron,
        settings,
        _parameters(options),
    )


def report_deployment(settings: Settings, options: RunOptions) -> RunnerDeployment:
    """The weekly report; `week` is left out so each run reports the last complete ISO week."""
    from flows.report import weekly_report  # the report's own package, imported only when serving

    return _deployment(
        weekly_report,
        "commonground-weekly-report",
        settings.schedule_report_cron,
        settings,
        _parameters(options),
    )


def build_deployments(settings: Settings, options: RunOptions | None = None) -> list[RunnerDeployment]:
    """Every deployment `commonground serve` registers, in the order they are listed."""
    options = options or RunOptions()
    return [
        *ingest_deployments(settings, options),
        analyze_deployment(settings, options),
        report_deployment(settings, options),
    ]


def describe(deployments: list[RunnerDeployment]) -> list[str]:
    """One line per deployment: its full name, when it runs and with what parameters."""
    lines = []
    for deployment in deployments:
        when = "; ".join(
            f"{getattr(s.schedule, 'cron', s.schedule)} ({getattr(s.schedule, 'timezone', None) or 'UTC'})"
            for s in deployment.schedules or []
        )
        limit = f", at most {deployment.concurrency_limit} at a time" if deployment.concurrency_limit else ""
        lines.append(
            f"{deployment.flow_name}/{deployment.name}: {when}{limit}; parameters {deployment.parameters}"
        )
    return lines


class _OneLine(logging.Filter):
    """Keeps a warning and drops its traceback, naming the exception in the message instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_websocket_tracebacks() -> None:
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OneLine) for f in logger.filters):
            logger.addFilter(_OneLine())


def prefect_api_url() -> str:
    """The Prefect API the schedules go to; serving needs a real server, not the temporary one."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise RuntimeError(
            "`commonground serve` needs a Prefect server: run `make serve` (a local server on 127.0.0.1:4200 "
            "and the schedules together), or set PREFECT_API_URL to a running server "
            "(e.g. http://127.0.0.1:4200/api after `prefect server start`) or to Prefect Cloud."
        )
    return url


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Until the runner installs its own handler, SIGTERM stops the set-up like Ctrl-C does."""
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve_schedules(deployments: list[RunnerDeployment], *, limit: int) -> int:
    """Register the deployments and run their scheduled runs until Ctrl-C or SIGTERM; 0 when stopped.

    On stop Prefect pauses the schedules (nothing piles up while no one serves them) and the runs in
    progress are cancelled. An unreachable server is a RuntimeError that says which URL and what to do."""
    import httpx
    from prefect import serve

    url = prefect_api_url()
    quiet_websocket_tracebacks()
    try:
        with _sigterm_as_interrupt():
            serve(*deployments, limit=limit)
    except KeyboardInterrupt:
        pass
    except httpx.ConnectError as exc:
        raise RuntimeError(
            f"Cannot reach the Prefect API at {url} ({exc}): start the server (`prefect server start`, or "
            "`make serve` for a local one with the schedules) or fix PREFECT_API_URL."
        ) from None
    return 0
