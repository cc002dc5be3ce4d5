"""Property-based: every normaliser, fed real payloads with fields missing, of the wrong type, huge or
invalid Unicode text, nested junk and odd dates, either returns records the warehouse can store or
raises ValueError (the caller quarantines it with the reason) — never anything else; and a file of
such payloads imports with every record stored or quarantined, none dropped, the run never stopped."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.pipeline import ingest_query
from flows.sources import bluesky, mastodon_status, twarc, x_v1
from flows.sources.common import repaired
from flows.sources.csv_import import map_header, row_to_object
from flows.sources.dates import EARLIEST, latest, parse_timestamp
from flows.sources.files import FileSource
from flows.sources.jsonl import normalise_post
from flows.sources.reddit import RedditContext, normalise_reddit
from warehouse.records import Batch, Provenance, utcnow
from warehouse.store import Warehouse

from .conftest import counts_add_up

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PROV = Provenance("file", "f.jsonl", "file:///f.jsonl", "test", utcnow())


def _first(path: str) -> Any:
    text = (FIXTURES / path).read_text(encoding="utf-8")
    return json.loads(text) if path.endswith(".json") else json.loads(text.splitlines()[0])


BASES: dict[str, tuple[Any, Callable[[Any], Batch]]] = {
    "jsonl": (
        {
            "id": "1",
            "created_at": "2026-11-16T09:00:00Z",
            "text": "hi #NHS",
            "author": {"id": "a", "handle": "h"},
            "reply_to": {"id": "0", "author_id": "b"},
            "mentions": [{"id": "b", "handle": "hb"}],
            "hashtags": ["NHS"],
        },
        lambda o: normalise_post(o, default_platform="t", provenance=PROV),
    ),
    "twarc2": (
        _first("real/twarc2/quoted_edit.jsonl"),
        lambda o: twarc.normalise_twarc_line(o, PROV, "f", 1),
    ),
    "twarc2-flat": (
        _first("real/twarc2/flat_excerpt.jsonl"),
        lambda o: twarc.normalise_twarc_line(o, PROV, "f", 1),
    ),
    "x-v1": (_first("written/x_v1/tweets.jsonl"), lambda o: x_v1.normalise_v1_item(o, PROV, "f", 1)),
    "bluesky": (
        _first("written/bluesky/get_author_feed.json"),
        lambda o: bluesky.normalise_bluesky_item(o, PROV, "f", 1),
    ),
    "bluesky-thread": (
        _first("real/bluesky/thread_view_post_with_embed_media.json"),
        lambda o: bluesky.normalise_bluesky_item(o, PROV, "f", 1),
    ),
    "mastodon": (
        _first("real/mastodon/context_mastodon_social.json"),
        lambda o: mastodon_status.normalise_mastodon_item(
            o, mastodon_status.StatusContext(None, PROV), "f", 1
        ),
    ),
    "reddit": (
        _first("written/reddit/doctorsuk_sample.ndjson"),
        lambda o: normalise_reddit(o, RedditContext(PROV)),
    ),
}
ODD_DATES = st.sampled_from(
    ["", "yesterday", "06/01/14", "13/01/2014 10:00", "2014-13-45T00:00:00Z", "Sun Oct 99 18:32:49 +0000 2014",
     "99999999999999999999", "-1", "1e400", "NaN", "0", "1413138769000", "Sun, 12 Oct 2014 18:32:49 +0100",
     "2014-10-12T18:32:49.123456789+05:30", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-05:00",
     "0001-01-01T00:00:00+05:00", "2005-12-31T23:59:59Z", "1000000000"]
)  # fmt: skip
ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.just("\ud83d half an emoji"),
    st.just("\x00\udfff\ufffe"),
    st.just("x" * 200_000),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    ODD_TEXT,
    ODD_DATES,
)
JUNK = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """The payload with some of its parts dropped, replaced by junk or odd values, at any depth."""
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "junk", "odd", "deeper"]))
            if action == "drop":
                continue
            out[key] = {
                "keep": inner,
                "junk": draw(JUNK),
                "odd": draw(SCALARS),
                "deeper": draw(mutated(inner, depth + 1)) if depth < 4 else inner,
            }[action]
        return out
    if isinstance(value, list) and value:
        return [draw(mutated(item, depth + 1)) for item in value[:3]]
    return value


def _check(batch: Batch) -> None:
    batch = repaired(batch)
    for post in batch.posts:
        assert post.post_id and isinstance(post.text, str) and isinstance(post.created_at, datetime)
        assert EARLIEST <= post.created_at <= latest()
    for record in [*batch.posts, *batch.accounts, *batch.interactions, *batch.quarantined]:
        for value in (getattr(record, f.name) for f in fields(record)):
            if isinstance(value, str):
                value.encode("utf-8")  # storable
    assert batch.read >= len(batch.quarantined)


@pytest.mark.parametrize("name", sorted(BASES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_normaliser_returns_storable_records_or_a_reason(name: str, data: st.DataObject) -> None:
    base, normalise = BASES[name]
    payload = data.draw(mutated(base))
    try:
        batch = normalise(payload)
    except ValueError as exc:
        assert str(exc)  # a reason a person can read
        return
    _check(batch)


@settings(max_examples=100, deadline=None)
@given(row=st.dictionaries(st.sampled_from(["id", "created_at", "text", "author_handle", "author_followers",
                                             "reply_to_id", "hashtags", "edited_at"]), ODD_TEXT | ODD_DATES))  # fmt: skip
def test_csv_rows_become_storable_records_or_a_reason(row: dict[str, str]) -> None:
    mapping = map_header(["id", "created_at", "text", "author_handle", "author_followers", "reply_to_id", "hashtags", "edited_at"], {}, "t.csv")  # fmt: skip
    try:
        batch = normalise_post(row_to_object(dict(row), mapping), default_platform="t", provenance=PROV)  # type: ignore[arg-type]
    except ValueError as exc:
        assert str(exc)
        return
    _check(batch)


@settings(max_examples=200, deadline=None)
@given(value=SCALARS, layout=st.none() | st.sampled_from(["%d/%m/%y", "%Y", "%H"]))
def test_every_time_is_naive_utc_or_a_reason(value: Any, layout: str | None) -> None:
    try:
        parsed = parse_timestamp(value, "created_at", layout)
    except ValueError as exc:
        assert "created_at" in str(exc)
        return
    assert parsed.tzinfo is None and EARLIEST <= parsed <= latest()


@pytest.mark.parametrize("name", ["twarc2", "x-v1", "mastodon", "reddit", "jsonl"])
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_a_file_of_broken_payloads_imports_with_nothing_dropped(name: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:  # fmt: skip
    base, _ = BASES[name]
    payloads = data.draw(st.lists(mutated(base), min_size=1, max_size=6))
    folder = tmp_path_factory.mktemp(name)
    path = folder / "export.jsonl"
    path.write_text(
        "\n".join(json.dumps(p, ensure_ascii=False) for p in payloads) + "\n",
        encoding="utf-8",
        errors="surrogatepass",
    )
    warehouse = Warehouse(folder / "wh.duckdb")
    warehouse.init()
    fmt = {"mastodon": "mastodon-json", "twarc2": "twarc2"}.get(name, name)
    counts = ingest_query(warehouse, FileSource(fmt=fmt), str(path), run_id="r")  # type: ignore[arg-type]
    assert counts_add_up(counts)
    if name in ("x-v1", "reddit", "jsonl"):  # one record per line: each is stored or has a reason
        assert counts.read >= len(payloads)
    stored = warehouse.query("SELECT count(*) AS n FROM quarantine")["n"][0]
    assert stored <= counts.quarantined + counts.conflicts
