"""The shortlist: people a community manager means to contact, their status, notes, history and export.

It lives in the dashboard's own database (`outreach.duckdb`), never in the snapshot: the dashboard
only ever writes here. Every change is also appended to `outreach_history`, so "who did we contact,
when, and what did they say" survives later edits. Reads are never cached: the shortlist is edited live.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Literal

import duckdb
import pandas as pd

from dashboard import queries as q
from warehouse.privacy import Pseudonyms, pseudonyms
from warehouse.records import utcnow
from warehouse.settings import Settings
from warehouse.store import schema_statements

STATUSES = q.OUTREACH_STATUSES
# Statuses written by earlier versions, shown in today's words.
LEGACY_STATUSES = {"shortlisted": "to contact"}
Change = Literal["added", "updated", "removed"]
# Who someone on the shortlist is once the snapshot no longer holds them (never their id).
GONE = "(no longer in the data: opted out or deleted)"
# The export's columns, in the words people read them in.
EXPORT_COLUMNS = {
    "handle": "Handle",
    "display_name": "Name",
    "role": "Role",
    "status": "Status",
    "note": "Note",
    "updated_at": "Last changed (UTC)",
    "rank": "Rank this week",
    "profile": "Profile link",
}


def _open(path: str) -> duckdb.DuckDBPyConnection:
    con = q._outreach(path)
    con.execute(schema_statements()["outreach_history"])
    return con


def entries(path: str) -> pd.DataFrame:
    """Everyone on the shortlist (account_id, status, note, updated_at), most recently changed first."""
    con = _open(path)
    try:
        frame = con.execute(
            "SELECT account_id, status, note, updated_at FROM outreach ORDER BY updated_at DESC, account_id"
        ).df()
    finally:
        con.close()
    frame["status"] = frame["status"].map(lambda s: LEGACY_STATUSES.get(s, s))
    return frame


def save(path: str, account_id: str, *, status: str, note: str) -> Change:
    """Add someone to the shortlist or change their status and note; says which it was."""
    if status not in STATUSES:
        raise ValueError(f"Unknown shortlist status {status!r}: choose one of {', '.join(STATUSES)}.")
    now = utcnow()
    con = _open(path)
    try:
        con.execute("BEGIN")
        known = con.execute("SELECT count(*) FROM outreach WHERE account_id = ?", [account_id]).fetchone()
        change: Change = "updated" if known and known[0] else "added"
        con.execute(
            """INSERT INTO outreach (account_id, status, note, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (account_id) DO UPDATE SET
                   status = excluded.status, note = excluded.note, updated_at = excluded.updated_at""",
            [account_id, status, note, now],
        )
        con.execute(
            "INSERT INTO outreach_history VALUES (?, ?, ?, ?, ?)", [account_id, now, change, status, note]
        )
        con.execute("COMMIT")
    finally:
        con.close()
    return change


def remove(path: str, account_id: str) -> bool:
    """Take someone off the shortlist (the history keeps what they had); False when they were not on it."""
    con = _open(path)
    try:
        con.execute("BEGIN")
        row = con.execute("SELECT status, note FROM outreach WHERE account_id = ?", [account_id]).fetchone()
        if row is not None:
            con.execute("DELETE FROM outreach WHERE account_id = ?", [account_id])
            con.execute(
                "INSERT INTO outreach_history VALUES (?, ?, 'removed', ?, ?)", [account_id, utcnow(), *row]
            )
        con.execute("COMMIT")
    finally:
        con.close()
    return row is not None


def history(path: str) -> pd.DataFrame:
    """Every change (account_id, changed_at, action, status, note), newest first."""
    con = _open(path)
    try:
        frame = con.execute(
            """SELECT account_id, changed_at, action, status, note FROM outreach_history
               ORDER BY changed_at DESC, account_id"""
        ).df()
    finally:
        con.close()
    frame["status"] = frame["status"].map(lambda s: LEGACY_STATUSES.get(s, s))
    return frame


def with_names(listed: pd.DataFrame, snapshot: str, voices: pd.DataFrame) -> pd.DataFrame:
    """Shortlist rows with handle, name, role, this week's rank and profile link (from the snapshot)."""
    names = q.account_handles(snapshot, tuple(sorted(listed["account_id"])))
    frame = listed.merge(names, on="account_id", how="left")
    # Not in the snapshot: opted out (or deleted) since they were shortlisted; never exported.
    frame["in_snapshot"] = frame["handle"].notna()
    frame["handle"] = frame["handle"].fillna(GONE)
    ranked = voices[["account_id", "rank", "role_label", "url"]].rename(
        columns={"role_label": "role", "url": "profile"}
    )
    frame = frame.merge(ranked, on="account_id", how="left")
    frame["in_this_ranking"] = frame["rank"].notna()
    return frame


def _inert(value: object) -> object:
    """A cell a spreadsheet will not run: text that starts like a formula gets a leading apostrophe
    (notes and names are typed by people; openpyxl would even store '=…' as a formula)."""
    if isinstance(value, str) and (
        value[:1] in ("=", "+", "-", "\t", "\r") or (value.startswith("@") and "(" in value)
    ):
        return "'" + value
    return value


def export_names() -> Pseudonyms | None:
    """The pseudonyms downloads use; None when COMMONGROUND_PSEUDONYMIZE_EXPORTS is off."""
    settings = Settings()
    return pseudonyms(settings) if settings.pseudonymize_exports else None


def _pseudonymised(frame: pd.DataFrame, names: Pseudonyms) -> pd.DataFrame:
    """Pseudonyms for handle and name, no profile link, links and @mentions in notes hidden."""
    out = frame.copy()
    out["handle"] = [names.account(a) for a in out["account_id"]]
    out["display_name"] = out["handle"]
    out["profile"] = None
    out["note"] = [names.text(n) for n in out["note"]]
    return out


def export_frame(frame: pd.DataFrame, names: Pseudonyms | None = None) -> pd.DataFrame:
    """The shortlist as people read it: readable column names, no internal ids, no live formulas;
    pseudonymised with `names`, and without people the snapshot no longer holds (opted out)."""
    if "in_snapshot" in frame.columns:
        frame = frame[frame["in_snapshot"].astype(bool)]
    if names is not None:
        frame = _pseudonymised(frame, names)
    out = frame.reindex(columns=list(EXPORT_COLUMNS)).rename(columns=EXPORT_COLUMNS)
    out["Rank this week"] = out["Rank this week"].astype("Int64")
    out["Last changed (UTC)"] = pd.to_datetime(out["Last changed (UTC)"]).dt.strftime("%Y-%m-%d %H:%M")
    for column in ("Handle", "Name", "Role", "Status", "Note", "Profile link"):
        out[column] = out[column].map(_inert)
    return out


def to_csv(frame: pd.DataFrame, names: Pseudonyms | None = None) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read accents and emoji right."""
    return export_frame(frame, names).to_csv(index=False).encode("utf-8-sig")


def to_excel(frame: pd.DataFrame, names: Pseudonyms | None = None) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        export_frame(frame, names).to_excel(writer, index=False, sheet_name="Shortlist")
    return buffer.getvalue()


def file_name(extension: str, today: date | None = None) -> str:
    """commonground-shortlist-YYYY-MM-DD.csv (or .xlsx)."""
    return f"commonground-shortlist-{(today or utcnow().date()).isoformat()}.{extension}"
