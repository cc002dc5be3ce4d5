"""`commonground score`: add tone columns to any CSV, streamed in chunks so memory stays bounded."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from models.tone import score_frame
from models.tone_base import ToneModel

CHUNK_ROWS = 2_000
# Large posts exist (a 10,000-character rant is a real input); the csv module's default cap is 128 kB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _chunks(reader: Iterator[dict[str, str]], size: int) -> Iterator[list[dict[str, str]]]:
    chunk: list[dict[str, str]] = []
    for row in reader:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def score_csv(
    model: ToneModel, source: Path, out: Path, text_column: str, *, chunk_rows: int = CHUNK_ROWS
) -> dict[str, int]:
    """Copy `source` to `out` with the tone columns added. Bytes that are not UTF-8 are replaced
    (and counted) rather than failing a million-row file on one bad byte."""
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist.")
    bad_lines = [0]
    rows = 0
    with source.open("rb") as raw, out.open("w", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(_decode_lines(raw, bad_lines))
        columns = reader.fieldnames or []
        if text_column not in columns:
            found = ", ".join(repr(c) for c in columns) or "none"
            raise ValueError(
                f"{source} has no column {text_column!r}; columns found: {found}. "
                "Pass the right one with --text-column."
            )
        writer: csv.DictWriter[str] | None = None
        for chunk in _chunks(reader, chunk_rows):
            scores = score_frame(model, [row.get(text_column) or "" for row in chunk])
            if writer is None:
                extra = [c for c in scores.columns if c not in columns]
                writer = csv.DictWriter(handle, fieldnames=[*columns, *extra], extrasaction="ignore")
                writer.writeheader()
            for row, score in zip(chunk, scores.to_dict("records"), strict=True):
                writer.writerow({**row, **{str(k): _fmt(v) for k, v in score.items()}})
            rows += len(chunk)
        if writer is None:
            csv.writer(handle).writerow(columns)
    return {"rows": rows, "lines_with_bad_bytes": bad_lines[0]}


def _fmt(value: object) -> object:
    if isinstance(value, float):
        return "" if value != value else round(value, 4)  # an unscored text's probabilities: empty cells
    return value


def _decode_lines(raw: BinaryIO, bad_lines: list[int]) -> Iterator[str]:
    """UTF-8 line by line; a line with bad bytes has them replaced and is counted, not fatal."""
    for i, line in enumerate(raw):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines[0] += 1
            text = line.decode("utf-8", errors="replace")
        yield text.removeprefix("\ufeff") if i == 0 else text
