"""A small hand-written snapshot for the dashboard tests (no pipeline involved)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from models.roles import ROLES
from warehouse.shapes import CAMPS_REACHED, EXAMPLE_POSTS, TOP_ACCOUNTS, TOP_HASHTAGS, TOP_TERMS
from warehouse.store import Warehouse

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
ANALYSIS = "uk-healthcare:2025-03-01T00:00:00:2025-03-08T00:00:00"
OLD_ANALYSIS = "uk-healthcare:2025-02-22T00:00:00:2025-03-01T00:00:00"
MODEL = "minilm-heads-test"
T0 = datetime(2025, 3, 5, 9, 0)
HOSTILE_BIO = "<script>alert('x')</script> **bold** [link](javascript:alert(1))"

# account_id, handle, display_name, bio, camp_id
ACCOUNTS = [
    ("mastodon:1", "@ada@nhs.social", "Dr Ada", "GP in Leeds. Views my own.", 0),
    ("mastodon:2", "@ben@nhs.social", "Ben", "Practice manager", 0),
    ("mastodon:3", "@cara@med.example", "Cara", "Patient advocate", 1),
    ("mastodon:4", "@dev@med.example", "Dev", HOSTILE_BIO, 1),
    ("mastodon:5", "@eve@troll.example", "Eve", "", 1),
    ("mastodon:6", "@finn@old.example", "Finn", "Only in last week's analysis", None),
]
# post_id, author_id, hours after T0, text, hashtags, tone, constructive, hostile
POSTS = [
    (
        "mastodon:101",
        "mastodon:1",
        0,
        "Our GP practice cut the waiting list by 20% with triage",
        ["NHS", "GP"],
        "constructive",
        0.91,
        0.02,
    ),
    (
        "mastodon:102",
        "mastodon:1",
        5,
        "Happy to share the triage protocol with any practice",
        ["GP"],
        "constructive",
        0.88,
        0.01,
    ),
    ("mastodon:103", "mastodon:2", 20, "Waiting list data for March is out", ["NHS"], "neutral", 0.40, 0.05),
    (
        "mastodon:104",
        "mastodon:3",
        26,
        "Patients deserve clearer waiting times, here is what helped us",
        ["NHS", "PatientVoice"],
        "constructive",
        0.80,
        0.03,
    ),
    (
        "mastodon:105",
        "mastodon:4",
        30,
        "Carers need a voice in digital health design",
        ["DigitalHealth"],
        "constructive",
        0.75,
        0.04,
    ),
    (
        "mastodon:106",
        "mastodon:5",
        31,
        "You lot are useless and should be sacked",
        ["NHS"],
        "hostile",
        0.05,
        0.93,
    ),
    ("mastodon:107", "mastodon:5", 50, "Another day of lies from managers", ["NHS"], "hostile", 0.04, 0.88),
    (
        "mastodon:108",
        "mastodon:3",
        52,
        "Agree with @ada, the triage idea worked for my mum too",
        ["GP"],
        "constructive",
        0.83,
        0.02,
    ),
    # outside the window of the latest analysis
    ("mastodon:109", "mastodon:6", -24 * 10, "Old post from February", ["NHS"], "neutral", 0.30, 0.10),
    # a post the tone model could not judge: no probabilities, a reason instead
    (
        "mastodon:110",
        "mastodon:5",
        40,
        "Les urgences débordent encore ce soir.",
        ["NHS"],
        "unscored",
        None,
        None,
    ),
]
# The reasons stored with each tone (the attributes that drove it, strongest first).
REASONS = {"constructive": ["evidence", "solution"], "hostile": ["insult", "dismissive"], "neutral": []}
UNSCORED_REASON = "not English (fr)"
# Threads: 108 replies to 101 through the post's reply field; 106 replies to 104 only through a reply
# interaction (sources fill one or the other).
REPLY_TO = {"mastodon:108": "mastodon:101"}
REPLY_INTERACTIONS = [("mastodon:106", "mastodon:5", "mastodon:3", "mastodon:104")]
# The stored echo-chamber map: account, x, y, camp, degree, endorsements, is_voice; and its edges.
MAP_NODES = [
    ("mastodon:1", -0.8, 0.1, 0, 3, 4, True),
    ("mastodon:2", -0.6, -0.3, 0, 1, 1, False),
    ("mastodon:3", 0.5, 0.2, 1, 3, 4, True),
    ("mastodon:4", 0.7, -0.4, 1, 1, 0, True),
    ("mastodon:5", 1.0, 0.6, 1, 1, 0, False),
]
MAP_EDGES = [
    ("mastodon:1", "mastodon:2", "endorsement", 2.0),
    ("mastodon:3", "mastodon:4", "endorsement", 3.0),
    ("mastodon:1", "mastodon:3", "contact", 1.0),
]


def _build(path: Path, *, with_analysis: bool = True) -> None:
    wh = Warehouse(path)
    wh.init()
    if not with_analysis:
        return
    with wh.connect() as con:
        for account_id, handle, name, bio, _camp in ACCOUNTS:
            con.execute(
                """INSERT INTO accounts (account_id, source, native_id, handle, display_name, bio,
                       followers_count, url, raw)
                   VALUES (?, 'mastodon', ?, ?, ?, ?, 10, ?, '{"secret": "raw payload"}')""",
                [account_id, account_id.split(":")[1], handle, name, bio, f"https://example.org/{handle}"],
            )
        for post_id, author, hours, text, tags, tone, constructive, hostile in POSTS:
            created = T0 + timedelta(hours=hours)
            native = post_id.split(":")[1]
            con.execute(
                """INSERT INTO posts (post_id, source, native_id, author_id, created_at, text, hashtags, raw,
                       url, reply_to_post_id)
                   VALUES (?, 'mastodon', ?, ?, ?, ?, ?, '{}', ?, ?)""",
                [
                    *(post_id, native, author, created, text, tags),
                    f"https://nhs.social/@x/{native}",
                    REPLY_TO.get(post_id),
                ],
            )
            con.execute(
                """INSERT INTO tone_scores (post_id, model_version, constructive, hostile, is_constructive,
                       is_hostile, tone, attributes, reasons, unscored_reason, scored_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?)""",
                [
                    *(post_id, MODEL, constructive, hostile, tone == "constructive", tone == "hostile", tone),
                    REASONS.get(tone, []),
                    UNSCORED_REASON if tone == "unscored" else None,
                    T0,
                ],
            )
        for post_id, src, dst, target in REPLY_INTERACTIONS:
            con.execute(
                """INSERT INTO interactions (interaction_id, source, kind, post_id, src_account_id,
                       dst_account_id, target_post_id, created_at) VALUES (?, 'mastodon', 'reply', ?, ?, ?, ?, ?)""",
                [f"i-{post_id}", post_id, src, dst, target, T0 + timedelta(hours=31)],
            )
        for node in MAP_NODES:
            con.execute("INSERT INTO network_layout VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [ANALYSIS, *node])
        for edge in MAP_EDGES:
            con.execute("INSERT INTO network_layout_edges VALUES (?, ?, ?, ?, ?)", [ANALYSIS, *edge])
        # enrich lower-cases hashtags: give one post features to exercise both paths
        con.execute(
            """INSERT INTO post_features
               (post_id, hashtags, mentions, urls, entities, key_terms, lang, n_words)
               VALUES ('mastodon:104', ['nhs', 'patientvoice'], [], [], '[]', ['patient'], 'en', 10)"""
        )
        con.execute(
            """INSERT INTO analyses VALUES
               (?, 'uk-healthcare', '2025-03-01', '2025-03-08', ?, 'run-2', 9, 5, 12, '2025-03-08 01:00'),
               (?, 'uk-healthcare', '2025-02-22', '2025-03-01', ?, 'run-1', 1, 1, 0, '2025-03-01 01:00')""",
            [ANALYSIS, MODEL, OLD_ANALYSIS, MODEL],
        )
        for account_id, *_rest, camp in ACCOUNTS[:5]:
            con.execute("INSERT INTO communities VALUES (?, ?, ?, ?)", [ANALYSIS, account_id, camp, camp])
        con.execute(
            """INSERT INTO community_profiles (analysis_id, camp_id, label, size, n_posts, insularity,
                   ei_index, share_constructive, share_neutral, share_hostile, n_unscored, top_hashtags,
                   top_terms, top_accounts) VALUES
               (?, 0, 'Clinicians & GPs', 2, 3, 0.72, -0.44, 0.67, 0.33, 0.0, 0, ?, ?, ?),
               (?, 1, 'Patients & carers', 3, 6, 0.58, -0.16, 0.6, 0.0, 0.4, 1, ?, ?, ?)""",
            [  # written through the declared shapes, as the warehouse writes what analyze produces
                ANALYSIS,
                TOP_HASHTAGS.dump([("gp", 0.31), ("nhs", 0.12)]),
                TOP_TERMS.dump([("triage", 0.4), ("waiting", 0.2)]),
                TOP_ACCOUNTS.dump(
                    [
                        {"account_id": "mastodon:1", "endorsements": 4},
                        {"account_id": "mastodon:2", "endorsements": 1},
                    ]
                ),
                ANALYSIS,
                TOP_HASHTAGS.dump([("nhs", 0.4), ("patientvoice", 0.1)]),
                TOP_TERMS.dump([("carer", 0.2)]),
                TOP_ACCOUNTS.dump([{"account_id": "mastodon:3", "endorsements": 4}]),
            ],
        )
        con.execute(
            """INSERT INTO polarization VALUES
               (?, 'assortativity', 0.41, 0.02, 0.03, 13.0),
               (?, 'headline', 0.62, 0.31, 0.05, 6.2),
               (?, 'ei_index', -0.3, 0.0, 0.04, -7.5)""",
            [ANALYSIS, ANALYSIS, ANALYSIS],
        )
        voices = [
            (
                "mastodon:1",
                1,
                0.86,
                0.9,
                0.7,
                0.01,
                2,
                0,
                {"1": 3},
                ["mastodon:102", "mastodon:101"],
                "Constructive in 2 of 2 posts; engaged 3 times with Patients & carers",
            ),
            ("mastodon:3", 2, 0.74, 0.8, 0.5, 0.02, 2, 1, {"0": 2}, ["mastodon:108"], "Replies across camps"),
            ("mastodon:4", 3, 0.41, 0.75, 0.0, 0.04, 1, 1, {}, ["mastodon:105"], "Constructive, one camp"),
        ]
        for account_id, rank, score, cons, bridging, hostility, n, home, reached, examples, why in voices:
            con.execute(
                "INSERT INTO voices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    ANALYSIS,
                    account_id,
                    rank,
                    score,
                    cons,
                    bridging,
                    hostility,
                    n,
                    home,
                    CAMPS_REACHED.dump(reached),
                    EXAMPLE_POSTS.dump(examples),
                    why,
                ],
            )
        con.execute(
            """INSERT INTO account_roles (analysis_id, account_id, role, label, evidence) VALUES
               (?, 'mastodon:1', 'gp', ?, 'GP in Leeds'), (?, 'mastodon:4', 'patient_carer', ?, 'carer')""",
            [ANALYSIS, ROLES["gp"], ANALYSIS, ROLES["patient_carer"]],
        )
        con.execute(
            "INSERT INTO voices VALUES (?, 'mastodon:6', 1, 0.99, 0.9, 0.9, 0.0, 1, NULL, '{}', '[]', 'old')",
            [OLD_ANALYSIS],
        )
        con.execute(
            """INSERT INTO runs VALUES
               ('run-1', 'run', '2025-03-01 00:50', '2025-03-01 01:00', 'completed', '{}', '{}', ''),
               ('run-2', 'run', '2025-03-08 00:50', '2025-03-08 01:00', 'completed', '{}', '{}', 'ok')"""
        )
        _add_month_window(con)
        _add_health_rows(con)


# The 30-day analysis next to the 7-day one (written first, as analyze does): its own camps and voices.
MONTH_ANALYSIS = "uk-healthcare:2025-02-06T00:00:00:2025-03-08T00:00:00"


def _add_month_window(con: Any) -> None:
    con.execute(
        """INSERT INTO analyses VALUES
           (?, 'uk-healthcare', '2025-02-06', '2025-03-08', ?, 'run-2', 10, 6, 12, '2025-03-08 00:59')""",
        [MONTH_ANALYSIS, MODEL],
    )
    for account_id, *_rest, camp in ACCOUNTS:
        month_camp = 0 if camp is None else camp
        con.execute(
            "INSERT INTO communities VALUES (?, ?, ?, ?)",
            [MONTH_ANALYSIS, account_id, month_camp, month_camp],
        )
    con.execute(
        """INSERT INTO community_profiles (analysis_id, camp_id, label, size, n_posts, insularity, ei_index,
               share_constructive, share_neutral, share_hostile, n_unscored, top_hashtags, top_terms,
               top_accounts) VALUES
           (?, 0, 'GPs over the month', 3, 4, 0.7, -0.4, 0.5, 0.5, 0.0, 0, '[]', '[]', '[]'),
           (?, 1, 'Patients over the month', 3, 6, 0.6, -0.2, 0.6, 0.0, 0.4, 1, '[]', '[]', '[]')""",
        [MONTH_ANALYSIS, MONTH_ANALYSIS],
    )
    con.execute(
        "INSERT INTO polarization VALUES (?, 'headline', 0.45, 0.30, 0.05, 3.0), (?, 'modularity', 0.45, 0.30, 0.05, 3.0)",
        [MONTH_ANALYSIS, MONTH_ANALYSIS],
    )
    for account_id, rank, examples in (
        ("mastodon:6", 1, ["mastodon:109"]),
        ("mastodon:1", 2, ["mastodon:101"]),
    ):
        con.execute(
            "INSERT INTO voices VALUES (?, ?, ?, 0.5, 0.8, 0.3, 0.02, 1, 0, '{\"1\": 2}', ?, 'month')",
            [MONTH_ANALYSIS, account_id, rank, EXAMPLE_POSTS.dump(examples)],
        )


# What Data health reads: a failed ingest before the last run, quarantined records, cursors, X reads.
QUARANTINE_REASONS = [("not a JSON object", 3), ("no author", 1)]


def _add_health_rows(con: Any) -> None:
    con.execute(
        """INSERT INTO runs VALUES ('run-0', 'ingest', '2025-03-07 00:50', '2025-03-07 00:51', 'failed', '{}',
               '{"read": 120, "posts_stored": 100, "quarantined": 4}', 'HTTPError: 503 from mastodon.social')"""
    )
    for reason, n in QUARANTINE_REASONS:
        for i in range(n):
            con.execute(
                "INSERT INTO quarantine VALUES (?, 'file', 'import.jsonl', ?, ?, '{\"secret\": 1}', 'run-0', ?)",
                [f"q-{reason}-{i}", i, reason, T0],
            )
    con.execute("INSERT INTO cursors VALUES ('mastodon', 'NHS', '113456789', '2025-03-07 00:51')")
    con.execute(
        """INSERT INTO source_reads VALUES ('run-0', 'x', 'NHS', 300, current_timestamp::TIMESTAMP),
               ('run-1', 'x', 'NHS', 200, current_timestamp::TIMESTAMP - INTERVAL 400 DAY)"""
    )


def _build_tiny(path: Path) -> None:
    """An analysis of two posts by one account: too little to judge anything."""
    wh = Warehouse(path)
    wh.init()
    with wh.connect() as con:
        con.execute(
            """INSERT INTO analyses VALUES ('tiny:2025-03-01:2025-03-08', 'uk-healthcare', '2025-03-01',
                   '2025-03-08', ?, 'run-1', 2, 1, 0, '2025-03-08 01:00')""",
            [MODEL],
        )


TEST_PSEUDONYM_KEY = bytes(range(32))  # tests' own key: the pseudonyms are stable from run to run


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dashboard")
    _build(root / "warehouse.duckdb")
    return Warehouse(root / "warehouse.duckdb").publish(root / "snapshot.duckdb")


@pytest.fixture(scope="session")
def pseudonymized_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dashboard-pseudo")
    _build(root / "warehouse.duckdb")
    return Warehouse(root / "warehouse.duckdb").publish(
        root / "snapshot.duckdb", pseudonymize=True, key=TEST_PSEUDONYM_KEY
    )


@pytest.fixture(scope="session")
def tiny_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dashboard-tiny")
    _build_tiny(root / "warehouse.duckdb")
    return Warehouse(root / "warehouse.duckdb").publish(root / "snapshot.duckdb")


@pytest.fixture(scope="session")
def empty_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dashboard-empty")
    _build(root / "warehouse.duckdb", with_analysis=False)
    return Warehouse(root / "warehouse.duckdb").publish(root / "snapshot.duckdb")


@pytest.fixture
def app_env(snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the dashboard at the test snapshot and a fresh outreach database; yields the latter."""
    outreach = tmp_path / "outreach.duckdb"
    monkeypatch.setenv("COMMONGROUND_SNAPSHOT", str(snapshot))
    monkeypatch.setenv("COMMONGROUND_OUTREACH_DATABASE", str(outreach))
    monkeypatch.setenv("COMMONGROUND_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY.hex())  # no key file is written
    st.cache_data.clear()
    yield outreach
    st.cache_data.clear()


def open_app(page: str, at: AppTest | None = None) -> AppTest:
    """Open one page of the app (in a new session unless `at` is given) and check it raised nothing."""
    at = at or AppTest.from_file(str(APP), default_timeout=30)
    at.switch_page(page)
    at.run(timeout=30)
    assert not at.exception, [e.value for e in at.exception]
    return at
