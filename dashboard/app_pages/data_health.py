"""Data health: how fresh the snapshot is, what the last runs did, what could not be read, and X's budget.

Works even when there is no analysis yet: it is where to look when the other pages are empty.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import health, wording
from dashboard import queries as q
from warehouse.records import utcnow
from warehouse.settings import Settings

snapshot = q.snapshot_path()
settings = Settings()


def _freshness() -> None:
    published = health.published_at(snapshot)
    analysis = q.current_analysis(snapshot)
    age_col, model_col, window_col = st.columns(3)
    if published is not None:
        age_col.metric(
            "Snapshot published",
            wording.age(published, utcnow()),
            help=f"{published:%d %b %Y %H:%M} UTC. `commonground run` (or the schedule) publishes a new one.",
        )
    version = str(analysis["model_version"]) if analysis else "–"
    model_col.metric(
        "Tone model",
        version.split("+")[0],  # the name; the weights' fingerprint after '+' is in the help
        help=f"Version `{version}`: the model whose scores this analysis read; `commonground enrich` scores "
        "new posts with the configured model.",
    )
    if analysis is not None:
        window_col.metric(
            "Newest post analysed",
            f"{analysis['window_end']:%d %b %Y %H:%M}",
            help="The end of the window (UTC).",
        )


def _runs() -> None:
    runs = health.runs(snapshot)
    if runs.empty:
        st.info("No runs recorded yet: run `commonground demo --no-dashboard` or `commonground run`.")
        return
    latest = runs.iloc[0]
    line = (
        f"Last run: {wording.FLOWS.get(str(latest['flow']), latest['flow'])} — "
        f"{wording.run_status(str(latest['status']), latest['message'])}, started {latest['started_at']:%d %b %Y %H:%M} UTC"
    )
    {"completed": st.success, "failed": st.error}.get(str(latest["status"]), st.warning)(line)
    table = pd.DataFrame(
        {
            "What": [wording.FLOWS.get(str(f), str(f)) for f in runs["flow"]],
            "Status": [
                wording.run_status(str(s), m) for s, m in zip(runs["status"], runs["message"], strict=True)
            ],
            "Started (UTC)": runs["started_at"],
            "Took": [
                wording.duration(s, f) for s, f in zip(runs["started_at"], runs["finished_at"], strict=True)
            ],
            "What it did": [wording.run_counts(c) for c in runs["counts"]],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "Started (UTC)": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
            "What it did": st.column_config.TextColumn(width="large"),
        },
    )


def _quarantine() -> None:
    reasons = health.quarantine_reasons(snapshot)
    if reasons.empty:
        st.success("Every record collected could be read: nothing is in quarantine.")
        return
    st.warning(
        f"{int(reasons['records'].sum()):,} records could not be read and are kept aside with their reason."
    )
    st.dataframe(
        reasons,
        hide_index=True,
        width="stretch",
        column_config={
            "source": "Source",
            "reason": st.column_config.TextColumn("Why it could not be read", width="large"),
            "records": st.column_config.NumberColumn("Records"),
            "last_seen": st.column_config.DatetimeColumn("Last seen (UTC)", format="D MMM YYYY, HH:mm"),
        },
    )


def _cursors() -> None:
    cursors = health.cursors(snapshot)
    if cursors.empty:
        st.caption("No cursors yet: only files were imported, or no platform has been collected from.")
        return
    st.dataframe(
        cursors,
        hide_index=True,
        width="stretch",
        column_config={
            "source": "Source",
            "query": "Hashtag or file",
            "cursor": st.column_config.TextColumn(
                "Carries on after", help="The newest item already collected."
            ),
            "updated_at": st.column_config.DatetimeColumn("Updated (UTC)", format="D MMM YYYY, HH:mm"),
        },
    )


def _x_budget() -> None:
    now = utcnow()
    reads = health.x_reads(snapshot, now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    if reads is None:
        st.caption("This snapshot predates the record of reads: publish again to see X's budget.")
        return
    month_cap, run_cap = settings.x_max_reads_per_month, settings.x_max_reads_per_run
    st.text(
        f"{reads['month']:,} of {month_cap:,} posts read from X this month (COMMONGROUND_X_MAX_READS_PER_MONTH); "
        f"the last run read {reads['last_run']:,} of at most {run_cap:,} (COMMONGROUND_X_MAX_READS_PER_RUN)."
    )
    st.progress(min(reads["month"] / month_cap, 1.0) if month_cap else 1.0)


if not q.snapshot_exists(snapshot):
    st.info(q.EMPTY_STATE_MESSAGE)
    st.stop()

_freshness()
st.subheader("Last runs")
_runs()
st.subheader("Records that could not be read")
_quarantine()
st.subheader("Where each source carries on")
_cursors()
st.subheader("X reads against the budget")
_x_budget()
