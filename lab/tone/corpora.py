"""The post-length corpora of the tone model, each mapped onto the heads it can teach.

Every corpus becomes two frames (train, validation) with a ``text`` column (``prepare_text`` applied) and
one column per head it labels (a target in [0, 1]; heads it does not label are absent, i.e. unsupervised
for its rows). Validation splits are carved here, deterministically, and training never sees them:

* a corpus with an official validation split keeps it (TweetEval, holistic politeness, GoEmotions dev,
  WikiTactics val + test disputes);
* the others are split 80/20 by a hash of the unit that could leak (the dialogue for Persuasion for
  Good, the seeker post for EPITOME, the text otherwise);
* GoEmotions' test split is never used here: it feeds the civil-criticism check set
  (``lab.tone.checksets``).

The mapping of each corpus's labels onto our heads is deliberate and documented in ``MAPPING`` (the
model card prints it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.tone_base import prepare_text

VAL_SHARE = 0.2
UCC_VAL_SHARE = 0.3


@dataclass
class Corpus:
    name: str
    title: str
    licence: str
    train: pd.DataFrame
    val: pd.DataFrame
    heads: tuple[str, ...]
    window: int = 64  # training window in tokens
    weight: float = 1.0  # loss weight of its heads


MAPPING: dict[str, dict[str, str]] = {
    "c3": {
        "constructive": "crowd mean constructiveness (comments under 60 words only)",
        "reasoning": "share of annotators ticking specific_points",
        "evidence": "share ticking evidence",
        "solution": "share ticking solution",
        "personal_story": "share ticking personal_story",
        "sarcastic": "share ticking sarcastic",
        "insult": "share ticking personal_attack",
    },
    "tweeteval": {"hostile": "offensive"},
    "ucc": {
        "hostile": "hostile",
        "antagonize": "antagonize",
        "dismissive": "dismissive",
        "condescending": "condescending",
        "sarcastic": "sarcastic",
        "generalisation_unfair": "generalisation_unfair (soft: the label's crowd confidence)",
    },
    "goemotions": {
        "curiosity": "curiosity",
        "compassion": "caring",
        "hostile": "0 for disapproval or disappointment without anger, annoyance or disgust "
        "(criticism is not hostility); unlabelled otherwise",
    },
    "stanford_politeness": {"respect": "sigmoid(1.5 × normalized politeness z-score)"},
    "holistic_politeness": {"respect": "politeness 0–4 / 4"},
    "epitome": {
        "compassion": "max(emotional reactions, interpretations) level / 2",
        "curiosity": "explorations level / 2",
    },
    "esconv": {
        "curiosity": "Question",
        "personal_story": "Self-disclosure",
        "solution": "Providing Suggestions",
        "evidence": "Information",
        "compassion": "Affirmation and Reassurance, Reflection of feelings",
    },
    "persuasionforgood": {
        "reasoning": "logical-appeal",
        "evidence": "credibility-appeal",
        "personal_story": "personal-story",
        "curiosity": "task-, source- and personal-related-inquiry",
    },
    "wikitactics": {
        "reasoning": "DH5 counterargument, DH6/DH7 refutation (vs other rebuttal tactics)",
        "insult": "DH0 name calling, DH1 ad hominem (vs other rebuttal tactics)",
    },
}

LICENCES = {
    "c3": "CC BY-NC-SA 4.0",
    "tweeteval": "TweetEval / OLID terms (research use)",
    "ucc": "CC BY-NC-SA 4.0",
    "goemotions": "Apache-2.0",
    "stanford_politeness": "not stated (research corpus)",
    "holistic_politeness": "CC BY-NC",
    "epitome": "academic, non-commercial research",
    "esconv": "CC BY-NC 4.0, research use only",
    "persuasionforgood": "Apache-2.0",
    "wikitactics": "not stated (Wikipedia talk text is CC BY-SA)",
}


def _is_val(keys: pd.Series, share: float = VAL_SHARE) -> np.ndarray:
    """A stable split: the first bytes of sha1(key) as a fraction, below ``share`` = validation."""
    return np.array(
        [int(hashlib.sha1(str(k).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share for k in keys]
    )


def _frame(texts: pd.Series, targets: Mapping[str, Any]) -> pd.DataFrame:
    df = pd.DataFrame({"text": texts.astype(str).map(prepare_text).to_numpy()})
    for head, values in targets.items():
        df[head] = np.asarray(values, dtype=np.float32)
    return df[df["text"] != ""].drop_duplicates("text").reset_index(drop=True)


def _split(df: pd.DataFrame, keys: pd.Series, share: float = VAL_SHARE) -> tuple[pd.DataFrame, pd.DataFrame]:
    mask = _is_val(keys, share)
    return df[~mask].reset_index(drop=True), df[mask].reset_index(drop=True)


def _hash_split(
    texts: pd.Series, targets: Mapping[str, Any], share: float = VAL_SHARE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = _frame(texts, targets)
    return _split(df, df["text"], share)


# --------------------------------------------------------------------------------------------- loaders


def ucc(ddir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(ddir / "unhealthy_conversations" / "ucc_val.csv").dropna(subset=["comment"])
    c3_texts = set(pd.read_csv(ddir / "c3_constructive_train.csv", usecols=["comment_text"])["comment_text"])
    raw = raw[~raw["comment"].isin(c3_texts)]  # the README: some UCC comments are also in C3

    def soft(col: str) -> np.ndarray:
        y = raw[col].fillna(0).to_numpy(dtype=float)
        conf = raw[f"{col}:confidence"].fillna(1.0).to_numpy(dtype=float)
        return np.where(y >= 0.5, conf, 1.0 - conf)

    heads = ("hostile", "antagonize", "dismissive", "condescending", "sarcastic", "generalisation_unfair")
    # 30% validation: its rarer labels (hostile 6%, unfair generalisation 3%) need positives to measure.
    return _hash_split(raw["comment"], {h: soft(h) for h in heads}, UCC_VAL_SHARE)


def goemotions(ddir: Path, sample: int = 6000, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = ddir / "attributes" / "goemotions"
    names = (folder / "labels.txt").read_text().split()

    def read(split: str) -> pd.DataFrame:
        df = pd.read_csv(folder / f"{split}.tsv", sep="\t", header=None, names=["text", "labels", "id"])
        labels = df["labels"].astype(str).str.split(",").map(lambda xs: {names[int(x)] for x in xs})
        critical = labels.map(lambda s: bool(s & {"disapproval", "disappointment"}))
        angry = labels.map(lambda s: bool(s & {"anger", "annoyance", "disgust"}))
        targets = {
            "curiosity": labels.map(lambda s: "curiosity" in s).astype(float),
            "compassion": labels.map(lambda s: "caring" in s).astype(float),
            "hostile": np.where(critical & ~angry, 0.0, np.nan),
        }
        return _frame(df["text"], targets)

    train, val = read("train"), read("dev")
    # Keep every curiosity, caring and civil-criticism example, fill the rest at random.
    keep = (train["curiosity"] > 0) | (train["compassion"] > 0) | (train["hostile"] == 0)
    rest = train[~keep].sample(n=max(0, min(int((~keep).sum()), sample - int(keep.sum()))), random_state=seed)
    return pd.concat([train[keep], rest]).reset_index(drop=True), val


def stanford_politeness(ddir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = ddir / "attributes" / "stanford_politeness"
    raw = pd.concat(
        [pd.read_csv(folder / f) for f in ("wikipedia.annotated.csv", "stack-exchange.annotated.csv")]
    ).dropna(subset=["Request"])
    z = raw["Normalized Score"].to_numpy(dtype=float)
    return _hash_split(raw["Request"], {"respect": 1.0 / (1.0 + np.exp(-1.5 * z))})


def holistic_politeness(ddir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = ddir / "attributes" / "holistic_politeness_en"

    def read(split: str) -> pd.DataFrame:
        df = pd.read_csv(folder / f"english_{split}_4-14.csv").dropna(subset=["Utterance"])
        return _frame(df["Utterance"], {"respect": df["labels"].to_numpy(dtype=float) / 4.0})

    return read("train"), read("val")


def epitome(ddir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = ddir / "attributes" / "epitome"
    parts = {
        key: pd.read_csv(folder / f"{name}-reddit.csv")[["sp_id", "rp_id", "response_post", "level"]]
        for key, name in (("er", "emotional-reactions"), ("ip", "interpretations"), ("ex", "explorations"))
    }
    df = parts["er"].rename(columns={"level": "er"})
    for key in ("ip", "ex"):
        df = df.merge(parts[key][["rp_id", "level"]].rename(columns={"level": key}), on="rp_id")
    df = df.dropna(subset=["response_post"])
    frame = _frame(
        df["response_post"],
        {"compassion": np.maximum(df["er"], df["ip"]) / 2.0, "curiosity": df["ex"] / 2.0},
    )
    seeker = dict(zip(df["response_post"].astype(str).map(prepare_text), df["sp_id"], strict=False))
    return _split(frame, frame["text"].map(seeker))


ESCONV_STRATEGIES = {
    "Questions": "curiosity",
    "Self-disclosure": "personal_story",
    "Providing Suggestions": "solution",
    "Information": "evidence",
    "Affirmation and Reassurance": "compassion",
    "Reflection of feelings": "compassion",
}


def esconv_turns(ddir: Path) -> pd.DataFrame:
    """Supporter turns with their strategy: the last ``[Strategy] text`` segment of every line."""
    import re

    pattern = re.compile(r"\[([^\]]+)\]\s*(.*)$")
    rows: list[tuple[str, str]] = []
    for name in ("devWithStrategy_short.tsv", "testWithStrategy_short.tsv"):
        for line in (ddir / "attributes" / "esconv" / name).read_text(encoding="utf-8").splitlines():
            last = line.split(" EOS ")[-1].strip()
            m = pattern.search(last)
            if m and m.group(2).strip():
                rows.append((m.group(1).strip(), m.group(2).strip()))
    return pd.DataFrame(rows, columns=["strategy", "text"]).drop_duplicates("text")


def esconv(ddir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    turns = esconv_turns(ddir)
    heads = sorted(set(ESCONV_STRATEGIES.values()))
    targets = {
        h: turns["strategy"].map(lambda s, h=h: float(ESCONV_STRATEGIES.get(s) == h)).to_numpy()
        for h in heads
    }
    return _hash_split(turns["text"], targets)


P4G = {
    "logical-appeal": "reasoning",
    "credibility-appeal": "evidence",
    "personal-story": "personal_story",
    "task-related-inquiry": "curiosity",
    "source-related-inquiry": "curiosity",
    "personal-related-inquiry": "curiosity",
}


def persuasionforgood(ddir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(ddir / "attributes" / "persuasionforgood" / "300_dialog.csv")
    raw = raw.dropna(subset=["er_label_1", "Unit"])  # persuader sentence units
    heads = sorted(set(P4G.values()))
    targets = {h: raw["er_label_1"].map(lambda s, h=h: float(P4G.get(s) == h)).to_numpy() for h in heads}
    frame = _frame(raw["Unit"], targets)
    dialogue = dict(zip(raw["Unit"].astype(str).map(prepare_text), raw["B2"], strict=False))
    return _split(frame, frame["text"].map(dialogue))


def wikitactics(ddir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    disputes = json.loads((ddir / "attributes" / "wikitactics" / "wikitactics.json").read_text())
    rows: list[dict[str, object]] = []
    for d in disputes:
        for u in d["utterances"]:
            tactics = [t.split(":")[0] for t in u.get("rebuttal_labels") or []]
            if not tactics or not str(u.get("text") or "").strip():
                continue
            rows.append(
                {
                    "text": u["text"],
                    "val": d["split"] != "train",
                    "reasoning": float(any(t in ("DH5", "DH6", "DH7") for t in tactics)),
                    "insult": float(any(t in ("DH0", "DH1") for t in tactics)),
                }
            )
    df = pd.DataFrame(rows)
    frame = _frame(df["text"], {"reasoning": df["reasoning"], "insult": df["insult"], "val": df["val"]})
    is_val = frame.pop("val") > 0
    return frame[~is_val].reset_index(drop=True), frame[is_val].reset_index(drop=True)


LOADERS: dict[str, tuple[str, Callable[[Path], tuple[pd.DataFrame, pd.DataFrame]]]] = {
    "ucc": ("Unhealthy Comments Corpus (Price et al. 2020)", ucc),
    "goemotions": ("GoEmotions (Demszky et al. 2020)", goemotions),
    "stanford_politeness": (
        "Stanford Politeness Corpus (Danescu-Niculescu-Mizil et al. 2013)",
        stanford_politeness,
    ),
    "holistic_politeness": ("Holistic politeness, English (Havaldar et al. 2023)", holistic_politeness),
    "epitome": ("EPITOME (Sharma et al. 2020)", epitome),
    "esconv": ("ESConv (Liu et al. 2021)", esconv),
    "persuasionforgood": ("Persuasion for Good (Wang et al. 2019)", persuasionforgood),
    "wikitactics": ("WikiTactics (De Kock et al. 2022)", wikitactics),
}


def attribute_corpora(ddir: Path, limit: int | None = None) -> list[Corpus]:
    """Every post-length attribute corpus (C3 and TweetEval come from ``lab.tone.data``)."""
    out: list[Corpus] = []
    for name, (title, loader) in LOADERS.items():
        train, val = loader(ddir)
        if limit is not None:
            train = train.sample(n=min(limit, len(train)), random_state=1).reset_index(drop=True)
            val = val.sample(n=min(limit, len(val)), random_state=1).reset_index(drop=True)
        heads = tuple(c for c in train.columns if c != "text")
        out.append(Corpus(name, title, LICENCES[name], train, val, heads))
    return out
