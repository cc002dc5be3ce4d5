"""What the weekly report may show of people: nothing of those who opted out, pseudonyms unless turned off."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from flows.report.content import pseudonymise_posts, pseudonymise_voices
from warehouse import opt_outs
from warehouse.privacy import Pseudonyms, hide_mentions, mention_pattern, pseudonyms
from warehouse.settings import Settings
from warehouse.store import Warehouse


@dataclass(frozen=True)
class ReportPrivacy:
    """The opt-out list as the report applies it, and the pseudonyms (None: exports show real handles)."""

    names: Pseudonyms | None
    opted_out: frozenset[str]
    hidden_posts: frozenset[str]
    mentions: re.Pattern[str] | None

    @classmethod
    def of(cls, warehouse: Warehouse, settings: Settings) -> ReportPrivacy:
        return cls(
            names=pseudonyms(settings) if settings.pseudonymize_exports else None,
            opted_out=frozenset(opt_outs.account_ids(warehouse)),
            hidden_posts=frozenset(opt_outs.hidden_posts(warehouse)),
            mentions=mention_pattern(opt_outs.handles(warehouse)),
        )

    @property
    def pseudonymized(self) -> bool:
        return self.names is not None

    def text(self, text: str) -> str:
        """Post text as the report shows it: mentions of listed accounts hidden, pseudonymised when set."""
        shown = hide_mentions(text, self.mentions) or ""
        return (self.names.text(shown) or "") if self.names else shown

    def posts(self, posts: pd.DataFrame) -> pd.DataFrame:
        """The week's posts without listed accounts' posts (and reposts of them), pseudonymised when set."""
        kept = posts[~posts["post_id"].isin(self.hidden_posts) & ~posts["author_id"].isin(self.opted_out)]
        kept = kept.reset_index(drop=True)
        if self.mentions is not None:
            kept["text"] = [hide_mentions(t, self.mentions) for t in kept["text"]]
        return pseudonymise_posts(kept, self.names) if self.names else kept

    def voices(self, voices: pd.DataFrame) -> pd.DataFrame:
        """Ranked voices without listed accounts (the rest re-ranked 1, 2, …), with real ids still: the
        report looks their best posts up by id before `pseudonymise` runs."""
        kept = voices[~voices["account_id"].isin(self.opted_out)].sort_values("rank").reset_index(drop=True)
        kept["rank"] = range(1, len(kept) + 1)
        if self.mentions is not None:
            kept["reasons"] = [hide_mentions(r, self.mentions) for r in kept["reasons"]]
        kept["example_posts"] = pd.Series(
            [[p for p in posts if p not in self.hidden_posts] for posts in kept["example_posts"]],
            index=kept.index,
            dtype=object,
        )
        return kept

    def pseudonymise_voices(self, voices: pd.DataFrame) -> pd.DataFrame:
        return pseudonymise_voices(voices, self.names) if self.names else voices

    def accounts(self, frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
        """Rows whose account columns name no listed account."""
        keep = pd.Series(True, index=frame.index)
        for column in columns:
            keep &= ~frame[column].isin(self.opted_out)
        return frame[keep].reset_index(drop=True)

    def account_id(self, account_id: str) -> str:
        return str(self.names.account(account_id)) if self.names else account_id
