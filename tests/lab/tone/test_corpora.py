"""The attribute corpora, read from the tiny copies tests/conftest.py writes in the shared datasets' layout:
each loader's label mapping, its validation split (never trained on), and what it leaves out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lab.tone import corpora
from lab.tone.stage import C3_HEADS, HEADS
from models.judgeable import unscorable_reasons
from models.tone_base import prepare_text

# GoEmotions labels `hostile` only as 0 (criticism without anger is not hostility), never as 1.
ONE_CLASS = {("goemotions", "hostile")}


@pytest.fixture(scope="module")
def loaded(tiny_datasets: Path) -> dict[str, corpora.Corpus]:
    return {c.name: c for c in corpora.attribute_corpora(tiny_datasets)}


def test_every_corpus_has_a_title_licence_and_mapping_of_real_heads(
    loaded: dict[str, corpora.Corpus],
) -> None:
    assert set(loaded) == set(corpora.LOADERS)
    assert set(corpora.LICENCES) == set(corpora.LOADERS) | {"c3", "tweeteval"}
    assert set(corpora.MAPPING) == set(corpora.LICENCES)
    for name, corpus in loaded.items():
        assert corpus.licence == corpora.LICENCES[name] and corpus.title
        assert set(corpus.heads) == set(corpora.MAPPING[name]), name  # the card's mapping is what it loads
        assert set(corpus.heads) <= set(HEADS)
        assert list(corpus.train.columns) == list(corpus.val.columns) == ["text", *corpus.heads]


def test_the_mapping_names_every_head_c3_and_tweeteval_train() -> None:
    """The card prints ``MAPPING``: it must say which C3 characteristic teaches which head."""
    assert set(corpora.MAPPING["c3"]) == {"constructive", *C3_HEADS}
    for head, (characteristic, _) in C3_HEADS.items():
        assert characteristic in corpora.MAPPING["c3"][head], head
    assert corpora.MAPPING["tweeteval"] == {"hostile": "offensive"}


def test_both_classes_of_every_head_in_training_and_validation(loaded: dict[str, corpora.Corpus]) -> None:
    """What the tiny training run needs to measure every head (and what the fixture promises)."""
    for name, corpus in loaded.items():
        for head in corpus.heads:
            for split, df in (("train", corpus.train), ("val", corpus.val)):
                y = df[head].dropna()
                assert len(y) and ((y >= 0) & (y <= 1)).all(), (name, head, split)
                classes = set((y >= 0.5).astype(int))
                assert classes == ({0} if (name, head) in ONE_CLASS else {0, 1}), (name, head, split)


def test_validation_is_never_trained_on(loaded: dict[str, corpora.Corpus]) -> None:
    for name, corpus in loaded.items():
        assert len(corpus.val) > 0, name
        assert not set(corpus.train["text"]) & set(corpus.val["text"]), name
        for df in (corpus.train, corpus.val):
            assert df["text"].is_unique and (df["text"] != "").all()
            assert (df["text"] == df["text"].map(prepare_text)).all(), name  # prepared, as scoring prepares


def test_the_tiny_corpora_are_english_to_the_language_check(loaded: dict[str, corpora.Corpus]) -> None:
    """Otherwise the tiny end-to-end checks would measure unscored texts instead of the heads."""
    for name, corpus in loaded.items():
        texts = [*corpus.train["text"], *corpus.val["text"]]
        assert [r for r in unscorable_reasons(texts) if r] == [], name


def test_ucc_soft_targets_and_no_comment_also_in_c3(tiny_datasets: Path) -> None:
    train, val = corpora.ucc(tiny_datasets)
    raw = pd.read_csv(tiny_datasets / "unhealthy_conversations" / "ucc_val.csv")
    c3 = set(pd.read_csv(tiny_datasets / "c3_constructive_train.csv")["comment_text"])
    both = raw[raw["comment"].isin(c3)]
    assert len(both) == 1  # the fixture puts one there
    texts = set(train["text"]) | set(val["text"])
    assert prepare_text(both["comment"].iloc[0]) not in texts
    assert len(texts) == len(raw) - 1
    everything = pd.concat([train, val])
    row = raw[(raw["sarcastic"] == 1) & (raw["sarcastic:confidence"] < 1)].iloc[0]
    got = everything[everything["text"] == prepare_text(row["comment"])].iloc[0]
    conf = row["sarcastic:confidence"]
    assert got["sarcastic"] == pytest.approx(conf)  # a positive label: its crowd confidence
    assert got["hostile"] == pytest.approx(1 - conf)  # a negative one: one minus it
    assert 0.2 < len(val) / (len(train) + len(val)) < 0.45  # UCC keeps 30% for its rare labels


def test_goemotions_criticism_is_not_hostility_and_test_is_never_read(tiny_datasets: Path) -> None:
    train, val = corpora.goemotions(tiny_datasets)
    folder = tiny_datasets / "attributes" / "goemotions"
    names = (folder / "labels.txt").read_text().split()
    raw = pd.read_csv(folder / "train.tsv", sep="\t", header=None, names=["text", "labels", "id"])
    by_text = train.set_index("text")
    for text, labels in zip(raw["text"], raw["labels"].astype(str), strict=True):
        found = {names[int(i)] for i in labels.split(",")}
        row = by_text.loc[prepare_text(text)]
        assert row["curiosity"] == float("curiosity" in found)
        assert row["compassion"] == float("caring" in found)
        if found & {"disapproval", "disappointment"} and not found & {"anger", "annoyance", "disgust"}:
            assert row["hostile"] == 0.0
        else:
            assert np.isnan(row["hostile"])  # unlabelled, not "not hostile"
    test = pd.read_csv(folder / "test.tsv", sep="\t", header=None, names=["text", "labels", "id"])
    assert not {prepare_text(t) for t in test["text"]} & (set(train["text"]) | set(val["text"]))
    dev = pd.read_csv(folder / "dev.tsv", sep="\t", header=None, names=["text", "labels", "id"])
    assert set(val["text"]) == {prepare_text(t) for t in dev["text"]}


def test_epitome_levels_and_split_by_seeker(tiny_datasets: Path) -> None:
    train, val = corpora.epitome(tiny_datasets)
    folder = tiny_datasets / "attributes" / "epitome"
    er = pd.read_csv(folder / "emotional-reactions-reddit.csv")
    ip = pd.read_csv(folder / "interpretations-reddit.csv").set_index("rp_id")["level"]
    ex = pd.read_csv(folder / "explorations-reddit.csv").set_index("rp_id")["level"]
    seeker = {prepare_text(t): s for t, s in zip(er["response_post"], er["sp_id"], strict=True)}
    assert not {seeker[t] for t in train["text"]} & {seeker[t] for t in val["text"]}
    everything = pd.concat([train, val]).set_index("text")
    for rp_id, text, level in zip(er["rp_id"], er["response_post"], er["level"], strict=True):
        row = everything.loc[prepare_text(text)]
        assert row["compassion"] == pytest.approx(max(level, ip[rp_id]) / 2)
        assert row["curiosity"] == pytest.approx(ex[rp_id] / 2)


def test_esconv_reads_the_last_supporter_turn_and_its_strategy(tiny_datasets: Path) -> None:
    turns = corpora.esconv_turns(tiny_datasets)
    assert "Hello" not in set(turns["text"])  # an earlier segment of a line is context, not the turn
    assert "How can I help?" not in set(turns["text"])  # a line that ends with the seeker has no turn
    assert "Thanks, I just needed to talk." not in set(turns["text"])
    assert set(turns["strategy"]) == {*corpora.ESCONV_STRATEGIES, "Others"}
    train, val = corpora.esconv(tiny_datasets)
    everything = pd.concat([train, val]).set_index("text")
    assert len(everything) == len(turns)
    for strategy, text in zip(turns["strategy"], turns["text"], strict=True):
        row = everything.loc[prepare_text(text)]
        head = corpora.ESCONV_STRATEGIES.get(strategy)
        assert {h for h in row.index if row[h] == 1.0} == ({head} if head else set())


def test_persuasionforgood_keeps_persuader_units_and_splits_by_dialogue(tiny_datasets: Path) -> None:
    train, val = corpora.persuasionforgood(tiny_datasets)
    raw = pd.read_csv(tiny_datasets / "attributes" / "persuasionforgood" / "300_dialog.csv")
    persuader = raw.dropna(subset=["er_label_1"])
    assert len(train) + len(val) == len(persuader) < len(raw)
    dialogue = {prepare_text(u): d for u, d in zip(persuader["Unit"], persuader["B2"], strict=True)}
    assert not {dialogue[t] for t in train["text"]} & {dialogue[t] for t in val["text"]}
    everything = pd.concat([train, val]).set_index("text")
    for unit, label in zip(persuader["Unit"], persuader["er_label_1"], strict=True):
        row = everything.loc[prepare_text(unit)]
        head = corpora.P4G.get(label)
        assert {h for h in row.index if row[h] == 1.0} == ({head} if head else set())


def test_wikitactics_maps_rebuttal_tactics_and_keeps_its_splits(tiny_datasets: Path) -> None:
    import json

    train, val = corpora.wikitactics(tiny_datasets)
    disputes = json.loads((tiny_datasets / "attributes" / "wikitactics" / "wikitactics.json").read_text())
    labelled = [(d["split"], u) for d in disputes for u in d["utterances"] if u["rebuttal_labels"]]
    assert len(train) + len(val) == len(labelled)
    everything = pd.concat([train, val]).set_index("text")
    for split, u in labelled:
        text = prepare_text(u["text"])
        assert (text in set(val["text"])) == (split != "train")
        tactics = {t.split(":")[0] for t in u["rebuttal_labels"]}
        assert everything.loc[text, "insult"] == float(bool(tactics & {"DH0", "DH1"}))
        assert everything.loc[text, "reasoning"] == float(bool(tactics & {"DH5", "DH6", "DH7"}))
    both = everything[(everything["insult"] == 1) & (everything["reasoning"] == 1)]
    assert len(both)  # an ad hominem that also refutes teaches both heads


def test_politeness_targets(tiny_datasets: Path) -> None:
    train, val = corpora.holistic_politeness(tiny_datasets)
    raw = pd.read_csv(tiny_datasets / "attributes" / "holistic_politeness_en" / "english_val_4-14.csv")
    assert val["respect"].tolist() == pytest.approx((raw["labels"] / 4).tolist())
    test = pd.read_csv(tiny_datasets / "attributes" / "holistic_politeness_en" / "english_test_4-14.csv")
    assert not {prepare_text(t) for t in test["Utterance"]} & (set(train["text"]) | set(val["text"]))
    train, val = corpora.stanford_politeness(tiny_datasets)
    everything = pd.concat([train, val]).set_index("text")
    folder = tiny_datasets / "attributes" / "stanford_politeness"
    for name in ("wikipedia.annotated.csv", "stack-exchange.annotated.csv"):
        raw = pd.read_csv(folder / name)
        for text, z in zip(raw["Request"], raw["Normalized Score"], strict=True):
            assert everything.loc[prepare_text(text), "respect"] == pytest.approx(1 / (1 + np.exp(-1.5 * z)))


def test_limit_caps_each_split(tiny_datasets: Path) -> None:
    for corpus in corpora.attribute_corpora(tiny_datasets, limit=5):
        assert len(corpus.train) == 5 and len(corpus.val) == 5, corpus.name
