"""File imports, line by line (or row by row), with every bad line quarantined and the run going on.

Formats: commonground JSONL (`jsonl`, see `flows/sources/jsonl.py`), CSV with a column mapping (`csv`,
see `flows/sources/csv_import.py`), twarc2 / X API v2 JSONL (`twarc2`), and Mastodon API JSON dumps
(`mastodon-json`: a JSON array of statuses, or one status per line). `auto` tells them apart by the file
extension and the first line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from flows.sources import mastodon, twarc
from flows.sources.base import Page, Source
from flows.sources.common import dump, quarantine
from flows.sources.csv_import import check_mapping, row_to_object
from flows.sources.jsonl import FORMAT_VERSION, normalise_post
from warehouse.records import Batch, Provenance, utcnow

PAGE_LINES = 2_000
FileFormat = Literal["auto", "jsonl", "csv", "twarc2", "mastodon-json"]
FORMATS: tuple[FileFormat, ...] = ("auto", "jsonl", "csv", "twarc2", "mastodon-json")
# What each format's records are stamped with as the client that produced them.
FORMAT_CLIENTS = {
    "jsonl": FORMAT_VERSION,
    "csv": "commonground-csv/1",
    "twarc2": "twarc2",
    "mastodon-json": "mastodon-api-json",
}
# One line (or row, or array item) of a file: its number, its raw text, and how to normalise it.
Line = tuple[int, str, Callable[[], Batch]]


def detect_format(path: Path) -> FileFormat:
    """The format of a file from its extension and, for JSON lines, the keys of its first object."""
    if path.suffix.lower() in (".csv", ".tsv"):
        return "csv"
    with path.open("rb") as handle:
        first = next((line for line in handle if line.strip()), b"")
    if path.suffix.lower() == ".json" or first.lstrip().startswith(b"["):
        return "mastodon-json"
    try:
        obj = json.loads(first)
    except ValueError:
        return "jsonl"  # the bad line is quarantined with its reason
    if isinstance(obj, dict):
        if "__twarc" in obj or ("data" in obj and "includes" in obj) or "author_id" in obj:
            return "twarc2"
        if "uri" in obj and "account" in obj and "content" in obj:
            return "mastodon-json"
    return "jsonl"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None


class FileSource(Source):
    """Reads import files; `platform` names the posts of JSONL and CSV files that do not name theirs."""

    name = "file"

    def __init__(
        self, platform: str = "file", fmt: FileFormat = "auto", csv_columns: dict[str, str] | None = None
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown file format {fmt!r}; choose one of {', '.join(FORMATS)}")
        self.platform = platform
        self.fmt = fmt
        self.csv_columns = check_mapping(csv_columns or {})

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        path = Path(query)
        if not path.exists():
            raise FileNotFoundError(
                f"Import file {path} does not exist. Check COMMONGROUND_IMPORT_PATHS or the --path you gave."
            )
        fmt = detect_format(path) if self.fmt == "auto" else self.fmt
        prov = Provenance(
            source=self.name,
            query=str(path),
            url=path.resolve().as_uri(),
            client_version=FORMAT_CLIENTS[fmt],
            retrieved_at=utcnow(),
        )
        lines = {
            "jsonl": self._jsonl_lines,
            "csv": self._csv_rows,
            "twarc2": self._twarc_lines,
            "mastodon-json": self._mastodon_items,
        }[fmt](path, prov)
        batch = Batch()
        for line_no, raw, normalise in lines:
            try:
                batch.extend(normalise())
            except ValueError as exc:
                batch.extend(self._quarantine(raw, line_no, str(path), str(exc)))
            if batch.read >= PAGE_LINES:
                yield Page(batch=batch, cursor=str(line_no))
                batch = Batch()
        if batch.read:
            yield Page(batch=batch)

    def _decoded_lines(self, path: Path) -> Iterator[tuple[int, str, Callable[[], str]]]:
        """Non-empty lines with a decoder that raises ValueError on bytes that are not UTF-8."""
        with path.open("rb") as handle:
            for line_no, raw_line in enumerate(handle, start=1):
                if not raw_line.strip():
                    continue

                def decode(raw_line: bytes = raw_line) -> str:
                    try:
                        return raw_line.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise ValueError(f"not UTF-8: {exc.reason}") from None

                yield line_no, raw_line.decode("utf-8", errors="replace"), decode

    def _jsonl_lines(self, path: Path, prov: Provenance) -> Iterator[Line]:
        for line_no, raw, decode in self._decoded_lines(path):
            yield (
                line_no,
                raw,
                lambda d=decode: normalise_post(  # type: ignore[misc]
                    _json(d()), default_platform=self.platform, provenance=prov
                ),
            )

    def _twarc_lines(self, path: Path, prov: Provenance) -> Iterator[Line]:
        for line_no, raw, decode in self._decoded_lines(path):
            yield (
                line_no,
                raw,
                lambda d=decode, n=line_no: twarc.normalise_twarc_line(  # type: ignore[misc]
                    _json(d()), prov, str(path), n
                ),
            )

    def _mastodon_items(self, path: Path, prov: Provenance) -> Iterator[Line]:
        # One context per file, so a reply whose parent is in the same dump links to it by URI.
        ctx = mastodon.StatusContext(instance=None, provenance=prov)
        with path.open("rb") as handle:
            is_array = handle.read(64).lstrip().startswith(b"[")
        if not is_array:
            for line_no, raw, decode in self._decoded_lines(path):
                yield line_no, raw, lambda d=decode: mastodon.normalise_status(_json(d()), ctx)  # type: ignore[misc]
            return
        try:
            items = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            text = path.read_bytes().decode("utf-8", errors="replace")

            def broken(exc: ValueError = exc) -> Batch:
                raise ValueError(f"the file is not a JSON array of statuses: {exc}")

            yield 1, text, broken
            return
        for index, item in enumerate(items, start=1):
            yield index, dump(item), lambda item=item: mastodon.normalise_status(item, ctx)  # type: ignore[misc]

    def _csv_rows(self, path: Path, prov: Provenance) -> Iterator[Line]:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=delimiter)
            required = ("id", "created_at", "text", "author_id", "author_handle")
            missing = [
                f"{self.csv_columns[f]!r}"
                for f in required
                if self.csv_columns[f] not in (reader.fieldnames or [])
            ]
            if missing:
                raise ValueError(
                    f"{path} has no column {', '.join(missing)}; map your columns with "
                    "COMMONGROUND_CSV_COLUMNS or `--column FIELD=COLUMN` (see flows/sources/csv_import.py)"
                )
            start = reader.line_num + 1
            for row in reader:
                line_no, start = start, reader.line_num + 1
                raw = dump(row).encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
                yield line_no, raw, lambda row=row: self._csv_row(row, prov)  # type: ignore[misc]

    def _csv_row(self, row: dict[str | None, Any], prov: Provenance) -> Batch:
        if any("\udc80" <= ch <= "\udcff" for v in row.values() if isinstance(v, str) for ch in v):
            raise ValueError("not UTF-8: the row holds bytes that are not UTF-8")
        obj = row_to_object(row, self.csv_columns)
        return normalise_post(obj, default_platform=self.platform, provenance=prov)

    def _quarantine(self, raw: str, line_no: int, origin: str, reason: str) -> Batch:
        reason = reason if reason.startswith("line ") else f"line {line_no}: {reason}"
        return quarantine(self.name, origin, line_no, reason, raw.rstrip("\r\n"))
