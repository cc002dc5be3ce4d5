"""What `Warehouse.publish` does to a snapshot for privacy: leave out who opted out, pseudonymise the rest.

Both run inside publish's transaction on the attached snapshot (`snap`), after its tables were copied
and before it is swapped in, so a reader never sees a half-done snapshot. Identifiers are replaced by
Python functions registered with DuckDB (HMAC-SHA256 is not a DuckDB function), one pass per table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa
from duckdb.func import PythonUDFType

from warehouse.privacy import Pseudonyms, hide_mentions, mention_pattern
from warehouse.shapes import ENTITIES, EXAMPLE_POSTS, TOP_ACCOUNTS

# spaCy entity labels that name people; a pseudonymised snapshot keeps no such entity.
PERSONAL_ENTITIES = {"PERSON"}
OPTED_OUT = "(SELECT account_id FROM main.opt_outs)"
# Their posts, and reposts of them (a repost carries their words).
GONE_POSTS = f"""(SELECT post_id FROM main.posts WHERE author_id IN {OPTED_OUT}
   OR repost_of_post_id IN (SELECT post_id FROM main.posts WHERE author_id IN {OPTED_OUT}))"""
ACCOUNT_TABLES = ("accounts", "communities", "voices", "account_roles", "network_layout")
POST_TABLES = ("post_features", "tone_scores")


def _udf(con: duckdb.DuckDBPyConnection, name: str, fn: Callable[[Any], Any], *, ids: bool = False) -> None:
    """Register `fn` (str | None -> str | None) as a vectorised SQL function `name(VARCHAR)`; with
    `ids`, each distinct value is computed once (an account id recurs in every table that names it)."""
    done: dict[Any, Any] = {}

    def once(value: Any) -> Any:
        if not ids:
            return fn(value)
        if value not in done:
            done[value] = fn(value)
        return done[value]

    def apply(values: pa.Array) -> pa.Array:
        return pa.array([once(v) for v in values.to_pylist()], type=pa.string())

    con.complete()  # DuckDB registers no function while a statement's result is pending
    con.create_function(name, apply, ["VARCHAR"], "VARCHAR", type=PythonUDFType.ARROW, side_effects=False)


def _has_opt_outs(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = 'opt_outs'"
    ).fetchone()
    if not found or not found[0]:
        return False
    row = con.execute("SELECT count(*) FROM main.opt_outs").fetchone()
    return bool(row and row[0])


def drop_opted_out(con: duckdb.DuckDBPyConnection) -> None:
    """Remove every account on the opt-out list from the snapshot: their profile, posts (and reposts of
    them), interactions, features, scores, camp memberships, voice rankings (the rest re-ranked), map
    rows, and @mentions of them in other people's posts and in the voices' reasons."""
    if not _has_opt_outs(con):
        return
    ids = {r[0] for r in con.execute(f"SELECT * FROM {OPTED_OUT}").fetchall()}
    gone = {r[0] for r in con.execute(f"SELECT * FROM {GONE_POSTS}").fetchall()}
    handles = [
        r[0]
        for r in con.execute(f"SELECT handle FROM main.accounts WHERE account_id IN {OPTED_OUT}").fetchall()
    ]
    for table in POST_TABLES:
        con.execute(f"DELETE FROM snap.{table} WHERE post_id IN {GONE_POSTS}")
    con.execute(
        f"""DELETE FROM snap.interactions WHERE src_account_id IN {OPTED_OUT}
            OR dst_account_id IN {OPTED_OUT} OR post_id IN {GONE_POSTS} OR target_post_id IN {GONE_POSTS}"""
    )
    for table in ACCOUNT_TABLES:
        con.execute(f"DELETE FROM snap.{table} WHERE account_id IN {OPTED_OUT}")
    con.execute(
        f"""DELETE FROM snap.network_layout_edges
            WHERE src_account_id IN {OPTED_OUT} OR dst_account_id IN {OPTED_OUT}"""
    )
    con.execute(f"DELETE FROM snap.posts WHERE post_id IN {GONE_POSTS}")
    for column in ("reply_to_post_id", "quote_of_post_id"):
        con.execute(f"UPDATE snap.posts SET {column} = NULL WHERE {column} IN {GONE_POSTS}")
    con.execute(
        """UPDATE snap.voices v SET rank = r.new_rank FROM (
               SELECT analysis_id, account_id, row_number() OVER (PARTITION BY analysis_id ORDER BY rank)
                      AS new_rank FROM snap.voices) r
           WHERE v.analysis_id = r.analysis_id AND v.account_id = r.account_id"""
    )
    pattern = mention_pattern(handles)
    _udf(con, "cg_hide_mentions", lambda t: hide_mentions(t, pattern))
    _udf(con, "cg_keep_posts", lambda v: _json_posts(v, lambda p: None if p in gone else p))
    _udf(con, "cg_keep_accounts", lambda v: _json_accounts(v, lambda a: None if a in ids else a))
    con.execute("UPDATE snap.posts SET text = cg_hide_mentions(text)")
    con.execute(
        """UPDATE snap.voices SET reasons = cg_hide_mentions(reasons),
               example_posts = cg_keep_posts(example_posts)"""
    )
    con.execute("UPDATE snap.community_profiles SET top_accounts = cg_keep_accounts(top_accounts)")
    if pattern is not None:
        con.execute(
            """UPDATE snap.post_features SET mentions = list_filter(mentions,
                   lambda m: cg_hide_mentions('@' || ltrim(m, '@')) = '@' || ltrim(m, '@'))"""
        )


def _json_posts(raw: str | None, keep: Callable[[str], str | None]) -> str | None:
    posts = EXAMPLE_POSTS.load(raw)
    if posts is None:
        return None
    return EXAMPLE_POSTS.dump([q for q in (keep(p) for p in posts) if q is not None])


def _json_accounts(raw: str | None, keep: Callable[[str], str | None]) -> str | None:
    accounts = TOP_ACCOUNTS.load(raw)
    if accounts is None:
        return None
    kept = []
    for top in accounts:
        new_id = keep(top.account_id)
        if new_id is not None:
            kept.append({"account_id": new_id, "endorsements": top.endorsements})
    return TOP_ACCOUNTS.dump(kept)


def _json_entities(raw: str | None) -> str | None:
    """Entities without people's names, mentions or links (the rest pseudonymised like text)."""
    entities = ENTITIES.load(raw)
    if entities is None:
        return None
    kept = [
        (text, label)
        for text, label in entities
        if label not in PERSONAL_ENTITIES and Pseudonyms.text(text) == text
    ]
    return ENTITIES.dump(kept)


# Per table: column -> SQL expression of the pseudonymised value (functions registered below).
PSEUDONYMISED: dict[str, dict[str, str]] = {
    "accounts": {
        "account_id": "cg_account(account_id)",
        "native_id": "cg_account(account_id)",
        "handle": "cg_account(account_id)",
        "display_name": "cg_account(account_id)",
        "bio": "NULL",
        "url": "NULL",
        "source_url": "NULL",
    },
    "posts": {
        "post_id": "cg_post(post_id)",
        "native_id": "cg_post(post_id)",
        "author_id": "cg_account(author_id)",
        "text": "cg_text(text)",
        "url": "NULL",
        "source_url": "NULL",
        "reply_to_post_id": "cg_post(reply_to_post_id)",
        "quote_of_post_id": "cg_post(quote_of_post_id)",
        "repost_of_post_id": "cg_post(repost_of_post_id)",
    },
    "interactions": {
        "interaction_id": "cg_ref(interaction_id)",
        "post_id": "cg_post(post_id)",
        "src_account_id": "cg_account(src_account_id)",
        "dst_account_id": "cg_account(dst_account_id)",
        "target_post_id": "cg_post(target_post_id)",
    },
    "post_features": {
        "post_id": "cg_post(post_id)",
        "mentions": "list_transform(mentions, lambda m: 'user')",  # stored without '@
        "urls": "list_transform(urls, lambda u: cg_text(u))",
        "entities": "cg_entities(entities)",
    },
    "tone_scores": {"post_id": "cg_post(post_id)"},
    "communities": {"account_id": "cg_account(account_id)"},
    "account_roles": {"account_id": "cg_account(account_id)"},
    "network_layout": {"account_id": "cg_account(account_id)"},
    "network_layout_edges": {
        "src_account_id": "cg_account(src_account_id)",
        "dst_account_id": "cg_account(dst_account_id)",
    },
    "voices": {
        "account_id": "cg_account(account_id)",
        "example_posts": "cg_posts(example_posts)",
        "reasons": "cg_text(reasons)",
    },
    "community_profiles": {"top_accounts": "cg_accounts(top_accounts)", "label": "cg_text(label)"},
    "quarantine": {"origin": "cg_text(origin)", "reason": "cg_text(reason)"},
    "runs": {"message": "cg_text(message)"},
    "cursors": {"cursor": "cg_ref(cursor)"},
    # An unkeyed hash of a post id: anyone can hash the ids they know and compare.
    "deletions": {"post_hash": "cg_ref(post_hash)", "reason": "cg_text(reason)"},
}


def pseudonymise(con: duckdb.DuckDBPyConnection, names: Pseudonyms) -> None:
    """Replace every identifier that names a person in the snapshot by its pseudonym (every table with
    the same function, so joins by id still line up); bios, profile and post links go; links in text
    keep only their host; @mentions read @user; entities that name people go."""
    _udf(con, "cg_account", names.account, ids=True)
    _udf(con, "cg_post", names.post, ids=True)
    _udf(con, "cg_ref", names.ref, ids=True)
    _udf(con, "cg_text", names.text)
    _udf(con, "cg_posts", lambda v: _json_posts(v, names.post))
    _udf(con, "cg_accounts", lambda v: _json_accounts(v, names.account))
    _udf(con, "cg_entities", _json_entities)
    present = {
        r[0]
        for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'snap'").fetchall()
    }
    for table, columns in PSEUDONYMISED.items():
        if table not in present:
            continue
        # Rewriting the table is several times faster than UPDATE on every row.
        replaced = ", ".join(f"{expression} AS {column}" for column, expression in columns.items())
        con.execute(
            f"CREATE OR REPLACE TABLE snap.{table} AS SELECT * REPLACE ({replaced}) FROM snap.{table}"
        )
