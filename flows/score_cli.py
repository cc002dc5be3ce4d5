"""`commonground score`: add tone columns to any CSV, streamed in chunks so memory stays bounded."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from models.tone import score_frame
from models.tone_base import ToneModel

CHUNK_ROWS = 2_000
# The columns score adds (models.tone.score_frame), and the start of each attribute head's column.
OUTPUTS = (
    "constructive",
    "hostile",
    "is_constructive",
    "is_hostile",
    "tone",
    "reasons",
    "unscored_reason",
    "model_version",
)
HEAD_PREFIX = "attr_"
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


def check_score_job(source: Path, out: Path, text_column: str, *, prefix: str = "") -> list[str]:
    """Everything that can be wrong with a `score` command, found before the model loads (seconds):
    the input is a readable CSV with the text column, no input column has the name of an output,
    and `--out` names a file in a folder that exists or can be made. Returns the input's columns."""
    columns = _header(source)
    if text_column not in columns:
        raise ValueError(
            f"{source} has no column {text_column!r}; columns found: {_listed(columns)}. "
            "Pass the right one with --text-column."
        )
    clashes = [c for c in columns if c in {prefix + o for o in OUTPUTS} or c.startswith(prefix + HEAD_PREFIX)]
    if clashes:
        raise ValueError(
            f"{source} already has column(s) {_listed(clashes)}, which score would write. Name the outputs "
            f"apart with --prefix, e.g. --prefix cg_ writes cg_constructive, cg_hostile, cg_tone …"
        )
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder: give a file name, e.g. --out {out / 'scored.csv'}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--out {out}: its folder cannot be created ({exc.strerror}).") from None
    if not os.access(out.parent, os.W_OK):
        raise ValueError(f"--out {out}: the folder {out.parent} is not writable.")
    return columns


def _header(source: Path) -> list[str]:
    if not source.is_file():
        what = "is a folder, not a CSV file" if source.is_dir() else "does not exist"
        raise FileNotFoundError(f"{source} {what}.")
    try:
        with source.open("rb") as raw:
            header = next(csv.reader(_decode_lines(raw, [0])), None)
    except OSError as exc:
        raise ValueError(f"{source} cannot be read ({exc.strerror}).") from None
    except csv.Error as exc:
        raise ValueError(f"{source} is not a CSV file we can read: {exc}.") from None
    if not header:
        raise ValueError(f"{source} is empty: a CSV needs a header row naming its columns.")
    return header


def _listed(names: list[str], most: int = 20) -> str:
    shown = ", ".join(repr(n[:60]) for n in names[:most]) or "none"
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def score_csv(
    model: ToneModel,
    source: Path,
    out: Path,
    text_column: str,
    *,
    chunk_rows: int = CHUNK_ROWS,
    prefix: str = "",
) -> dict[str, int]:
    """Copy `source` to `out` with the tone columns added (named `prefix` + name). Bytes that are not
    UTF-8 are replaced (and counted) rather than failing a million-row file on one bad byte. `out`
    appears whole or not at all: rows go to a temporary file beside it, renamed over it at the end."""
    columns = check_score_job(source, out, text_column, prefix=prefix)
    fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle, source.open("rb") as raw:
            result = _write_scored(model, raw, handle, columns, text_column, prefix, chunk_rows)
        tmp.chmod(0o644)  # mkstemp's file is private; a scored CSV is as readable as any other output
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return result


def _write_scored(
    model: ToneModel,
    raw: BinaryIO,
    handle: TextIO,
    columns: list[str],
    text_column: str,
    prefix: str,
    chunk_rows: int,
) -> dict[str, int]:
    bad_lines = [0]
    rows = 0
    reader = csv.DictReader(_decode_lines(raw, bad_lines))
    writer: csv.DictWriter[str] | None = None
    for chunk in _chunks(reader, chunk_rows):
        scores = score_frame(model, [row.get(text_column) or "" for row in chunk])
        scores.columns = [f"{prefix}{c}" for c in scores.columns]
        if writer is None:
            if clashes := [c for c in scores.columns if c in columns]:  # a head named like an input column
                raise ValueError(f"The input already has column(s) {_listed(clashes)}: pass --prefix.")
            writer = csv.DictWriter(handle, fieldnames=[*columns, *scores.columns], extrasaction="ignore")
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
