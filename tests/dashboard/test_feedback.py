"""Tone feedback: "this tone is right / wrong" saved in the outreach database, listed and exported as CSV."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import notes
from tests.dashboard.conftest import MODEL, open_app

PAGE = "app_pages/conversations.py"


def open_page() -> AppTest:
    return open_app(PAGE)


def submit(at: AppTest, post_id: str) -> AppTest:
    submit_button = next(
        b for b in at.button if b.key and b.key.startswith(f"FormSubmitter:tone_feedback_{post_id}")
    )
    return submit_button.click().run()


def stored(outreach: Path) -> list[tuple]:
    con = duckdb.connect(str(outreach), read_only=True)
    try:
        return con.execute(
            """SELECT post_id, text, model_version, model_tone, verdict, corrected_tone
               FROM tone_feedback ORDER BY created_at"""
        ).fetchall()
    finally:
        con.close()


def test_feedback_is_saved_listed_and_exportable(app_env: Path, snapshot: Path) -> None:
    at = open_page()
    assert any("No tone feedback yet" in c.value for c in at.caption)
    at.selectbox(key="conversations_post").set_value("mastodon:106").run()
    at.radio(key="tone_verdict_mastodon:106").set_value("wrong")
    at.selectbox(key="tone_corrected_mastodon:106").set_value("neutral")
    at = submit(at, "mastodon:106")
    assert not at.exception, [e.value for e in at.exception]
    assert any("feedback saved" in s.value for s in at.success)

    at.selectbox(key="conversations_post").set_value("mastodon:101").run()
    at.radio(key="tone_verdict_mastodon:101").set_value("right")
    at.selectbox(key="tone_corrected_mastodon:101").set_value("hostile")  # ignored: the tone is right
    at = submit(at, "mastodon:101")
    assert stored(app_env) == [
        ("mastodon:106", "You lot are useless and should be sacked", MODEL, "hostile", "wrong", "neutral"),
        (
            "mastodon:101",
            "Our GP practice cut the waiting list by 20% with triage",
            MODEL,
            "constructive",
            "right",
            None,
        ),
    ]
    # listed on the page (rerun so the list shows the second one too), with a CSV download
    at.run()
    listed = at.dataframe[-1].value
    assert list(listed["post_id"]) == ["mastodon:101", "mastodon:106"]
    assert any("2 posts judged: the model's tone was right on 1" in c.value for c in at.caption)
    downloads = at.get("download_button")
    assert len(downloads) == 1 and "tone feedback" in downloads[0].proto.label.lower()

    # the snapshot is never written
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()
    assert "tone_feedback" not in tables


def test_saving_without_a_verdict_asks_for_one(app_env: Path) -> None:
    at = open_page()
    at = submit(at, "mastodon:108")
    assert any("Choose whether the tone is right or wrong" in w.value for w in at.warning)
    assert notes.tone_feedback(str(app_env)).empty


def test_the_csv_export_has_the_documented_columns(tmp_path: Path) -> None:
    path = str(tmp_path / "outreach.duckdb")
    notes.save_tone_feedback(
        path,
        post_id="p1",
        text='She said "no, never", twice\nand left',
        model_version="m1",
        model_tone="hostile",
        verdict="wrong",
        corrected_tone="neutral",
    )
    exported = pd.read_csv(io.BytesIO(notes.tone_feedback_csv(notes.tone_feedback(path))))
    assert list(exported.columns) == notes.FEEDBACK_COLUMNS
    assert exported.loc[0, "text"] == 'She said "no, never", twice\nand left'  # quoted, survives a round trip
    assert exported.loc[0, "corrected_tone"] == "neutral"


def test_bad_feedback_is_refused_with_what_is_allowed(tmp_path: Path) -> None:
    path = str(tmp_path / "outreach.duckdb")
    with pytest.raises(ValueError, match="verdict must be one of"):
        notes.save_tone_feedback(
            path, post_id="p", text="t", model_version=None, model_tone=None, verdict="meh"
        )
    with pytest.raises(ValueError, match="corrected_tone must be one of"):
        notes.save_tone_feedback(
            path,
            post_id="p",
            text="t",
            model_version=None,
            model_tone=None,
            verdict="wrong",
            corrected_tone="rude",
        )
    assert notes.tone_feedback(path).empty


def test_feedback_can_be_given_on_a_voice_s_example_post(app_env: Path) -> None:
    at = open_app("app_pages/constructive_voices.py")
    at.selectbox(key="voices_account").set_value("mastodon:1").run()
    at.radio(key="tone_verdict_voices_mastodon:101").set_value("right")
    at = submit(at, "voices_mastodon:101")
    assert not at.exception, [e.value for e in at.exception]
    assert [row[0] for row in stored(app_env)] == ["mastodon:101"]
    assert stored(app_env)[0][3:5] == ("constructive", "right")
