"""Check sets for the tone model: our own hand-written posts, and civil criticism drawn from the shared corpora.

``contrast_posts()`` is the length-matched contrast set (a constructive, a neutral and a hostile post on one
topic, within ``MAX_WORD_GAP`` words of each other); ``civil_criticism()`` is our own civil complaints and
criticism, none of it hostile. Both were written and labelled by the commonground team (see README.md).
Every third triple (``triple_id % 3 == 0``) is the holdout part: never tune on it.

``corpus_civil_criticism(datasets_dir)`` builds more civil criticism from the shared corpora (GoEmotions'
test split and the Unhealthy Comments Corpus validation file): a label rule, a word rule, and then our
reading of every row that passed them (``corpus_review.csv``). The texts are read from ``datasets_dir``,
never copied here; only their ids and our decisions are committed.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
CONTRAST_FILE = HERE / "contrast_posts.csv"
CIVIL_FILE = HERE / "civil_criticism.csv"
REVIEW_FILE = HERE / "corpus_review.csv"

LABELS = ("constructive", "neutral", "hostile")
STYLES = ("reasoning", "evidence", "proposal", "question", "personal_story")
SPLITS = ("tune", "holdout")
MAX_WORD_GAP = 3
HOLDOUT_EVERY = 3  # triple_id % 3 == 0 is held out
CONTRAST_COLUMNS = ["triple_id", "topic", "style", "split", "label", "words", "text"]
CIVIL_COLUMNS = ["id", "source", "text", "words"]

GOEMOTIONS_DIR = Path("attributes") / "goemotions"
UCC_FILE = Path("unhealthy_conversations") / "ucc_val.csv"
C3_FILE = "c3_constructive_train.csv"
GOEMOTIONS_SOURCE = "goemotions_test"
UCC_SOURCE = "ucc_val"
CRITICAL_EMOTIONS = frozenset({"disapproval", "disappointment"})
ANGRY_EMOTIONS = frozenset({"anger", "annoyance", "disgust"})
UCC_UNHEALTHY = (
    "antagonize",
    "condescending",
    "dismissive",
    "generalisation",
    "generalisation_unfair",
    "hostile",
    "sarcastic",
)

# Words that, in these corpora, judge a person rather than an argument, and swearing. A row holding one is
# dropped before we read the rest: the set is about civil criticism, so nothing here should need excusing.
PEJORATIVE = re.compile(
    r"\b(?:idiot\w*|stupid\w*|dumb\w*|dummy|fools?|foolish|moron\w*|pathetic|selfish|ignorant\w*|sheep|"
    r"obnoxious|whin(?:e|es|ing|er|ers|y)|trolls?|losers?|clowns?|crazy|petulant|spoil(?:ed|t)|scum\w*|"
    r"lame|hypocrit\w*|liars?)\b"
)
PROFANITY = re.compile(r"fuck|shit|piss|\bcrap\w*|jerk")
# UCC has no disapproval label: a row counts as criticism or disagreement only if it negates or names a fault.
NEGATION = re.compile(r"\b(?:not|no|never|nothing|nobody|none|nor|cannot)\b|n't\b")
FAULT = re.compile(
    r"\b(?:wrong|fail\w*|problem\w*|mistake\w*|disagree\w*|bad|worse|worst|poor\w*|waste\w*|unfair\w*|"
    r"mislead\w*|flaw\w*|should|shouldn't|ought)\b"
)


def word_count(text: str) -> int:
    """Words as the check sets count them: ``len(text.split())``."""
    return len(str(text).split())


def _fold(text: str) -> str:
    return str(text).lower().replace("\u2019", "'")


def clearly_hostile(text: str) -> bool:
    """The word rule: a pejorative aimed at people, or swearing (see ``PEJORATIVE``, ``PROFANITY``)."""
    folded = _fold(text)
    return bool(PEJORATIVE.search(folded) or PROFANITY.search(folded))


def criticism_cue(text: str) -> bool:
    """The UCC rule for criticism or disagreement: a negation or a word that names a fault."""
    folded = _fold(text)
    return bool(NEGATION.search(folded) or FAULT.search(folded))


# --- our own sets


def contrast_posts(path: Path = CONTRAST_FILE) -> pd.DataFrame:
    """The length-matched contrast set, checked: one post per label in every triple, lengths within 3 words."""
    df = pd.read_csv(
        path,
        dtype={"topic": str, "style": str, "split": str, "label": str, "text": str},
        keep_default_na=False,
    )
    missing = set(CONTRAST_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"{path.name}: missing columns {sorted(missing)}")
    for triple_id in sorted(set(df["triple_id"].tolist())):
        _check_triple(int(triple_id), df[df["triple_id"] == triple_id])
    if df["text"].duplicated().any():
        dupes = df.loc[df["text"].duplicated(), "triple_id"].tolist()
        raise ValueError(f"{path.name}: triples {dupes} repeat a text used elsewhere")
    return df[CONTRAST_COLUMNS].reset_index(drop=True)


def _check_triple(triple_id: int, rows: pd.DataFrame) -> None:
    where = f"contrast triple {triple_id}"
    if sorted(rows["label"]) != sorted(LABELS):
        raise ValueError(f"{where}: needs exactly one post per label {LABELS}, has {sorted(rows['label'])}")
    counted = rows["text"].map(word_count)
    if (counted != rows["words"]).any() or (counted == 0).any():
        raise ValueError(f"{where}: the words column does not match the texts ({counted.tolist()})")
    if counted.max() - counted.min() > MAX_WORD_GAP:
        raise ValueError(f"{where}: lengths {counted.tolist()} differ by more than {MAX_WORD_GAP} words")
    split = "holdout" if triple_id % HOLDOUT_EVERY == 0 else "tune"
    if set(rows["split"]) != {split}:
        raise ValueError(
            f"{where}: split must be {split!r} (triple_id % {HOLDOUT_EVERY}), has {set(rows['split'])}"
        )
    if rows["topic"].nunique() != 1 or not rows["topic"].iloc[0].strip():
        raise ValueError(f"{where}: its three posts need one shared, non-empty topic")
    styles = dict(zip(rows["label"], rows["style"], strict=True))
    if styles["constructive"] not in STYLES or styles["neutral"] or styles["hostile"]:
        raise ValueError(
            f"{where}: the constructive post needs a style in {STYLES}, the others none ({styles})"
        )


def civil_criticism(path: Path = CIVIL_FILE) -> pd.DataFrame:
    """Our own civil complaints and criticism of health services: none of it is hostile."""
    df = pd.read_csv(path, dtype={"id": str, "source": str, "text": str}, keep_default_na=False)
    return _check_civil(df, path.name)


def _check_civil(df: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = set(CIVIL_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"{name}: missing columns {sorted(missing)}")
    if df["id"].duplicated().any():
        raise ValueError(f"{name}: repeated ids {df.loc[df['id'].duplicated(), 'id'].tolist()}")
    counted = df["text"].map(word_count)
    wrong = df.loc[(counted != df["words"]) | (counted == 0), "id"].tolist()
    if wrong:
        raise ValueError(f"{name}: the words column does not match the text of {wrong}")
    if df["text"].duplicated().any():
        raise ValueError(f"{name}: repeated texts in {df.loc[df['text'].duplicated(), 'id'].tolist()}")
    return df[CIVIL_COLUMNS].reset_index(drop=True)


# --- civil criticism from the shared corpora


def corpus_review(path: Path = REVIEW_FILE) -> pd.DataFrame:
    """Our decision on every corpus row we read: ``source, id, decision (keep/exclude), reason``."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not set(df["decision"]) <= {"keep", "exclude"} or df.duplicated(["source", "id"]).any():
        raise ValueError(f"{path.name}: decisions must be keep/exclude, one per (source, id)")
    return df


def corpus_civil_criticism(datasets_dir: Path) -> pd.DataFrame:
    """Civil criticism from GoEmotions' test split and UCC's validation file: the rules, then our reading.

    A row is kept when it passes the rules below and ``corpus_review.csv`` says ``keep`` for it; rows the
    rules pass but nobody read (most of UCC: we read a sample) are left out.
    """
    review = corpus_review()
    kept = review[review["decision"] == "keep"]
    parts = []
    for source, candidates in (
        (GOEMOTIONS_SOURCE, goemotions_candidates(datasets_dir)),
        (UCC_SOURCE, ucc_candidates(datasets_dir)),
    ):
        ids = set(kept.loc[kept["source"] == source, "id"])
        parts.append(candidates[candidates["id"].isin(ids)])
    out = pd.concat(parts, ignore_index=True)
    out["words"] = out["text"].map(word_count)
    return _check_civil(out, "corpus civil criticism")


def goemotions_candidates(datasets_dir: Path) -> pd.DataFrame:
    """GoEmotions test rows labelled disapproval or disappointment, with no anger, annoyance or disgust,
    that the word rule does not drop (``id, source, text``)."""
    folder = Path(datasets_dir) / GOEMOTIONS_DIR
    names = (folder / "labels.txt").read_text(encoding="utf-8").split()
    df = pd.read_csv(
        folder / "test.tsv",
        sep="\t",
        header=None,
        names=["text", "labels", "id"],
        quoting=csv.QUOTE_NONE,
        dtype=str,
        keep_default_na=False,
    )
    emotions = df["labels"].map(lambda cell: {names[int(i)] for i in cell.split(",") if i.strip()})
    chosen = emotions.map(lambda found: bool(found & CRITICAL_EMOTIONS) and not found & ANGRY_EMOTIONS)
    out = df.loc[chosen & ~df["text"].map(clearly_hostile), ["id", "text"]]
    return out.assign(source=GOEMOTIONS_SOURCE)[["id", "source", "text"]].reset_index(drop=True)


def ucc_candidates(datasets_dir: Path) -> pd.DataFrame:
    """UCC validation rows every annotator called healthy and none called anything unhealthy, not also in
    C3's training file, with a criticism cue, that the word rule does not drop (``id, source, text``)."""
    datasets_dir = Path(datasets_dir)
    df = pd.read_csv(datasets_dir / UCC_FILE)
    unanimous = (df["healthy"] == 1) & (df["healthy:confidence"] >= 1.0)
    for name in UCC_UNHEALTHY:
        unanimous &= (df[name] == 0) & (df[f"{name}:confidence"] >= 1.0)
    c3 = pd.read_csv(datasets_dir / C3_FILE, usecols=["comment_text"])
    in_c3 = df["comment"].map(_squash).isin(set(c3["comment_text"].map(_squash)))
    text = df["comment"].astype(str)
    keep = unanimous & ~in_c3 & text.map(criticism_cue) & ~text.map(clearly_hostile)
    out = pd.DataFrame({"id": df["_unit_id"].astype(str), "source": UCC_SOURCE, "text": text})
    return out[keep].reset_index(drop=True)


def _squash(text: object) -> str:
    return " ".join(str(text).lower().split())
