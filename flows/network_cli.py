"""`commonground network`: camps and polarization for any edge list file (TSV or CSV, header optional)."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from models.network import ENDORSEMENT_KINDS, detect_camps, polarization
from models.profiles import edge_camp_stats

# Names other tools use for our interaction kinds.
KIND_ALIASES = {"retweet": "repost", "rt": "repost", "boost": "repost", "reblog": "repost", "quote": "quote"}
HEADER_WORDS = {"src", "source", "from", "dst", "target", "to"}


def read_edge_list(path: Path) -> pd.DataFrame:
    """Edges as src, dst, kind, weight. Columns: `src dst [kind] [weight]`; extra columns (such as
    the Conover 2011 files' link count, time and hashtags) are ignored."""
    if not path.exists():
        raise FileNotFoundError(f"Edge list {path} does not exist.")
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        first = handle.readline()
        delimiter = "\t" if "\t" in first else ("," if "," in first else None)
        handle.seek(0)
        rows = csv.reader(handle, delimiter=delimiter) if delimiter else (line.split() for line in handle)
        records = []
        for line_no, row in enumerate(rows, start=1):
            cells = [c.strip() for c in row]
            if not cells or not any(cells):
                continue
            if line_no == 1 and cells[0].lower() in HEADER_WORDS:
                continue
            if len(cells) < 2:
                raise ValueError(
                    f"{path}:{line_no}: an edge needs at least two columns (src dst), got {row!r}"
                )
            kind = cells[2].lower() if len(cells) > 2 and cells[2] else "repost"
            weight = 1.0
            if len(cells) == 4:
                try:
                    weight = float(cells[3])
                except ValueError as exc:
                    raise ValueError(f"{path}:{line_no}: weight {cells[3]!r} is not a number") from exc
            records.append((cells[0], cells[1], KIND_ALIASES.get(kind, kind), weight))
    if not records:
        raise ValueError(f"{path} holds no edges.")
    return pd.DataFrame(records, columns=["src", "dst", "kind", "weight"])


def analyse_edge_file(path: Path, *, seed: int, n_rewirings: int, hub_share: float) -> dict[str, Any]:
    """Camps and polarization of an edge list file, in the `commonground network` JSON shape:
    `communities` {node id as written in the file: camp id or null}, `camps` (per-camp numbers),
    `polarization` {score, baseline_mean, baseline_std, z, measures: {name: {value, baseline_mean,
    baseline_std, z}}}, and `details` (how the numbers were made)."""
    edges = read_edge_list(path)
    camps_from = "endorsements (repost, quote)"
    if not edges["kind"].isin(ENDORSEMENT_KINDS).any():
        # A file of replies or mentions only: its structure is all there is, so it defines the camps.
        edges = edges.assign(kind="repost")
        camps_from = "all edges (the file has no endorsements)"
    camps = detect_camps(edges, seed=seed)
    # the same edges: polarization reuses the camps' graph and partition instead of finding them again
    computed = polarization(edges, seed=seed, n_rewirings=n_rewirings, hub_share=hub_share, camps=camps)
    pol = _without_baseline(computed) if n_rewirings == 0 else dict(computed)
    return {
        "communities": camps.camp,
        "camps": edge_camp_stats(edges, camps.camp, camps.community),
        "polarization": {
            "score": pol["score"],
            "baseline_mean": pol["baseline_mean"],
            "baseline_std": pol["baseline_std"],
            "z": pol["z"],
            "measures": pol["measures"],
        },
        "details": {
            "camps_from": camps_from,
            "n_fine_communities": camps.n_communities,
            "headline": "modularity of the camp split",
            "excess": pol["excess"],
            "n_rewirings": pol["n_rewirings"],
            "rwc_hub_share": hub_share,
            "seed": seed,
        },
    }


BASELINE_FIELDS = ("baseline_mean", "baseline_std", "z")


def _without_baseline(pol: Mapping[str, Any]) -> dict[str, Any]:
    """With no rewirings there is no baseline: its fields are null (the keys stay), never a 0 that
    reads as "chance gives 0" and a z-score computed against it."""
    measures = {
        name: {**measure, **dict.fromkeys(BASELINE_FIELDS)} for name, measure in pol["measures"].items()
    }
    return {**pol, **dict.fromkeys(BASELINE_FIELDS), "excess": None, "measures": measures}
