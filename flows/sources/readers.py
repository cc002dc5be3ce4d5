"""Import files as items: JSON Lines, JSON arrays, pretty-printed or concatenated JSON documents.

Each item comes with the line it starts on, its raw text, and a `parse()` that returns the JSON value
or raises ValueError (invalid JSON, bytes that are not UTF-8), so the caller quarantines that one item
and goes on. Files compressed with gzip (`.gz`) or Zstandard (`.zst`, as Pushshift and Arctic Shift
publish Reddit dumps) are read as they are.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

Item = tuple[int, str, Callable[[], Any]]
Container = Literal["lines", "array", "document"]
COMPRESSED = (".gz", ".zst")
MAX_BROKEN_RAW = 1_000_000  # a broken document is quarantined whole, up to this many characters
TOO_DEEP = (
    "invalid JSON: nested too deeply to read (RecursionError: more levels of [ and { than Python allows)"
)


def plain_suffix(path: Path) -> str:
    """The extension that says what is inside: `.csv` for `posts.csv.gz`."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSED:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def open_bytes(path: Path) -> IO[bytes]:
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if suffix == ".zst":
        try:
            import zstandard
        except ImportError:  # pragma: no cover - atproto depends on it
            raise ValueError(f"{path} is Zstandard-compressed: decompress it (`zstd -d {path}`)") from None
        # Pushshift dumps use a long window; the default refuses them.
        reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(path.open("rb"))
        return io.BufferedReader(reader)
    return path.open("rb")


def container(path: Path) -> Container:
    """How the file holds its items: a JSON array, one value per line, or documents spanning lines."""
    with open_bytes(path) as handle:
        for raw_line in handle:
            line = raw_line.strip().removeprefix(b"\xef\xbb\xbf")
            if not line:
                continue
            if line.startswith(b"["):
                return "array"
            try:
                json.loads(line)
            except RecursionError:
                return "lines"  # one whole value on the line, nested too deeply: quarantined as it is read
            except ValueError:
                return "document"
            return "lines"
    return "lines"


def json_items(path: Path) -> Iterator[Item]:
    kind = container(path)
    if kind == "lines":
        yield from _lines(path)
        return
    with open_bytes(path) as handle:
        text = handle.read().decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    yield from (_array(text) if kind == "array" else _documents(text, 0))


def first_values(path: Path, limit: int = 5) -> list[Any]:
    """The first items of a file that parse, for telling its format apart."""
    found: list[Any] = []
    for _, _, parse in json_items(path):
        try:
            found.append(parse())
        except (ValueError, RecursionError):
            continue
        if len(found) >= limit:
            break
    return found


def _check_utf8(raw: str) -> None:
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        raise ValueError("not UTF-8: the item holds bytes that are not UTF-8")


def failing(message: str) -> Callable[[], Any]:
    def fail() -> Any:
        raise ValueError(message)

    return fail


def _lines(path: Path) -> Iterator[Item]:
    with open_bytes(path) as handle:
        for line_no, raw_line in enumerate(handle, start=1):
            if not raw_line.strip():
                continue

            def parse(raw_line: bytes = raw_line) -> Any:
                try:
                    text = raw_line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ValueError(f"not UTF-8: {exc.reason}") from None
                try:
                    return json.loads(text.removeprefix("\ufeff"))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
                except RecursionError:
                    raise ValueError(TOO_DEEP) from None

            yield line_no, raw_line.decode("utf-8", errors="replace").rstrip("\r\n"), parse


class _Lines:
    """Line numbers of positions in a text, counted forward only."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, index: int) -> int:
        self.line += self.text.count("\n", self.pos, index)
        self.pos = index
        return self.line


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _value(text: str, index: int, decoder: json.JSONDecoder) -> tuple[str, Callable[[], Any], int]:
    """(raw, parse, end) of the JSON value at `index`; raises JSONDecodeError. A value nested too
    deeply to decode is passed over to its closing bracket, with a `parse` that says so."""
    try:
        value, end = decoder.raw_decode(text, index)
    except RecursionError:
        end = _closing(text, index)
        if end < 0:
            raise json.JSONDecodeError("nested too deeply and never closed", text, index) from None
        raw = text[index:end].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return raw, failing(TOO_DEEP), end
    raw = text[index:end]

    def parse(value: Any = value, raw: str = raw) -> Any:
        _check_utf8(raw)
        return value

    return raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), parse, end


def _closing(text: str, index: int) -> int:
    """The index after the bracket that closes the one at `index` (strings skipped), or -1."""
    depth, in_string, escaped = 0, False, False
    for pos in range(index, len(text)):
        char = text[pos]
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return pos + 1
    return -1


def _broken(text: str, index: int, line: int, exc: json.JSONDecodeError, what: str) -> Item:
    where = f"line {line + text.count(chr(10), index, exc.pos)}, column {exc.colno}"
    rest = text[index : index + MAX_BROKEN_RAW].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    cut = " (cut to its first 1,000,000 characters here)" if len(text) - index > MAX_BROKEN_RAW else ""
    return line, rest, failing(f"invalid JSON: {exc.msg} at {where}; {what}{cut}")


def _array(text: str) -> Iterator[Item]:
    decoder, lines = json.JSONDecoder(), _Lines(text)
    index = _skip_space(text, text.index("[") + 1)
    if text[index : index + 1] == "]":
        return
    while index < len(text):
        line = lines.at(index)
        try:
            raw, parse, end = _value(text, index, decoder)
        except json.JSONDecodeError as exc:
            yield _broken(text, index, line, exc, "the array's items from here on were not read")
            return
        yield line, raw, parse
        index = _skip_space(text, end)
        if text[index : index + 1] == ",":
            index = _skip_space(text, index + 1)
        elif text[index : index + 1] == "]":
            if text[index + 1 :].strip():
                yield from _documents(text, index + 1)  # arrays written one after another
            return
        else:
            yield (
                lines.at(index),
                text[index : index + 200],
                failing(
                    f"invalid JSON: expected ',' or ']' after the array item of line {line}; the rest was not read"
                ),
            )
            return


def _documents(text: str, start: int) -> Iterator[Item]:
    """JSON values one after another (pretty-printed or not). A value broken within its first line is
    skipped to the next line; one broken further on takes the rest of the file with it."""
    decoder, lines = json.JSONDecoder(), _Lines(text)
    index = _skip_space(text, start)
    while index < len(text):
        line = lines.at(index)
        if text[index] == "[":
            yield from _nested_array(text, index, line)
            return
        try:
            raw, parse, end = _value(text, index, decoder)
        except json.JSONDecodeError as exc:
            line_end = text.find("\n", index)
            line_end = len(text) if line_end < 0 else line_end
            if exc.pos <= line_end:
                raw = text[index:line_end].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                yield line, raw, failing(f"invalid JSON: {exc.msg} at column {exc.colno}")
                index = _skip_space(text, line_end)
                continue
            yield _broken(text, index, line, exc, "the rest of the file was not read")
            return
        yield line, raw, parse
        index = _skip_space(text, end)


def _nested_array(text: str, index: int, line: int) -> Iterator[Item]:
    """An array after other documents: its items, numbered by the lines of the whole file."""
    for item_line, raw, parse in _array(text[index:]):
        yield line + item_line - 1, raw, parse
