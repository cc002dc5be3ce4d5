"""Camp profiles: tone shares are of the posts the model could judge; the others are counted apart."""

from __future__ import annotations

import pandas as pd
import pytest

from models.profiles import PROFILE_COLUMNS, camp_profiles


def test_tone_shares_leave_out_unscored_posts_and_count_them() -> None:
    tones = ["constructive", "hostile", "unscored", "neutral", "unscored", None]
    posts = pd.DataFrame(
        {
            "author_id": ["a", "a", "a", "b", "b", "b"],
            "repost_of_post_id": [None] * 6,
            "tone": tones,
            "hashtags": [["nhs"]] * 6,
            "key_terms": [["waits"]] * 6,
        }
    )
    interactions = pd.DataFrame(columns=["kind", "src_account_id", "dst_account_id"])
    profiles = camp_profiles(posts, interactions, {"a": 0, "b": 1}).set_index("camp_id")
    assert list(profiles.reset_index().columns) == PROFILE_COLUMNS
    assert profiles.loc[0, "n_posts"] == 3 and profiles.loc[0, "n_unscored"] == 1
    assert profiles.loc[0, "share_constructive"] == pytest.approx(0.5)  # of the two it judged
    assert profiles.loc[0, "share_hostile"] == pytest.approx(0.5)
    # camp 1: one neutral, one unscored, one not scored yet (no tone): the neutral is all it judged
    assert profiles.loc[1, "n_unscored"] == 1 and profiles.loc[1, "share_neutral"] == pytest.approx(1.0)
    shares = profiles[["share_constructive", "share_neutral", "share_hostile"]].sum(axis=1)
    assert shares.tolist() == pytest.approx([1.0, 1.0])
