"""Retention, deletions that stay deleted, and backup/restore, on a real DuckDB warehouse."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from flows.cli import main
from flows.pipeline import ingest_query
from flows.sources.files import FileSource
from warehouse.deletions import post_hash
from warehouse.lifecycle import (
    apply_retention,
    backup,
    delete_deleted_posts,
    read_manifest,
    restore,
    table_checksums,
)
from warehouse.records import utcnow
from warehouse.settings import Settings
from warehouse.shapes import EXAMPLE_POSTS
from warehouse.store import Warehouse

NOW = utcnow().replace(microsecond=0)


def _post(pid: str, author: str, days_ago: float, text: str = "Words about #NHS", **extra: object) -> str:
    created = (NOW - timedelta(days=days_ago)).isoformat() + "Z"
    handle = f"handle{author}"
    return json.dumps(
        {
            "id": pid,
            "created_at": created,
            "text": text,
            "author": {"id": author, "handle": handle, "bio": "GP", "followers": 3},
            "platform": "t",
            **extra,
        }
    )


def _conversation(path: Path) -> Path:
    """1 (old, by a), its repost 4 (old, by d) and 3 (old, by c); 2 (new, by b) replies to 1 and mentions a."""
    lines = [
        _post("1", "a", 40, "An old post #NHS"),
        _post("3", "c", 35, "Another old one"),
        _post("4", "d", 39, "An old post #NHS", repost_of={"id": "1", "author_id": "a"}),
        _post(
            "2",
            "b",
            1,
            "Replying @handlea",
            reply_to={"id": "1", "author_id": "a"},
            mentions=[{"id": "a", "handle": "handlea"}],
        ),
        _post("5", "e", 2, "A recent post by someone else"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Warehouse, Path]:
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    warehouse.init()
    source = _conversation(tmp_path / "conv.jsonl")
    ingest_query(warehouse, FileSource(platform="t", fmt="jsonl"), str(source), run_id="r1")
    with warehouse.connect() as con:
        # What enrich and analyze would have added, and an old quarantined payload.
        for pid in ("t:1", "t:2", "t:3", "t:4", "t:5"):
            con.execute(
                "INSERT INTO tone_scores (post_id, model_version, is_constructive, is_hostile, tone, scored_at) "
                "VALUES (?, 'm', false, false, 'neutral', ?)",
                [pid, NOW],
            )
            con.execute("INSERT INTO post_features (post_id, n_words) VALUES (?, 3)", [pid])
        for aid, end in (("old", NOW - timedelta(days=33)), ("new", NOW)):
            con.execute(
                "INSERT INTO analyses VALUES (?, 'topic', ?, ?, 'm', 'r1', 1, 1, 1, ?)",
                [aid, end - timedelta(days=7), end, NOW],
            )
            con.execute(
                "INSERT INTO voices (analysis_id, account_id, rank, score, constructiveness, bridging, "
                "hostility, n_posts, example_posts, reasons) VALUES (?, 't:b', 1, 1, 1, 1, 0, 1, ?, 'r')",
                [aid, EXAMPLE_POSTS.dump(["t:1", "t:2"])],
            )
        con.execute(
            "INSERT INTO quarantine VALUES ('q1', 't', 'f', 1, 'bad', '{}', 'r0', ?), ('q2', 't', 'f', 2, 'bad', '{}', 'r1', ?)",
            [NOW - timedelta(days=60), NOW],
        )
    return warehouse, source


def _ids(warehouse: Warehouse, sql: str) -> set[str]:
    return set(warehouse.query(sql).iloc[:, 0])


def test_retention_deletes_old_posts_with_what_derives_from_them_and_a_dry_run_only_counts(
    filled: tuple[Warehouse, Path],
) -> None:
    warehouse, _ = filled
    with warehouse.connect() as con:
        con.execute("CHECKPOINT")
    assert b"Another old one" in warehouse.path.read_bytes()
    before = warehouse.table_counts()
    dry = apply_retention(warehouse, 30, dry_run=True)
    assert warehouse.table_counts() == before  # rolled back
    done = apply_retention(warehouse, 30)
    assert done.tables == dry.tables
    # 1 and 3 are old, 4 is old and a repost of 1; 2 and 5 are recent.
    assert done.tables["posts"] == 3
    assert _ids(warehouse, "SELECT post_id FROM posts") == {"t:2", "t:5"}
    assert _ids(warehouse, "SELECT post_id FROM tone_scores") == {"t:2", "t:5"}
    assert _ids(warehouse, "SELECT post_id FROM post_features") == {"t:2", "t:5"}
    # The reply pointing at the deleted post went; the mention of a (no target post) stays, so a stays.
    kinds = warehouse.query("SELECT kind, dst_account_id, target_post_id FROM interactions")
    assert list(kinds["kind"]) == ["mention"] and list(kinds["dst_account_id"]) == ["t:a"]
    assert _ids(warehouse, "SELECT account_id FROM accounts") == {
        "t:a",
        "t:b",
        "t:e",
    }  # c and d had nothing left
    assert _ids(warehouse, "SELECT quarantine_id FROM quarantine") == {"q2"}
    assert _ids(warehouse, "SELECT analysis_id FROM analyses") == {"new"}
    assert _ids(warehouse, "SELECT analysis_id FROM voices") == {"new"}
    examples = warehouse.query("SELECT example_posts FROM voices")["example_posts"][0]
    assert EXAMPLE_POSTS.load(examples) == ["t:2"]
    # The file was rewritten: the deleted posts' words are not in it any more, only in no file at all.
    assert done.file_bytes is not None and b"Another old one" not in warehouse.path.read_bytes()
    assert apply_retention(warehouse, 30).tables == {}  # nothing left to do


def test_a_post_deleted_on_the_platform_stays_deleted_when_the_file_is_imported_again(
    filled: tuple[Warehouse, Path],
) -> None:
    warehouse, source = filled
    done = delete_deleted_posts(warehouse, [("t:1", "test: 404")], source="t")
    assert done.tables["deletions"] == 1 and done.tables["posts"] == 2  # 1 and its repost 4
    counts = ingest_query(warehouse, FileSource(platform="t", fmt="jsonl"), str(source), run_id="r2")
    assert counts.deleted == 2  # 1 and the repost that carries its text
    assert (
        counts.read
        == counts.posts_stored + counts.duplicates + counts.conflicts + counts.quarantined + counts.deleted
    )
    assert "t:1" not in _ids(warehouse, "SELECT post_id FROM posts")
    assert "t:4" not in _ids(warehouse, "SELECT post_id FROM posts")
    assert "t:d" not in _ids(warehouse, "SELECT account_id FROM accounts")  # the reposter had nothing else
    # The deletion is remembered by a hash: no id, handle or text of the post is kept.
    rows = warehouse.query("SELECT * FROM deletions")
    assert list(rows["post_hash"]) == [post_hash("t:1")]
    assert "t:1" not in rows.to_string() and "old post" not in rows.to_string()


def test_backup_then_wipe_then_restore_gives_the_same_tables_and_content(
    filled: tuple[Warehouse, Path], tmp_path: Path
) -> None:
    warehouse, _ = filled
    with warehouse.connect() as con:
        original = table_checksums(con)
    assert original["posts"][0] == 5
    result = backup(warehouse, tmp_path / "b" / "wh-backup.duckdb")
    assert result["tables"] == original
    assert read_manifest(Path(result["backup"]))["tables"] == original
    with pytest.raises(ValueError, match="--force"):
        backup(warehouse, Path(result["backup"]))
    with pytest.raises(ValueError, match="--force"):
        restore(Path(result["backup"]), warehouse)  # the warehouse exists
    warehouse.path.unlink()
    restore(Path(result["backup"]), warehouse)
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        assert table_checksums(con) == original
        assert "backup_info" not in {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    # A changed warehouse is put back with --force; a file that is not a backup is refused.
    with warehouse.connect() as con:
        con.execute("DELETE FROM posts WHERE post_id = 't:5'")
    restore(Path(result["backup"]), warehouse, force=True)
    assert warehouse.table_counts()["posts"] == 5
    with pytest.raises(ValueError, match="not a commonground backup"):
        restore(warehouse.path, warehouse, force=True)


def test_cli_backup_and_restore_say_what_they_did_and_refuse_to_overwrite(
    filled: tuple[Warehouse, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse, _ = filled
    data = warehouse.path.parent
    warehouse.path.replace(data / "commonground.duckdb")
    out = tmp_path / "copy.duckdb"
    assert main(["--data-dir", str(data), "backup", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "backup →" in printed and "pseudonym key" in printed
    assert main(["--data-dir", str(data), "restore", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["--data-dir", str(data), "restore", str(out), "--force"]) == 0


def test_retention_days_must_be_a_positive_number_of_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Settings(retention_days=0)
    monkeypatch.setenv("COMMONGROUND_RETENTION_DAYS", "abc")
    assert main(["--data-dir", str(tmp_path), "retention", "--dry-run"]) == 2
    assert "COMMONGROUND_RETENTION_DAYS='abc'" in capsys.readouterr().err
    monkeypatch.delenv("COMMONGROUND_RETENTION_DAYS")
    with pytest.raises(SystemExit):
        main(["--data-dir", str(tmp_path), "retention", "--days", "0"])
    assert "keep at least 1 day" in capsys.readouterr().err


@pytest.mark.usefixtures("prefect_harness")
def test_cli_retention_says_what_it_would_delete_then_deletes_and_republishes(
    filled: tuple[Warehouse, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse, _ = filled
    data = warehouse.path.parent
    warehouse.path.replace(data / "commonground.duckdb")
    assert main(["--data-dir", str(data), "retention", "--days", "30", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "dry run" in printed and re.search(r"would delete\s+3\s+posts", printed)
    assert Warehouse(data / "commonground.duckdb").table_counts()["posts"] == 5
    assert main(["--data-dir", str(data), "retention", "--days", "30"]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"deleted\s+3\s+posts", printed) and "snapshot:" in printed
    assert "warehouse file rewritten without them" in printed
    with duckdb.connect(str(data / "snapshot.duckdb"), read_only=True) as con:
        assert {r[0] for r in con.execute("SELECT post_id FROM posts").fetchall()} == {"t:2", "t:5"}
