"""Overview, "this week": who to contact and why, the numbers against the week before, tone over time
and segregation in words (streamlit.testing AppTest on the hand-written snapshot in conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import notes, wording
from tests.dashboard.conftest import ANALYSIS, open_app

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
PAGE = "app_pages/overview.py"


def open_overview() -> AppTest:
    return open_app(PAGE)


def test_the_people_worth_contacting_with_reasons_posts_and_links(app_env: Path) -> None:
    at = open_overview()
    texts = [t.value for t in at.text]
    assert "#1  @ada@nhs.social  ·  Dr Ada" in texts
    assert "Writes constructively (2 of 2 posts); engaged with constructively by one camp so far." in texts
    assert "Writes constructively (1 of 1 post); no camp has engaged with them constructively yet." in texts
    assert "Happy to share the triage protocol with any practice" in texts  # Ada's best post, in full
    assert "Patients & carers (3)" in texts  # camps reached
    assert "Role: GP" in [c.value for c in at.caption]
    links = {(b.proto.label, b.proto.url) for b in at.get("link_button")}
    assert ("Open the post", "https://nhs.social/@x/102") in links
    assert ("Open the profile", "https://example.org/@ada@nhs.social") in links
    assert sum(1 for t in texts if t.startswith("#")) == 3  # the fixture ranks three; up to five show


def test_one_click_shortlist_from_the_overview(app_env: Path) -> None:
    at = open_overview()
    at.button(key="overview_add_mastodon:1").click().run()
    assert not at.exception
    assert any("Added to the shortlist" in s.value for s in at.success)
    listed = at.button(key="overview_listed_mastodon:1")
    assert listed.label == "On the shortlist (to contact)" and listed.disabled
    con = duckdb.connect(str(app_env), read_only=True)
    try:
        assert con.execute("SELECT account_id, status FROM outreach").fetchall() == [
            ("mastodon:1", "to contact")
        ]
        assert con.execute("SELECT action FROM outreach_history").fetchall() == [("added",)]
    finally:
        con.close()


def test_pseudonymised_snapshot_has_no_links(
    pseudonymized_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(pseudonymized_snapshot))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = open_overview()
    assert not at.get("link_button")
    assert any("pseudonymised" in c.value for c in at.caption)
    st.cache_data.clear()


def test_headline_numbers_change_against_the_week_before(app_env: Path) -> None:
    at = open_overview()
    metrics = {m.label: m for m in at.metric}
    assert metrics["Posts"].value == "9" and metrics["Posts"].delta == "+8"  # Finn's one post the week before
    assert metrics["People posting"].value == "5" and metrics["People posting"].delta == "+4"
    assert metrics["Camps"].value == "2"
    # 5 constructive and 2 hostile of the 8 scored posts; the week before: one neutral post
    assert metrics["Constructive posts"].value == "62%" and metrics["Constructive posts"].delta == "+62 pts"
    assert metrics["Hostile posts"].value == "25%" and metrics["Hostile posts"].delta == "+25 pts"
    assert "Share of the scored posts" in metrics["Constructive posts"].help
    assert any(
        "8 of 9 posts in the window have a tone score (1 could not be judged" in c.value for c in at.caption
    )
    assert any("Changes compare with the 7 days before" in c.value for c in at.caption)


def test_no_change_shown_without_a_week_before(app_env: Path) -> None:
    at = open_overview()
    at.sidebar.radio(key="window_days").set_value(30).run()
    metrics = {m.label: m for m in at.metric}
    assert metrics["Posts"].value == "10" and not metrics["Posts"].delta
    assert any("No posts in the 30 days before this window" in c.value for c in at.caption)


@pytest.mark.parametrize(
    ("by", "groups"),
    [
        ("tone", {"All posts"}),
        ("camp", {"Clinicians & GPs", "Patients & carers"}),
        ("platform", {"mastodon"}),
        ("hashtag", {"#nhs", "#gp", "#patientvoice", "#digitalhealth"}),
    ],
)
def test_tone_over_time_by_hashtag_platform_and_camp(app_env: Path, by: str, groups: set[str]) -> None:
    at = open_overview()
    at.radio(key="overview_tone_by").set_value(by).run()
    assert not at.exception
    chart = at.get("vega_lite_chart")[0].proto
    spec = json.loads(chart.spec)
    assert spec["encoding"]["color"]["legend"]["labelLimit"] >= 300  # camp labels are not cut off
    shown = set()
    for dataset in chart.datasets:
        shown |= set(_arrow_column(dataset.data.data, "group"))
    if not shown:  # inline data
        shown = set(_arrow_column(chart.data.data, "group"))
    assert shown == groups


def test_tone_by_camp_uses_the_names_people_gave_the_camps(app_env: Path) -> None:
    notes.rename_camp(str(app_env), ANALYSIS, 0, "Front-line GPs")
    at = open_overview()
    at.radio(key="overview_tone_by").set_value("camp").run()
    chart = at.get("vega_lite_chart")[0].proto
    shown = set()
    for dataset in chart.datasets:
        shown |= set(_arrow_column(dataset.data.data, "group"))
    if not shown:
        shown = set(_arrow_column(chart.data.data, "group"))
    assert shown == {"Front-line GPs", "Patients & carers"}


def _arrow_column(data: bytes, column: str) -> list[str]:
    import pyarrow as pa

    if not data:
        return []
    table = pa.ipc.open_stream(data).read_all()
    return [str(v) for v in table.column(column).to_pylist()] if column in table.column_names else []


def test_segregation_in_words_with_the_statistics_one_click_away(app_env: Path) -> None:
    at = open_overview()
    texts = [t.value for t in at.text]
    assert "Endorsements stay inside camps 2.0× more than chance would give." in texts  # 0.62 vs 0.31
    statistics = at.expander[0]
    assert statistics.label == "The statistics behind this sentence"
    table = statistics.dataframe[0].value
    assert list(table["Measure"]) == ["Assortativity", "Outside vs inside ties (E-I index)"]  # no 'headline'
    assert "None" not in table.to_string()
    assert set(table.columns) == {
        "Measure",
        "What it means",
        "This network",
        "By chance",
        "Distance from chance",
    }


def test_segregation_wording() -> None:
    assert (
        wording.segregation(0.62, 0.31, 6.2)
        == "Endorsements stay inside camps 2.0× more than chance would give."
    )
    assert "far more than chance" in wording.segregation(0.70, 0.0017, 530.4)
    assert "over 20×" in wording.segregation(2.0, 0.08, 40)
    assert "about as often as chance" in wording.segregation(0.32, 0.31, 0.5)
    assert "too few endorsements" in wording.segregation(None, None, None)
