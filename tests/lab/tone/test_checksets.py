"""The tone check sets: our hand-written contrast set and civil criticism load and hold their invariants, and
the corpus civil-criticism set is built by its rules (checked on made-up corpora: no ../shared needed)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from lab.tone.checksets import (
    LABELS,
    MAX_WORD_GAP,
    STYLES,
    UCC_UNHEALTHY,
    civil_criticism,
    clearly_hostile,
    contrast_posts,
    corpus_civil_criticism,
    corpus_review,
    criticism_cue,
    word_count,
)

from ...conftest import GOEMOTIONS_NAMES as GOEMOTIONS_LABELS

UCC_ATTRIBUTES = UCC_UNHEALTHY


def test_the_contrast_set_holds_its_invariants() -> None:
    df = contrast_posts()
    triples = df.groupby("triple_id")
    assert triples.ngroups >= 60
    assert df.loc[df["split"] == "holdout", "triple_id"].nunique() >= 20
    for triple_id, rows in triples:
        assert sorted(rows["label"]) == sorted(LABELS), triple_id
        lengths = rows["text"].map(word_count)
        assert lengths.max() - lengths.min() <= MAX_WORD_GAP, triple_id
        assert (rows["split"] == ("holdout" if int(triple_id) % 3 == 0 else "tune")).all(), triple_id
    constructive = df[df["label"] == "constructive"]
    assert set(constructive["style"]) == set(STYLES)
    assert df["topic"].nunique() >= 60
    assert df["words"].between(5, 50).all()


def test_length_does_not_give_the_label_away() -> None:
    df = contrast_posts()
    means = df.groupby("label")["words"].mean()
    assert means.max() - means.min() < 1.0
    wide = df.pivot(index="triple_id", columns="label", values="words")
    longest = wide["constructive"] > wide[["neutral", "hostile"]].max(axis=1)
    assert longest.mean() < 0.4  # constructive is not simply the longest post of its triple
    assert (df["words"] <= 15).sum() >= 20 and (df["words"] >= 30).sum() >= 20


def test_our_civil_criticism_loads() -> None:
    df = civil_criticism()
    assert len(df) >= 150
    assert (df["source"] == "written").all()
    assert df["id"].is_unique and df["text"].is_unique
    assert df["words"].between(6, 50).all()


def _write_contrast(path: Path, rows: list[tuple[int, str, str, str]]) -> Path:
    frame = pd.DataFrame(rows, columns=["triple_id", "label", "style", "text"])
    frame["topic"] = "GP access"
    frame["split"] = ["holdout" if t % 3 == 0 else "tune" for t in frame["triple_id"]]
    frame["words"] = frame["text"].map(word_count)
    frame.to_csv(path, index=False)
    return path


def test_a_broken_triple_is_named(tmp_path: Path) -> None:
    good = [
        (7, "constructive", "proposal", "Open GP booking online at noon as well as at 8am."),
        (7, "neutral", "", "Most practices open their phone lines at 8am on weekdays."),
        (7, "hostile", "", "GP receptionists are power-mad little gatekeepers, every one."),
    ]
    assert len(contrast_posts(_write_contrast(tmp_path / "ok.csv", good))) == 3
    too_long = [
        *good[:2],
        (
            7,
            "hostile",
            "",
            "GP receptionists are power-mad little gatekeepers who love saying no to sick people all day.",
        ),
    ]
    with pytest.raises(ValueError, match="triple 7: lengths"):
        contrast_posts(_write_contrast(tmp_path / "long.csv", too_long))
    two_neutral = [
        good[0],
        good[1],
        (7, "neutral", "", "Phone lines at the practice open at 8am each weekday."),
    ]
    with pytest.raises(ValueError, match="triple 7: needs exactly one post per label"):
        contrast_posts(_write_contrast(tmp_path / "labels.csv", two_neutral))
    held_out = pd.read_csv(tmp_path / "ok.csv", keep_default_na=False).assign(split="holdout")
    held_out.to_csv(tmp_path / "split.csv", index=False)
    with pytest.raises(ValueError, match="triple 7: split must be 'tune'"):
        contrast_posts(tmp_path / "split.csv")


def test_the_word_rule_and_the_criticism_cue() -> None:
    assert clearly_hostile("You absolute idiot, read the report.")
    assert clearly_hostile("This is crap.")
    assert not clearly_hostile("This policy is wrong and the figures show it.")
    assert criticism_cue("That isn’t what the report says.")
    assert criticism_cue("The plan should have been costed.")
    assert not criticism_cue("Lovely column today.")


def test_the_review_covers_both_corpora() -> None:
    review = corpus_review()
    assert set(review["source"]) == {"goemotions_test", "ucc_val"}
    excluded = review[review["decision"] == "exclude"]
    assert (excluded["reason"] != "").all()
    assert (review.loc[review["decision"] == "keep", "reason"] == "").all()


def _corpora(root: Path) -> Path:
    """Made-up rows laid out like the shared GoEmotions test split, UCC validation file and C3 file."""
    go = root / "attributes" / "goemotions"
    go.mkdir(parents=True)
    (go / "labels.txt").write_text("\n".join(GOEMOTIONS_LABELS) + "\n", encoding="utf-8")
    disapproval, disappointment, anger = (
        GOEMOTIONS_LABELS.index(n) for n in ("disapproval", "disappointment", "anger")
    )
    tsv = [
        ("The new rota is not fair on night staff.", f"{disapproval}", "ee5t62n"),  # kept
        ("Not going to argue with someone like that.", f"{disapproval}", "edzpqou"),  # our review: exclude
        ("That plan is stupid.", f"{disapproval}", "eemuu4u"),  # the word rule drops it
        ("Disappointing, and it makes me furious.", f"{disappointment},{anger}", "ed79rh8"),  # anger
        ("Lovely day for it.", f"{GOEMOTIONS_LABELS.index('joy')}", "eetfhzg"),  # not disapproval
    ]
    with (go / "test.tsv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\").writerows(tsv)
    (root / "unhealthy_conversations").mkdir()
    ucc = pd.DataFrame(
        {
            "_unit_id": [1739459888, 1739465378, 2327197568, 1739447858, 1739454638],
            "_trusted_judgments": 3,
            "comment": [
                "That isn't what the report says.",  # kept
                "This is not right at all.",  # our review: exclude
                "No, that is wrong.",  # marked hostile below
                "Lovely column today.",  # no criticism cue
                "Not what the data says.",  # also in C3
            ],
            "healthy": 1,
            "healthy:confidence": 1.0,
        }
    )
    for name in UCC_ATTRIBUTES:
        ucc[name] = [0, 0, 1 if name == "hostile" else 0, 0, 0]
        ucc[f"{name}:confidence"] = 1.0
    ucc.to_csv(root / "unhealthy_conversations" / "ucc_val.csv", index=False)
    pd.DataFrame({"comment_text": ["Not what the data says."]}).to_csv(
        root / "c3_constructive_train.csv", index=False
    )
    return root


def test_corpus_civil_criticism_follows_its_rules(tmp_path: Path) -> None:
    out = corpus_civil_criticism(_corpora(tmp_path / "datasets"))
    assert list(out.columns) == ["id", "source", "text", "words"]
    assert sorted(zip(out["source"], out["id"], strict=True)) == [
        ("goemotions_test", "ee5t62n"),
        ("ucc_val", "1739459888"),
    ]
    assert out["words"].tolist() == out["text"].map(word_count).tolist()
