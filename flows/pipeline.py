"""The pipeline as Prefect flows: ingest → enrich → analyze → publish, and the parent `pipeline`."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from flows.distributed import prefetch, scorer
from flows.export_cli import export_step
from flows.options import RunOptions
from flows.sources.base import Source
from flows.sources.common import Backoff, PlatformSource, TransientSourceError
from flows.sources.files import FileSource
from warehouse.lifecycle import apply_retention
from warehouse.locks import WarehouseBusy, close_interrupted_runs, run_lock
from warehouse.privacy import load_key
from warehouse.records import utcnow
from warehouse.settings import Settings, SourceName, check_hashtag
from warehouse.store import UpsertCounts, Warehouse

if TYPE_CHECKING:
    import pandas as pd

    from models.text import Parser
    from models.tone_base import ToneModel

# pandas, spaCy, the tone model and the network analysis are imported by the steps that use them: a
# one-line `ingest` does not pay for them (0.5-1 s of a command's start on 2 cores).

TONE_COLUMNS = ["constructive", "hostile", "is_constructive", "is_hostile", "tone"]


def load_settings(options: RunOptions | None = None) -> Settings:
    """Settings from env and `.env`, with a run's options on top."""
    return (options or RunOptions()).settings()


def open_warehouse(settings: Settings) -> Warehouse:
    warehouse = Warehouse(
        settings.database_path,
        store_raw=settings.store_raw_payloads,
        lock_wait_seconds=settings.lock_wait_seconds,
        run_lock_wait_seconds=settings.run_lock_wait_seconds,
    )
    warehouse.init()
    return warehouse


# After the warehouse stayed locked, recording the failure waits only this long more.
FAILURE_RECORD_WAIT_SECONDS = 5.0


@contextmanager
def recorded_run(warehouse: Warehouse, flow_name: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A `runs` row around a flow: counts filled in by the flow, status set at the end, errors kept.

    The run holds the warehouse's run lock, so two runs never write at once (the second waits, then
    says another run is in progress); the outermost run of a process closes the `running` rows left
    by killed runs as `interrupted`."""
    logger = _logger()
    wait = warehouse.run_lock_wait_seconds
    with run_lock(warehouse.path, flow=flow_name, wait_seconds=wait, on_wait=logger.warning) as outermost:
        if outermost and (closed := close_interrupted_runs(warehouse.connect, by_flow=flow_name)):
            logger.warning(
                "Closed %d run(s) left 'running' by a process that ended as 'interrupted'.", closed
            )
        run_id = warehouse.start_run(flow_name, params)
        counts: dict[str, Any] = {"run_id": run_id}
        try:
            yield counts
        except BaseException as exc:
            _record_failure(warehouse, run_id, counts, exc)
            raise
        warehouse.finish_run(run_id, status="completed", counts=counts)


def _record_failure(warehouse: Warehouse, run_id: str, counts: dict[str, Any], exc: BaseException) -> None:
    """Mark the run failed; when the warehouse itself stays locked, say so rather than fail again."""
    if isinstance(exc, WarehouseBusy):
        # It already waited its full time for the file: a short wait more, not a second full one.
        warehouse = copy.copy(warehouse)
        warehouse.lock_wait_seconds = FAILURE_RECORD_WAIT_SECONDS
    message = f"{type(exc).__name__}: {exc}"
    try:
        warehouse.finish_run(run_id, status="failed", counts=counts, message=message)
    except WarehouseBusy:
        _logger().warning(
            "Run %s failed and the warehouse is still locked, so it stays 'running' for now; the next run "
            "closes it as 'interrupted'.",
            run_id,
        )


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The flow run's logger inside a flow, a plain one outside (tests, scripts)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("commonground")


# --- ingest ----------------------------------------------------------------------------------------


def make_source(name: str, settings: Settings, *, read_budget: int | None = None) -> Source:
    """The configured source; a missing credential is an error that says which setting to fill in.

    `read_budget` caps the posts a paid API (X) may read through this source. Platform clients are
    imported only when chosen (atproto alone takes a second)."""
    backoff = Backoff(
        attempts=settings.source_attempts,
        base_seconds=settings.source_backoff_seconds,
        max_wait_seconds=settings.source_max_wait_seconds,
    )
    if name == "file":
        return FileSource.from_settings(settings)
    if name == "mastodon":
        from flows.sources.mastodon import MastodonSource

        if not settings.mastodon_instances:
            raise ValueError(
                "No Mastodon instances configured: set COMMONGROUND_MASTODON_INSTANCES='[\"mastodon.social\"]'."
            )
        return MastodonSource(
            settings.mastodon_instances,
            {host: token.get_secret_value() for host, token in settings.mastodon_tokens.items()},
            page_size=settings.mastodon_page_size,
            max_pages=settings.mastodon_max_pages,
            requests_per_window=settings.mastodon_requests_per_window,
            window_seconds=settings.mastodon_window_seconds,
            backoff=backoff,
        )
    if name == "x":
        from flows.sources.x import XSource

        if settings.x_bearer_token is None:
            raise ValueError(
                "No X bearer token: set COMMONGROUND_X_BEARER_TOKEN in the environment or .env. "
                "X bills every post read; set COMMONGROUND_X_MAX_READS_PER_RUN and _PER_MONTH first."
            )
        return XSource(
            settings.x_bearer_token.get_secret_value(),
            max_reads=settings.x_max_reads_per_run if read_budget is None else read_budget,
            page_size=settings.x_page_size,
            backoff=backoff,
        )
    if name == "bluesky":
        from flows.sources.bluesky import BlueskySource

        if not settings.bluesky_handle or settings.bluesky_app_password is None:
            raise ValueError(
                "Bluesky search needs a login: set COMMONGROUND_BLUESKY_HANDLE and "
                "COMMONGROUND_BLUESKY_APP_PASSWORD (an app password, from Settings → Privacy and security)."
            )
        return BlueskySource(
            settings.bluesky_handle,
            settings.bluesky_app_password.get_secret_value(),
            service=settings.bluesky_service,
            page_size=settings.bluesky_page_size,
            max_pages=settings.bluesky_max_pages,
            backoff=backoff,
        )
    raise ValueError(f"Unknown source {name!r}: choose mastodon, x, bluesky or file.")


def ingest_query(
    warehouse: Warehouse, source: Source, query: str, run_id: str, total: UpsertCounts | None = None
) -> UpsertCounts:
    """Fetch every page of one query after its cursor and upsert it; the cursor moves when a source
    says a page completes what is new, and platform reads are recorded page by page for budgets.

    `total` is added to page by page, so a caller still knows what was written when a page fails."""
    total = UpsertCounts() if total is None else total
    since = warehouse.get_cursor(source.name, query)
    # A file's pages come back to back: one connection for them, not one (and a checkpoint) per page.
    # A platform may wait minutes between pages (rate limits), and must not hold the file meanwhile.
    with warehouse.holding() if source.name == "file" else nullcontext():
        for page in source.fetch(query, since=since):
            counts = warehouse.upsert_batch(page.batch, run_id=run_id, query=query)
            total.add(counts)
            if source.name != "file":
                warehouse.record_reads(run_id, source.name, query, counts.read)
                if page.cursor:
                    warehouse.set_cursor(source.name, query, page.cursor)
    return total


def x_read_budget(warehouse: Warehouse, settings: Settings, run_id: str) -> int:
    """Posts X may still be read for in this run: the smaller of what is left of the run's and the
    calendar month's caps."""
    now = utcnow()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    this_run = warehouse.posts_read_since("x", datetime(1970, 1, 1), run_id=run_id)
    this_month = warehouse.posts_read_since("x", month_start)
    return max(0, min(settings.x_max_reads_per_run - this_run, settings.x_max_reads_per_month - this_month))


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retries an ingest task after 429s, 5xx and timeouts, never after errors that stay."""
    error = state.data if isinstance(state.data, BaseException) else None
    return isinstance(error, TransientSourceError)


@task(name="ingest-query", cache_policy=NO_CACHE, retry_condition_fn=retry_on_transient)
def ingest_query_task(
    settings: Settings,
    source_name: str,
    query: str,
    run_id: str,
    read_budget: int | None = None,
    prefetched: Source | None = None,
) -> dict[str, Any]:
    warehouse = open_warehouse(settings)
    # With Dask, a worker fetched and normalised the query already: its pages are written here.
    source = prefetched or make_source(source_name, settings, read_budget=read_budget)
    counts = UpsertCounts()
    try:
        ingest_query(warehouse, source, query, run_id, counts)
    except Exception as exc:
        # The pages before the failure are stored: the flow records them in the run's counts.
        setattr(exc, PARTIAL_COUNTS, asdict(counts))
        raise
    notices = source.notices if isinstance(source, PlatformSource) else []
    return {**asdict(counts), "notices": notices}


# The attribute of an ingest task's exception that holds what the task wrote before it failed.
PARTIAL_COUNTS = "commonground_partial_counts"


@flow(name="ingest", log_prints=True)
def ingest(
    options: RunOptions | None = None, source: SourceName = "file", queries: list[str] | None = None
) -> dict[str, Any]:
    """Collect posts from one source into the warehouse, one task per hashtag (or file). Bad records
    go to quarantine with their reason; re-running never duplicates; rate limits and X's read caps
    are respected, and what was skipped or stopped is said in the run's notices."""
    settings = load_settings(options)
    if queries is None:
        queries = [str(p) for p in settings.import_paths] if source == "file" else list(settings.hashtags)
    if source != "file":
        # A hashtag becomes part of a platform's URL path: only letters, digits and '_' get that far.
        queries = [check_hashtag(query) for query in queries]
    warehouse = open_warehouse(settings)
    logger = get_run_logger()
    with recorded_run(warehouse, "ingest", {"source": source, "queries": queries}) as counts:
        total = UpsertCounts()
        notices: list[str] = []
        prefetched = prefetch(settings, warehouse, source, queries, make_source)
        for query in queries:
            budget = x_read_budget(warehouse, settings, counts["run_id"]) if source == "x" else None
            task_for_query = ingest_query_task.with_options(
                task_run_name=f"ingest-{source}-{query}",
                retries=settings.ingest_task_retries,
                retry_delay_seconds=settings.ingest_task_retry_delays,
            )
            try:
                result = task_for_query(
                    settings, source, query, counts["run_id"], budget, prefetched.get(query)
                )
            except Exception as exc:
                # What was read, written and quarantined before the failure stays in the run's counts.
                total.add(UpsertCounts(**getattr(exc, PARTIAL_COUNTS, {})))
                counts.update({**asdict(total), "failed_query": query, "notices": notices})
                raise
            notices += result.pop("notices")
            total.add(UpsertCounts(**result))
            logger.info("%s %s: %s", source, query, result)
            counts.update(asdict(total))
        counts["notices"] = notices
        if source == "x":
            counts["x_read_cap_reached"] = any("read cap" in n for n in notices)
    return counts


# --- enrich ----------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def cached_tone_model(name: str, batch_size: int, max_length: int) -> ToneModel:
    """Loading the encoder takes seconds; one copy per process is enough."""
    from models.tone import load_tone_model

    return load_tone_model(name, batch_size=batch_size, max_length=max_length)


def feature_frame(posts: pd.DataFrame, parser: Parser | None = None) -> pd.DataFrame:
    """spaCy features per post; identical texts (reposts) are parsed once."""
    import pandas as pd

    from models.text import extract_features

    unique = posts.drop_duplicates("text")
    feats = dict(zip(unique["text"], extract_features(list(unique["text"]), parser=parser), strict=True))
    rows = []
    for post_id, text, lang, tags in posts[["post_id", "text", "lang", "hashtags"]].itertuples(index=False):
        f = feats[text]
        payload_tags = [t.lower() for t in (tags if pd.api.types.is_list_like(tags) else [])]  # NULL: none
        rows.append(
            {
                "post_id": post_id,
                "hashtags": list(dict.fromkeys([*f.hashtags, *payload_tags])),
                "mentions": f.mentions,
                "urls": f.urls,
                "entities": f.entities,
                "key_terms": f.key_terms,
                "lang": lang or f.lang,
                "n_words": f.n_words,
            }
        )
    return pd.DataFrame(rows)


def tone_frame(model: ToneModel, posts: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from models.tone import score_frame

    scores = score_frame(model, list(posts["text"]))
    attrs = [c for c in scores.columns if c.startswith("attr_")]
    frame = scores[TONE_COLUMNS].copy()
    frame.insert(0, "post_id", posts["post_id"].to_numpy())
    frame["model_version"] = model.version
    attributes = [
        {c.removeprefix("attr_"): round(float(v), 4) for c, v in zip(attrs, row, strict=True) if v == v}
        for row in scores[attrs].itertuples(index=False)
    ]
    frame["attributes"] = pd.Series(attributes, index=frame.index, dtype=object)
    frame["reasons"] = pd.Series([r.split("; ") if r else [] for r in scores["reasons"]], index=frame.index)
    frame["unscored_reason"] = scores["unscored_reason"].replace("", None)
    return frame


# Distinct texts given features between two commits of `features_task`: a kill loses at most this much
# work (about 40 s of spaCy on 2 cores), and each group keeps two worker processes busy.
FEATURE_COMMIT_TEXTS = 10_000


@task(name="extract-features", cache_policy=NO_CACHE)
def features_task(settings: Settings, commit_every: int = FEATURE_COMMIT_TEXTS) -> int:
    """spaCy's features for every post that has none, committed group by group (a killed run keeps
    what it wrote, and the next goes on from there)."""
    from models.text import Parser

    warehouse = open_warehouse(settings)
    posts = warehouse.posts_without_features()
    processes = settings.nlp_processes or os.cpu_count() or 1
    with Parser(processes=processes, entities=settings.nlp_entities) as parser:
        groups = text_groups(posts, commit_every)
        return sum(warehouse.write_features(feature_frame(group, parser)) for group in groups)


# Distinct texts scored between two commits of `tone_task`: a kill loses at most this much work
# (about 10 s of scoring on 2 cores), and a commit of this size costs well under a second.
TONE_COMMIT_TEXTS = 2_000


def text_groups(posts: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    """The posts in groups of about `size` distinct texts, in order of first appearance; all posts that
    share a text are in the same group, so each distinct text is scored once."""
    import pandas as pd

    codes, _ = pd.factorize(posts["text"], use_na_sentinel=False)
    group = codes // max(1, size)
    for k in range(int(group.max()) + 1 if len(group) else 0):
        yield posts[group == k]


def score_new_posts(
    warehouse: Warehouse,
    model_version: str,
    load_model: Callable[[], ToneModel],
    commit_every: int = TONE_COMMIT_TEXTS,
) -> dict[str, Any]:
    """Score the posts that have no score from `model_version`, committing every `commit_every` distinct
    texts: a run that is killed keeps what it scored, and the next one goes on from there.

    `load_model` is called only when there is something to score (loading the encoder takes seconds)."""
    posts = warehouse.posts_without_score(model_version)
    if posts.empty:
        return {"scored": 0, "unique_texts": 0, "model_version": model_version}
    model = load_model()
    if model.version != model_version:  # a model that names itself differently: ask again for its version
        posts = warehouse.posts_without_score(model.version)
    scored = sum(
        warehouse.write_tone_scores(tone_frame(model, group)) for group in text_groups(posts, commit_every)
    )
    return {"scored": scored, "unique_texts": int(posts["text"].nunique()), "model_version": model.version}


@task(name="score-tone", cache_policy=NO_CACHE)
def tone_task(settings: Settings, commit_every: int = TONE_COMMIT_TEXTS) -> dict[str, Any]:
    def load() -> ToneModel:
        return cached_tone_model(settings.tone_model, settings.tone_batch_size, settings.tone_max_length)

    from models.tone import tone_model_version

    version = tone_model_version(settings.tone_model)  # read from the weights' digest, no network loaded
    with scorer(settings, load) as chosen:  # with COMMONGROUND_TASK_RUNNER=dask, on the Dask workers
        counts = score_new_posts(open_warehouse(settings), version, chosen.load, commit_every)
    return {**counts, **chosen.counts()}


@flow(name="enrich", log_prints=True)
def enrich(options: RunOptions | None = None) -> dict[str, Any]:
    """Add what the analysis needs to every new post: hashtags, mentions, URLs, entities and key
    terms (spaCy), and a tone score from the current model (each distinct text scored once)."""
    settings = load_settings(options)
    warehouse = open_warehouse(settings)
    with recorded_run(warehouse, "enrich", {"tone_model": settings.tone_model}) as counts:
        counts["features"] = features_task(settings)
        counts.update(tone_task(settings))
    return counts


# --- analyze ---------------------------------------------------------------------------------------


def analysis_window(warehouse: Warehouse, settings: Settings) -> tuple[datetime, datetime]:
    """The last `window_days` up to the newest post, so a sample from last month still analyses."""
    end = warehouse.latest_post_time()
    if end is None:
        raise RuntimeError("The warehouse has no posts yet: run `commonground ingest` first.")
    return end - timedelta(days=settings.window_days), end


@flow(name="analyze", log_prints=True)
def analyze(options: RunOptions | None = None) -> dict[str, Any]:
    """Map the conversation of the latest week (and of the longer windows configured, a month by
    default): camps from who endorses whom, how closed each camp is and what it talks about, how
    segregated the network is compared with chance, and the constructive voices who reach across."""
    from flows.analysis import WindowMemo, analyse_window
    from models.tone import tone_model_version

    settings = load_settings(options)
    warehouse = open_warehouse(settings)
    model_version = tone_model_version(settings.tone_model)
    start, end = analysis_window(warehouse, settings)
    longer = [d for d in dict.fromkeys(settings.extra_window_days) if d != settings.window_days]
    params = {
        "topic": settings.topic,
        "window_start": start,
        "window_end": end,
        "longer_windows_days": longer,
    }
    with recorded_run(warehouse, "analyze", params) as counts:
        windows: dict[str, dict[str, Any]] = {}
        memo = WindowMemo()  # a window with the same posts as the one before reuses its analysis
        for days in longer:
            window = analysis_window(warehouse, settings.model_copy(update={"window_days": days}))
            summary = analyse_window(warehouse, settings, window, model_version, counts["run_id"], memo)
            windows[f"{days}d"] = asdict(summary)
        # The main window is written last: the dashboard and the report open the newest analysis.
        main = analyse_window(warehouse, settings, (start, end), model_version, counts["run_id"], memo)
        counts.update(asdict(main))
        counts["longer_windows"] = windows
    return counts


# --- publish ---------------------------------------------------------------------------------------


@flow(name="publish", log_prints=True)
def publish(options: RunOptions | None = None, parent_run_id: str | None = None) -> str:
    """Write a consistent, read-only snapshot for the dashboard and swap it in atomically; the
    dashboard never opens the database the flows write."""
    settings = load_settings(options)
    warehouse = open_warehouse(settings)
    with recorded_run(warehouse, "publish", {"snapshot": str(settings.snapshot_path)}) as counts:
        # Publishing is the last step: in the snapshot, this run and its parent pipeline are done.
        finishing = [counts["run_id"], *([parent_run_id] if parent_run_id else [])]
        pseudo = settings.pseudonymize_handles
        path = warehouse.publish(
            settings.snapshot_path,
            pseudonymize=pseudo,
            key=load_key(settings) if pseudo else None,
            finishing_runs=finishing,
        )
        counts["snapshot"] = str(path)
    return str(path)


@flow(name="pipeline", log_prints=True)
def pipeline(options: RunOptions | None = None) -> dict[str, Any]:
    """One full run: collect from the configured sources, enrich, analyse the latest window and
    publish the dashboard snapshot."""
    settings = load_settings(options)
    warehouse = open_warehouse(settings)
    with recorded_run(warehouse, "pipeline", {"sources": settings.sources}) as counts:
        counts["ingest"] = {name: ingest(options, source=name) for name in settings.sources}
        if settings.retention_days:  # before enrich: nothing about to be deleted is scored or analysed
            counts["retention"] = apply_retention(warehouse, settings.retention_days).as_counts()
        counts["enrich"] = enrich(options)
        counts["analyze"] = analyze(options)
        counts["snapshot"] = publish(options, parent_run_id=counts["run_id"])
        if settings.export_parquet:  # new and changed Parquet partitions, for engines beyond DuckDB
            counts["parquet"] = export_step(settings)
    return counts


FLOWS: dict[str, Callable[..., Any]] = {
    "ingest": ingest,
    "enrich": enrich,
    "analyze": analyze,
    "publish": publish,
    "pipeline": pipeline,
}
