"""Tone scores in the warehouse: the enrich step's tone task writes every head, the reasons and the posts it
could not judge (with why) to `tone_scores`; a warehouse made before that schema is migrated on open."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from flows import pipeline
from models.tone import MiniLMTone
from models.tone_base import BRIDGING, HOSTILE_SIDE
from warehouse.settings import Settings
from warehouse.store import Warehouse

FRENCH = "Les délais aux urgences sont beaucoup trop longs, il faut embaucher plus d'infirmières."
POSTS = {  # post_id -> text
    "t:1": "The evidence suggests we should improve funding for the ward because staff are leaving.",
    "t:2": "shut up you idiot",
    "t:3": "",
    "t:4": FRENCH,
    "t:5": "😡😡😡",
    "t:6": "@nhsengland https://t.co/abc",
}
UNSCORED = {"t:3": "empty", "t:4": "not English (fr)", "t:5": "no words", "t:6": "no words"}


def _add_posts(path: Path) -> None:
    con = duckdb.connect(str(path))
    for i, (post_id, text) in enumerate(POSTS.items()):
        con.execute(
            "INSERT INTO posts (post_id, source, native_id, author_id, created_at, text) VALUES (?, ?, ?, ?, ?, ?)",
            [post_id, "test", post_id[2:], "test:a", datetime(2025, 3, 5, 9, i), text],
        )
    con.close()


def test_the_tone_task_stores_reasons_and_unscored_posts(
    tiny_model: MiniLMTone, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path)
    warehouse = pipeline.open_warehouse(settings)
    _add_posts(settings.database_path)
    monkeypatch.setattr(pipeline, "cached_tone_model", lambda *args: tiny_model)
    result = pipeline.tone_task.fn(settings)
    assert result == {"scored": len(POSTS), "unique_texts": len(POSTS), "model_version": tiny_model.version}
    rows = warehouse.query("SELECT * FROM tone_scores ORDER BY post_id").set_index("post_id")
    assert list(rows.index) == list(POSTS) and (rows["model_version"] == tiny_model.version).all()
    for post_id, reason in UNSCORED.items():
        row = rows.loc[post_id]
        assert row["tone"] == "unscored" and row["unscored_reason"] == reason
        assert pd.isna(row["constructive"]) and pd.isna(row["hostile"])
        assert not row["is_constructive"] and not row["is_hostile"]
        assert list(row["reasons"]) == [] and json.loads(row["attributes"]) == {}
    expected = tiny_model.score([POSTS["t:1"], POSTS["t:2"]])
    for post_id, s in zip(("t:1", "t:2"), expected, strict=True):
        row = rows.loc[post_id]
        assert row["tone"] == s.tone and pd.isna(row["unscored_reason"])
        assert row["constructive"] == pytest.approx(s.constructive) and row["hostile"] == pytest.approx(
            s.hostile
        )
        assert tuple(row["reasons"]) == s.reasons  # strongest first, as scored
        side = {"constructive": set(BRIDGING), "hostile": {*HOSTILE_SIDE, "hostile"}}.get(s.tone)
        assert side is None or set(row["reasons"]) <= side
        attributes = json.loads(row["attributes"])
        assert set(attributes) == set(tiny_model.attributes)  # every head's output is stored
        assert all(attributes[a] == pytest.approx(s.attributes[a], abs=1e-4) for a in attributes)
    # a post it could not judge is not judged again on the next run
    assert pipeline.tone_task.fn(settings)["scored"] == 0


OLD_TONE_SCORES = """
CREATE TABLE tone_scores (
    post_id          VARCHAR NOT NULL,
    model_version    VARCHAR NOT NULL,
    constructive     DOUBLE NOT NULL,
    hostile          DOUBLE NOT NULL,
    is_constructive  BOOLEAN NOT NULL,
    is_hostile       BOOLEAN NOT NULL,
    tone             VARCHAR NOT NULL,
    attributes       JSON,
    scored_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (post_id, model_version)
)"""
OLD_COMMUNITY_PROFILES = """
CREATE TABLE community_profiles (
    analysis_id         VARCHAR NOT NULL,
    camp_id             INTEGER NOT NULL,
    label               VARCHAR NOT NULL,
    size                INTEGER NOT NULL,
    n_posts             INTEGER NOT NULL,
    insularity          DOUBLE,
    ei_index            DOUBLE,
    share_constructive  DOUBLE,
    share_neutral       DOUBLE,
    share_hostile       DOUBLE,
    top_hashtags        JSON,
    top_terms           JSON,
    top_accounts        JSON,
    PRIMARY KEY (analysis_id, camp_id)
)"""


def test_a_warehouse_made_before_unscored_scores_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(OLD_TONE_SCORES)
    con.execute(OLD_COMMUNITY_PROFILES)
    con.execute(
        "INSERT INTO tone_scores VALUES ('x:1', 'minilm-tone-2+abc', 0.9, 0.1, true, false, 'constructive', "
        "'{\"evidence\": 0.8}', TIMESTAMP '2025-03-01 10:00:00')"
    )
    with pytest.raises(duckdb.ConstraintException):  # the old table refuses an unscored row
        con.execute(
            "INSERT INTO tone_scores VALUES ('x:2', 'v', NULL, NULL, false, false, 'unscored', NULL, now())"
        )
    con.close()
    warehouse = Warehouse(path)
    warehouse.init()
    warehouse.init()  # opening again changes nothing
    frame = pd.DataFrame(
        {
            "post_id": ["x:2", "x:3"],
            "model_version": ["minilm-tone-3+def"] * 2,
            "constructive": [float("nan"), 0.7],
            "hostile": [float("nan"), 0.2],
            "is_constructive": [False, True],
            "is_hostile": [False, False],
            "tone": ["unscored", "constructive"],
            "attributes": [{}, {"reasoning": 0.9}],
            "reasons": [[], ["reasoning", "respect"]],
            "unscored_reason": ["not English (fr)", None],
        }
    )
    assert warehouse.write_tone_scores(frame) == 2
    rows = warehouse.query("SELECT * FROM tone_scores ORDER BY post_id").set_index("post_id")
    assert rows.loc["x:1", "tone"] == "constructive" and rows.loc["x:1", "constructive"] == 0.9  # kept
    assert rows.loc["x:1", "reasons"] in (None, pd.NA)  # scored before reasons existed: none stored
    assert pd.isna(rows.loc["x:1", "unscored_reason"])
    assert rows.loc["x:2", "tone"] == "unscored" and rows.loc["x:2", "unscored_reason"] == "not English (fr)"
    assert pd.isna(rows.loc["x:2", "constructive"]) and pd.isna(rows.loc["x:2", "hostile"])
    assert list(rows.loc["x:3", "reasons"]) == ["reasoning", "respect"]
    columns = {r[0]: r for r in warehouse.query("DESCRIBE community_profiles").itertuples(index=False)}
    assert "n_unscored" in columns
    described = warehouse.query("DESCRIBE tone_scores").set_index("column_name")
    assert described.loc["constructive", "null"] == described.loc["hostile", "null"] == "YES"
    assert described.loc["tone", "null"] == "NO"  # only the probabilities became optional
