"""Every JSON column has one declared shape; a wrong shape fails the write and names the column."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from warehouse.shapes import CAMPS_REACHED, JSON_COLUMNS, TOP_ACCOUNTS, TopAccount
from warehouse.store import Warehouse, schema_statements


def test_every_json_column_of_the_schema_is_declared() -> None:
    in_schema = {
        (table, m.group(1))
        for table, statement in schema_statements().items()
        for m in re.finditer(r"^\s+(\w+)\s+JSON\b", statement, flags=re.MULTILINE)
    }
    # Raw payloads are kept as the platform sent them: their shape is the platform's, not ours.
    ours = {(table, column) for table, column in in_schema if column != "raw"}
    assert ours and ours == set(JSON_COLUMNS)


def test_values_round_trip_into_their_types() -> None:
    written = TOP_ACCOUNTS.dump([{"account_id": "x:1", "endorsements": 4}])
    assert written == '[{"account_id":"x:1","endorsements":4}]'
    assert TOP_ACCOUNTS.load(written) == [TopAccount(account_id="x:1", endorsements=4)]
    assert CAMPS_REACHED.load('{"0": 2.5, "3": 1.0}') == {0: 2.5, 3: 1.0}
    assert TOP_ACCOUNTS.load(None) is None and TOP_ACCOUNTS.dump(None) is None


def test_a_producer_writing_another_shape_fails_with_the_column_named(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    warehouse.init()
    profiles = pd.DataFrame(
        [{"camp_id": 0, "label": "a", "size": 3, "n_posts": 1, "top_accounts": ["x:1", "x:2"]}]
    )
    analysis = {
        "analysis_id": "t:1",
        "topic": "t",
        "window_start": pd.Timestamp("2026-01-01"),
        "window_end": pd.Timestamp("2026-01-08"),
        "model_version": "m",
        "run_id": "r",
        "n_posts": 1,
        "n_accounts": 1,
        "n_edges": 0,
    }
    with pytest.raises(ValueError, match=r"community_profiles\.top_accounts must be"):
        warehouse.write_analysis(analysis, {"community_profiles": profiles})
    assert warehouse.query("SELECT count(*) AS n FROM analyses")["n"].iloc[0] == 0  # nothing half-written


def test_a_warehouse_made_by_this_schema_is_not_altered_again_and_an_older_one_is(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    warehouse = Warehouse(path)
    warehouse.init()

    def columns() -> set[str]:
        with warehouse.connect() as con:
            return {row[0] for row in con.execute("DESCRIBE tone_scores").fetchall()}

    assert "unscored_reason" in columns()
    # The digest noted on `posts` says this schema made it: init leaves it as it is (one query).
    with warehouse.connect() as con:
        con.execute("ALTER TABLE tone_scores DROP COLUMN unscored_reason")
    warehouse.init()
    assert "unscored_reason" not in columns()
    # A warehouse made before (no digest, or another one) gets the statements, and the digest.
    with warehouse.connect() as con:
        con.execute("COMMENT ON TABLE posts IS NULL")
    warehouse.init()
    assert "unscored_reason" in columns()
    with warehouse.connect() as con:
        con.execute("ALTER TABLE tone_scores DROP COLUMN unscored_reason")
    warehouse.init()
    assert "unscored_reason" not in columns()
