"""The real `pipeline` flow, end to end, on a small generated conversation with planted structure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sklearn.metrics import normalized_mutual_info_score

from flows.options import RunOptions
from flows.pipeline import pipeline
from lab.sample.generate import generate_conversation
from warehouse.store import Warehouse

pytestmark = pytest.mark.slow


def expected_counts(posts: list[dict[str, Any]]) -> dict[str, int]:
    """What the warehouse must hold, derived from the raw lines independently of the normaliser."""
    accounts: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    for p in posts:
        author = p["author"]["id"]
        accounts.add(author)
        for kind, key in (("reply", "reply_to"), ("quote", "quote_of"), ("repost", "repost_of")):
            if p.get(key) and p[key]["author_id"] != author:
                edges.add((p["id"], kind, p[key]["author_id"]))
        for m in p.get("mentions") or []:
            accounts.add(m["id"])
            if m["id"] != author:
                edges.add((p["id"], "mention", m["id"]))
    return {"posts": len(posts), "accounts": len(accounts), "interactions": len(edges)}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> dict[str, Any]:
    sample = generate_conversation(seed=7, n_accounts=120, n_posts=900)
    data_dir = tmp_path_factory.mktemp("pipeline")
    path = data_dir / "conversation.jsonl"
    lines = [json.dumps(p) for p in sample.posts]
    lines.insert(10, '{"id": "broken", "text": "no author or time"}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = RunOptions(data_dir=data_dir, import_paths=[path])
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COMMONGROUND_POLARIZATION_REWIRINGS", "5")
        first = pipeline(options)
        warehouse = Warehouse(data_dir / "commonground.duckdb")
        after_first = warehouse.table_counts()
        second = pipeline(options)
    return {
        "sample": sample,
        "data_dir": data_dir,
        "warehouse": warehouse,
        "first": first,
        "second": second,
        "after_first": after_first,
        "after_second": warehouse.table_counts(),
        "lines": len(lines),
    }


def test_exact_counts(small_run: dict[str, Any]) -> None:
    counts = small_run["after_first"]
    expected = expected_counts(small_run["sample"].posts)
    assert counts["posts"] == expected["posts"] == 900
    assert counts["accounts"] == expected["accounts"]
    assert counts["interactions"] == expected["interactions"]
    assert counts["quarantine"] == 1
    assert counts["post_features"] == counts["tone_scores"] == 900
    ingest = small_run["first"]["ingest"]["file"]
    assert ingest["read"] == small_run["lines"]
    assert ingest["posts_stored"] + ingest["quarantined"] + ingest["duplicates"] == ingest["read"]


def test_every_score_carries_every_head_and_its_reasons(small_run: dict[str, Any]) -> None:
    from models.tone_base import ATTRIBUTES, BRIDGING, HOSTILE_SIDE

    scores = small_run["warehouse"].query(
        "SELECT tone, attributes, reasons, unscored_reason, constructive FROM tone_scores"
    )
    scored = scores[scores["tone"] != "unscored"]
    assert len(scored) >= 0.95 * len(scores)  # the sample is English
    assert all(set(json.loads(a)) == set(ATTRIBUTES) for a in scored["attributes"])
    constructive = scored[scored["tone"] == "constructive"]
    hostile = scored[scored["tone"] == "hostile"]
    assert len(constructive) and len(hostile)
    assert all(len(r) and set(r) <= set(BRIDGING) for r in constructive["reasons"])
    assert all(len(r) and set(r) <= {*HOSTILE_SIDE, "hostile"} for r in hostile["reasons"])
    unscored = scores[scores["tone"] == "unscored"]
    assert unscored["constructive"].isna().all() and unscored["unscored_reason"].notna().all()


def test_running_twice_changes_no_table_but_runs(small_run: dict[str, Any]) -> None:
    first, second = small_run["after_first"], small_run["after_second"]
    assert {k: v for k, v in first.items() if k != "runs"} == {k: v for k, v in second.items() if k != "runs"}
    # One row per flow: pipeline, ingest, enrich, analyze, publish.
    assert second["runs"] == first["runs"] + 5 == 10
    statuses = small_run["warehouse"].query("SELECT DISTINCT status FROM runs")
    assert list(statuses["status"]) == ["completed"]
    assert small_run["second"]["ingest"]["file"]["duplicates"] == 900


def test_planted_camps_are_recovered(small_run: dict[str, Any]) -> None:
    truth = small_run["sample"].truth["accounts"]
    analysis_id = small_run["first"]["analyze"]["analysis_id"]
    found = small_run["warehouse"].query(
        "SELECT account_id, camp_id FROM communities WHERE analysis_id = ?", [analysis_id]
    )
    camp_of = {a.split(":", 1)[1]: c for a, c in zip(found["account_id"], found["camp_id"], strict=True)}
    accounts = sorted(truth)
    nmi = normalized_mutual_info_score(
        [truth[a]["camp"] for a in accounts], [str(camp_of.get(a)) for a in accounts]
    )
    assert nmi >= 0.8, nmi


def test_planted_bridgers_are_among_the_top_voices(small_run: dict[str, Any]) -> None:
    bridgers = set(small_run["sample"].truth["bridgers"])
    analysis_id = small_run["first"]["analyze"]["analysis_id"]
    top = small_run["warehouse"].query(
        "SELECT account_id FROM voices WHERE analysis_id = ? ORDER BY rank LIMIT 10", [analysis_id]
    )
    found = {a.split(":", 1)[1] for a in top["account_id"]} & bridgers
    assert len(found) >= 3, found


def test_snapshot_is_published_without_raw_payloads(small_run: dict[str, Any]) -> None:
    snapshot = Path(small_run["first"]["snapshot"])
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        columns = {r[0] for r in con.execute("DESCRIBE posts").fetchall()}
        n_voices = con.execute("SELECT count(*) FROM voices").fetchone()
        statuses = con.execute("SELECT DISTINCT status FROM runs").fetchall()
    finally:
        con.close()
    assert "raw" not in columns and "text" in columns
    assert statuses == [("completed",)]  # the pipeline that published it is shown as done
    assert n_voices is not None and n_voices[0] > 10


@pytest.mark.parametrize(
    "page",
    [
        "app_pages/overview.py",
        "app_pages/constructive_voices.py",
        "app_pages/echo_chambers.py",
        "app_pages/conversations.py",
    ],
)
def test_dashboard_pages_on_the_pipeline_snapshot(
    small_run: dict[str, Any], page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", small_run["first"]["snapshot"])
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    app = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=60)
    at.switch_page(page)
    at.run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.info or "No analysis" not in " ".join(str(i.value) for i in at.info)
    assert at.dataframe, "every page shows at least one table"
    st.cache_data.clear()


def _top_voices(small_run: dict[str, Any], n: int = 10) -> list[str]:
    analysis_id = small_run["first"]["analyze"]["analysis_id"]
    top = small_run["warehouse"].query(
        "SELECT account_id FROM voices WHERE analysis_id = ? ORDER BY rank LIMIT ?", [analysis_id, n]
    )
    return [a.split(":", 1)[1] for a in top["account_id"]]


def test_four_of_five_bridgers_and_no_hostile_account_in_the_top_ten(small_run: dict[str, Any]) -> None:
    truth = small_run["sample"].truth
    top = _top_voices(small_run)
    assert len(set(top) & set(truth["bridgers"])) >= 4, top
    assert not set(top) & set(truth["hostile_accounts"]), top


def test_voices_carry_the_role_their_bio_declares(small_run: dict[str, Any]) -> None:
    truth = small_run["sample"].truth["accounts"]
    analysis_id = small_run["first"]["analyze"]["analysis_id"]
    voices = small_run["warehouse"].query(
        """SELECT v.account_id, r.role, r.evidence FROM voices v
           LEFT JOIN account_roles r USING (analysis_id, account_id) WHERE v.analysis_id = ?""",
        [analysis_id],
    )
    # The generator's own words for a stakeholder; ours are patterns written for real bios.
    words = {"patient": "patient_carer", "other": None}
    expected = [
        words.get(s, s) for s in (truth[a.split(":", 1)[1]]["stakeholder"] for a in voices["account_id"])
    ]
    found = [r if isinstance(r, str) else None for r in voices["role"]]
    assert sum(e == f for e, f in zip(expected, found, strict=True)) >= 0.9 * len(found)


def test_the_sample_is_segregated_beyond_chance_and_a_random_graph_is_not(small_run: dict[str, Any]) -> None:
    import random

    import pandas as pd

    from models.network import polarization

    analysis_id = small_run["first"]["analyze"]["analysis_id"]
    rows = small_run["warehouse"].query("SELECT * FROM polarization WHERE analysis_id = ?", [analysis_id])
    measures = rows.set_index("measure")
    assert {"modularity", "ei_index", "rwc", "boundary", "hostility_across_camps", "headline"} <= set(
        measures.index
    )
    sample_z = float(measures.loc["headline", "z"])
    # A random graph with the sample's size: as many accounts and endorsements, nobody in camps.
    inter = small_run["warehouse"].query("SELECT src_account_id, dst_account_id, kind FROM interactions")
    endorse = inter[inter["kind"].isin(["repost", "quote"])]
    accounts = sorted(set(endorse["src_account_id"]) | set(endorse["dst_account_id"]))
    rng = random.Random(11)
    edges = pd.DataFrame(
        [(rng.choice(accounts), rng.choice(accounts), "repost") for _ in range(len(endorse))],
        columns=["src", "dst", "kind"],
    )
    random_z = polarization(edges, n_rewirings=5, seed=42, hub_share=0.01)["z"]
    assert abs(random_z) < 3 < sample_z, (random_z, sample_z)
    # Cross-camp replies in the sample are planted pile-ons: hostile far more often than at home.
    assert float(measures.loc["hostility_across_camps", "z"]) > 3


def test_the_echo_chambers_page_shows_top_accounts_with_the_counts_analyze_wrote(
    small_run: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contract: the real producer (analyze → publish) into the real reader (dashboard query and page)."""
    import re

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard import queries
    from warehouse.shapes import TOP_ACCOUNTS

    snapshot = small_run["first"]["snapshot"]
    analysis_id = small_run["first"]["analyze"]["analysis_id"]
    stored = small_run["warehouse"].query(
        "SELECT camp_id, top_accounts FROM community_profiles WHERE analysis_id = ? ORDER BY size DESC, camp_id",
        [analysis_id],
    )
    written = [TOP_ACCOUNTS.load(value) or [] for value in stored["top_accounts"]]
    assert written and all(top and top[0].endorsements >= 1 for top in written)
    st.cache_data.clear()
    shown = list(queries.camps(snapshot, analysis_id)["top_accounts"])
    handles = dict(
        small_run["warehouse"].query("SELECT account_id, handle FROM accounts").itertuples(index=False)
    )
    expected = [
        ", ".join(
            f"{handles[a.account_id]} ({a.endorsements} endorsement{'s' * (a.endorsements != 1)})"
            for a in top
        )
        for top in written
    ]
    assert shown == expected

    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", snapshot)
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(tmp_path / "outreach.duckdb"))
    st.cache_data.clear()
    app = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=60)
    at.switch_page("app_pages/echo_chambers.py")
    at.run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    cards = [t.value for t in at.text if t.value.startswith("Most endorsed: ")]  # one card per camp
    on_page = [card.removeprefix("Most endorsed: ") for card in cards]
    assert sorted(on_page) == sorted(expected)  # cards sit in two columns: the tree reads them column-wise
    assert all(re.search(r"\(\d+ endorsements?\)", cell) for cell in on_page)
    st.cache_data.clear()


def test_the_network_map_is_laid_out_in_analyze_and_published(small_run: dict[str, Any]) -> None:
    """analyze stores a bounded, seeded layout holding every constructive voice; publish carries it."""
    from models.network_layout import MAX_EDGES, MAX_NODES

    analysis_id = small_run["first"]["analyze"]["analysis_id"]
    warehouse = small_run["warehouse"]
    nodes = warehouse.query("SELECT * FROM network_layout WHERE analysis_id = ?", [analysis_id])
    edges = warehouse.query("SELECT * FROM network_layout_edges WHERE analysis_id = ?", [analysis_id])
    voices = warehouse.query("SELECT account_id FROM voices WHERE analysis_id = ?", [analysis_id])
    camps = warehouse.query(
        "SELECT account_id, camp_id FROM communities WHERE analysis_id = ?", [analysis_id]
    )
    assert 0 < len(nodes) <= MAX_NODES and 0 < len(edges) <= MAX_EDGES
    assert set(voices["account_id"]) <= set(nodes.loc[nodes["is_voice"], "account_id"])
    assert set(edges["src_account_id"]) | set(edges["dst_account_id"]) <= set(nodes["account_id"])
    assert nodes["x"].between(-1, 1).all() and nodes["y"].between(-1, 1).all()
    # each account keeps the camp analyze gave it
    merged = nodes.merge(camps, on="account_id", suffixes=("", "_analysis"))
    assert len(merged) >= len(nodes) - len(voices)  # only a voice with no interaction may lack a row
    assert (merged["camp_id"].fillna(-1) == merged["camp_id_analysis"].fillna(-1)).all()
    # the second run (same data, same seed) left the same map
    assert small_run["after_first"]["network_layout"] == small_run["after_second"]["network_layout"]
    con = duckdb.connect(small_run["first"]["snapshot"], read_only=True)
    try:
        published = con.execute(
            "SELECT count(*) FROM network_layout WHERE analysis_id = ?", [analysis_id]
        ).fetchone()
    finally:
        con.close()
    assert published == (len(nodes),)
