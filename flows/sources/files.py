"""File imports, item by item (or row by row), with every bad item quarantined and the run going on.

The formats (`flows/sources/formats.py`) are told apart by content; each JSON format may come as JSON
Lines, a JSON array, or pretty-printed documents (`flows/sources/readers.py`). A post read again in the
same file starts a new page, so the warehouse compares it with the copy already kept (a duplicate, an
edit or a conflict: `warehouse/versions.py`) and each page's interactions belong to one copy of a post.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

from flows.sources import mastodon_status, twarc, x_v1
from flows.sources.base import Page, Source
from flows.sources.common import dump, failure_reason, quarantine, repaired
from flows.sources.csv_import import ColumnMapping, check_mapping, map_header, row_to_object
from flows.sources.formats import CLIENTS, FORMATS, FileFormat, detect_format
from flows.sources.jsonl import normalise_post
from flows.sources.readers import MAX_BROKEN_RAW, failing, json_items, open_bytes, plain_suffix
from flows.sources.reddit import RedditContext, normalise_reddit
from warehouse.records import Batch, Provenance, utcnow
from warehouse.settings import Settings

__all__ = ["FORMATS", "FileFormat", "FileSource", "detect_format"]

PAGE_LINES = 2_000
# A file at least this large is normalised in worker processes while this one writes
# (flows/sources/parallel.py): about 30,000 posts of the generated conversations.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Its pages are larger: each page costs about the same few statements whatever its size (100,000 posts
# into a 500,000-post warehouse: 16.6 s of CPU writing 2,000-line pages, 8.1 s writing 20,000-line ones).
LARGE_PAGE_LINES = 10_000
# Processes that normalise a large file of a format whose records are built from their item alone:
# each takes every other chunk of `LARGE_PAGE_LINES` items (normalising is most of an import's CPU).
NORMALISE_WORKERS = 2
# Formats whose records are built from their own item only (no context learned from other items):
# an item whose text has no `\uD800`-`\uDFFF` escape cannot hold a lone surrogate (the readers decode
# bytes strictly, and a raw text never holds one), so `repaired` is skipped for it. Other formats
# repair every item.
SELF_CONTAINED: tuple[FileFormat, ...] = ("jsonl", "csv")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
CSV_FIELD_LIMIT = 10 * 1024 * 1024  # characters in one CSV cell; a longer one quarantines its row
EXTRA_CELLS = "(cells beyond the header)"
# One line (or row, or array item) of a file: its number, its raw text, and how to normalise it.
Line = tuple[int, str, Callable[[], Batch]]
Normalise = Callable[[Any, int], Batch]


class FileSource(Source):
    """Reads import files; `platform` names the posts of JSONL and CSV files that do not name theirs,
    and `date_format` (strptime codes) reads their times when they are written in a layout of their own."""

    name = "file"

    def __init__(
        self,
        platform: str = "file",
        fmt: FileFormat = "auto",
        csv_columns: dict[str, str] | None = None,
        date_format: str | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown file format {fmt!r}; choose one of {', '.join(FORMATS)}")
        self.platform = platform
        self.fmt = fmt
        check_mapping(csv_columns or {})
        self.csv_columns = dict(csv_columns or {})
        self.date_format = date_format or None
        self.mapping: ColumnMapping | None = None  # the last CSV file's, for --preview
        self.csv_field_limit = CSV_FIELD_LIMIT
        self.parallel_min_bytes = PARALLEL_MIN_BYTES
        self.page_lines = PAGE_LINES
        self.large_page_lines = LARGE_PAGE_LINES
        self.normalise_workers = NORMALISE_WORKERS

    @classmethod
    def from_settings(cls, settings: Settings) -> FileSource:
        return cls(
            platform=settings.import_platform,
            fmt=settings.import_format,
            csv_columns=settings.csv_columns,
            date_format=settings.import_date_format,
        )

    def format_of(self, path: Path) -> FileFormat:
        if not path.exists():
            raise FileNotFoundError(
                f"Import file {path} does not exist. Check COMMONGROUND_IMPORT_PATHS or the --path you gave."
            )
        return detect_format(path) if self.fmt == "auto" else self.fmt

    def lines(self, path: Path) -> Iterator[Line]:
        """Every item of the file with how to normalise it (`fetch` and `--preview` share this)."""
        fmt = self.format_of(path)
        prov = Provenance(
            source=self.name,
            query=str(path),
            url=path.resolve().as_uri(),
            client_version=CLIENTS[fmt],
            retrieved_at=utcnow(),
        )
        # Lone surrogates (`repaired`) are looked for where they can be: in every record, or in an item
        # of a self-contained format only when its text escapes one (or a name given here holds one).
        always = fmt not in SELF_CONTAINED or bool(_SURROGATE.search(self.platform + str(path)))
        items = self._csv_rows(path, prov) if fmt == "csv" else self._json_lines(fmt, path, prov)
        for line_no, raw, normalise in items:
            if always or ("\\u" in raw and _SURROGATE_ESCAPE.search(raw)):
                yield line_no, raw, lambda f=normalise: repaired(f())  # type: ignore[misc]
            else:
                yield line_no, raw, normalise

    def _json_lines(self, fmt: FileFormat, path: Path, prov: Provenance) -> Iterator[Line]:
        normalise = self._normaliser(fmt, path, prov)
        for line_no, raw, parse in json_items(path):
            yield line_no, raw, lambda p=parse, n=line_no: normalise(p(), n)  # type: ignore[misc]

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        """The file's pages; a large file is normalised in worker processes (`parallel_min_bytes`)."""
        path = Path(query)
        fmt = self.format_of(path)  # a file that is missing or unreadable says so here, not in a worker
        if self._in_worker(path):
            from flows.sources.parallel import pages_in_workers

            workers = self.normalise_workers if fmt in SELF_CONTAINED else 1
            yield from pages_in_workers(self, path, max(1, min(workers, os.cpu_count() or 1)))
        else:
            yield from self.pages(path)

    def _in_worker(self, path: Path) -> bool:
        cores = os.cpu_count() or 1
        if cores < 2 or multiprocessing.current_process().daemon:
            return False  # one core, or a daemonic process (a Dask worker) that may not start one
        # Workers pay on a busy machine too, now that pages cross as tables (100,000 posts into a
        # 500,000-post warehouse, 2 cores, two busy loops running: 36.8 s read here, 26.3 s with two
        # workers, for 15% more CPU in all); records sent as objects cost a third more CPU, and lost.
        return path.stat().st_size >= self.parallel_min_bytes

    def pages(self, path: Path) -> Iterator[Page]:
        """Pages of up to `page_lines` items, every bad item quarantined, in this process."""
        for chunk in self.chunks(path, 0, 1):
            yield from chunk

    def chunks(self, path: Path, worker: int, workers: int) -> Iterator[list[Page]]:
        """The pages of every `workers`-th chunk of the file from chunk `worker` on (what one of
        `workers` processes normalises). A chunk is `page_lines` items (`large_page_lines` in a file
        of `parallel_min_bytes` or more), one page unless a post read again starts another (or its
        items hold many records each, as a twarc2 line of 100 tweets); the items of other chunks are
        read, not normalised."""
        large = path.stat().st_size >= self.parallel_min_bytes
        size = self.large_page_lines if large else self.page_lines
        numbered = enumerate(self._to_the_end(path))
        for chunk, items in groupby(numbered, key=lambda item: item[0] // size):
            if chunk % workers == worker:
                yield list(self._paged((line for _, line in items), str(path), size))

    def _paged(self, lines: Iterator[Line], origin: str, size: int) -> Iterator[Page]:
        """The items as pages of up to `size` records read: a post read again starts a new page (so the
        warehouse compares the copies), each bad item is quarantined."""
        batch, ids = Batch(), set[str]()
        for line_no, raw, normalise in lines:
            try:
                got = normalise()
            except Exception as exc:  # one record, however it fails (a bug of ours too), is quarantined
                got = repaired(self._quarantine(raw, line_no, origin, failure_reason(exc)))
            got.lines = [line_no] * len(got.posts)
            new_ids = {p.post_id for p in got.posts}
            if batch.read and (batch.read >= size or not new_ids.isdisjoint(ids)):
                yield Page(batch=batch, cursor=str(line_no - 1))
                batch, ids = Batch(), set()
            batch.extend(got)
            ids |= new_ids
        if batch.read:
            yield Page(batch=batch)

    def _to_the_end(self, path: Path) -> Iterator[Line]:
        """`lines(path)`; a file that stops being readable part-way (a `.gz` or `.zst` cut short, a disk
        error) ends with one quarantined line that says where, and what was read before it is kept."""
        items, last = self.lines(path), 0
        while True:
            try:
                line_no, raw, normalise = next(items)
            except StopIteration:
                return
            except Exception as exc:
                if not last:
                    raise  # nothing read: the file itself is wrong, and the error says how
                reason = (
                    f"the file could not be read past line {last} ({type(exc).__name__}: {exc}); the rest "
                    "was not imported: check the file is whole (not cut short) and decompresses"
                )
                yield last + 1, "", failing(reason)
                return
            last = line_no
            yield line_no, raw, normalise

    def _normaliser(self, fmt: FileFormat, path: Path, prov: Provenance) -> Normalise:
        origin = str(path)
        if fmt == "twarc2":
            return lambda obj, n: twarc.normalise_twarc_line(obj, prov, origin, n)
        if fmt == "x-v1":
            return lambda obj, n: x_v1.normalise_v1_item(obj, prov, origin, n)
        if fmt == "bluesky":
            from flows.sources import bluesky  # atproto takes a second to import: only when needed

            return lambda obj, n: bluesky.normalise_bluesky_item(obj, prov, origin, n)
        if fmt == "mastodon-json":
            # One context per file, so a reply whose parent is in the same dump links to it by URI.
            status_ctx = mastodon_status.StatusContext(instance=None, provenance=prov)
            return lambda obj, n: mastodon_status.normalise_mastodon_item(obj, status_ctx, origin, n)
        if fmt == "reddit":
            reddit_ctx = RedditContext(provenance=prov)
            for _, _, parse in json_items(path):  # first pass: who wrote each post, for reply edges
                try:
                    value = parse()
                except (ValueError, RecursionError):
                    continue  # quarantined by the second pass
                for item in value if isinstance(value, list) else [value]:
                    reddit_ctx.learn(item)
            return lambda obj, n: normalise_reddit(obj, reddit_ctx)
        return lambda obj, n: normalise_post(
            obj, default_platform=self.platform, provenance=prov, date_format=self.date_format
        )

    def _csv_rows(self, path: Path, prov: Provenance) -> Iterator[Line]:
        delimiter = "\t" if plain_suffix(path) == ".tsv" else ","
        # Python's default cell limit (131,072 characters) is less than a long post with its raw JSON;
        # the limit is the csv module's, for the whole process, so it is only ever raised.
        csv.field_size_limit(max(csv.field_size_limit(), self.csv_field_limit))
        with open_bytes(path) as binary:
            handle = _RowText(
                io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
            )
            reader = csv.DictReader(handle, delimiter=delimiter)
            try:
                header = list(reader.fieldnames or [])
            except csv.Error as exc:
                raise ValueError(
                    f"{path}: the header line is not CSV ({exc}); check the file and its delimiter"
                ) from None
            self.mapping = map_header(header, self.csv_columns, str(path))
            handle.take()
            start = reader.line_num + 1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:  # a cell over the limit: that row only, the reader goes on
                    line_no, start = start, reader.line_num + 1
                    yield line_no, handle.take(), failing(f"not a CSV row: {exc}")
                    continue
                line_no, start = start, reader.line_num + 1
                handle.take()
                yield line_no, _row_raw(row), lambda row=row: self._csv_row(row, self.mapping, prov)  # type: ignore[misc]

    def _csv_row(self, row: dict[str | None, Any], mapping: ColumnMapping | None, prov: Provenance) -> Batch:
        if any("\udc80" <= ch <= "\udcff" for v in row.values() if isinstance(v, str) for ch in v):
            raise ValueError("not UTF-8: the row holds bytes that are not UTF-8")
        assert mapping is not None
        obj = row_to_object(row, mapping)
        return normalise_post(
            obj, default_platform=self.platform, provenance=prov, date_format=self.date_format
        )

    def _quarantine(self, raw: str, line_no: int, origin: str, reason: str) -> Batch:
        reason = reason if reason.startswith("line ") else f"line {line_no}: {reason}"
        return quarantine(self.name, origin, line_no, reason, raw.rstrip("\r\n"))


class _RowText:
    """The lines a CSV reader takes, kept until `take()`: the text of a row the reader could not parse."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.kept: list[str] = []

    def __iter__(self) -> _RowText:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.kept.append(line)
        return line

    def take(self) -> str:
        text, self.kept = "".join(self.kept)[:MAX_BROKEN_RAW], []
        return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


def _row_raw(row: dict[str | None, Any]) -> str:
    """A row as JSON; cells beyond the header (the csv module's `None` key) under a name of their own."""
    named = {EXTRA_CELLS if key is None else key: value for key, value in row.items()}
    return dump(named).encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
