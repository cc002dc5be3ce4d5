"""Each account's camp for a column of account ids, by one hash lookup instead of a Python call per row.

`Series.map(camps)` on pandas' Arrow-backed strings calls back into Python once per row (about 1 s per
million rows, and the analysis maps some ten million per window at 1M posts); Arrow's `index_in` does
the same lookup in C. The result is what `ids.map(lambda a: camps.get(a))` gives, dtype included.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


class CampLookup:
    """`camps` (account → camp id, or None for no camp) prepared once for many lookups."""

    def __init__(self, camps: Mapping[str, int | None]) -> None:
        self.camps = camps
        self._keys = pa.array(list(camps), type=pa.large_string()) if camps else None
        values = [np.nan if c is None else c for c in camps.values()]
        self._values = np.asarray([*values, np.nan], dtype=float)  # the last one stands for "not found"

    def of(self, ids: pd.Series) -> pd.Series:
        """The camp of each id in `ids` (same index), NaN where an id has no camp or is unknown:
        float64 when any is NaN, else int64, like `ids.map(camps.get)`."""
        if self._keys is None or ids.empty or not isinstance(ids.dtype, pd.StringDtype):
            return ids.map(lambda a: self.camps.get(a))
        values = pa.array(ids.array).cast(pa.large_string())
        found = pc.index_in(values, value_set=self._keys)
        position = found.fill_null(len(self._values) - 1).to_numpy(zero_copy_only=False)
        out = self._values[position]
        missing = np.isnan(out)
        if missing.all():  # no id has a camp: map gives Nones
            return pd.Series([None] * len(ids), index=ids.index, name=ids.name, dtype=object)
        if not missing.any():  # every id has a camp: whole numbers, as map gives them
            return pd.Series(out.astype(np.int64), index=ids.index, name=ids.name)
        return pd.Series(out, index=ids.index, name=ids.name)


def appears_in(ids: pd.Series, columns: list[pd.Series]) -> np.ndarray:
    """Whether each id appears in any of `columns`: `ids.isin(set().union(*columns))`, by Arrow's hash
    set for text columns (0.3 s instead of 7 s for 200,000 accounts against 2.8M ids at 1M posts)."""
    if not all(isinstance(c.dtype, pd.StringDtype) for c in [ids, *columns]):
        return ids.isin({v for c in columns for v in c}).to_numpy()
    seen = pc.unique(pa.chunked_array([pa.array(c.array).cast(pa.large_string()) for c in columns]))
    found = pc.is_in(pa.array(ids.array).cast(pa.large_string()), value_set=seen)
    return found.fill_null(False).to_numpy(zero_copy_only=False)
