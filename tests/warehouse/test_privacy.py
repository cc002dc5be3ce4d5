"""Keyed pseudonyms: the key file, stability per key, and a pseudonymised snapshot of the bundled sample
that names nobody in any column of any table, while its ids still join up."""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from flows.analysis import analyse_window
from flows.pipeline import feature_frame
from flows.sources.files import FileSource
from warehouse.privacy import PSEUDONYM, PseudonymKeyError, Pseudonyms, load_key
from warehouse.settings import SAMPLE_CONVERSATION, Settings, explain_settings_error
from warehouse.store import Warehouse

# Not a run of consecutive bytes: DuckDB files hold such runs (compression tables) and would "contain" it.
KEY = hashlib.sha256(b"commonground test pseudonym key").digest()
MODEL = "test-tone"
SAMPLE_LINES = 600  # the bundled sample's first posts: every kind of id, link and mention it holds
TEXT_TYPES = ("VARCHAR", "JSON", "VARCHAR[]")


def sample_settings(root: Path, **extra: Any) -> Settings:
    return Settings(
        data_dir=root,
        pseudonym_key=SecretStr(KEY.hex()),
        polarization_rewirings=2,
        hostility_permutations=10,
        extra_window_days=[],
        **extra,
    )


def build_sample_warehouse(root: Path, lines: int = SAMPLE_LINES) -> Warehouse:
    """The sample's first posts ingested, enriched (spaCy) and analysed with the real code; the tone
    scores are written by hand (the tone model is tested on its own), one in three constructive."""
    path = root / "conversation.jsonl"
    with SAMPLE_CONVERSATION.open(encoding="utf-8") as sample:
        path.write_text("".join(itertools.islice(sample, lines)), encoding="utf-8")
    warehouse = Warehouse(root / "commonground.duckdb")
    warehouse.init()
    run_id = warehouse.start_run("ingest", {})
    for page in FileSource().fetch(str(path)):
        warehouse.upsert_batch(page.batch, run_id=run_id)
    warehouse.write_features(feature_frame(warehouse.posts_without_features()))
    posts = warehouse.posts_without_score(MODEL)
    tone = [("constructive", "neutral", "hostile")[i % 3] for i in range(len(posts))]
    warehouse.write_tone_scores(
        pd.DataFrame(
            {
                "post_id": posts["post_id"],
                "model_version": MODEL,
                "constructive": [0.9 if t == "constructive" else 0.2 for t in tone],
                "hostile": [0.8 if t == "hostile" else 0.05 for t in tone],
                "is_constructive": [t == "constructive" for t in tone],
                "is_hostile": [t == "hostile" for t in tone],
                "tone": tone,
                "attributes": [{"respect": 0.5}] * len(tone),
                "reasons": [["respect"]] * len(tone),
            }
        )
    )
    span = warehouse.query("SELECT min(created_at) AS a, max(created_at) AS b FROM posts").iloc[0]
    analyse_window(warehouse, sample_settings(root), (span["a"], span["b"]), MODEL, run_id)
    warehouse.finish_run(run_id, status="completed")
    return warehouse


def people(warehouse: Warehouse) -> list[str]:
    """Everything in the warehouse that names a person or a post: account ids, handles, post ids,
    post and profile URLs, and the handles mentioned in posts."""
    found = warehouse.query(
        """SELECT account_id AS v FROM accounts UNION SELECT handle FROM accounts
           UNION SELECT post_id FROM posts UNION SELECT url FROM posts UNION SELECT url FROM accounts
           UNION SELECT ltrim(unnest(mentions), '@') FROM post_features"""
    )["v"]
    return sorted({v for v in found if isinstance(v, str) and len(v) >= 3}, key=len, reverse=True)


def whole_words(needles: Iterable[str]) -> re.Pattern[str]:
    """The needles as whole words, any case, in the order given (longest first, from :func:`people`).
    Grouped by first character, ``a(?:bc|b)|x(?:yz)``: the same matches as the plain alternation, but the
    engine tries one group per position instead of every needle (15-30 times faster on 1,000+ needles)."""
    groups: dict[str, list[str]] = {}
    for n in needles:
        groups.setdefault(n[0].lower(), []).append(n)
    words = "|".join(
        re.escape(group[0][0]) + "(?:" + "|".join(re.escape(n[1:]) for n in group) + ")"
        for group in groups.values()
    )
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{words})(?![A-Za-z0-9_])", re.IGNORECASE)


def leaks(database: Path, needles: Iterable[str]) -> dict[str, list[str]]:
    """Every text column of every table of `database` searched for the needles (whole words, any case):
    {table.column: the needles found}."""
    pattern = whole_words(needles)
    found: dict[str, list[str]] = {}
    con = duckdb.connect(str(database), read_only=True)
    try:
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            for column, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall():
                if kind not in TEXT_TYPES:
                    continue
                values = con.execute(f'SELECT "{column}"::VARCHAR FROM {table}').fetchall()
                hits = pattern.findall("\n".join(v for (v,) in values if v is not None))
                if hits:
                    found[f"{table}.{column}"] = sorted(set(hits))[:5]
    finally:
        con.close()
    return found


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return build_sample_warehouse(tmp_path_factory.mktemp("privacy"))


def test_the_same_key_gives_the_same_pseudonyms_another_key_others() -> None:
    one, again, other = Pseudonyms(KEY), Pseudonyms(bytes(KEY)), Pseudonyms(bytes(32))
    account = "mastodon:drjane@mastodon.social"
    assert one.account(account) == again.account(account) != other.account(account)
    assert re.fullmatch(r"member-[0-9a-f]{16}", str(one.account(account)))
    assert one.post("x:1") != one.account("x:1") and str(one.post("x:1")).startswith("post-")
    assert one.account(one.account(account)) == one.account(account)  # a pseudonym is kept as it is
    assert one.account(None) is None and one.account("") == ""
    # Unkeyed SHA-256 of the id (what anyone could compute) appears nowhere in it.
    assert hashlib.sha256(account.encode()).hexdigest()[:16] not in str(one.account(account))
    assert len({one.account(f"x:{i}") for i in range(20_000)}) == 20_000
    assert Pseudonyms.text("hi @drjane@mastodon.social see https://mastodon.social/@drjane/1?x=2 ok") == (
        "hi @user see [link: mastodon.social] ok"
    )


def test_the_key_file_is_made_once_readable_by_its_owner_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path)
    with caplog.at_level(logging.DEBUG):
        key = load_key(settings)
    path = tmp_path / "secrets" / "pseudonym.key"
    assert settings.pseudonym_key_path == path
    assert len(key) == 32 and load_key(settings) == key  # made once, then read
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert key.hex() not in caplog.text and str(path) in caplog.text  # where, never what
    # The file's text works as COMMONGROUND_PSEUDONYM_KEY too, and the setting is never printed.
    given = Settings(data_dir=tmp_path / "other", pseudonym_key=path.read_text().strip())  # type: ignore[arg-type]
    assert load_key(given) == key and key.hex() not in repr(given)
    assert not (tmp_path / "other").exists()
    with pytest.raises(ValidationError) as bad:
        Settings(data_dir=tmp_path, pseudonym_key="short-secret")  # type: ignore[arg-type]
    explained = explain_settings_error(bad.value)
    assert explained.startswith("COMMONGROUND_PSEUDONYM_KEY: too short") and "short-secret" not in explained
    path.write_text("not a key\n")
    with pytest.raises(PseudonymKeyError, match=re.escape(str(path))):
        load_key(settings)


def test_publish_refuses_to_pseudonymise_without_a_key(sample: Warehouse, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs the pseudonym key"):
        sample.publish(tmp_path / "snapshot.duckdb", pseudonymize=True)
    assert not (tmp_path / "snapshot.duckdb").exists()


def test_a_pseudonymised_sample_snapshot_names_nobody_and_still_joins(
    sample: Warehouse, tmp_path: Path
) -> None:
    needles = people(sample)
    assert len(needles) > 1000 and any(n.startswith("https://") for n in needles)
    plain = sample.publish(tmp_path / "plain.duckdb")
    assert {"accounts.handle", "posts.author_id", "posts.url", "post_features.mentions"} <= leaks(
        plain, needles
    ).keys()  # the search finds what is there
    started = time.perf_counter()
    path = sample.publish(tmp_path / "snapshot.duckdb", pseudonymize=True, key=KEY)
    seconds = time.perf_counter() - started
    assert leaks(path, needles) == {}
    assert KEY.hex().encode() not in path.read_bytes() and KEY not in path.read_bytes()
    snap = Warehouse(path)
    # Every table keeps its rows, and ids still line up across tables.
    for table in ("accounts", "posts", "interactions", "post_features", "tone_scores", "voices"):
        count = f"SELECT count(*) AS n FROM {table}"
        assert snap.query(count)["n"].iloc[0] == Warehouse(plain).query(count)["n"].iloc[0] > 0, table
    orphans = snap.query(
        """SELECT (SELECT count(*) FROM posts WHERE author_id NOT IN (SELECT account_id FROM accounts)) AS a,
                  (SELECT count(*) FROM interactions WHERE post_id NOT IN (SELECT post_id FROM posts)) AS b,
                  (SELECT count(*) FROM voices WHERE account_id NOT IN (SELECT account_id FROM accounts)) AS c,
                  (SELECT count(*) FROM tone_scores WHERE post_id NOT IN (SELECT post_id FROM posts)) AS d"""
    ).iloc[0]
    assert orphans.to_dict() == {"a": 0, "b": 0, "c": 0, "d": 0}
    examples = snap.query("SELECT unnest(example_posts::VARCHAR[]) AS p FROM voices")["p"]
    assert len(examples) and set(examples) <= set(snap.query("SELECT post_id FROM posts")["post_id"])
    accounts = snap.query("SELECT account_id, handle, display_name, bio, url FROM accounts")
    assert all(PSEUDONYM.fullmatch(a) for a in accounts["account_id"])
    assert (accounts["handle"] == accounts["account_id"]).all() and accounts["bio"].isna().all()
    assert Pseudonyms(KEY).account(
        sample.query("SELECT min(account_id) AS a FROM accounts")["a"].iloc[0]
    ) in set(accounts["account_id"])
    assert seconds < 30, seconds
    print(f"pseudonymised publish of {SAMPLE_LINES} sample posts: {seconds:.2f} s")


def test_the_key_reaches_neither_database(sample: Warehouse, tmp_path: Path) -> None:
    path = sample.publish(tmp_path / "snapshot.duckdb", pseudonymize=True, key=KEY)
    for database in (sample.path, path):
        content = database.read_bytes()
        assert KEY not in content and KEY.hex().encode() not in content, database
