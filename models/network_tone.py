"""Hostility across camps: are replies to the other camps more often hostile than replies at home?

Structure alone says how closed the camps are; tone says how the camps talk when they do meet. The
signal is the share of cross-camp replies that are hostile minus the share of within-camp replies
that are hostile, next to the same difference after shuffling which replies are hostile (seeded
permutations), so "cross-camp replies are hostile" is judged against how hostile replies are anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

import numpy as np
import pandas as pd

from models.camp_lookup import CampLookup

MIN_BASELINE_STD = 1e-3


class Hostility(TypedDict):
    """Share of cross-camp replies that are hostile minus the share within camps, against shuffles."""

    value: float
    baseline_mean: float
    baseline_std: float
    z: float
    share_hostile_across: float
    share_hostile_within: float
    n_across: int
    n_within: int


def hostility_across_camps(
    interactions: pd.DataFrame,
    camps: Mapping[str, int | None],
    *,
    seed: int,
    n_permutations: int,
    kinds: tuple[str, ...] = ("reply",),
) -> Hostility:
    """`interactions`: kind, src_account_id, dst_account_id, and is_hostile (or hostile, read as
    hostile from 0.5). Returns value (across − within), baseline_mean, baseline_std, z, and the two
    shares with their counts. Without replies on both sides of the line every number is 0."""
    frame = interactions[interactions["kind"].isin(kinds)]
    lookup = CampLookup(camps)
    src, dst = lookup.of(frame["src_account_id"]), lookup.of(frame["dst_account_id"])
    placed = src.notna() & dst.notna()
    if "is_hostile" in frame:
        hostile_col = frame["is_hostile"].astype("boolean")
    else:
        hostile_col = frame["hostile"].astype(float) >= 0.5
    placed &= hostile_col.notna()
    hostile = hostile_col[placed].to_numpy(dtype=bool)
    across = (src[placed] != dst[placed]).to_numpy()
    result = Hostility(
        value=0.0,
        baseline_mean=0.0,
        baseline_std=0.0,
        z=0.0,
        share_hostile_across=float(hostile[across].mean()) if across.any() else 0.0,
        share_hostile_within=float(hostile[~across].mean()) if (~across).any() else 0.0,
        n_across=int(across.sum()),
        n_within=int((~across).sum()),
    )
    if not across.any() or across.all():
        return result
    value = _difference(hostile, across)
    rng = np.random.default_rng(seed)
    baseline = [_difference(rng.permutation(hostile), across) for _ in range(n_permutations)]
    mean = float(np.mean(baseline))
    std = float(np.std(baseline, ddof=1)) if n_permutations > 1 else 0.0
    result["value"], result["baseline_mean"], result["baseline_std"] = value, mean, std
    result["z"] = (value - mean) / max(std, MIN_BASELINE_STD)
    return result


def _difference(hostile: np.ndarray, across: np.ndarray) -> float:
    return float(hostile[across].mean() - hostile[~across].mean())
