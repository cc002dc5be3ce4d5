"""Constructive voices: the table and its help, filters, example posts in full, and the shortlist
(add / update / remove, history, CSV and Excel export), on the hand-written snapshot in conftest.py."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard import shortlist
from tests.dashboard.conftest import TEST_PSEUDONYM_KEY, open_app
from warehouse.privacy import Pseudonyms

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
HOSTILE_BIO = "<script>alert('x')</script> **bold** [link](javascript:alert(1))"  # Dev's bio in conftest.py


def open_voices() -> AppTest:
    return open_app("app_pages/constructive_voices.py")


def handles(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["handle"])


def test_table_fits_explains_every_column_and_reads_in_plain_words(app_env: Path) -> None:
    at = open_voices()
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "rank",
        "handle",
        "role_label",
        "score",
        "bridging",
        "hostility",
        "why_short",
    ]
    assert handles(at) == ["@ada@nhs.social", "@cara@med.example", "@dev@med.example"]  # not last week's Finn
    ada = table.iloc[0]
    assert ada["role_label"] == "GP"
    assert ada["why_short"] == "2/2 constructive · 1 camp"
    shown = [t.value for t in at.text]  # the closer look at the top person: the full reasons, home camp
    assert "Writes constructively (2 of 2 posts); engaged with constructively by one camp so far." in shown
    assert "Clinicians & GPs" in shown
    config = json.loads(at.dataframe[0].proto.columns)
    for column in (
        "rank",
        "handle",
        "role_label",
        "score",
        "bridging",
        "hostility",
        "why_short",
    ):
        assert config[column].get("help"), column
    for column in ("score", "bridging", "hostility"):
        assert "0 to 1" in config[column]["help"]
        assert config[column]["type_config"]["max_value"] == 1.0
    assert any("3 of 3 ranked accounts shown" in c.value for c in at.caption)


def test_filters_by_hashtag_camp_role_and_platform(app_env: Path) -> None:
    at = open_voices()
    at.selectbox(key="voices_camp").select("Patients & carers").run()
    assert handles(at) == ["@cara@med.example", "@dev@med.example"]
    at.selectbox(key="voices_camp").select("All")
    at.selectbox(key="voices_role").select("Patient or carer").run()
    assert handles(at) == ["@dev@med.example"]
    at.selectbox(key="voices_role").select("All")
    at.selectbox(key="voices_hashtag").select("patientvoice").run()  # lower-cased by enrich
    assert handles(at) == ["@cara@med.example"]
    at.selectbox(key="voices_hashtag").select("gp").run()
    assert handles(at) == ["@ada@nhs.social", "@cara@med.example"]
    at.selectbox(key="voices_hashtag").select("All")
    at.selectbox(key="voices_platform").select("mastodon").run()
    assert len(handles(at)) == 3


def test_example_posts_in_full_with_links_and_plain_bio(app_env: Path) -> None:
    at = open_voices()
    texts = [t.value for t in at.text]
    assert "Happy to share the triage protocol with any practice" in texts
    assert "Our GP practice cut the waiting list by 20% with triage" in texts
    assert "GP in Leeds. Views my own." in texts
    assert any("evidence, solution" in c.value for c in at.caption)  # why each post was constructive
    assert {b.proto.url for b in at.get("link_button")} >= {
        "https://nhs.social/@x/101",
        "https://nhs.social/@x/102",
    }
    at.selectbox(key="voices_account").select("mastodon:4").run()
    assert HOSTILE_BIO in [t.value for t in at.text]
    assert all(HOSTILE_BIO not in m.value for m in (*at.markdown, *at.caption))


def _buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key and b.key.startswith("shortlist_")}


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_shortlist_add_update_remove_never_go_stale(app_env: Path, snapshot: Path) -> None:
    at = open_voices()
    assert any("shortlist is empty" in i.value for i in at.info)
    at.selectbox(key="voices_account").select("mastodon:3").run()
    assert _buttons(at) == {"shortlist_add"}
    at.selectbox(key="shortlist_status_mastodon:3").select("to contact")
    at.text_area(key="shortlist_note_mastodon:3").input("Ask about the patient panel")
    at.button(key="shortlist_add").click().run()
    assert not at.exception
    assert any("Added to the shortlist" in s.value for s in at.success)
    assert _buttons(at) == {"shortlist_update", "shortlist_remove"}  # after Add: Update or Remove
    assert list(at.dataframe[-1].value["handle"]) == ["@cara@med.example"]

    at.selectbox(key="shortlist_status_mastodon:3").select("contacted")
    at.text_area(key="shortlist_note_mastodon:3").input("Wrote on Monday")
    at.button(key="shortlist_update").click().run()
    assert _rows(app_env, "SELECT account_id, status, note FROM outreach") == [
        ("mastodon:3", "contacted", "Wrote on Monday")
    ]
    at.button(key="shortlist_remove").click().run()
    assert not at.exception
    assert _buttons(at) == {"shortlist_add"}  # after Remove: Add again, no stale Update
    assert _rows(app_env, "SELECT count(*) FROM outreach") == [(0,)]
    history = _rows(app_env, "SELECT action, status, note FROM outreach_history ORDER BY changed_at")
    assert history == [
        ("added", "to contact", "Ask about the patient panel"),
        ("updated", "contacted", "Wrote on Monday"),
        ("removed", "contacted", "Wrote on Monday"),
    ]
    shown = at.expander[-1].dataframe[0].value
    assert list(shown["action"]) == ["removed", "updated", "added"] and set(shown["handle"]) == {
        "@cara@med.example"
    }
    tables = {r[0] for r in _rows(snapshot, "SELECT table_name FROM information_schema.tables")}
    assert not tables & {"outreach", "outreach_history"}  # the snapshot is never written


def test_a_filter_that_matches_nobody_keeps_the_shortlist(app_env: Path) -> None:
    shortlist.save(str(app_env), "mastodon:1", status="replied", note="Keen")
    at = open_voices()
    at.selectbox(key="voices_camp").select("Patients & carers")
    at.selectbox(key="voices_role").select("GP").run()
    assert not at.exception
    assert any("No one in this window's ranking matches these filters" in i.value for i in at.info)
    assert list(at.dataframe[-1].value["handle"]) == ["@ada@nhs.social"]
    assert list(at.dataframe[-1].value["status"]) == ["replied"]
    # and the shortlisted person can still be picked and updated
    assert at.selectbox(key="voices_account").value == "mastodon:1"
    assert _buttons(at) == {"shortlist_update", "shortlist_remove"}


def _downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, bytes]]:
    """What the app hands st.download_button, by file name: AppTest keeps the files in a storage
    that goes with its runtime, so they are caught on the way in."""
    caught: dict[str, tuple[str, bytes]] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def load(
        self: MemoryMediaFileStorage, path_or_data: Any, mimetype: str, kind: Any, filename: str | None = None
    ) -> str:
        caught[filename or ""] = (mimetype, bytes(path_or_data))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load)
    return caught


def test_shortlist_exports_as_named_csv_and_excel(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMONGROUND_PSEUDONYMIZE_EXPORTS", "false")  # real handles, as asked for
    files = _downloads(monkeypatch)
    shortlist.save(str(app_env), "mastodon:1", status="contacted", note='=HYPERLINK("http://x")')
    shortlist.save(str(app_env), "mastodon:3", status="to contact", note="Patient panel, maybe")
    at = open_voices()
    labels = {b.proto.label for b in at.get("download_button")}
    assert labels == {"Download CSV", "Download Excel"}
    today = date.today().isoformat()
    mime, data = files[f"commonground-shortlist-{today}.csv"]
    assert mime.startswith("text/csv")
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(frame.columns) == [
        "Handle",
        "Name",
        "Role",
        "Status",
        "Note",
        "Last changed (UTC)",
        "Rank this week",
        "Profile link",
    ]
    rows = frame.set_index("Handle")
    assert rows.loc["@ada@nhs.social", "Status"] == "contacted"
    assert rows.loc["@ada@nhs.social", "Note"] == '\'=HYPERLINK("http://x")'  # inert in a spreadsheet
    assert rows.loc["@ada@nhs.social", "Rank this week"] == 1
    assert rows.loc["@cara@med.example", "Note"] == "Patient panel, maybe"
    _mime, data = files[f"commonground-shortlist-{today}.xlsx"]
    sheet = pd.read_excel(io.BytesIO(data), engine="openpyxl")
    assert list(sheet.columns) == list(frame.columns) and len(sheet) == 2


def test_shortlist_exports_pseudonyms_by_default(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _downloads(monkeypatch)
    shortlist.save(
        str(app_env),
        "mastodon:1",
        status="contacted",
        note="met @ada@nhs.social, see https://nhs.social/@ada",
    )
    at = open_voices()
    assert any("pseudonyms" in c.value for c in at.caption)
    data = files[f"commonground-shortlist-{date.today().isoformat()}.csv"][1].decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(data))
    names = Pseudonyms(TEST_PSEUDONYM_KEY)
    assert list(frame["Handle"]) == list(frame["Name"]) == [names.account("mastodon:1")]
    assert frame.loc[0, "Note"] == "met @user, see [link: nhs.social]"
    assert frame["Profile link"].isna().all()
    for real in ("@ada", "mastodon:1", "Dr Ada"):
        assert real not in data, real
