"""File imports, item by item (or row by row), with every bad item quarantined and the run going on.

The formats (`flows/sources/formats.py`) are told apart by content; each JSON format may come as JSON
Lines, a JSON array, or pretty-printed documents (`flows/sources/readers.py`). A post read again in the
same file starts a new page, so the warehouse compares it with the copy already kept (a duplicate, an
edit or a conflict: `warehouse/versions.py`) and each page's interactions belong to one copy of a post.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flows.sources import mastodon, twarc, x_v1
from flows.sources.base import Page, Source
from flows.sources.common import dump, quarantine, repaired
from flows.sources.csv_import import ColumnMapping, check_mapping, map_header, row_to_object
from flows.sources.formats import CLIENTS, FORMATS, FileFormat, detect_format
from flows.sources.jsonl import normalise_post
from flows.sources.readers import json_items, open_bytes, plain_suffix
from flows.sources.reddit import RedditContext, normalise_reddit
from warehouse.records import Batch, Provenance, utcnow
from warehouse.settings import Settings

__all__ = ["FORMATS", "FileFormat", "FileSource", "detect_format"]

PAGE_LINES = 2_000
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
        if fmt == "csv":
            yield from self._csv_rows(path, prov)
            return
        normalise = self._normaliser(fmt, path, prov)
        for line_no, raw, parse in json_items(path):
            yield line_no, raw, lambda p=parse, n=line_no: normalise(p(), n)  # type: ignore[misc]

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        path = Path(query)
        batch, ids = Batch(), set[str]()
        for line_no, raw, normalise in self.lines(path):
            try:
                got = repaired(normalise())
            except ValueError as exc:
                got = repaired(self._quarantine(raw, line_no, str(path), str(exc)))
            got.lines = [line_no] * len(got.posts)
            new_ids = {p.post_id for p in got.posts}
            if batch.read and (batch.read >= PAGE_LINES or not new_ids.isdisjoint(ids)):
                yield Page(batch=batch, cursor=str(line_no - 1))
                batch, ids = Batch(), set()
            batch.extend(got)
            ids |= new_ids
        if batch.read:
            yield Page(batch=batch)

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
            status_ctx = mastodon.StatusContext(instance=None, provenance=prov)
            return lambda obj, n: mastodon.normalise_mastodon_item(obj, status_ctx, origin, n)
        if fmt == "reddit":
            reddit_ctx = RedditContext(provenance=prov)
            for _, _, parse in json_items(path):  # first pass: who wrote each post, for reply edges
                try:
                    value = parse()
                except ValueError:
                    continue
                for item in value if isinstance(value, list) else [value]:
                    reddit_ctx.learn(item)
            return lambda obj, n: normalise_reddit(obj, reddit_ctx)
        return lambda obj, n: normalise_post(
            obj, default_platform=self.platform, provenance=prov, date_format=self.date_format
        )

    def _csv_rows(self, path: Path, prov: Provenance) -> Iterator[Line]:
        delimiter = "\t" if plain_suffix(path) == ".tsv" else ","
        with open_bytes(path) as binary:
            handle = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
            reader = csv.DictReader(handle, delimiter=delimiter)
            self.mapping = map_header(list(reader.fieldnames or []), self.csv_columns, str(path))
            start = reader.line_num + 1
            for row in reader:
                line_no, start = start, reader.line_num + 1
                raw = dump(row).encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
                yield line_no, raw, lambda row=row: self._csv_row(row, self.mapping, prov)  # type: ignore[misc]

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
