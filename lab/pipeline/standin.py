"""A stand-in for `enrich` on generated conversations, for benchmarks only: `python -m lab.pipeline.standin`.

At 1M posts the real `enrich` (spaCy and the tone model on 2 CPU cores) takes hours, so the stages after
it (analyze, publish) and the dashboard were never measured at that size. This fills `post_features` and
`tone_scores` in one DuckDB pass each, without any model: hashtags, mentions and URLs by regular
expression, words of five letters or more as key terms, no entities; each post's tone is the one the
generator planted (`truth_posts.tsv`), with fixed probabilities, under the current tone model's version
so that analyze reads it. The shapes and row counts are the real ones; the values are not a model's, so
nothing measured downstream of it says anything about tone quality, only about speed and memory.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from models.tone import tone_model_version
from warehouse.settings import Settings

FEATURES_SQL = r"""
INSERT OR REPLACE INTO post_features
SELECT post_id,
       list_distinct(list_transform(coalesce(hashtags, []), lambda h: lower(h))) AS hashtags,
       list_distinct(regexp_extract_all(lower(text), '@([a-z0-9_]{1,64})', 1)) AS mentions,
       list_distinct(regexp_extract_all(text, 'https?://[^\s<>"'']+')) AS urls,
       '[]'::JSON AS entities,
       list_distinct(list_filter(
           string_split(regexp_replace(lower(regexp_replace(text, '(https?://\S+|[@#]\w+)', ' ', 'g')),
                                       '[^a-z]+', ' ', 'g'), ' '),
           lambda w: length(w) >= 5)) AS key_terms,
       coalesce(lang, 'en') AS lang,
       length(string_split(trim(text), ' ')) AS n_words
FROM posts p ANTI JOIN post_features f USING (post_id)
"""

TONE_SQL = """
INSERT OR REPLACE INTO tone_scores
SELECT p.post_id, ? AS model_version,
       CASE t.tone WHEN 'constructive' THEN 0.9 ELSE 0.1 END AS constructive,
       CASE t.tone WHEN 'hostile' THEN 0.9 ELSE 0.05 END AS hostile,
       t.tone = 'constructive' AS is_constructive,
       t.tone = 'hostile' AS is_hostile,
       t.tone AS tone,
       '{}'::JSON AS attributes,
       CASE t.tone WHEN 'constructive' THEN ['respect'] WHEN 'hostile' THEN ['insult'] ELSE [] END AS reasons,
       NULL AS unscored_reason,
       now()::TIMESTAMP AS scored_at
FROM posts p JOIN read_csv(?, delim='\t', header=false, columns={'native_id': 'VARCHAR', 'tone': 'VARCHAR'}) t
     USING (native_id)
"""


def fill(database: Path, truth: Path, model_version: str) -> dict[str, float]:
    """Features and tones for every post of `database` that lacks them; counts and seconds per table."""
    con = duckdb.connect(str(database))
    try:
        start = time.perf_counter()
        features = con.execute(FEATURES_SQL).fetchone()
        mid = time.perf_counter()
        tones = con.execute(TONE_SQL, [model_version, str(truth)]).fetchone()
        end = time.perf_counter()
    finally:
        con.close()
    return {
        "features": float(features[0] if features else 0),
        "features_seconds": round(mid - start, 1),
        "tone_scores": float(tones[0] if tones else 0),
        "tone_seconds": round(end - mid, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="the data folder `ingest` wrote")
    parser.add_argument("--truth", type=Path, required=True, help="the generator's truth_posts.tsv")
    args = parser.parse_args(argv)
    settings = Settings(data_dir=args.data_dir)
    print(fill(settings.database_path, args.truth, tone_model_version(settings.tone_model)))


if __name__ == "__main__":
    main()
