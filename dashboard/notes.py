"""What a community manager records in the dashboard's own database: camp names and tone feedback.

Both live in the outreach database (`COMMONGROUND_OUTREACH_DATABASE`, beside the shortlist), never in
the snapshot the flows publish: a new snapshot must not wipe them, and the dashboard never writes the
flows' files. Nothing here is cached; reads are small and must show a write at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from warehouse.privacy import Pseudonyms
from warehouse.records import utcnow
from warehouse.store import schema_statements

MAX_CAMP_NAME = 80
VERDICTS = ("right", "wrong")
FEEDBACK_TONES = ("constructive", "neutral", "hostile")
FEEDBACK_COLUMNS = [
    "post_id",
    "text",
    "model_version",
    "model_tone",
    "verdict",
    "corrected_tone",
    "created_at",
]


@contextmanager
def _connect(path: str, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """The outreach database with its tables; None when reading a database that does not exist yet."""
    if not write and not Path(path).is_file():
        yield None
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(path)
    try:
        for table in ("camp_names", "tone_feedback"):
            con.execute(schema_statements()[table])
        yield con
    finally:
        con.close()


# --- camp names -------------------------------------------------------------------------------------


def camp_names(path: str, analysis_id: str) -> dict[int, str]:
    """{camp_id: the name a person gave it} for one analysis."""
    with _connect(path, write=False) as con:
        if con is None:
            return {}
        rows = con.execute(
            "SELECT camp_id, label FROM camp_names WHERE analysis_id = ?", [analysis_id]
        ).fetchall()
    return {int(camp): str(label) for camp, label in rows}


def rename_camp(path: str, analysis_id: str, camp_id: int, label: str) -> str | None:
    """Name a camp; an empty name brings back the generated label. Returns the name kept (None: reset)."""
    name = " ".join(label.split())
    if len(name) > MAX_CAMP_NAME:
        raise ValueError(f"A camp name can be at most {MAX_CAMP_NAME} characters (this one has {len(name)}).")
    with _connect(path, write=True) as con:
        assert con is not None
        if not name:
            con.execute(
                "DELETE FROM camp_names WHERE analysis_id = ? AND camp_id = ?", [analysis_id, camp_id]
            )
            return None
        con.execute(
            """INSERT INTO camp_names (analysis_id, camp_id, label, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (analysis_id, camp_id) DO UPDATE SET
                   label = excluded.label, updated_at = excluded.updated_at""",
            [analysis_id, int(camp_id), name, utcnow()],
        )
    return name


# --- tone feedback ----------------------------------------------------------------------------------


def save_tone_feedback(
    path: str,
    *,
    post_id: str,
    text: str,
    model_version: str | None,
    model_tone: str | None,
    verdict: str,
    corrected_tone: str | None = None,
) -> str:
    """Record "this tone is right / wrong" on one post; returns the feedback's id."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, not {verdict!r}")
    if corrected_tone is not None and corrected_tone not in FEEDBACK_TONES:
        raise ValueError(f"corrected_tone must be one of {FEEDBACK_TONES} or empty, not {corrected_tone!r}")
    if verdict == "right":
        corrected_tone = None  # the model's tone is the label
    feedback_id = uuid.uuid4().hex
    with _connect(path, write=True) as con:
        assert con is not None
        con.execute(
            """INSERT INTO tone_feedback (feedback_id, post_id, text, model_version, model_tone, verdict,
                   corrected_tone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [feedback_id, post_id, text, model_version, model_tone, verdict, corrected_tone, utcnow()],
        )
    return feedback_id


def tone_feedback(path: str) -> pd.DataFrame:
    """Every piece of tone feedback, newest first (FEEDBACK_COLUMNS)."""
    with _connect(path, write=False) as con:
        if con is None:
            return pd.DataFrame(columns=FEEDBACK_COLUMNS)
        return con.execute(
            f"SELECT {', '.join(FEEDBACK_COLUMNS)} FROM tone_feedback ORDER BY created_at DESC, feedback_id"
        ).df()


def tone_feedback_csv(frame: pd.DataFrame, names: Pseudonyms | None = None) -> bytes:
    """The feedback as CSV (UTF-8, header row), the file `commonground eval --labels FILE` reads;
    with `names`, post ids are pseudonyms and links and @mentions in the text are hidden."""
    out = frame[FEEDBACK_COLUMNS].copy()
    if names is not None:
        out["post_id"] = names.posts(out["post_id"])
        out["text"] = [names.text(t) for t in out["text"]]
    return out.to_csv(index=False).encode("utf-8")
