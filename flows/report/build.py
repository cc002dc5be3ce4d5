"""Gather one week's report from the warehouse: what the template shows and the tables it exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from flows.report import charts
from flows.report.content import (
    MIN_POSTS,
    TOP_POSTS,
    TOP_VOICES,
    Headline,
    choose_analysis,
    hashtag_table,
    headline,
    segregation,
    tone_per_day,
    top_posts,
    voice_changes,
    week_over_week,
)
from flows.report.privacy import ReportPrivacy
from flows.report.week import IsoWeek
from models.profiles import PROFILE_COLUMNS
from warehouse import weekly
from warehouse.settings import Settings
from warehouse.store import Warehouse

# Analyses covering less of a week than this are not used to compare voices with the week before.
MIN_COVERAGE = 0.5
POSTS_PER_VOICE = 2  # best posts shown under each voice
CAMP_COLUMNS = [column for column in PROFILE_COLUMNS if not column.startswith("top_")]
VOICE_COLUMNS = [
    "rank",
    "account_id",
    "handle",
    "display_name",
    "role",
    "score",
    "constructiveness",
    "bridging",
    "hostility",
    "n_posts",
    "home_camp",
    "camps_reached",
    "reasons",
    "best_posts",
]


@dataclass
class WeeklyReport:
    """One week's report before it is written: the template's context and the exported tables."""

    week: IsoWeek
    headline: Headline
    enough_data: bool
    analysis_id: str | None
    context: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(repr=False)  # csv name -> rows
    posts: pd.DataFrame = field(repr=False)  # the week's scored posts (Parquet)


@dataclass(frozen=True)
class ReportInputs:
    """Who asks for the report and with what: the warehouse, settings, model and this run."""

    warehouse: Warehouse
    settings: Settings
    model_version: str
    run_id: str
    generated_at: datetime


def gather(inputs: ReportInputs, week: IsoWeek) -> WeeklyReport:
    """Everything the report of `week` shows, read from the warehouse, without the accounts on the
    opt-out list, and pseudonymised unless `pseudonymize_exports` is off."""
    wh = inputs.warehouse
    privacy = ReportPrivacy.of(wh, inputs.settings)
    posts = privacy.posts(weekly.week_posts(wh, week.start, week.end, inputs.model_version))
    previous = week.previous()
    before = privacy.posts(weekly.week_posts(wh, previous.start, previous.end, inputs.model_version))
    now_head, before_head = headline(posts), headline(before)
    enough = now_head.posts >= MIN_POSTS
    analysis = choose_analysis(weekly.analyses_overlapping(wh, week.start, week.end), week.start, week.end)
    camps, voices, seg = _analysis_sections(inputs, week, analysis, privacy)
    scored = posts[posts["tone"].notna()]
    tables = {
        "voices": voices["table"],
        "camps": camps["table"],
        "top_posts": top_posts(scored, TOP_POSTS),
        "hashtags": hashtag_table(posts),
    }
    context: dict[str, Any] = {
        "week": week,
        "enough_data": enough,
        "min_posts": MIN_POSTS,
        "headline": now_head,
        "change": week_over_week(now_head, before_head),
        "trend_chart": charts.tone_trend_chart(tone_per_day(posts)) if enough else None,
        "camps": camps,
        "segregation": seg,
        "voices": voices,
        "top_posts": tables["top_posts"].head(5).to_dict("records"),
        "hashtags": tables["hashtags"].head(12).to_dict("records"),
        "shortlist": _shortlist(inputs.settings.outreach_path, voices["table"], privacy),
        "provenance": _provenance(inputs, week, posts, analysis),
        "pseudonymized": privacy.pseudonymized,
    }
    parquet = scored.assign(model_version=inputs.model_version)
    return WeeklyReport(
        week=week,
        headline=now_head,
        enough_data=enough,
        analysis_id=analysis["analysis_id"] if analysis else None,
        context=context,
        tables=tables,
        posts=parquet,
    )


def _analysis_sections(
    inputs: ReportInputs, week: IsoWeek, analysis: dict[str, Any] | None, privacy: ReportPrivacy
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """Camps, voices (with best posts and changes since the week before) and segregation in words."""
    empty_camps = {"table": pd.DataFrame(columns=CAMP_COLUMNS), "rows": [], "chart": None}
    empty_voices = {
        "table": pd.DataFrame(columns=VOICE_COLUMNS),
        "rows": [],
        "changes": voice_changes(pd.DataFrame(), None),
    }
    if analysis is None:
        return empty_camps, empty_voices, None
    wh = inputs.warehouse
    results = weekly.analysis_results(wh, analysis["analysis_id"])
    profiles = results["profiles"]
    labels = dict(zip(profiles["camp_id"], profiles["label"], strict=True))
    camp_table = profiles[CAMP_COLUMNS].reset_index(drop=True)
    camps = {
        "table": camp_table,
        "rows": camp_table.to_dict("records"),
        "chart": charts.camp_tone_chart(camp_table) if len(camp_table) else None,
    }
    seg = segregation(
        privacy.accounts(results["members"], "account_id"),
        privacy.accounts(weekly.endorsements(wh, week.start, week.end), "src", "dst"),
        results["polarization"],
    )
    voices = privacy.voices(results["voices"])
    texts = _best_posts(inputs, voices.head(TOP_VOICES), privacy)
    voices = privacy.pseudonymise_voices(voices)
    previous = _previous_voices(inputs, week, analysis["analysis_id"])
    if previous is not None:
        previous = privacy.pseudonymise_voices(privacy.voices(previous))
    table = _voice_table(voices, labels)
    shown = _voice_rows(table.head(TOP_VOICES), texts)
    return camps, {"table": table, "rows": shown, "changes": voice_changes(voices, previous)}, seg


def _previous_voices(inputs: ReportInputs, week: IsoWeek, this_analysis: str) -> pd.DataFrame | None:
    """The voices of the analysis that covers the week before, when it is a different one."""
    prev = week.previous()
    chosen = choose_analysis(
        weekly.analyses_overlapping(inputs.warehouse, prev.start, prev.end), prev.start, prev.end
    )
    if chosen is None or chosen["analysis_id"] == this_analysis or chosen["coverage"] < MIN_COVERAGE:
        return None
    return weekly.analysis_results(inputs.warehouse, chosen["analysis_id"])["voices"]


def _camp_name(camp: Any, labels: dict[Any, str]) -> str:
    if camp is None or pd.isna(camp):
        return "no camp"
    return labels.get(int(camp), f"camp {int(camp)}")


def _voice_table(voices: pd.DataFrame, labels: dict[Any, str]) -> pd.DataFrame:
    table = voices.copy()
    table["home_camp"] = [_camp_name(c, labels) for c in table["home_camp"]]
    table["camps_reached"] = [
        "; ".join(f"{_camp_name(c, labels)} ({n:g})" for c, n in reached.items())
        for reached in table["camps_reached"]
    ]
    table["best_posts"] = [" ".join(ids) for ids in table["example_posts"]]
    table["role"] = table["role"].fillna("")
    return table[VOICE_COLUMNS].reset_index(drop=True)


def _best_posts(inputs: ReportInputs, voices: pd.DataFrame, privacy: ReportPrivacy) -> list[list[str]]:
    """The text of each voice's best posts, as the report may show it."""
    ids = [pid for posts in voices["example_posts"] for pid in posts[:POSTS_PER_VOICE]]
    found = weekly.posts_by_id(inputs.warehouse, ids, inputs.model_version)
    texts = {p: privacy.text(t) for p, t in zip(found["post_id"], found["text"], strict=True)}
    return [[texts[p] for p in posts[:POSTS_PER_VOICE] if p in texts] for posts in voices["example_posts"]]


def _voice_rows(table: pd.DataFrame, texts: list[list[str]]) -> list[dict[str, Any]]:
    """The voices the report shows, each with its best posts' text."""
    rows: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
    for row, posts in zip(rows, texts, strict=True):
        row["posts"] = posts
    return rows


def _shortlist(path: Path, voices: pd.DataFrame, privacy: ReportPrivacy) -> dict[str, Any]:
    """The dashboard's shortlist in numbers, and which of the shown voices are on it (never notes)."""
    try:
        rows = weekly.shortlist(path)
    except duckdb.Error as exc:
        return {"state": "unreadable", "message": f"The shortlist at {path} could not be read ({exc})."}
    if rows is None:
        return {
            "state": "missing",
            "message": f"No shortlist yet: the dashboard's outreach database ({path}) does not exist. "
            "Shortlist people on the dashboard's Constructive voices page.",
        }
    rows = privacy.accounts(rows, "account_id")
    ids = [privacy.account_id(a) for a in rows["account_id"]]
    status = dict(zip(ids, rows["status"].fillna("shortlisted"), strict=True))
    top = voices.head(TOP_VOICES)
    return {
        "state": "ok",
        "total": len(rows),
        "by_status": rows["status"].fillna("shortlisted").value_counts().sort_index().to_dict(),
        "top_voices_on_it": [
            {"handle": h, "status": status[a]}
            for a, h in zip(top["account_id"], top["handle"], strict=True)
            if a in status
        ],
    }


def _provenance(
    inputs: ReportInputs, week: IsoWeek, posts: pd.DataFrame, analysis: dict[str, Any] | None
) -> dict[str, Any]:
    """Where the numbers come from: sources, hashtags, collection runs and counts, model, analysis."""
    runs = weekly.collection_runs(inputs.warehouse, week.start, week.end)
    return {
        "sources": sorted(posts["source"].unique()),
        "hashtags": [f"#{h}" for h in inputs.settings.hashtags],
        "read": int(runs["read"].sum()),
        "stored": int(runs["posts_stored"].sum()),
        "quarantined": int(runs["quarantined"].sum()),
        "x_reads": int(runs["x_reads"].sum()),
        "collection_runs": list(runs["run_id"]),
        "model_version": inputs.model_version,
        "analysis": analysis,
        "run_id": inputs.run_id,
        "generated_at": inputs.generated_at,
        "topic": inputs.settings.topic,
    }
