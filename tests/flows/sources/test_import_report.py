"""Imports explain themselves: dates read every way, `--preview`, the summary with its top reasons and
loud warning, and the `ingest` command's exit code."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from flows.cli import build_parser, cmd_ingest, main
from flows.options import RunOptions
from flows.pipeline import ingest_query
from flows.sources.dates import parse_timestamp
from flows.sources.files import FileSource
from flows.sources.formats import DESCRIPTIONS
from flows.sources.import_report import describe_import, preview, reason_key
from warehouse.store import Warehouse

WRITTEN = Path(__file__).resolve().parents[2] / "fixtures" / "written"
CSV = WRITTEN / "csv/tweets_uk_dates.csv"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2014-10-12T18:32:49Z", datetime(2014, 10, 12, 18, 32, 49)),
        ("2014-10-12T19:32:49+01:00", datetime(2014, 10, 12, 18, 32, 49)),
        ("2014-10-12 18:32:49", datetime(2014, 10, 12, 18, 32, 49)),  # no zone: UTC
        ("2024-09-02T09:15:30.123456789Z", datetime(2024, 9, 2, 9, 15, 30, 123456)),
        ("Sun Oct 12 18:32:49 +0000 2014", datetime(2014, 10, 12, 18, 32, 49)),
        ("Sun, 12 Oct 2014 19:32:49 +0100", datetime(2014, 10, 12, 18, 32, 49)),
        (1413138769, datetime(2014, 10, 12, 18, 32, 49)),
        (1413138769000, datetime(2014, 10, 12, 18, 32, 49)),
        ("1413138769.0", datetime(2014, 10, 12, 18, 32, 49)),
    ],
)
def test_times_are_read_every_way_and_stored_in_utc(value: object, expected: datetime) -> None:
    assert parse_timestamp(value) == expected


def test_day_month_dates_need_an_explicit_layout() -> None:
    with pytest.raises(ValueError, match=r"pass --date-format '%d/%m/%y' \(day first, UK\)"):
        parse_timestamp("06/01/14")
    with pytest.raises(ValueError, match="it reads as day/month: --date-format '%d/%m/%Y'"):
        parse_timestamp("13/01/2014")
    assert parse_timestamp("06/01/14", date_format="%d/%m/%y") == datetime(2014, 1, 6)
    assert parse_timestamp("06/01/14", date_format="%m/%d/%y") == datetime(2014, 6, 1)
    with pytest.raises(ValueError, match="does not match --date-format"):
        parse_timestamp("2014-01-06", date_format="%d/%m/%y")


def test_the_help_lists_every_format() -> None:
    ingest = build_parser()._subparsers._group_actions[0].choices["ingest"]  # type: ignore[union-attr]
    text = ingest.format_help()
    for name, description in DESCRIPTIONS.items():
        assert name in text and description[:40] in " ".join(text.split())


def test_preview_shows_the_mapping_and_the_first_rows_without_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    lines = preview(FileSource(date_format="%d/%m/%y %H:%M"), CSV)
    assert lines[0].endswith("read as csv")
    assert "  author_id            ← made from the handle (no author id column)" in lines
    assert any("text                 ← 'full_text'  (guessed from the header)" in line for line in lines)
    assert any("file:420000000000000002 by nurse_kim [file:nurse_kim] at 2014-01-06 10:30:00 UTC; reply to" in line for line in lines)  # fmt: skip
    refused = preview(FileSource(), CSV)
    assert sum("NOT STORED" in line and "--date-format" in line for line in refused) == 3
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "ingest", "--path", str(CSV), "--preview", "--platform", "x"]) == 0
    assert "x:420000000000000001 by DrJane" not in capsys.readouterr().out  # dates refused: nothing mapped
    assert not (data / "commonground.duckdb").exists()  # nothing written


def test_the_summary_names_the_commonest_reasons_and_warns_with_the_fix(warehouse: Warehouse) -> None:
    counts = ingest_query(warehouse, FileSource(), str(CSV), run_id="r1")
    rows = warehouse.query("SELECT reason, line_no FROM quarantine WHERE run_id = 'r1' ORDER BY line_no")
    said = describe_import(
        str(CSV), vars(counts), list(zip(rows["reason"], rows["line_no"], strict=True)), "csv"
    )
    assert (
        said[0]
        == f"{CSV}: read 3 — stored 0 (of which 0 edits), duplicates 0, conflicts 0, quarantined 3 (read as csv)"
    )
    assert said[2] == "    3 × created_at … has day and month in an order this value cannot tell"
    assert said[3].startswith("        line 2: created_at '06/01/14 09:12' has day and month")
    assert "WARNING: 3 of the 3 records" in said[4] and "--date-format" in said[4]
    assert reason_key("line 7, item 2: author 1404393588541202433 is not known") == "author N is not known"


def test_a_jsonl_reading_of_another_tools_export_suggests_the_format(
    tmp_path: Path, warehouse: Warehouse
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text('{"id": "1", "message": "hello"}\n{"id": "2", "message": "again"}\n')
    counts = ingest_query(warehouse, FileSource(), str(path), run_id="r1")
    rows = warehouse.query("SELECT reason, line_no FROM quarantine")
    said = describe_import(
        str(path), vars(counts), list(zip(rows["reason"], rows["line_no"], strict=True)), "jsonl"
    )
    assert "WARNING: 2 of the 2 records" in said[-1] and "--format (twarc2, x-v1" in said[-1]


@pytest.mark.usefixtures("prefect_harness")
def test_ingest_prints_reasons_and_fails_when_nothing_was_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The command itself, under the suite's Prefect harness (main() would start Prefect its own way).
    data = tmp_path / "data"

    def ingest(*extra: str) -> int:
        args = build_parser().parse_args(["--data-dir", str(data), "ingest", "--path", str(CSV), *extra])
        return int(cmd_ingest(args, RunOptions(data_dir=data).settings()))

    assert ingest() == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["quarantined"] == 3
    assert "WARNING: 3 of the 3 records" in err and "nothing was stored" in err
    assert ingest("--date-format", "%d/%m/%y %H:%M") == 0
    assert json.loads(capsys.readouterr().out)["posts_stored"] == 3
    assert RunOptions(import_date_format="%d/%m/%y").settings().import_date_format == "%d/%m/%y"
