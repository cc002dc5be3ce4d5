"""The one interface every source implements: pages of normalised records with a cursor."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from warehouse.records import Batch


@dataclass
class Page:
    """One page of a source: what it normalised, and the cursor to resume after it."""

    batch: Batch
    cursor: str | None = None


class Source(ABC):
    """A platform or a file format. `fetch` yields pages newer than `since` (a stored cursor)."""

    name: str

    @abstractmethod
    def fetch(self, query: str, since: str | None = None) -> Iterator[Page]:
        """Pages for one query (a hashtag, or a file path for file sources)."""
