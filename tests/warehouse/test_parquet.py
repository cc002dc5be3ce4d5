"""Parquet exports: what DuckDB reads back equals the warehouse, and only changed partitions are rewritten."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from warehouse.parquet import MANIFEST, export_parquet
from warehouse.privacy import Pseudonyms
from warehouse.records import Account, Batch, Interaction, InteractionKind, Post, Provenance, interaction_id
from warehouse.store import Warehouse

MODEL = "tiny-model-1"
DAYS = (datetime(2026, 11, 2, 9, 30), datetime(2026, 11, 3, 14, 0))
PLATFORMS = ("mastodon", "bluesky")
KEY = b"k" * 32


def _provenance(source: str) -> Provenance:
    return Provenance(source, "NHS", f"https://{source}.example/api", "test", datetime(2026, 11, 4))


def _account(source: str, n: int) -> Account:
    return Account(
        f"{source}:{n}",
        source,
        str(n),
        f"user{n}",
        f"User {n}",
        "GP in Leeds",
        10,
        None,
        _provenance(source),
        "{}",
    )


def _batch(source: str, when: datetime, first: int, count: int) -> Batch:
    """`count` posts by two accounts of `source` on one day; every other one replies to the one before
    and mentions its author."""
    batch = Batch(accounts=[_account(source, 1), _account(source, 2)])
    for i in range(first, first + count):
        author, other = f"{source}:{1 + i % 2}", f"{source}:{2 - i % 2}"
        reply_to = f"{source}:p{i - 1}" if i % 2 and i > first else None
        post_id = f"{source}:p{i}"
        batch.posts.append(
            Post(
                post_id,
                source,
                f"p{i}",
                author,
                when.replace(minute=i % 60),
                f"post {i} about waiting lists @user{2 - i % 2}",
                "en",
                f"https://{source}.example/@user{1 + i % 2}/{i}",
                reply_to,
                None,
                None,
                ("nhs",),
                _provenance(source),
                "{}",
            )
        )
        if reply_to:
            for kind in (InteractionKind.REPLY, InteractionKind.MENTION):
                batch.interactions.append(
                    Interaction(
                        interaction_id(post_id, kind, other),
                        source,
                        kind,
                        post_id,
                        author,
                        other,
                        reply_to,
                        when,
                    )
                )
    batch.read = count
    return batch


def _score_all(warehouse: Warehouse) -> None:
    """A tone score under MODEL for every post that has none (made up, deterministic)."""
    posts = warehouse.posts_without_score(MODEL)
    n = len(posts)
    frame = pd.DataFrame(
        {
            "post_id": posts["post_id"],
            "constructive": [(i % 7) / 7 for i in range(n)],
            "hostile": [(i % 5) / 5 for i in range(n)],
            "is_constructive": [i % 7 > 3 for i in range(n)],
            "is_hostile": [i % 5 > 3 for i in range(n)],
            "tone": ["constructive" if i % 7 > 3 else "neutral" for i in range(n)],
            "model_version": MODEL,
            "attributes": [{"evidence": 0.5} for _ in range(n)],
            "reasons": [["evidence"] for _ in range(n)],
            "unscored_reason": None,
        }
    )
    warehouse.write_tone_scores(frame)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse of 24 scored posts: 6 per day and platform, built once for the module."""
    warehouse = Warehouse(tmp_path_factory.mktemp("parquet") / "wh.duckdb")
    warehouse.init()
    for p, source in enumerate(PLATFORMS):
        for d, day in enumerate(DAYS):
            warehouse.upsert_batch(_batch(source, day, first=100 * (2 * p + d), count=6), run_id="r1")
    _score_all(warehouse)
    return warehouse.path


@pytest.fixture()
def warehouse(built: Path, tmp_path: Path) -> Warehouse:
    """A copy of the built warehouse that a test may change."""
    return Warehouse(Path(shutil.copy(built, tmp_path / "wh.duckdb")))


def _files(out: Path) -> dict[str, int]:
    """Every partition file under `out` and the time it was last written."""
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*.parquet")}


SUMS = {
    "posts": "count(*), sum(hash(post_id, author_id, text, tone)), round(sum(constructive), 9), count(DISTINCT date)",
    "interactions": "count(*), sum(hash(interaction_id, kind, src_account_id, dst_account_id)), 0, 0",
}


def _sums_in_parquet(out: Path, dataset: str) -> tuple:
    sql = f"SELECT {SUMS[dataset]} FROM read_parquet(?, hive_partitioning = true)"
    return duckdb.execute(sql, [str(out / dataset / "**" / "*.parquet")]).fetchone()


def _sums_in_warehouse(warehouse: Warehouse, dataset: str) -> tuple:
    source = {
        "posts": f"""(SELECT p.*, CAST(p.created_at AS DATE) AS date, t.constructive, t.tone FROM posts p
                     LEFT JOIN tone_scores t ON t.post_id = p.post_id AND t.model_version = '{MODEL}')""",
        "interactions": "interactions",
    }[dataset]
    with warehouse.connect(read_only=True) as con:
        return con.execute(f"SELECT {SUMS[dataset]} FROM {source}").fetchone()


def test_export_reads_back_equal_to_the_warehouse(warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = export_parquet(warehouse, out, model_version=MODEL)
    assert result.full
    assert result.datasets["posts"].rows == result.datasets["posts"].rows_written == 24
    assert sorted(result.datasets["posts"].written) == sorted(
        f"date={d:%Y-%m-%d}/platform={p}" for d in DAYS for p in PLATFORMS
    )
    for dataset in ("posts", "interactions"):
        assert _sums_in_parquet(out, dataset) == _sums_in_warehouse(warehouse, dataset)
    # Per partition: 3 of its 6 posts reply (and mention), 4 partitions.
    assert result.datasets["interactions"].rows == 3 * 2 * 4
    # Hive partitions come back as typed columns, and the files do not repeat them.
    kinds = duckdb.execute(
        "SELECT typeof(date), typeof(platform) FROM read_parquet(?, hive_partitioning = true) LIMIT 1",
        [str(out / "posts" / "**" / "*.parquet")],
    ).fetchone()
    assert kinds == ("DATE", "VARCHAR")
    one = next((out / "posts").rglob("*.parquet"))
    assert not {"date", "platform"} & set(pq.read_schema(one).names)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["header"]["model_version"] == MODEL and not manifest["header"]["pseudonymized"]


def test_a_second_export_without_new_posts_writes_nothing(warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export_parquet(warehouse, out, model_version=MODEL)
    before = _files(out)
    again = export_parquet(warehouse, out, model_version=MODEL)
    assert not again.full
    assert [d.written for d in again.datasets.values()] == [[], []]
    assert _files(out) == before


def test_new_posts_on_one_date_rewrite_only_that_partition(warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export_parquet(warehouse, out, model_version=MODEL)
    before = _files(out)
    warehouse.upsert_batch(_batch("bluesky", DAYS[1], first=900, count=4), run_id="r2")
    _score_all(warehouse)
    result = export_parquet(warehouse, out, model_version=MODEL)
    changed = "date=2026-11-03/platform=bluesky"
    assert result.datasets["posts"].written == [changed]
    assert result.datasets["interactions"].written == [changed]
    assert result.datasets["posts"].rows_written == 6 + 4
    after = _files(out)
    assert {f for f in after if after[f] != before.get(f)} == {
        f"posts/{changed}/part-0.parquet",
        f"interactions/{changed}/part-0.parquet",
    }
    assert _sums_in_parquet(out, "posts") == _sums_in_warehouse(warehouse, "posts")


def test_a_new_score_or_a_deleted_partition_is_exported(warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "export"
    export_parquet(warehouse, out, model_version=MODEL)
    with warehouse.connect() as con:
        con.execute("UPDATE tone_scores SET tone = 'hostile' WHERE post_id = 'mastodon:p0'")
        con.execute("DELETE FROM interactions WHERE source = 'bluesky' AND created_at < '2026-11-03'")
        con.execute("DELETE FROM posts WHERE source = 'bluesky' AND created_at < '2026-11-03'")
    result = export_parquet(warehouse, out, model_version=MODEL)
    assert result.datasets["posts"].written == ["date=2026-11-02/platform=mastodon"]
    assert result.datasets["posts"].removed == ["date=2026-11-02/platform=bluesky"]
    assert not (out / "posts" / "date=2026-11-02" / "platform=bluesky").exists()
    assert _sums_in_parquet(out, "posts") == _sums_in_warehouse(warehouse, "posts")
    assert _sums_in_parquet(out, "interactions") == _sums_in_warehouse(warehouse, "interactions")


def test_pseudonymised_export_holds_no_ids_handles_or_links(warehouse: Warehouse, tmp_path: Path) -> None:
    out = tmp_path / "export"
    names = Pseudonyms(KEY)
    export_parquet(warehouse, out, model_version=MODEL, names=names)
    posts = duckdb.execute(
        "SELECT * FROM read_parquet(?, hive_partitioning = true)", [str(out / "posts" / "**" / "*.parquet")]
    ).df()
    assert len(posts) == 24
    assert set(posts["post_id"]) == {names.post(f"{s}:p{i}") for s in PLATFORMS for i in _ids(s)}
    assert set(posts["author_id"]) == {names.account(f"{s}:{n}") for s in PLATFORMS for n in (1, 2)}
    assert posts["url"].isna().all()
    assert not posts["text"].str.contains("@user1|@user2").any()
    assert posts["reply_to_post_id"].dropna().isin(posts["post_id"]).all()  # replies still join
    files = b"".join(p.read_bytes() for p in out.rglob("*.parquet"))
    assert b"mastodon:p" not in files and b"bluesky:1" not in files
    # Another key gives other pseudonyms: everything is exported again.
    again = export_parquet(warehouse, out, model_version=MODEL, names=Pseudonyms(b"x" * 32))
    assert again.full and len(again.datasets["posts"].written) == 4


def test_accounts_that_opted_out_leave_the_export(warehouse: Warehouse, tmp_path: Path) -> None:
    from warehouse import opt_outs

    out = tmp_path / "export"
    export_parquet(warehouse, out, model_version=MODEL)
    opt_outs.add(warehouse, "mastodon:2")
    result = export_parquet(warehouse, out, model_version=MODEL)
    assert result.full  # the list changed: every partition is written again
    posts = duckdb.execute(
        "SELECT author_id, text FROM read_parquet(?, hive_partitioning = true)",
        [str(out / "posts" / "**" / "*.parquet")],
    ).df()
    assert len(posts) == 24 - 6 and "mastodon:2" not in set(posts["author_id"])
    # Their handle is gone from other people's posts too; other mentions stay.
    assert not posts["text"].str.contains("@user2").any() and posts["text"].str.contains("@user1").any()
    links = duckdb.execute(
        "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) "
        "WHERE src_account_id = 'mastodon:2' OR dst_account_id = 'mastodon:2'",
        [str(out / "interactions" / "**" / "*.parquet")],
    ).fetchone()
    assert links == (0,)


def _ids(source: str) -> list[int]:
    p = PLATFORMS.index(source)
    return [100 * (2 * p + d) + i for d in range(2) for i in range(6)]


def test_export_parquet_command(
    warehouse: Warehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main

    out = tmp_path / "cli-export"
    args = ["--data-dir", str(tmp_path), "export-parquet", "--out", str(out)]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("COMMONGROUND_DATABASE", str(warehouse.path))
        env.setenv("COMMONGROUND_PSEUDONYMIZE_EXPORTS", "false")
        assert main(args) == 0
        first = capsys.readouterr().out
        assert main(args) == 0
        second = capsys.readouterr().out
    assert "posts: 24 rows in 4 partitions; wrote 4" in first
    assert "posts: 24 rows in 4 partitions; wrote 0 (0 rows), 4 unchanged" in second
    assert "read_parquet(" in first
    runs = warehouse.query(
        "SELECT status, counts FROM runs WHERE flow = 'export-parquet' ORDER BY started_at"
    )
    assert list(runs["status"]) == ["completed", "completed"]
    assert json.loads(runs["counts"].iloc[1])["posts_partitions_written"] == 0
