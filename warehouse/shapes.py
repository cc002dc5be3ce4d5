"""The declared shape of every JSON column: the warehouse writes through it and the dashboard reads through it.

A JSON column without a declaration drifts: a producer writes one shape, a reader guesses another and
shows nothing. Each `JsonColumn` validates what is written (a wrong shape fails the write, with the
column named) and parses what is read into typed values. Raw payloads (`raw`) are kept as the
platform sent them and have no declaration of ours.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

T = TypeVar("T")


class TopAccount(BaseModel):
    """One of a camp's most endorsed accounts: reposts and quotes it received from inside the camp."""

    model_config = ConfigDict(frozen=True)
    account_id: str
    endorsements: int


@dataclass(frozen=True)
class JsonColumn(Generic[T]):
    table: str
    column: str
    adapter: TypeAdapter[T]
    meaning: str

    def dump(self, value: Any) -> str | None:
        """Validate a producer's value and write it as JSON (None stays SQL NULL)."""
        if value is None:
            return None
        try:
            checked = self.adapter.validate_python(value)
        except ValidationError as exc:
            raise ValueError(f"{self.table}.{self.column} must be {self.meaning}: {exc}") from exc
        return self.adapter.dump_json(checked, fallback=str).decode()

    def load(self, raw: Any) -> T | None:
        """Parse a stored value (a JSON string, or what DuckDB already decoded); None for NULL."""
        if raw is None or (isinstance(raw, float) and raw != raw):
            return None
        return self.adapter.validate_python(json.loads(raw) if isinstance(raw, str | bytes) else raw)


JSON_COLUMNS: dict[tuple[str, str], JsonColumn[Any]] = {}


def _declare(table: str, column: str, shape: type[T], meaning: str) -> JsonColumn[T]:
    declared = JsonColumn(table, column, TypeAdapter(shape), meaning)
    JSON_COLUMNS[(table, column)] = declared
    return declared


TOP_HASHTAGS = _declare(
    "community_profiles", "top_hashtags", list[tuple[str, float]], "[[hashtag, c-TF-IDF weight], …]"
)
TOP_TERMS = _declare(
    "community_profiles", "top_terms", list[tuple[str, float]], "[[lemma, c-TF-IDF weight], …]"
)
TOP_ACCOUNTS = _declare(
    "community_profiles",
    "top_accounts",
    list[TopAccount],
    '[{"account_id": …, "endorsements": n}, …], most first',
)
CAMPS_REACHED = _declare("voices", "camps_reached", dict[int, float], "{camp_id: constructive engagements}")
EXAMPLE_POSTS = _declare("voices", "example_posts", list[str], "[post_id, …], best first")
ENTITIES = _declare("post_features", "entities", list[tuple[str, str]], "[[text, spaCy label], …]")
TONE_ATTRIBUTES = _declare("tone_scores", "attributes", dict[str, float], "{attribute: probability}")
API_ATTRIBUTES = _declare("api_scores", "attributes", dict[str, float], "{attribute: probability}")
RUN_PARAMS = _declare("runs", "params", dict[str, Any], "{parameter: value} as the flow was called")
RUN_COUNTS = _declare("runs", "counts", dict[str, Any], "{count: value} the flow reported")
