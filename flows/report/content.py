"""The weekly report's numbers: headline and its change, tone per day, hashtags, top posts, segregation.

Plain functions over frames read by warehouse/weekly.py; no I/O, so each is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from warehouse.privacy import Pseudonyms

# A week with fewer posts than this says it has too little data instead of showing thin tables.
MIN_POSTS = 20
TOP_VOICES = 10  # voices shown (and compared with the week before) in the report
TOP_POSTS = 50  # rows of top_posts.csv; the report shows the first few
TONES = ("constructive", "neutral", "hostile")


@dataclass(frozen=True)
class Headline:
    """One week in numbers; shares are of the posts the model judged."""

    posts: int
    accounts: int
    judged: int
    constructive: int
    hostile: int
    unscored: int  # posts the model could not judge (empty, no words, not English)
    not_scored: int  # posts the current model has not scored yet

    @property
    def share_constructive(self) -> float | None:
        return self.constructive / self.judged if self.judged else None

    @property
    def share_hostile(self) -> float | None:
        return self.hostile / self.judged if self.judged else None


def headline(posts: pd.DataFrame) -> Headline:
    tone = posts["tone"]
    judged = tone.isin(TONES)
    return Headline(
        posts=len(posts),
        accounts=int(posts["author_id"].nunique()),
        judged=int(judged.sum()),
        constructive=int((tone == "constructive").sum()),
        hostile=int((tone == "hostile").sum()),
        unscored=int((tone == "unscored").sum()),
        not_scored=int(tone.isna().sum()),
    )


def _count_change(now: int, before: int) -> str:
    if before == 0:
        return "new this week" if now else "none either week"
    return f"{now - before:+,} ({(now - before) / before:+.0%})"


def _share_change(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "n/a"
    return f"{(now - before) * 100:+.1f} points"


def week_over_week(now: Headline, before: Headline) -> dict[str, str]:
    """Each headline number's change since the week before, in words; 'no data' when it had none."""
    if before.posts == 0:
        return dict.fromkeys(
            ("posts", "accounts", "constructive", "hostile", "unscored"), "no data the week before"
        )
    return {
        "posts": _count_change(now.posts, before.posts),
        "accounts": _count_change(now.accounts, before.accounts),
        "constructive": _share_change(now.share_constructive, before.share_constructive),
        "hostile": _share_change(now.share_hostile, before.share_hostile),
        "unscored": _count_change(now.unscored, before.unscored),
    }


def pseudonymise_posts(posts: pd.DataFrame, names: Pseudonyms) -> pd.DataFrame:
    """Ids, handles and names become the snapshot's pseudonyms; links keep their host, mentions read
    @user; no post URLs."""
    out = posts.copy()
    out["post_id"] = names.posts(out["post_id"])
    out["author_id"] = [names.account(a) for a in out["author_id"]]
    out["handle"] = out["author_id"]
    out["display_name"] = out["author_id"]
    out["text"] = [names.text(t) for t in out["text"]]
    out["url"] = None
    return out


def tone_per_day(posts: pd.DataFrame) -> pd.DataFrame:
    """day, tone, posts: every post of the week by day, judged or not ('not scored' for both kinds)."""
    tone = posts["tone"].where(posts["tone"].isin(TONES), "not judged")
    frame = pd.DataFrame({"day": posts["created_at"].dt.floor("D"), "tone": tone})
    return frame.groupby(["day", "tone"]).size().reset_index(name="posts")


def hashtag_table(posts: pd.DataFrame) -> pd.DataFrame:
    """hashtag, posts, accounts, share_constructive: every hashtag used in the week, most used first."""
    exploded = (
        posts[["post_id", "author_id", "hashtags", "tone"]].explode("hashtags").dropna(subset=["hashtags"])
    )
    if exploded.empty:
        return pd.DataFrame(columns=["hashtag", "posts", "accounts", "share_constructive"])
    exploded["judged"] = exploded["tone"].isin(TONES)
    exploded["is_constructive"] = exploded["tone"] == "constructive"
    grouped = exploded.groupby("hashtags").agg(
        posts=("post_id", "nunique"),
        accounts=("author_id", "nunique"),
        judged=("judged", "sum"),
        constructive=("is_constructive", "sum"),
    )
    grouped["share_constructive"] = (
        grouped["constructive"] / grouped["judged"].where(grouped["judged"] > 0)
    ).round(3)
    table = grouped.reset_index().rename(columns={"hashtags": "hashtag"})
    table = table.sort_values(["posts", "hashtag"], ascending=[False, True])
    return table[["hashtag", "posts", "accounts", "share_constructive"]].reset_index(drop=True)


def top_posts(posts: pd.DataFrame, n: int = TOP_POSTS) -> pd.DataFrame:
    """The week's most constructive posts (reposts left out), best first."""
    own = posts[~posts["is_repost"] & (posts["tone"] == "constructive")]
    own = own.sort_values(["constructive", "post_id"], ascending=[False, True]).head(n)
    columns = [
        "post_id",
        "created_at",
        "handle",
        "display_name",
        "constructive",
        "hostile",
        "reasons",
        "text",
    ]
    out = own[columns].reset_index(drop=True)
    out["reasons"] = [", ".join(r) for r in out["reasons"]]
    return out


def choose_analysis(analyses: pd.DataFrame, start: Any, end: Any) -> dict[str, Any] | None:
    """The analysis that best covers the week: most of the week inside its window, then the
    shortest window (most about this week), then the newest. None when none overlaps it."""
    if analyses.empty:
        return None
    frame = analyses.assign(length=(analyses["window_end"] - analyses["window_start"]).dt.total_seconds())
    frame = frame.sort_values(["overlap_seconds", "length", "created_at"], ascending=[False, True, False])
    best: dict[str, Any] = {str(k): v for k, v in frame.iloc[0].items()}
    best["coverage"] = float(best["overlap_seconds"]) / (end - start).total_seconds()
    return best


def segregation(
    members: pd.DataFrame, endorsements: pd.DataFrame, polarization: pd.DataFrame
) -> dict[str, Any] | None:
    """How closed the camps are, in words: the share of the week's endorsements that stay inside a
    camp against the share random mixing of the same accounts' endorsements would keep inside (the
    modularity null model: sum over camps of their share of endorsement ends, squared), and the
    analysis' modularity against its rewired baseline."""
    camp = dict(zip(members["account_id"], members["camp_id"], strict=True))
    ends = endorsements.assign(src_camp=endorsements["src"].map(camp), dst_camp=endorsements["dst"].map(camp))
    ends = ends.dropna(subset=["src_camp", "dst_camp"])
    if ends.empty:
        return None
    inside = float((ends["src_camp"] == ends["dst_camp"]).mean())
    shares = pd.concat([ends["src_camp"], ends["dst_camp"]]).value_counts(normalize=True)
    chance = float((shares**2).sum())
    ratio = inside / chance if chance else float("inf")
    result: dict[str, Any] = {"endorsements": len(ends), "inside": inside, "chance": chance, "ratio": ratio}
    head = polarization[polarization["measure"] == "headline"]
    if len(head):
        row = head.iloc[0]
        result |= {"modularity": row["value"], "baseline": row["baseline_mean"], "z": row["z"]}
    result["sentence"] = _segregation_sentence(result)
    return result


def _segregation_sentence(seg: dict[str, Any]) -> str:
    ratio = seg["ratio"]
    words = (
        f"{seg['inside']:.0%} of this week's {seg['endorsements']:,} endorsements (reposts and quotes) "
        f"stayed inside the endorser's own camp, where random mixing of the same accounts would keep "
        f"{seg['chance']:.0%}: endorsements stay inside camps {ratio:.1f}× more than chance would give."
    )
    if "modularity" in seg and seg["modularity"] == seg["modularity"]:
        words += (
            f" The camp split's modularity is {seg['modularity']:.2f}, against {seg['baseline']:.2f} "
            f"on random rewirings of the same network{_beyond_chance(seg['z'])}."
        )
    if ratio < 1.2:
        words += " That is close to chance: this week's network is not split into closed camps."
    return words


def _beyond_chance(z: float) -> str:
    """The z-score in words: past about 3 the rewirings' spread is tiny, so the excess is what counts."""
    if z != z:
        return ""
    if z >= 3:
        return f", far beyond their spread (z = {z:.1f})"
    if z >= 2:
        return f", beyond most of them (z = {z:.1f})"
    return f", within what chance gives (z = {z:.1f})"


def voice_changes(now: pd.DataFrame, before: pd.DataFrame | None, n: int = TOP_VOICES) -> dict[str, Any]:
    """Who is new in the top `n` voices and who left it, against the analysis of the week before."""
    if before is None:
        return {"compared": False, "new": [], "left": []}
    top_now, top_before = now.head(n), before.head(n)
    new = top_now[~top_now["account_id"].isin(top_before["account_id"])]
    left = top_before[~top_before["account_id"].isin(top_now["account_id"])]
    return {
        "compared": True,
        "new": new[["rank", "handle", "display_name"]].to_dict("records"),
        "left": left[["rank", "handle", "display_name"]].to_dict("records"),
    }


def pseudonymise_voices(voices: pd.DataFrame, names: Pseudonyms) -> pd.DataFrame:
    out = voices.copy()
    out["account_id"] = [names.account(a) for a in out["account_id"]]
    out["handle"] = out["account_id"]
    out["display_name"] = out["account_id"]
    out["reasons"] = [names.text(r) for r in out["reasons"]]
    out["example_posts"] = pd.Series(
        [names.posts(p) for p in out["example_posts"]], index=out.index, dtype=object
    )
    return out
