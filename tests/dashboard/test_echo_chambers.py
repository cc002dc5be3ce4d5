"""Echo chambers page: the stored map drawn as a Vega-Lite chart, the camp cards, and renaming a camp."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import notes
from dashboard import queries as q
from tests.dashboard.conftest import ANALYSIS, MAP_EDGES, MAP_NODES, open_app

PAGE = "app_pages/echo_chambers.py"


def open_page(page: str = PAGE) -> AppTest:
    return open_app(page)


def map_data(at: AppTest) -> tuple[dict, dict[str, pa.Table]]:
    """The map chart's Vega-Lite spec and its datasets (Arrow tables) by name."""
    charts = [c for c in at.get("vega_lite_chart") if '"rule"' in c.proto.spec]
    assert len(charts) == 1, "one network map on the page"
    spec = json.loads(charts[0].proto.spec)
    datasets = {
        d.name: pa.ipc.open_stream(io.BytesIO(d.data.data)).read_all() for d in charts[0].proto.datasets
    }
    return spec, datasets


def texts(at: AppTest) -> list[str]:
    return [str(t.value) for t in at.text]


def test_the_map_draws_the_stored_layout(app_env: Path) -> None:
    at = open_page()
    spec, datasets = map_data(at)
    edges_layer, nodes_layer = spec["layer"]
    assert edges_layer["mark"]["type"] == "rule" and nodes_layer["mark"]["type"] == "circle"
    nodes = datasets[nodes_layer["data"]["name"]].to_pandas()
    edges = datasets[edges_layer["data"]["name"]].to_pandas()
    assert len(nodes) == len(MAP_NODES) and len(edges) == len(MAP_EDGES)
    by_handle = nodes.set_index("handle")
    assert by_handle.loc["@ada@nhs.social", "camp"] == "Clinicians & GPs"
    assert by_handle.loc["@ada@nhs.social", "role"] == "constructive voice #1"
    assert set(nodes.loc[nodes["is_voice"], "handle"]) == {
        "@ada@nhs.social",
        "@cara@med.example",
        "@dev@med.example",
    }
    # each edge is drawn between its two accounts' stored positions
    ada_cara = edges[(edges["kind"] == "contact")].iloc[0]
    assert (ada_cara["x"], ada_cara["y"], ada_cara["x2"], ada_cara["y2"]) == (-0.8, 0.1, 0.5, 0.2)
    # camps coloured, voices ringed, tooltips with handle and camp, pan and zoom
    assert nodes_layer["encoding"]["color"]["field"] == "camp"
    assert nodes_layer["encoding"]["stroke"]["condition"]["test"] == "datum.is_voice"
    assert [t["field"] for t in nodes_layer["encoding"]["tooltip"]][:2] == ["handle", "camp"]
    params = [*spec.get("params", []), *nodes_layer.get("params", [])]  # Altair lifts them to the top
    assert any(p.get("bind") == "scales" for p in params)
    # the data travels with the chart, nothing is fetched (Streamlit bundles Vega): it works offline
    assert '"url"' not in json.dumps(spec)
    assert any("3 constructive voices" in c.value for c in at.caption)


def test_camp_cards_speak_plain_words(app_env: Path) -> None:
    at = open_page()
    shown = texts(at)
    assert "Most endorsed: @ada@nhs.social (4 endorsements), @ben@nhs.social (1 endorsement)" in shown
    assert "Most endorsed: @cara@med.example (4 endorsements)" in shown
    assert "Talks about: triage, waiting" in shown and "Hashtags: #gp, #nhs" in shown
    assert "Tone of its posts: 67% constructive · 33% neutral · 0% hostile" in shown
    captions = [c.value for c in at.caption]
    assert "Mostly closed: 72% of what its members endorse comes from inside the camp." in captions
    assert "Mixed: 58% of what its members endorse comes from inside the camp." in captions
    table = at.dataframe[0].value
    assert list(table["label"]) == ["Patients & carers", "Clinicians & GPs"]
    assert list(table.columns) == [
        "label",
        "size",
        "n_posts",
        "closed",
        "insularity",
        "share_constructive",
        "share_hostile",
    ]  # fits the page: terms, hashtags and accounts are on the cards
    # no raw c-TF-IDF weights anywhere on the page
    everything = "\n".join([*shown, *captions, table.to_csv()])
    assert "(0." not in everything
    assert "0.31" not in everything and "0.40" not in everything


def test_renaming_a_camp_shows_everywhere_and_stays_out_of_the_snapshot(
    app_env: Path, snapshot: Path
) -> None:
    at = open_page()
    at.text_input(key="camp_name_0").input("  GP   workforce ").run()
    at.button(key="camp_rename_0").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Camp renamed" in s.value for s in at.success)
    assert "GP workforce" in texts(at)
    assert list(at.dataframe[0].value["label"]) == ["Patients & carers", "GP workforce"]
    _, datasets = map_data(at)
    camps_on_map = {
        c for t in datasets.values() if "camp" in t.column_names for c in t.column("camp").to_pylist()
    }
    assert camps_on_map == {"GP workforce", "Patients & carers"}

    con = duckdb.connect(str(app_env), read_only=True)
    try:
        assert con.execute("SELECT analysis_id, camp_id, label FROM camp_names").fetchall() == [
            (ANALYSIS, 0, "GP workforce")
        ]
    finally:
        con.close()
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        generated = con.execute(
            "SELECT label FROM community_profiles WHERE camp_id = 0 AND analysis_id = ?", [ANALYSIS]
        ).fetchall()
        assert generated == [("Clinicians & GPs",)]
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()
    assert "camp_names" not in tables

    # every reader of camp labels follows: the Conversations filter and table, the voices' camps
    conv = open_page("app_pages/conversations.py")
    conv.selectbox(key="conversations_camp").set_value(0).run()
    assert set(conv.dataframe[0].value["camp"]) == {"GP workforce"}
    voices = q.voices(str(snapshot), ANALYSIS)
    assert voices.set_index("account_id").loc["mastodon:1", "home_camp_label"] == "GP workforce"
    assert "GP workforce (2)" in voices.set_index("account_id").loc["mastodon:3", "camps_reached"]

    # an empty name brings the generated label back
    at = open_page()
    at.text_input(key="camp_name_0").input("").run()
    at.button(key="camp_rename_0").click().run()
    assert any("generated label again" in s.value for s in at.success)
    assert list(at.dataframe[0].value["label"]) == ["Patients & carers", "Clinicians & GPs"]
    assert notes.camp_names(str(app_env), ANALYSIS) == {}


def test_a_camp_name_that_is_too_long_is_refused_with_the_limit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"at most {notes.MAX_CAMP_NAME} characters"):
        notes.rename_camp(str(tmp_path / "o.duckdb"), ANALYSIS, 0, "x" * (notes.MAX_CAMP_NAME + 1))
    assert notes.camp_names(str(tmp_path / "missing.duckdb"), ANALYSIS) == {}
    assert not (tmp_path / "missing.duckdb").exists()  # reading never creates the database


def test_a_snapshot_from_before_maps_says_how_to_get_one(
    snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "old-snapshot.duckdb"
    shutil.copy(snapshot, old)
    con = duckdb.connect(str(old))
    try:
        con.execute("DROP TABLE network_layout_edges")
        con.execute("DROP TABLE network_layout")
    finally:
        con.close()
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(old))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    at = open_page()
    assert any("no network map yet" in i.value and "commonground analyze" in i.value for i in at.info)
    assert "Most endorsed: @cara@med.example (4 endorsements)" in texts(at)  # the cards still show
    st.cache_data.clear()
