"""Tests for the seeded sample-conversation generator and the committed sample in data/sample."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.sources.jsonl import normalise_post
from lab.sample.generate import (
    SampleConversation,
    dumps_jsonl,
    dumps_truth,
    generate_conversation,
    main,
    write_sample,
)
from warehouse.records import Provenance

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = ROOT / "data" / "sample"
SMALL = {"seed": 7, "n_accounts": 120, "n_posts": 900}
REFS = ("reply_to", "quote_of", "repost_of")
STAKEHOLDERS = {
    "gp", "nurse", "pharmacist", "allied_health", "patient", "researcher", "nhs_org", "industry",
    "journalist", "politician", "other",
}  # fmt: skip
ROLES = {"regular", "leader", "bridger", "hostile", "newsdesk"}


@pytest.fixture(scope="module")
def small() -> SampleConversation:
    return generate_conversation(**SMALL)


@pytest.fixture(scope="module")
def full() -> SampleConversation:
    return generate_conversation()


def _kind(post: dict[str, Any]) -> str:
    return next((k for k in REFS if k in post), "original")


def _camp(conv: SampleConversation, account_id: str) -> str:
    return str(conv.truth["accounts"][account_id]["camp"])


def _regular_endorsement_share(conv: SampleConversation) -> float:
    inside = total = 0
    for post in conv.posts:
        kind = _kind(post)
        author = post["author"]["id"]
        if kind in ("repost_of", "quote_of") and conv.truth["accounts"][author]["role"] == "regular":
            total += 1
            inside += _camp(conv, author) == _camp(conv, post[kind]["author_id"])
    return inside / total


def test_same_seed_same_bytes_and_other_seed_differs(small: SampleConversation) -> None:
    again = generate_conversation(**SMALL)
    assert dumps_jsonl(again.posts) == dumps_jsonl(small.posts)
    assert dumps_truth(again.truth) == dumps_truth(small.truth)
    other = generate_conversation(**{**SMALL, "seed": 8})
    assert dumps_jsonl(other.posts) != dumps_jsonl(small.posts)
    assert [p["text"] for p in other.posts[:50]] != [p["text"] for p in small.posts[:50]]


@pytest.mark.parametrize("config", [SMALL, {"seed": 11, "n_accounts": 150, "n_posts": 1000, "n_camps": 5}])
def test_exact_counts_and_truth_covers_everything(config: dict[str, int]) -> None:
    conv = generate_conversation(**config)
    authors = {p["author"]["id"] for p in conv.posts}
    assert len(conv.posts) == config["n_posts"]
    assert len(authors) == config["n_accounts"]
    assert set(conv.truth["accounts"]) == authors
    ids = [p["id"] for p in conv.posts]
    assert len(set(ids)) == len(ids)
    assert set(conv.truth["posts"]) == set(ids)
    assert set(conv.truth["posts"].values()) == {"constructive", "neutral", "hostile"}
    assert len(conv.truth["camps"]) == config.get("n_camps", 4)
    assert {a["camp"] for a in conv.truth["accounts"].values()} == set(conv.truth["camps"])
    assert {a["role"] for a in conv.truth["accounts"].values()} == ROLES
    assert {a["stakeholder"] for a in conv.truth["accounts"].values()} <= STAKEHOLDERS


def test_references_point_to_earlier_posts_by_the_right_author(small: SampleConversation) -> None:
    seen: dict[str, dict[str, Any]] = {}
    previous = ""
    start, end = "2026-11-16T00:00:00Z", "2026-11-22T23:59:59Z"
    for post in small.posts:
        assert start <= post["created_at"] <= end
        assert post["created_at"] >= previous, "posts must be in chronological order"
        previous = post["created_at"]
        assert datetime.fromisoformat(post["created_at"].replace("Z", "+00:00")).tzinfo == UTC
        refs = [k for k in REFS if k in post]
        assert len(refs) <= 1
        for key in refs:
            target = seen.get(post[key]["id"])
            assert target is not None, f"{post['id']} references a later or unknown post"
            assert target["author"]["id"] == post[key]["author_id"]
            assert target["author"]["id"] != post["author"]["id"]
            if key == "repost_of":
                assert post["text"] == target["text"]
                assert "repost_of" not in target
                assert small.truth["posts"][post["id"]] == small.truth["posts"][target["id"]]
        assert post["platform"] == "sample"
        assert post["url"].endswith(f"/@{post['author']['handle']}/{post['id']}")
        seen[post["id"]] = post


def test_mentions_and_hashtags_match_the_text(small: SampleConversation) -> None:
    authors = {p["author"]["id"]: p["author"]["handle"] for p in small.posts}
    mentioning = 0
    for post in small.posts:
        mentions = post.get("mentions", [])
        mentioning += bool(mentions)
        assert {m["handle"] for m in mentions} == set(re.findall(r"@(\w+)", post["text"]))
        for m in mentions:
            assert authors[m["id"]] == m["handle"]
        assert set(post.get("hashtags", [])) == set(re.findall(r"#(\w+)", post["text"]))
    assert 0.08 <= mentioning / len(small.posts) <= 0.25


def test_every_post_normalises_with_the_jsonl_source(small: SampleConversation) -> None:
    provenance = Provenance(
        source="sample", query="", url="", client_version="test", retrieved_at=datetime(2026, 11, 23)
    )
    interactions: Counter[str] = Counter()
    for post in small.posts:
        batch = normalise_post(post, default_platform="sample", provenance=provenance)
        assert len(batch.posts) == 1
        interactions.update(str(i.kind) for i in batch.interactions)
    assert len(interactions) == 4  # reply, quote, repost and mention edges all present


def test_kind_shares_look_like_a_hashtag_stream(full: SampleConversation) -> None:
    kinds = Counter(_kind(p) for p in full.posts)
    n = len(full.posts)
    assert 0.30 <= kinds["repost_of"] / n <= 0.40
    assert 0.07 <= kinds["quote_of"] / n <= 0.13
    assert 0.18 <= kinds["reply_to"] / n <= 0.27


@pytest.mark.parametrize("which", ["small", "full"])
def test_regular_members_endorse_their_own_camp(which: str, request: pytest.FixtureRequest) -> None:
    conv: SampleConversation = request.getfixturevalue(which)
    assert _regular_endorsement_share(conv) >= 0.85


def test_every_account_has_a_repost_or_quote_edge(small: SampleConversation) -> None:
    covered: set[str] = set()
    for post in small.posts:
        for key in ("repost_of", "quote_of"):
            if key in post:
                covered.update((post["author"]["id"], post[key]["author_id"]))
    assert covered == set(small.truth["accounts"])


def test_bridgers_are_endorsed_across_camps_but_not_the_loudest(small: SampleConversation) -> None:
    truth = small.truth
    bridgers = truth["bridgers"]
    assert len(bridgers) == 5
    assert len({_camp(small, b) for b in bridgers}) == len(truth["camps"])
    assert all(truth["accounts"][b]["role"] == "bridger" for b in bridgers)
    reached: dict[str, set[str]] = defaultdict(set)
    for post in small.posts:
        kind = _kind(post)
        if kind == "original" or post[kind]["author_id"] not in bridgers:
            continue
        constructive = truth["posts"][post["id"]] == "constructive"
        if kind in ("repost_of", "quote_of") or constructive:
            reached[post[kind]["author_id"]].add(_camp(small, post["author"]["id"]))
    for bridger in bridgers:
        assert len(reached[bridger]) >= 3, bridger
        assert len(reached[bridger] - {_camp(small, bridger)}) >= 2, bridger
    volume = Counter(p["author"]["id"] for p in small.posts)
    followers = {p["author"]["id"]: p["author"]["followers"] for p in small.posts}
    assert max(volume[b] for b in bridgers) < max(volume.values())
    assert max(followers[b] for b in bridgers) < sorted(followers.values())[-10]
    originals = [p for p in small.posts if _kind(p) == "original" and p["author"]["id"] in bridgers]
    constructive = sum(truth["posts"][p["id"]] == "constructive" for p in originals)
    assert constructive / len(originals) >= 0.7
    replies = [p for p in small.posts if _kind(p) == "reply_to" and p["author"]["id"] in bridgers]
    cross = [
        p for p in replies if _camp(small, p["reply_to"]["author_id"]) != _camp(small, p["author"]["id"])
    ]
    assert len(cross) / len(replies) >= 0.6
    assert all(truth["posts"][p["id"]] != "hostile" for p in cross)


def test_constructive_insiders_exist(small: SampleConversation) -> None:
    """Constructive regulars who never endorse or reply outside their camp: ranking must use bridging."""
    out_camp: set[str] = set()
    constructive: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for post in small.posts:
        author = post["author"]["id"]
        kind = _kind(post)
        if kind != "original" and _camp(small, post[kind]["author_id"]) != _camp(small, author):
            out_camp.add(author)
        if kind != "repost_of":
            total[author] += 1
            constructive[author] += small.truth["posts"][post["id"]] == "constructive"
    insiders = [
        a
        for a, n in total.items()
        if n >= 3 and a not in out_camp and constructive[a] / n >= 0.7 and a not in small.truth["bridgers"]
    ]
    assert len(insiders) >= 3


def test_hostile_accounts_are_loud_and_hostile(small: SampleConversation) -> None:
    truth = small.truth
    hostile = truth["hostile_accounts"]
    assert len(hostile) >= 3
    volume = Counter(p["author"]["id"] for p in small.posts)
    cutoff = sorted(volume.values())[int(0.85 * len(volume))]
    for account in hostile:
        tones = Counter(truth["posts"][p["id"]] for p in small.posts if p["author"]["id"] == account)
        assert tones["hostile"] / sum(tones.values()) >= 0.7
        assert volume[account] >= cutoff
        assert truth["accounts"][account]["camp"] in truth["camps"]


def test_pile_ons_are_hostile_bursts_on_one_post(small: SampleConversation) -> None:
    by_id = {p["id"]: p for p in small.posts}
    pile_ons = small.truth["pile_ons"]
    assert len(pile_ons) >= 3
    for pile in pile_ons:
        replies = [by_id[r] for r in pile["replies"]]
        assert len({r["author"]["id"] for r in replies}) >= 3
        assert all(r["reply_to"]["id"] == pile["target"] for r in replies)
        assert all(small.truth["posts"][r["id"]] == "hostile" for r in replies)
        times = sorted(datetime.fromisoformat(r["created_at"].replace("Z", "+00:00")) for r in replies)
        assert (times[-1] - times[0]).total_seconds() <= 3600


def test_cross_camp_replies_are_more_hostile(full: SampleConversation) -> None:
    counts: Counter[tuple[bool, bool]] = Counter()
    for post in full.posts:
        author = post["author"]["id"]
        if "reply_to" not in post or author in full.truth["bridgers"]:
            continue
        same = _camp(full, author) == _camp(full, post["reply_to"]["author_id"])
        counts[(same, full.truth["posts"][post["id"]] == "hostile")] += 1
    within = counts[(True, True)] / (counts[(True, True)] + counts[(True, False)])
    across = counts[(False, True)] / (counts[(False, True)] + counts[(False, False)])
    assert across > within + 0.2


def test_texts_are_varied_and_length_does_not_give_away_tone(full: SampleConversation) -> None:
    originals = [p for p in full.posts if _kind(p) != "repost_of"]
    texts = [p["text"] for p in originals]
    assert len(set(texts)) / len(texts) >= 0.9
    openings = Counter(" ".join(re.sub(r"[#@]\w+:?", "", t).split()[:3]).lower() for t in texts)
    assert openings.most_common(1)[0][1] / len(texts) < 0.05
    words: dict[str, list[int]] = defaultdict(list)
    for post in originals:
        words[full.truth["posts"][post["id"]]].append(len(post["text"].split()))
    all_lengths = [n for lengths in words.values() for n in lengths]
    assert sum(8 <= n <= 60 for n in all_lengths) / len(all_lengths) >= 0.7
    assert sum(n >= 40 for n in words["hostile"]) >= 20  # long hostile rants exist
    assert sum(n <= 15 for n in words["constructive"]) >= 20  # and short constructive posts
    hostile_text = " ".join(
        t for p, t in zip(originals, texts, strict=True) if full.truth["posts"][p["id"]] == "hostile"
    )
    assert re.search(r"\b(clown|idiot|liar|shut up)", hostile_text, re.IGNORECASE)


def test_bios_declare_stakeholder_roles(full: SampleConversation) -> None:
    cues = {
        "gp": "gp",
        "nurse": "nurse",
        "pharmacist": "pharmac",
        "nhs_org": "official account",
        "industry": "startup|founder|company|entrepreneur|investor",
        "journalist": "correspondent|reporter|journalist",
        "politician": r"\bmp\b|councillor|spokesperson",
    }
    bios = {p["author"]["id"]: p["author"]["bio"].lower() for p in full.posts}
    for account, info in full.truth["accounts"].items():
        assert bios[account]
        cue = cues.get(info["stakeholder"])
        if cue:
            assert re.search(cue, bios[account]), (info["stakeholder"], bios[account])


def test_committed_sample_is_what_the_generator_makes(full: SampleConversation) -> None:
    posts_path = SAMPLE_DIR / "conversation.jsonl"
    truth_path = SAMPLE_DIR / "truth.json"
    assert posts_path.stat().st_size < 5 * 1024 * 1024
    assert posts_path.read_bytes().decode("utf-8") == dumps_jsonl(full.posts)
    assert truth_path.read_text(encoding="utf-8") == dumps_truth(full.truth)
    assert json.loads(truth_path.read_text(encoding="utf-8"))["seed"] == 2026


def test_write_sample_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    posts_path, truth_path = write_sample(tmp_path, seed=2026)
    assert posts_path.read_bytes() == (SAMPLE_DIR / "conversation.jsonl").read_bytes()
    assert truth_path.read_bytes() == (SAMPLE_DIR / "truth.json").read_bytes()


def test_write_sample_and_cli(tmp_path: Path) -> None:
    posts_path, truth_path = write_sample(tmp_path / "a", **SMALL)
    assert posts_path.name == "conversation.jsonl" and truth_path.name == "truth.json"
    assert len(posts_path.read_text(encoding="utf-8").splitlines()) == SMALL["n_posts"]
    argv = ["--out", str(tmp_path / "b"), "--seed", "7", "--accounts", "120", "--posts", "900"]
    assert main(argv) == 0
    assert (tmp_path / "b" / "conversation.jsonl").read_bytes() == posts_path.read_bytes()
    assert main(["--out", str(tmp_path / "c"), "--accounts", "120", "--posts", "100"]) == 2


def test_rejects_impossible_sizes() -> None:
    with pytest.raises(ValueError):
        generate_conversation(n_accounts=120, n_posts=119)
    with pytest.raises(ValueError):
        generate_conversation(n_accounts=20, n_posts=900)
    with pytest.raises(ValueError):
        generate_conversation(n_camps=9)
