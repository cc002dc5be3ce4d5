"""One analysis of one time window: camps, profiles, polarization, hostility across camps and voices.

Stages hand each other typed values: `run_analysis` returns an `Analysis`, `analyse_window` writes it
and returns a `WindowSummary`. The parameters come from the one Settings object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from models.camp_lookup import appears_in
from models.network import Camps, Polarization, detect_camps, polarization
from models.network_layout import network_layout
from models.network_tone import Hostility, hostility_across_camps
from models.profiles import camp_profiles
from models.roles import ROLES, stakeholder_roles
from models.voices import VoiceParams, constructive_voices
from warehouse import opt_outs
from warehouse.settings import Settings
from warehouse.store import Warehouse

BASELINE_FIELDS = ("value", "baseline_mean", "baseline_std", "z")


def voice_params(settings: Settings) -> VoiceParams:
    return VoiceParams(
        prior_weight=settings.voices_prior_weight,
        min_posts=settings.voices_min_posts,
        reach_floor=settings.voices_reach_floor,
        volume_scale=settings.voices_volume_scale,
        mention_weight=settings.voices_mention_weight,
        made_weight=settings.voices_made_weight,
        top_n=settings.voices_top_n,
    )


@dataclass(frozen=True)
class Analysis:
    """What the analysis found, and the tables it writes (one row set per analysis table)."""

    camps: Camps
    polarization: Polarization
    hostility: Hostility
    tables: dict[str, pd.DataFrame] = field(repr=False)


@dataclass(frozen=True)
class WindowSummary:
    """What one analysed window says, as the CLI and the runs table report it."""

    analysis_id: str
    posts: int
    accounts: int
    camps: int
    communities: int
    polarization: float
    polarization_z: float
    polarization_baseline: float
    hostility_across_camps: float
    voices: int


def _roles(
    accounts: pd.DataFrame | None, posts: pd.DataFrame, interactions: pd.DataFrame
) -> dict[str, tuple[str | None, str]]:
    """The role each account of the window declares in its bio; accounts outside the window are not
    read (models/roles.py parses each distinct bio once per process, so a run's windows share them)."""
    if accounts is None or accounts.empty:
        return {}
    active = [posts["author_id"], interactions["src_account_id"], interactions["dst_account_id"]]
    accounts = accounts[appears_in(accounts["account_id"], active)]
    return dict(zip(accounts["account_id"], stakeholder_roles(accounts["bio"].tolist()), strict=True))


def _measures(pol: Polarization, hostility: Hostility) -> pd.DataFrame:
    """The polarization table: every measure with its baseline, hostility across camps, the headline."""
    measures: list[dict[str, Any]] = [{"measure": name, **values} for name, values in pol["measures"].items()]
    h = hostility
    measures += [
        {"measure": "hostility_across_camps", "value": h["value"], "baseline_mean": h["baseline_mean"]}
        | {"baseline_std": h["baseline_std"], "z": h["z"]},
        {"measure": "share_hostile_across", "value": h["share_hostile_across"]},
        {"measure": "share_hostile_within", "value": h["share_hostile_within"]},
        {"measure": "headline", "value": pol["score"], "baseline_mean": pol["baseline_mean"]}
        | {"baseline_std": pol["baseline_std"], "z": pol["z"]},
    ]
    return pd.DataFrame(measures, columns=["measure", *BASELINE_FIELDS])


def without_opted_out(inputs: dict[str, pd.DataFrame], opted_out: set[str]) -> dict[str, pd.DataFrame]:
    """The inputs without the accounts on the opt-out list: their posts (and reposts of them), every
    interaction to or from them, their profiles. They are never ranked, placed in a camp or counted."""
    if not opted_out:
        return inputs
    posts, interactions = inputs["posts"], inputs["interactions"]
    theirs = set(posts.loc[posts["author_id"].isin(opted_out), "post_id"])
    gone = posts["author_id"].isin(opted_out) | posts["repost_of_post_id"].isin(theirs)
    touching = (
        interactions["src_account_id"].isin(opted_out)
        | interactions["dst_account_id"].isin(opted_out)
        | interactions["post_id"].isin(set(posts.loc[gone, "post_id"]))
    )
    out = dict(inputs)
    out["posts"] = posts[~gone].reset_index(drop=True)
    out["interactions"] = interactions[~touching].reset_index(drop=True)
    accounts = inputs.get("accounts")
    if accounts is not None:
        out["accounts"] = accounts[~accounts["account_id"].isin(opted_out)].reset_index(drop=True)
    return out


def run_analysis(inputs: dict[str, pd.DataFrame], settings: Settings) -> Analysis:
    """Camps, their profiles, polarization against rewired baselines, hostility across camps, and
    constructive voices with the stakeholder role each declares in its bio."""
    posts, interactions = inputs["posts"], inputs["interactions"]
    edges = interactions.rename(columns={"src_account_id": "src", "dst_account_id": "dst"})[
        ["src", "dst", "kind"]
    ]
    seed = settings.community_seed
    camps = detect_camps(edges, seed=seed)
    pol = polarization(
        edges,
        seed=seed,
        n_rewirings=settings.polarization_rewirings,
        hub_share=settings.rwc_hub_share,
        camps=camps,  # the same edges: its graph and partition are the observed ones
    )
    camps.graph = camps.partition = None  # only polarization reads them: let them go
    hostility = hostility_across_camps(
        interactions, camps.camp, seed=seed, n_permutations=settings.hostility_permutations
    )
    profiles = camp_profiles(posts, interactions, camps.camp)
    labels = dict(zip(profiles["camp_id"], profiles["label"], strict=True))
    roles = _roles(inputs.get("accounts"), posts, interactions)
    voices = constructive_voices(posts, interactions, camps.camp, voice_params(settings), labels, roles)
    communities = pd.DataFrame(
        {
            "account_id": list(camps.camp),
            "community_id": [camps.community.get(a, -1) for a in camps.camp],
            "camp_id": pd.array(list(camps.camp.values()), dtype="Int64"),
        }
    )
    account_roles = pd.DataFrame(
        [(a, role, ROLES[role], words) for a, (role, words) in roles.items() if role is not None],
        columns=["account_id", "role", "label", "evidence"],
    )
    tables = {
        "communities": communities,
        "community_profiles": profiles,
        "polarization": _measures(pol, hostility),
        "voices": voices,
        "account_roles": account_roles,
    }
    # The echo-chamber map, laid out here once so the dashboard only draws it.
    layout = network_layout(edges, camps.camp, voices["account_id"].tolist(), seed=seed)
    tables["network_layout"], tables["network_layout_edges"] = layout.nodes, layout.edges
    return Analysis(camps=camps, polarization=pol, hostility=hostility, tables=tables)


@dataclass
class WindowMemo:
    """The last window one analyze run analysed. A window whose inputs are the very same rows (a
    conversation younger than the shorter window puts every post of the month in the week too) takes
    that analysis instead of computing it again: the analysis is a function of its inputs and the
    settings alone (every random step is seeded), so the result is the same, minutes sooner at 1M posts.
    The inputs are kept as Arrow tables, compared exactly: 0.3 GB instead of the frames' 1.9 GB at 1M."""

    fingerprint: dict[str, tuple[pd.Index, pa.Table]] | None = None
    settings: Settings | None = None
    result: Analysis | None = None

    def analysis_for(self, inputs: dict[str, pd.DataFrame], settings: Settings) -> Analysis:
        """The remembered analysis when `inputs` and `settings` equal the remembered ones, else a new one."""
        fingerprint = _fingerprint(inputs)
        if self.result is not None and settings == self.settings and _same(fingerprint, self.fingerprint):
            return self.result
        self.fingerprint = self.result = None  # let the last window's go before this one's analysis
        result = run_analysis(inputs, settings)
        self.fingerprint, self.settings, self.result = fingerprint, settings, result
        return result


def _fingerprint(inputs: dict[str, pd.DataFrame]) -> dict[str, tuple[pd.Index, pa.Table]] | None:
    """Each input frame's index and its values as an Arrow table (dtypes in its metadata); None when
    a column has no Arrow form, and then nothing is reused."""
    try:
        return {k: (f.index, pa.Table.from_pandas(f, preserve_index=False)) for k, f in inputs.items()}
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _same(
    a: dict[str, tuple[pd.Index, pa.Table]] | None, b: dict[str, tuple[pd.Index, pa.Table]] | None
) -> bool:
    if a is None or b is None or a.keys() != b.keys():
        return False
    return all(a[k][0].equals(b[k][0]) and a[k][1].equals(b[k][1], check_metadata=True) for k in a)


def analyse_window(
    warehouse: Warehouse,
    settings: Settings,
    window: tuple[datetime, datetime],
    model_version: str,
    run_id: str,
    memo: WindowMemo | None = None,
) -> WindowSummary:
    """Analyse one time window, replace its analysis in the warehouse, and say what was found. With
    `memo`, a window with the same inputs as the one analysed before reuses its analysis."""
    start, end = window
    inputs = without_opted_out(
        warehouse.analysis_inputs(start, end, model_version), opt_outs.account_ids(warehouse)
    )
    result = memo.analysis_for(inputs, settings) if memo is not None else run_analysis(inputs, settings)
    analysis_id = f"{settings.topic}:{start:%Y-%m-%dT%H:%M}:{end:%Y-%m-%dT%H:%M}"
    n_posts, n_accounts = len(inputs["posts"]), int(inputs["posts"]["author_id"].nunique())
    analysis: dict[str, Any] = {
        "analysis_id": analysis_id,
        "topic": settings.topic,
        "window_start": start,
        "window_end": end,
        "model_version": model_version,
        "run_id": run_id,
        "n_posts": n_posts,
        "n_accounts": n_accounts,
        "n_edges": len(inputs["interactions"]),
    }
    warehouse.write_analysis(analysis, result.tables)
    return WindowSummary(
        analysis_id=analysis_id,
        posts=n_posts,
        accounts=n_accounts,
        camps=result.camps.n_camps,
        communities=result.camps.n_communities,
        polarization=round(result.polarization["score"], 4),
        polarization_z=round(result.polarization["z"], 2),
        polarization_baseline=round(result.polarization["baseline_mean"], 4),
        hostility_across_camps=round(result.hostility["value"], 4),
        voices=len(result.tables["voices"]),
    )
