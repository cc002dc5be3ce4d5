"""One bad record never ends an import: whatever breaks it (JSON nested too deeply, a date past 9999, a CSV
row longer than its header, a cell over the csv module's limit, a bug of ours), it is quarantined with its
reason and raw payload, the rest is stored, and a re-run adds nothing."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses

from flows.pipeline import ingest_query
from flows.sources.bluesky import BlueskySource
from flows.sources.common import Backoff, normalise_each
from flows.sources.dates import parse_timestamp
from flows.sources.files import FileSource
from flows.sources.mastodon import MastodonSource
from warehouse.store import Warehouse

from .conftest import FakeBluesky, FakeMastodon, counts_add_up, mastodon_status, post_view

DEEP = '{"a": ' * 5_000 + "1" + "}" * 5_000  # past Python's recursion limit for json
CSV_HEADER = "id,created_at,text,author_handle\n"


def post(pid: str, **changes: object) -> str:
    obj = {"id": pid, "created_at": "2026-11-16T08:12:00Z", "text": "Waiting lists #NHS"}
    obj["author"] = {"id": "a1", "handle": "jane"}
    return json.dumps({**obj, **changes})


def imported(path: Path, source: FileSource | None = None) -> tuple[list[str], list[tuple[int, str, str]]]:
    """(post ids stored, (line, reason, raw) quarantined) of reading one file."""
    pages = list((source or FileSource()).fetch(str(path)))
    posts = [p.post_id for page in pages for p in page.batch.posts]
    bad = [(q.line_no or 0, q.reason, q.raw) for page in pages for q in page.batch.quarantined]
    return posts, bad


def test_json_nested_too_deeply_is_one_quarantined_record_in_every_container(tmp_path: Path) -> None:
    lines = tmp_path / "deep.jsonl"
    lines.write_text(f"{post('1')}\n{DEEP}\n{post('3')}\n", encoding="utf-8")
    first = tmp_path / "deep_first.jsonl"  # the format is told from the first lines: this one too
    first.write_text(f"{DEEP}\n{post('2')}\n", encoding="utf-8")
    array = tmp_path / "deep.json"
    array.write_text(f"[{post('1')},\n{DEEP},\n{post('3')}]", encoding="utf-8")
    for path, stored, line in [(lines, ["1", "3"], 2), (first, ["2"], 1), (array, ["1", "3"], 2)]:
        posts, bad = imported(path)
        assert posts == [f"file:{i}" for i in stored], path.name
        assert [(n, raw) for n, _, raw in bad] == [(line, DEEP)]
        assert "nested too deeply" in bad[0][1] and "RecursionError" in bad[0][1]


@pytest.mark.parametrize(
    ("created_at", "why"),
    [
        ("9999-12-31T23:59:59-05:00", "in the future"),  # OverflowError converting it to UTC
        ("9999-12-31T23:59:59Z", "in the future"),
        ("0001-01-01T00:00:00+05:00", "before 2006-01-01"),
        ("0001-01-01T00:00:00Z", "before 2006-01-01"),
        ("2005-12-31T23:59:59Z", "before 2006-01-01"),
        (0, "before 2006-01-01"),
        ((datetime.now(UTC) + timedelta(days=2)).isoformat(), "in the future"),
    ],
)
def test_a_time_no_post_can_have_is_refused_with_why(created_at: object, why: str) -> None:
    with pytest.raises(ValueError, match=why) as refused:
        parse_timestamp(created_at, "created_at")
    assert "created_at" in str(refused.value)


def test_the_first_day_of_2006_and_later_today_in_another_zone_are_times() -> None:
    assert parse_timestamp("2006-01-01T00:00:00Z") == datetime(2006, 1, 1)
    soon = datetime.now(UTC) + timedelta(hours=12)
    assert parse_timestamp(soon.isoformat()) == soon.replace(tzinfo=None)


def test_out_of_range_dates_are_quarantined_on_every_path_and_the_run_goes_on(tmp_path: Path) -> None:
    jsonl = tmp_path / "dates.jsonl"
    bad_edit = post("3", edited_at="9999-12-31T23:59:59-05:00")
    jsonl.write_text(
        f"{post('1', created_at='9999-12-31T23:59:59-05:00')}\n{post('2')}\n{bad_edit}\n", encoding="utf-8"
    )
    posts, bad = imported(jsonl)
    assert posts == ["file:2"]
    assert [(n, r.split(" '")[0]) for n, r, _ in bad] == [(1, "line 1: created_at"), (3, "line 3: edited_at")]
    mastodon = tmp_path / "statuses.json"  # a platform's own format goes through the same check
    statuses = [mastodon_status(1), mastodon_status(2, created_at="0001-01-01T00:00:00.000Z")]
    mastodon.write_text(json.dumps(statuses), encoding="utf-8")
    posts, bad = imported(mastodon)
    assert len(posts) == 1 and len(bad) == 1
    assert "before 2006-01-01" in bad[0][1] and json.loads(bad[0][2])["id"] == "2"


def test_a_csv_row_with_more_cells_than_its_header_is_quarantined_with_them(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    path.write_text(
        CSV_HEADER + "1,2026-11-16T08:12:00Z,hi,jane,spill,over\n2,2026-11-16T08:12:00Z,ho,jane\n",
        encoding="utf-8",
    )
    posts, bad = imported(path)
    assert posts == ["file:2"]
    assert bad[0][:2] == (2, "line 2: row has 2 more cell(s) than the header")
    assert json.loads(bad[0][2])["(cells beyond the header)"] == ["spill", "over"]


@pytest.fixture
def small_csv_limit() -> Iterator[int]:
    """The csv module's cell limit (one for the whole process) lowered for one test, then put back."""
    before = csv.field_size_limit()
    csv.field_size_limit(1_000)
    yield 1_000
    csv.field_size_limit(before)


def test_a_cell_past_the_csv_limit_quarantines_its_row_and_the_rest_imports(
    tmp_path: Path, small_csv_limit: int
) -> None:
    path = tmp_path / "big.csv"
    long_row = f"1,2026-11-16T08:12:00Z,{'x' * 2_000},jane\n"
    path.write_text(CSV_HEADER + long_row + "2,2026-11-16T08:12:00Z,ho,jane\n", encoding="utf-8")
    source = FileSource()
    source.csv_field_limit = small_csv_limit
    posts, bad = imported(path, source)
    assert posts == ["file:2"]
    assert bad == [(2, "line 2: not a CSV row: field larger than field limit (1000)", long_row.rstrip("\n"))]


def test_a_cell_longer_than_pythons_default_limit_imports(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    text = "word " * 30_000  # 150,000 characters: over csv's default 131,072
    path.write_text(CSV_HEADER + f'1,2026-11-16T08:12:00Z,"{text}",jane\n2,2026-11-16T08:12:00Z,ho,jane\n')
    pages = list(FileSource().fetch(str(path)))
    assert [len(p.text) for page in pages for p in page.batch.posts] == [len(text), 2]


def test_files_with_a_utf8_bom_import_as_excel_writes_them(tmp_path: Path) -> None:
    bom = "\ufeff"
    plain = tmp_path / "excel.csv"
    plain.write_text(bom + CSV_HEADER + "1,2026-11-16T08:12:00Z,hi,jane\n", encoding="utf-8")
    quoted = tmp_path / "quoted.csv"  # Excel's "CSV UTF-8": BOM, quoted header, CRLF
    quoted.write_bytes(
        (bom + '"id","created_at","text","author_handle"\r\n"2","2026-11-16 08:12","ho","jo"\r\n').encode()
    )
    packed = tmp_path / "excel.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    lines = tmp_path / "bom.jsonl"
    lines.write_text(bom + post("4") + "\n" + bom + post("5") + "\n", encoding="utf-8")
    stored = [imported(path) for path in (plain, quoted, packed, lines)]
    assert stored == [(["file:1"], []), (["file:2"], []), (["file:1"], []), (["file:4", "file:5"], [])]


def test_a_rerun_of_a_bad_file_adds_no_quarantine_rows(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    warehouse.init()
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_text(f"{DEEP}\n{post('1', created_at='9999-12-31T23:59:59-05:00')}\n{post('2')}\n")
    cells = tmp_path / "bad.csv"
    cells.write_text(CSV_HEADER + "1,2026-11-16T08:12:00Z,hi,jane,spill\n")
    for run in ("r1", "r2"):
        for path in (jsonl, cells):
            counts = ingest_query(warehouse, FileSource(), str(path), run_id=run)
            assert counts_add_up(counts)
        if run == "r1":
            first = warehouse.table_counts()
    assert warehouse.table_counts() == first
    assert int(warehouse.query("SELECT count(*) AS n FROM quarantine")["n"][0]) == 3


def test_any_failure_of_one_item_is_quarantined_with_its_type_and_payload() -> None:
    def normalise(item: object) -> object:
        return {"a": 1}[item]  # type: ignore[index]  # a bug: KeyError, or TypeError for a list

    deep: list[object] = []
    for _ in range(3_000):
        deep = [deep]
    batch = normalise_each(["b", deep], normalise, source="t", origin="o")  # type: ignore[arg-type]
    reasons = [q.reason for q in batch.quarantined]
    assert reasons[0].startswith("item 1: KeyError: 'b'") and "please report" in reasons[0]
    assert reasons[1].startswith("item 2: TypeError: unhashable type")
    assert batch.quarantined[0].raw == '"b"'
    assert "not writable as JSON: RecursionError" in batch.quarantined[1].raw  # still kept, as far as it goes
    assert batch.read == 2


def test_a_platform_page_nested_too_deeply_is_quarantined_and_the_run_goes_on(
    http: responses.RequestsMock, warehouse: Warehouse, backoff: Backoff
) -> None:
    fake = FakeMastodon("mastodon.social", [mastodon_status(1)]).install(http)
    fake.fail_next(200, DEEP)  # a 200 whose body no parser can hold
    mastodon = MastodonSource(["mastodon.social"], page_size=3, backoff=backoff, sleep=backoff.sleep)
    counts = ingest_query(warehouse, mastodon, "NHS", run_id="r1")
    assert (counts.read, counts.quarantined) == (1, 1)
    q = warehouse.query("SELECT reason, raw FROM quarantine")
    assert q.loc[0, "reason"].startswith("page not understood: RecursionError")
    assert q.loc[0, "raw"] == DEEP


def test_a_compressed_file_cut_short_keeps_what_it_held_and_says_where_it_ends(tmp_path: Path) -> None:
    whole = "".join(f"{post(str(i), text=f'Post {i} about waiting lists #NHS')}\n" for i in range(300))
    packed = gzip.compress(whole.encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    posts, bad = imported(path)
    assert 0 < len(posts) < 300
    assert bad == [
        (
            len(posts) + 1,
            f"line {len(posts) + 1}: the file could not be read past line {len(posts)} (EOFError: Compressed "
            "file ended before the end-of-stream marker was reached); the rest was not imported: check the "
            "file is whole (not cut short) and decompresses",
            "",
        )
    ]


def test_bluesky_posts_with_a_record_that_is_no_record_or_a_far_date_are_quarantined(
    bluesky: FakeBluesky, warehouse: Warehouse, backoff: Backoff
) -> None:
    no_record = post_view("3lbbad", minutes=1)
    no_record["record"] = ["not", "a", "record"]  # ended the whole search (AttributeError) before
    far = post_view("3lbfar", minutes=2)
    far["record"]["createdAt"] = "9999-12-31T23:59:59-05:00"
    bluesky.posts = [post_view("3lb0001"), no_record, far]
    search = BlueskySource("analyst.bsky.social", "app-pass-1234", page_size=4, backoff=backoff)
    counts = ingest_query(warehouse, search, "NHS", run_id="r1")
    assert (counts.read, counts.posts_stored, counts.quarantined) == (3, 1, 2)
    reasons = sorted(warehouse.query("SELECT reason FROM quarantine")["reason"])
    assert "in the future" in reasons[0] and "record" in reasons[1]
