"""The privacy lifecycle as Prefect flows: retention (delete what is older than N days) and deletion
compliance (delete what authors deleted on the platform), each followed by a fresh snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger

from flows.compliance import (
    Verdicts,
    XComplianceJob,
    check_bluesky,
    check_mastodon,
    mastodon_hosts,
    parse_x_results,
)
from flows.options import RunOptions
from flows.pipeline import load_settings, make_source, open_warehouse, publish, recorded_run
from warehouse.lifecycle import apply_retention, delete_deleted_posts, retention_cutoff
from warehouse.settings import Settings
from warehouse.store import Warehouse

ComplianceSource = Literal["mastodon", "bluesky", "x"]


@flow(name="retention", log_prints=True)
def retention(
    options: RunOptions | None = None, days: int | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Delete posts older than the retention period with their tone scores, features and interactions,
    old quarantined and raw payloads, accounts left with nothing, and analyses of windows that ended
    before it; then publish a fresh snapshot. A dry run says what would go and deletes nothing."""
    settings = load_settings(options)
    days = days or settings.retention_days
    if days is None:
        raise ValueError("No retention period: give --days N or set COMMONGROUND_RETENTION_DAYS.")
    cutoff = retention_cutoff(days)
    warehouse = open_warehouse(settings)
    params = {"days": days, "dry_run": dry_run}
    with recorded_run(warehouse, "retention", params) as counts:
        done = apply_retention(warehouse, days, dry_run=dry_run)
        counts.update(done.as_counts(), cutoff=cutoff.isoformat(sep=" "), dry_run=dry_run)
        if not dry_run:
            counts["snapshot"] = publish(options, parent_run_id=counts["run_id"])
    return counts


@flow(name="compliance", log_prints=True)
def compliance(
    options: RunOptions | None = None,
    source: ComplianceSource = "mastodon",
    x_results: Path | None = None,
    x_job: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Re-check the newest stored posts of one platform and hard-delete those their authors deleted
    there (Mastodon and Bluesky lookups; X batch compliance jobs, or a result file downloaded before).
    Each deletion is remembered, so no later ingest brings the post back; then a fresh snapshot."""
    settings = load_settings(options)
    warehouse = open_warehouse(settings)
    params = {"source": source, "x_results": str(x_results) if x_results else None, "x_job": x_job}
    logger = get_run_logger()
    with recorded_run(warehouse, "compliance", params) as counts:
        verdicts = _verdicts(
            settings, warehouse, source, x_results, x_job, limit or settings.compliance_max_checks
        )
        for notice in verdicts.notices:
            logger.warning(notice)
        done = delete_deleted_posts(warehouse, verdicts.deleted, source=source)
        done.notices = verdicts.notices
        counts.update(verdicts.counts(), **done.as_counts())
        if verdicts.deleted:
            counts["snapshot"] = publish(options, parent_run_id=counts["run_id"])
    return counts


def _verdicts(
    settings: Settings,
    warehouse: Warehouse,
    source: ComplianceSource,
    x_results: Path | None,
    x_job: str | None,
    limit: int,
) -> Verdicts:
    if x_results is not None:
        if source != "x":
            raise ValueError("--x-results is a result file of an X compliance job: use it with --source x.")
        if not x_results.is_file():
            raise FileNotFoundError(f"No X compliance result file at {x_results}.")
        with x_results.open(encoding="utf-8") as lines:
            return parse_x_results(lines, str(x_results))
    posts = stored_posts(warehouse, source, limit)
    # The sources' own clients, rate limits and backoff; their modules load only when chosen.
    if source == "mastodon":
        from flows.sources.mastodon import MastodonSource

        hosts = mastodon_hosts(posts)
        if not hosts:
            return Verdicts(unchecked=len(posts))
        mastodon = make_source("mastodon", settings.model_copy(update={"mastodon_instances": hosts}))
        assert isinstance(mastodon, MastodonSource)
        return check_mastodon(mastodon, posts)
    if source == "bluesky":
        from flows.sources.bluesky import BlueskySource

        bluesky = make_source("bluesky", settings)
        assert isinstance(bluesky, BlueskySource)
        return check_bluesky(bluesky, posts)
    return _x_verdicts(settings, posts, x_job)


def _x_verdicts(settings: Settings, posts: list[tuple[str, str]], x_job: str | None) -> Verdicts:
    from flows.sources.x import XSource

    x = make_source("x", settings, read_budget=0)
    assert isinstance(x, XSource)
    job = XComplianceJob(
        x,
        poll_seconds=settings.x_compliance_poll_seconds,
        max_wait_seconds=settings.x_compliance_max_wait_seconds,
    )
    if x_job is None:
        if not posts:
            return Verdicts()
        x_job = job.start([native for _, native in posts])
    verdicts = job.results(job.wait(x_job))
    verdicts.checked = max(verdicts.checked, len(posts))
    return verdicts


def stored_posts(warehouse: Warehouse, source: str, limit: int) -> list[tuple[str, str]]:
    """(post_id, native_id) of a platform's newest stored posts."""
    frame = warehouse.query(
        "SELECT post_id, native_id FROM posts WHERE source = ? ORDER BY created_at DESC, post_id LIMIT ?",
        [source, limit],
    )
    return list(zip(frame["post_id"], frame["native_id"], strict=True))
