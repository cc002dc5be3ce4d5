"""The pipeline as Prefect flows: ingest → enrich → analyze → publish, and the parent `pipeline`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.sources.base import Source
from flows.sources.files import FileSource
from models.network import detect_camps, polarization
from models.profiles import camp_profiles
from models.text import extract_features
from models.tone import ToneModel, load_tone_model, score_frame
from models.voices import VoiceParams, constructive_voices
from warehouse.settings import Settings
from warehouse.store import UpsertCounts, Warehouse

TONE_COLUMNS = ["constructive", "hostile", "is_constructive", "is_hostile", "tone"]


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Settings from env and `.env`, with a flow's explicit overrides on top."""
    return Settings(**(overrides or {}))


def open_warehouse(settings: Settings) -> Warehouse:
    warehouse = Warehouse(settings.database_path, store_raw=settings.store_raw_payloads)
    warehouse.init()
    return warehouse


@contextmanager
def recorded_run(warehouse: Warehouse, flow_name: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A `runs` row around a flow: counts filled in by the flow, status set at the end, errors kept."""
    run_id = warehouse.start_run(flow_name, params)
    counts: dict[str, Any] = {"run_id": run_id}
    try:
        yield counts
    except BaseException as exc:
        warehouse.finish_run(run_id, status="failed", counts=counts, message=f"{type(exc).__name__}: {exc}")
        raise
    warehouse.finish_run(run_id, status="completed", counts=counts)


# --- ingest ----------------------------------------------------------------------------------------


def make_source(name: str, settings: Settings) -> Source:
    if name == "file":
        return FileSource()
    raise ValueError(
        f"Source {name!r} is not available yet; this build ingests files only. "
        "Set COMMONGROUND_SOURCES='[\"file\"]' or use `commonground ingest --source file --path FILE`."
    )


def ingest_query(warehouse: Warehouse, source: Source, query: str, run_id: str) -> UpsertCounts:
    """Fetch every page of one query after its cursor and upsert it; the cursor moves page by page."""
    total = UpsertCounts()
    since = warehouse.get_cursor(source.name, query)
    for page in source.fetch(query, since=since):
        total.add(warehouse.upsert_batch(page.batch, run_id=run_id, query=query))
        if page.cursor and source.name != "file":
            warehouse.set_cursor(source.name, query, page.cursor)
    return total


@task(name="ingest-query", cache_policy=NO_CACHE)
def ingest_query_task(settings: Settings, source_name: str, query: str, run_id: str) -> dict[str, int]:
    warehouse = open_warehouse(settings)
    counts = ingest_query(warehouse, make_source(source_name, settings), query, run_id)
    return asdict(counts)


@flow(name="ingest", log_prints=True)
def ingest(
    overrides: dict[str, Any] | None = None, source: str = "file", queries: list[str] | None = None
) -> dict:
    """Collect posts from one source into the warehouse. Bad records go to quarantine with their
    reason; re-running never duplicates. For files, each query is a path."""
    settings = load_settings(overrides)
    warehouse = open_warehouse(settings)
    if queries is None:
        queries = [str(p) for p in settings.import_paths] if source == "file" else list(settings.hashtags)
    logger = get_run_logger()
    with recorded_run(warehouse, "ingest", {"source": source, "queries": queries}) as counts:
        total = UpsertCounts()
        for query in queries:
            result = ingest_query_task(settings, source, query, counts["run_id"])
            total.add(UpsertCounts(**result))
            logger.info("%s %s: %s", source, query, result)
        counts.update(asdict(total))
    return counts


# --- enrich ----------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def cached_tone_model(name: str, batch_size: int, max_length: int) -> ToneModel:
    """Loading the encoder takes seconds; one copy per process is enough."""
    return load_tone_model(name, batch_size=batch_size, max_length=max_length)


def feature_frame(posts: pd.DataFrame) -> pd.DataFrame:
    """spaCy features per post; identical texts (reposts) are parsed once."""
    unique = posts.drop_duplicates("text")
    feats = dict(zip(unique["text"], extract_features(list(unique["text"])), strict=True))
    rows = []
    for post_id, text, lang, tags in posts[["post_id", "text", "lang", "hashtags"]].itertuples(index=False):
        f = feats[text]
        payload_tags = [t.lower() for t in (tags if tags is not None else [])]
        rows.append(
            {
                "post_id": post_id,
                "hashtags": list(dict.fromkeys([*f.hashtags, *payload_tags])),
                "mentions": f.mentions,
                "urls": f.urls,
                "entities": json.dumps(f.entities),
                "key_terms": f.key_terms,
                "lang": lang or f.lang,
                "n_words": f.n_words,
            }
        )
    return pd.DataFrame(rows)


def tone_frame(model: ToneModel, posts: pd.DataFrame) -> pd.DataFrame:
    scores = score_frame(model, list(posts["text"]))
    attrs = [c for c in scores.columns if c.startswith("attr_")]
    frame = scores[TONE_COLUMNS].copy()
    frame.insert(0, "post_id", posts["post_id"].to_numpy())
    frame["model_version"] = model.version
    frame["attributes"] = [
        json.dumps({c.removeprefix("attr_"): round(float(v), 4) for c, v in zip(attrs, row, strict=True)})
        for row in scores[attrs].itertuples(index=False)
    ]
    return frame


@task(name="extract-features", cache_policy=NO_CACHE)
def features_task(settings: Settings) -> int:
    warehouse = open_warehouse(settings)
    posts = warehouse.posts_without_features()
    return warehouse.write_features(feature_frame(posts)) if len(posts) else 0


@task(name="score-tone", cache_policy=NO_CACHE)
def tone_task(settings: Settings) -> dict[str, Any]:
    warehouse = open_warehouse(settings)
    model = cached_tone_model(settings.tone_model, settings.tone_batch_size, settings.tone_max_length)
    posts = warehouse.posts_without_score(model.version)
    scored = warehouse.write_tone_scores(tone_frame(model, posts)) if len(posts) else 0
    return {"scored": scored, "unique_texts": int(posts["text"].nunique()), "model_version": model.version}


@flow(name="enrich", log_prints=True)
def enrich(overrides: dict[str, Any] | None = None) -> dict:
    """Add what the analysis needs to every new post: hashtags, mentions, URLs, entities and key
    terms (spaCy), and a tone score from the current model (each distinct text scored once)."""
    settings = load_settings(overrides)
    warehouse = open_warehouse(settings)
    with recorded_run(warehouse, "enrich", {"tone_model": settings.tone_model}) as counts:
        counts["features"] = features_task(settings)
        counts.update(tone_task(settings))
    return counts


# --- analyze ---------------------------------------------------------------------------------------


def analysis_window(warehouse: Warehouse, settings: Settings) -> tuple[datetime, datetime]:
    """The last `window_days` up to the newest post, so a sample from last month still analyses."""
    end = warehouse.latest_post_time()
    if end is None:
        raise RuntimeError("The warehouse has no posts yet: run `commonground ingest` first.")
    return end - timedelta(days=settings.window_days), end


def run_analysis(inputs: dict[str, pd.DataFrame], settings: Settings) -> dict[str, Any]:
    """Camps, their profiles, polarization against rewired baselines, and constructive voices."""
    posts, interactions = inputs["posts"], inputs["interactions"]
    edges = interactions.rename(columns={"src_account_id": "src", "dst_account_id": "dst"})[
        ["src", "dst", "kind"]
    ]
    camps = detect_camps(edges, seed=settings.community_seed)
    pol = polarization(edges, seed=settings.community_seed, n_rewirings=settings.polarization_rewirings)
    profiles = camp_profiles(posts, interactions, camps.camp)
    labels = dict(zip(profiles["camp_id"], profiles["label"], strict=True))
    params = VoiceParams(
        prior_weight=settings.voices_prior_weight,
        min_posts=settings.voices_min_posts,
        top_n=settings.voices_top_n,
    )
    voices = constructive_voices(posts, interactions, camps.camp, params, labels)
    communities = pd.DataFrame(
        {
            "account_id": list(camps.camp),
            "community_id": [camps.community.get(a, -1) for a in camps.camp],
            "camp_id": pd.array(list(camps.camp.values()), dtype="Int64"),
        }
    )
    measures = [{"measure": name, **values} for name, values in pol["measures"].items()]
    measures.append(
        {
            "measure": "headline",
            "value": pol["score"],
            "baseline_mean": pol["baseline_mean"],
            "baseline_std": pol["baseline_std"],
            "z": pol["z"],
        }
    )
    return {
        "camps": camps,
        "polarization": pol,
        "tables": {
            "communities": communities,
            "community_profiles": profiles,
            "polarization": pd.DataFrame(measures),
            "voices": voices,
        },
    }


@flow(name="analyze", log_prints=True)
def analyze(overrides: dict[str, Any] | None = None) -> dict:
    """Map the conversation of the latest window: camps from who endorses whom, how closed each camp
    is and what it talks about, how segregated the network is compared with chance, and the
    constructive voices who reach across camps."""
    settings = load_settings(overrides)
    warehouse = open_warehouse(settings)
    model_version = cached_tone_model(
        settings.tone_model, settings.tone_batch_size, settings.tone_max_length
    ).version
    start, end = analysis_window(warehouse, settings)
    params = {"topic": settings.topic, "window_start": start, "window_end": end}
    with recorded_run(warehouse, "analyze", params) as counts:
        inputs = warehouse.analysis_inputs(start, end, model_version)
        result = run_analysis(inputs, settings)
        analysis = {
            "analysis_id": f"{settings.topic}:{start:%Y-%m-%dT%H:%M}:{end:%Y-%m-%dT%H:%M}",
            "topic": settings.topic,
            "window_start": start,
            "window_end": end,
            "model_version": model_version,
            "run_id": counts["run_id"],
            "n_posts": len(inputs["posts"]),
            "n_accounts": int(inputs["posts"]["author_id"].nunique()),
            "n_edges": len(inputs["interactions"]),
        }
        warehouse.write_analysis(analysis, result["tables"])
        counts.update(
            analysis_id=analysis["analysis_id"],
            posts=analysis["n_posts"],
            accounts=analysis["n_accounts"],
            camps=result["camps"].n_camps,
            communities=result["camps"].n_communities,
            polarization=round(result["polarization"]["score"], 4),
            polarization_z=round(result["polarization"]["z"], 2),
            voices=len(result["tables"]["voices"]),
        )
    return counts


# --- publish ---------------------------------------------------------------------------------------


@flow(name="publish", log_prints=True)
def publish(overrides: dict[str, Any] | None = None) -> str:
    """Write a consistent, read-only snapshot for the dashboard and swap it in atomically; the
    dashboard never opens the database the flows write."""
    settings = load_settings(overrides)
    warehouse = open_warehouse(settings)
    with recorded_run(warehouse, "publish", {"snapshot": str(settings.snapshot_path)}) as counts:
        path = warehouse.publish(settings.snapshot_path, pseudonymize=settings.pseudonymize_handles)
        counts["snapshot"] = str(path)
    return str(path)


@flow(name="pipeline", log_prints=True)
def pipeline(overrides: dict[str, Any] | None = None) -> dict:
    """One full run: collect from the configured sources, enrich, analyse the latest window and
    publish the dashboard snapshot."""
    settings = load_settings(overrides)
    warehouse = open_warehouse(settings)
    with recorded_run(warehouse, "pipeline", {"sources": settings.sources}) as counts:
        counts["ingest"] = {name: ingest(overrides, source=name) for name in settings.sources}
        counts["enrich"] = enrich(overrides)
        counts["analyze"] = analyze(overrides)
        counts["snapshot"] = publish(overrides)
    return counts


FLOWS: dict[str, Callable[..., Any]] = {
    "ingest": ingest,
    "enrich": enrich,
    "analyze": analyze,
    "publish": publish,
    "pipeline": pipeline,
}


def snapshot_path(overrides: dict[str, Any] | None = None) -> Path:
    return load_settings(overrides).snapshot_path
