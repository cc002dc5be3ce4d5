"""File imports: commonground JSONL, line by line, with every bad line quarantined and the run going on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from flows.sources.base import Page, Source
from flows.sources.jsonl import FORMAT_VERSION, normalise_post
from warehouse.records import Batch, Provenance, Quarantined, stable_id

PAGE_LINES = 2_000


class FileSource(Source):
    """Reads files in commonground's JSONL format (see `flows/sources/jsonl.py`)."""

    name = "file"

    def __init__(self, platform: str = "file") -> None:
        self.platform = platform

    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        path = Path(query)
        if not path.exists():
            raise FileNotFoundError(
                f"Import file {path} does not exist. Check COMMONGROUND_IMPORT_PATHS or the --path you gave."
            )
        provenance = Provenance(
            source=self.name,
            query=str(path),
            url=path.resolve().as_uri(),
            client_version=FORMAT_VERSION,
            retrieved_at=datetime.now(UTC).replace(tzinfo=None),
        )
        batch = Batch()
        with path.open("rb") as handle:
            for line_no, raw_line in enumerate(handle, start=1):
                if not raw_line.strip():
                    continue
                batch.extend(self._line(raw_line, line_no, str(path), provenance))
                if batch.read >= PAGE_LINES:
                    yield Page(batch=batch, cursor=str(line_no))
                    batch = Batch()
        if batch.read:
            yield Page(batch=batch)

    def _line(self, raw_line: bytes, line_no: int, origin: str, provenance: Provenance) -> Batch:
        try:
            text = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self._quarantine(
                raw_line.decode("utf-8", errors="replace"), line_no, origin, f"not UTF-8: {exc.reason}"
            )
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            return self._quarantine(text, line_no, origin, f"invalid JSON: {exc.msg} at column {exc.colno}")
        try:
            return normalise_post(obj, default_platform=self.platform, provenance=provenance)
        except ValueError as exc:
            return self._quarantine(text, line_no, origin, str(exc))

    def _quarantine(self, raw: str, line_no: int, origin: str, reason: str) -> Batch:
        raw = raw.rstrip("\r\n")
        record = Quarantined(
            quarantine_id=stable_id(self.name, origin, line_no, raw),
            source=self.name,
            origin=origin,
            line_no=line_no,
            reason=f"line {line_no}: {reason}",
            raw=raw,
        )
        return Batch(quarantined=[record], read=1)
