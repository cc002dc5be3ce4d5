"""Enrich keeps its work and does no more than it must: scoring commits in batches, so a killed run keeps
what it scored and the next goes on from there; a run with nothing new loads no model; spaCy reads a text
once however many people it was addressed to; an analysis reads the roles of its window's accounts only."""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from flows import pipeline
from flows.analysis import _roles
from models import roles
from models.text import Parser, extract_features
from models.tone import MiniLMTone
from models.tone_base import ToneScore
from warehouse.settings import Settings
from warehouse.store import Warehouse

WORDS = ["the ward", "doctors strike", "nurses pay", "hospital waiting list", "funding", "staff"]
TEXTS = [f"We should talk about {a} and {b} today." for a in WORDS for b in WORDS if a != b][:14]


class KilledAfter:
    """The tiny model, as if its process were killed during its `calls`-th batch of texts."""

    def __init__(self, model: MiniLMTone, calls: int) -> None:
        self.model, self.calls = model, calls
        self.version, self.attributes = model.version, model.attributes

    def score(self, texts: Sequence[str]) -> list[ToneScore]:
        self.calls -= 1
        if self.calls <= 0:
            raise KeyboardInterrupt("killed")
        return self.model.score(texts)


def _warehouse(path: Path) -> Warehouse:
    warehouse = pipeline.open_warehouse(Settings(data_dir=path))
    con = duckdb.connect(str(warehouse.path))
    # 14 distinct texts in 20 posts: the first 6 texts are reposted once each.
    texts = TEXTS + TEXTS[:6]
    for i, text in enumerate(texts):
        con.execute(
            "INSERT INTO posts (post_id, source, native_id, author_id, created_at, text) VALUES (?, ?, ?, ?, ?, ?)",
            [f"t:{i:02d}", "test", str(i), "test:a", datetime(2025, 3, 5, 9, i), text],
        )
    con.close()
    return warehouse


def _scores(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query(
        "SELECT post_id, model_version, constructive, hostile, tone FROM tone_scores ORDER BY post_id"
    )


def test_a_killed_scoring_run_keeps_its_batches_and_the_rerun_scores_only_the_rest(
    tiny_model: MiniLMTone, tmp_path: Path
) -> None:
    warehouse = _warehouse(tmp_path / "killed")
    version = tiny_model.version
    with pytest.raises(KeyboardInterrupt):
        pipeline.score_new_posts(warehouse, version, lambda: KilledAfter(tiny_model, 3), commit_every=4)
    kept = _scores(warehouse)
    # Two batches of 4 distinct texts were committed before the kill: texts 0-7, in 8 posts and the
    # reposts of texts 0-5, so 14 posts.
    assert len(kept) == 14 and kept["post_id"].is_unique
    encoded_before = tiny_model.texts_encoded
    result = pipeline.score_new_posts(warehouse, version, lambda: tiny_model, commit_every=4)
    assert result == {"scored": 6, "unique_texts": 6, "model_version": version}
    assert tiny_model.texts_encoded - encoded_before == 6  # the kept texts are not encoded again
    after = _scores(warehouse)
    assert len(after) == 20 and not after.duplicated(["post_id", "model_version"]).any()

    # The same scores as one uninterrupted run (floats to the last bits of float32).
    clean = _warehouse(tmp_path / "clean")
    pipeline.score_new_posts(clean, version, lambda: tiny_model, commit_every=1000)
    one_go = _scores(clean)
    assert (after["tone"] == one_go["tone"]).all()
    assert after["constructive"].to_numpy() == pytest.approx(one_go["constructive"].to_numpy(), abs=1e-6)


def test_a_run_with_nothing_new_loads_no_model_and_a_new_model_scores_what_lacks_its_version(
    tiny_model: MiniLMTone, tmp_path: Path
) -> None:
    warehouse = _warehouse(tmp_path)
    pipeline.score_new_posts(warehouse, tiny_model.version, lambda: tiny_model)

    def must_not_load() -> MiniLMTone:
        raise AssertionError("the model was loaded with nothing to score")

    nothing = pipeline.score_new_posts(warehouse, tiny_model.version, must_not_load)
    assert nothing == {"scored": 0, "unique_texts": 0, "model_version": tiny_model.version}
    # The enrich task itself: features are all there too, so neither spaCy nor the encoder is needed.
    assert pipeline.features_task.fn(Settings(data_dir=tmp_path)) == 20
    assert pipeline.features_task.fn(Settings(data_dir=tmp_path)) == 0

    # Another model version: every post lacks it; a killed run of it leaves the old version untouched.
    other = KilledAfter(tiny_model, 2)
    other.version = "other-model"
    with pytest.raises(KeyboardInterrupt):
        pipeline.score_new_posts(warehouse, "other-model", lambda: other, commit_every=5)
    by_version = warehouse.query("SELECT model_version, count(*) AS n FROM tone_scores GROUP BY ALL")
    assert dict(zip(by_version["model_version"], by_version["n"], strict=True)) == {
        tiny_model.version: 20,
        "other-model": 5 + 5,  # 5 texts, each reposted
    }


def test_texts_that_differ_only_in_mentions_links_and_tags_are_parsed_once_with_the_same_features() -> None:
    texts = [
        "@drjane The waiting list at the hospital in Leeds keeps growing #NHS",
        "@nhsengland The waiting list at the hospital in Leeds keeps growing https://example.org/x",
        "Funding for nurses in Manchester is the answer.",
    ]
    together = extract_features(texts)
    assert together == [extract_features([t])[0] for t in texts]
    assert together[0].mentions == ["drjane"] and together[1].urls == ["https://example.org/x"]
    assert together[0].key_terms == together[1].key_terms and together[0].key_terms


def test_spacy_in_two_worker_processes_gives_the_features_of_one_process_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The workers start with "spawn", which re-runs the parent's __main__ file: Streamlit's AppTest
    # (earlier tests) leaves the dashboard installed as __main__; `commonground`'s is its console script.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    # 36 texts in chunks of 5: eight tasks for two workers, whose answers must come back in input order.
    texts = [f"{t} Dr Patel said in Leeds on Monday." if i % 3 == 0 else t for i, t in enumerate(TEXTS * 3)]
    texts = [f"{t} ({i})" for i, t in enumerate(texts)]
    alone = extract_features(texts)
    with Parser(processes=2, min_texts_per_process=10, chunk_texts=5) as parser:
        assert extract_features(texts[:15], parser=parser) == alone[:15]
        assert not parser.workers_started  # 15 texts are too few for two workers of at least 10
        assert extract_features(texts, parser=parser) == alone
        assert parser.workers_started
        assert extract_features(texts[:3], parser=parser) == alone[:3]  # once started, they stay in use
    assert not parser.workers_started
    assert any(f.entities for f in alone) and all(f.key_terms for f in alone)


def test_without_the_entity_recogniser_the_other_features_stay_the_same() -> None:
    texts = [
        "Dr Patel said in Leeds on Monday that the waiting list keeps growing #NHS",
        "Funding for nurses.",
    ]
    full = extract_features(texts)
    with Parser(entities=False) as parser:
        lean = extract_features(texts, parser=parser)
    assert full[0].entities and not any(f.entities for f in lean)
    assert [f.key_terms for f in lean] == [f.key_terms for f in full]
    assert [(f.n_words, f.lang, f.hashtags) for f in lean] == [(f.n_words, f.lang, f.hashtags) for f in full]


def test_enrich_commits_features_group_by_group_and_a_rerun_adds_none(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    settings = Settings(data_dir=tmp_path, nlp_processes=1)
    assert pipeline.features_task.fn(settings, commit_every=4) == 20  # 14 texts: four groups
    written = warehouse.query("SELECT post_id, key_terms FROM post_features ORDER BY post_id")
    assert len(written) == 20 and written["post_id"].is_unique
    assert pipeline.features_task.fn(settings, commit_every=4) == 0
    alone = pipeline.feature_frame(warehouse.query("SELECT post_id, text, lang, hashtags FROM posts"))
    assert sorted(map(list, written["key_terms"])) == sorted(alone["key_terms"])


def test_an_analysis_reads_the_roles_of_its_window_accounts_once() -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "bio": ["GP partner in Leeds", "Nurse and runner", "Journalist at a paper, speed test bio"],
        }
    )
    posts = pd.DataFrame({"author_id": ["a"]})
    interactions = pd.DataFrame({"src_account_id": ["a"], "dst_account_id": ["b"]})
    found = _roles(accounts, posts, interactions)
    assert set(found) == {"a", "b"} and found["a"][0] == "gp"  # c is outside the window
    assert "Journalist at a paper, speed test bio" not in roles._read
    assert "Nurse and runner" in roles._read  # a second window of the run reuses it
