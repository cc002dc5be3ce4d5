"""The weekly report as a Prefect flow: read one ISO week, write its files, record it, refresh the snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows.options import RunOptions
from flows.pipeline import load_settings, open_warehouse, recorded_run
from flows.report.build import ReportInputs, gather
from flows.report.render import write_report
from flows.report.week import IsoWeek, last_complete_week, parse_week
from models.tone import tone_model_version
from warehouse.privacy import load_key
from warehouse.records import utcnow


@dataclass(frozen=True)
class ReportResult:
    """Where one week's report went and what it says in one line."""

    week: str
    folder: Path
    files: list[str]
    enough_data: bool
    posts: int
    analysis_id: str | None
    run_id: str

    @property
    def summary(self) -> str:
        if not self.enough_data:
            return f"{self.week}: too little data ({self.posts} posts); the report says so."
        return f"{self.week}: {self.posts} posts; analysis {self.analysis_id or 'none covers the week'}."


def resolve_week(week: str | None) -> IsoWeek:
    """The week asked for (`YYYY-Www`), or the last complete ISO week (UTC)."""
    return parse_week(week) if week else last_complete_week(utcnow())


@flow(name="weekly-report", log_prints=True)
def weekly_report(week: str | None = None, options: RunOptions | None = None) -> dict[str, Any]:
    """The weekly report for one ISO week (YYYY-Www; default the last complete week): an HTML page and
    its PDF, CSVs of voices, camps, top posts and hashtags, and Parquet of the week's scored posts,
    under data_dir/reports/YYYY-Www/. Handles, ids and mentions are pseudonymised unless
    pseudonymize_exports is off; accounts on the opt-out list appear nowhere. Rebuilding a week
    replaces its files at once and keeps one record of it."""
    iso = resolve_week(week)
    settings = load_settings(options)
    warehouse = open_warehouse(settings)
    logger = get_run_logger()
    with recorded_run(warehouse, "weekly-report", {"week": iso.label}) as counts:
        generated_at = utcnow()
        inputs = ReportInputs(
            warehouse, settings, tone_model_version(settings.tone_model), counts["run_id"], generated_at
        )
        report = gather(inputs, iso)
        folder, files = write_report(report, settings.data_dir / "reports")
        warehouse.record_report(
            {
                "week": iso.label,
                "week_start": iso.start,
                "week_end": iso.end,
                "folder": str(folder),
                "files": files,
                "enough_data": report.enough_data,
                "n_posts": report.headline.posts,
                "n_accounts": report.headline.accounts,
                "analysis_id": report.analysis_id,
                "model_version": inputs.model_version,
                "pseudonymized": settings.pseudonymize_exports,
                "run_id": counts["run_id"],
                "generated_at": generated_at,
            }
        )
        result = ReportResult(
            iso.label,
            folder,
            files,
            report.enough_data,
            report.headline.posts,
            report.analysis_id,
            counts["run_id"],
        )
        counts.update(week=iso.label, folder=str(folder), files=files, enough_data=report.enough_data)
        counts.update(posts=report.headline.posts)
        # The dashboard lists reports from its snapshot: refresh it so this one shows at once.
        warehouse.publish(
            settings.snapshot_path,
            pseudonymize=settings.pseudonymize_handles,
            key=load_key(settings) if settings.pseudonymize_handles else None,
            finishing_runs=[counts["run_id"]],
        )
        logger.info(result.summary)
    return counts
