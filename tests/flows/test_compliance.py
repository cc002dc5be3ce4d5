"""Deletion compliance, offline: the real client libraries against recorded or documented answers of the
platforms (tests/fixtures/real/compliance/SOURCE.txt), the real warehouse and the real Prefect flows."""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import responses
import respx

from flows.cli import main
from flows.compliance import XComplianceJob, check_bluesky, check_mastodon, parse_x_results
from flows.lifecycle import compliance
from flows.options import RunOptions
from flows.pipeline import ingest_query
from flows.sources.bluesky import BlueskySource
from flows.sources.common import Backoff, SourceUnavailable, TransientSourceError
from flows.sources.files import FileSource
from flows.sources.mastodon import MastodonSource
from flows.sources.x import XSource
from warehouse.store import Warehouse

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
COMPLIANCE = REAL / "compliance"
BSKY = "https://bsky.social/xrpc"


def _import(warehouse: Warehouse, path: Path, fmt: str) -> None:
    counts = ingest_query(warehouse, FileSource(fmt=fmt), str(path), run_id="import")  # type: ignore[arg-type]
    assert counts.posts_stored > 0


def _posts(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT post_id FROM posts").fetchall()}


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.mark.usefixtures("prefect_harness")
def test_mastodon_statuses_answering_404_are_deleted_published_and_never_imported_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONGROUND_SOURCE_BACKOFF_SECONDS", "0")
    warehouse = Warehouse(tmp_path / "commonground.duckdb")
    warehouse.init()
    statuses = REAL / "mastodon" / "hashtag_fosstodon.json"
    _import(warehouse, statuses, "mastodon-json")
    kept, gone = json.loads(statuses.read_text(encoding="utf-8"))
    with responses.RequestsMock() as http:
        # rstats.me still has its status; mastodon.social has a hiccup (503), then says it is gone.
        http.get("https://rstats.me/api/v1/statuses/114870142137562212", json=kept)
        deleted_url = "https://mastodon.social/api/v1/statuses/114869631572884594"
        http.get(deleted_url, status=503, json={"error": "Service unavailable"})
        http.get(deleted_url, status=404, body=(COMPLIANCE / "mastodon_status_not_found.json").read_text())
        counts = compliance(RunOptions(data_dir=tmp_path), source="mastodon")
    assert (counts["checked"], counts["found_deleted"], counts["unchecked"]) == (2, 1, 0)
    assert counts["deleted"]["posts"] == 1 and counts["deleted"]["deletions"] == 1
    gone_id = f"mastodon:{gone['uri']}"
    assert gone_id not in _posts(warehouse.path)
    assert f"mastodon:{kept['uri']}" in _posts(warehouse.path)
    assert gone_id not in _posts(Path(counts["snapshot"]))  # the dashboard's copy too
    reason = warehouse.query("SELECT reason FROM deletions")["reason"][0]
    assert reason == "mastodon: 404 from mastodon.social"
    # Importing the same statuses again does not bring it back.
    again = ingest_query(warehouse, FileSource(fmt="mastodon-json"), str(statuses), run_id="again")
    assert again.deleted == 1 and gone_id not in _posts(warehouse.path)


def test_mastodon_instances_that_refuse_or_keep_failing_leave_their_posts_as_they_are() -> None:
    waits = Waits()
    backoff = Backoff(attempts=2, base_seconds=0, max_wait_seconds=0, sleep=waits)
    source = MastodonSource(["locked.example", "down.example"], backoff=backoff, sleep=waits)
    posts = [
        ("mastodon:a", "https://locked.example/users/ann/statuses/1"),
        ("mastodon:b", "https://locked.example/users/ann/statuses/2"),
        ("mastodon:c", "https://down.example/users/bob/statuses/3"),
        ("mastodon:d", "https://misskey.example/notes/9xk2"),  # not a Mastodon status: cannot be asked
    ]
    with responses.RequestsMock() as http:
        http.get(
            "https://locked.example/api/v1/statuses/1",
            status=401,
            json={"error": "This API requires an authenticated user"},
        )
        http.get("https://down.example/api/v1/statuses/3", status=502, body="Bad Gateway")
        verdicts = check_mastodon(source, posts)
    assert verdicts.deleted == [] and (verdicts.checked, verdicts.unchecked) == (0, 4)
    assert verdicts.notices[0] == "locked.example refused to show statuses (401); its posts were not checked."
    assert verdicts.notices[1].startswith("down.example kept failing")
    assert len(waits) == 1  # one retry of the 502, none of the 401; the second locked post was not asked


def _jwt(exp: float) -> str:
    """A session token shaped as Bluesky issues them (atproto reads its expiry)."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K'})}.{part({'exp': int(exp), 'sub': 'did:plc:me'})}.c2ln"


def _bluesky_post(rkey: str) -> dict[str, Any]:
    thread = json.loads((REAL / "bluesky" / "thread_view_post_with_embed_media.json").read_text())
    post = copy.deepcopy(thread["thread"]["post"])
    post["uri"] = post["uri"].rsplit("/", 1)[0] + "/" + rkey
    return post


def test_bluesky_posts_getposts_leaves_out_are_deleted_when_the_thread_says_not_found(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    warehouse.init()
    real, deleted, blocked = (_bluesky_post(k) for k in ("3kaheyt6vpc22", "3kaheyt6vpc23", "3kaheyt6vpc24"))
    feed = tmp_path / "posts.json"
    feed.write_text(json.dumps({"posts": [real, deleted, blocked]}), encoding="utf-8")
    _import(warehouse, feed, "bluesky")
    not_found = json.loads((COMPLIANCE / "bluesky_get_post_thread_not_found.json").read_text())
    token = _jwt(time.time() + 3600)
    session = {"did": "did:plc:me", "handle": "me.bsky.social", "accessJwt": token, "refreshJwt": token}

    def thread(request: httpx.Request) -> httpx.Response:
        uri = request.url.params["uri"]
        if uri == deleted["uri"]:
            return httpx.Response(400, json=not_found)
        return httpx.Response(200, json={"thread": {"$type": "app.bsky.feed.defs#blockedPost", "uri": uri}})

    with respx.mock(assert_all_called=True) as router:
        router.post(f"{BSKY}/com.atproto.server.createSession").respond(200, json=session)
        asked = router.get(f"{BSKY}/app.bsky.feed.getPosts").respond(200, json={"posts": [real]})
        router.get(f"{BSKY}/app.bsky.feed.getPostThread").mock(side_effect=thread)
        source = BlueskySource("me.bsky.social", "app-password-1234")
        posts = [(f"bluesky:{p['uri']}", p["uri"]) for p in (real, deleted, blocked)]
        verdicts = check_bluesky(source, posts)
    assert asked.calls[0].request.url.params.get_list("uris") == [p["uri"] for p in (real, deleted, blocked)]
    assert verdicts.deleted == [(f"bluesky:{deleted['uri']}", "bluesky: NotFound")]
    assert verdicts.checked == 3 and "blocked" in verdicts.notices[0]


def _x_job(tmp_path: Path, waits: Waits) -> XComplianceJob:
    backoff = Backoff(attempts=2, base_seconds=0, max_wait_seconds=0, sleep=waits)
    source = XSource("bearer-token-for-tests", max_reads=0, backoff=backoff)
    return XComplianceJob(
        source, poll_seconds=30, max_wait_seconds=90, sleep=waits, clock=lambda: len(waits) * 30.0
    )


def test_an_x_compliance_job_uploads_the_ids_polls_and_reads_the_deletions(tmp_path: Path) -> None:
    created = json.loads((COMPLIANCE / "x_compliance_job_created.json").read_text())
    job = created["data"]
    running = {"data": {**job, "status": "in_progress"}}
    complete = {"data": {**job, "status": "complete"}}
    results = (COMPLIANCE / "x_compliance_results.jsonl").read_text()
    waits = Waits()
    with responses.RequestsMock() as http:
        create = http.post("https://api.twitter.com/2/compliance/jobs", json=created)
        upload = http.put(
            re.compile(r"https://storage\.googleapis\.com/twttr-tweet-compliance/\d+/submission/.*")
        )
        http.get(f"https://api.twitter.com/2/compliance/jobs/{job['id']}", json=running)
        http.get(f"https://api.twitter.com/2/compliance/jobs/{job['id']}", json=complete)
        http.get(
            re.compile(r"https://storage\.googleapis\.com/twttr-tweet-compliance/\d+/delivery/.*"),
            body=results,
        )
        x = _x_job(tmp_path, waits)
        job_id = x.start(["1380242611781386245", "1380242586288328707", "1380242515543126027"])
        verdicts = x.results(x.wait(job_id))
    assert json.loads(create.calls[0].request.body) == {"type": "tweets"}
    assert upload.calls[0].request.body == b"1380242611781386245\n1380242586288328707\n1380242515543126027\n"
    assert job_id == "1446017776678801409" and waits == [30]
    assert verdicts.deleted == [
        ("x:1380242586288328707", "x: deleted"),
        ("x:1380242515543126027", "x: suspended"),
    ]


def test_an_x_job_that_does_not_finish_in_time_or_fails_says_what_to_do(tmp_path: Path) -> None:
    job = json.loads((COMPLIANCE / "x_compliance_job_created.json").read_text())["data"]
    url = f"https://api.twitter.com/2/compliance/jobs/{job['id']}"
    with responses.RequestsMock() as http:
        http.get(url, json={"data": {**job, "status": "in_progress"}})
        with pytest.raises(TransientSourceError, match=f"--x-job {job['id']}"):
            _x_job(tmp_path, Waits()).wait(job["id"])
    with responses.RequestsMock() as http:
        http.get(url, json={"data": {**job, "status": "failed", "error": "Upload failed"}})
        with pytest.raises(SourceUnavailable, match="failed: Upload failed"):
            _x_job(tmp_path, Waits()).wait(job["id"])


def test_x_result_lines_other_than_deletions_are_counted_and_named_not_fatal() -> None:
    lines = [
        '{"id":"1","action":"delete","reason":"deactivated"}',
        "not json",
        '{"id":"2","action":"hypothetical_other_action"}',
        "",
    ]
    verdicts = parse_x_results(lines, "results.jsonl")
    assert verdicts.deleted == [("x:1", "x: deactivated")] and verdicts.checked == 2
    assert verdicts.notices == ["results.jsonl: 1 line(s) are not compliance results (first: line 2)."]


@pytest.mark.usefixtures("prefect_harness")
def test_cli_applies_a_downloaded_x_result_file_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = Warehouse(tmp_path / "commonground.duckdb")
    warehouse.init()
    _import(warehouse, REAL / "twarc2" / "flat_excerpt.jsonl", "twarc2")
    results = str(COMPLIANCE / "x_compliance_results.jsonl")
    assert main(["--data-dir", str(tmp_path), "compliance", "--source", "x", "--x-results", results]) == 0
    printed = capsys.readouterr().out
    assert "2 deleted by their authors" in printed and "deletions" in printed
    assert _posts(warehouse.path) == {"x:1380242611781386245"}
    assert (
        main(["--data-dir", str(tmp_path), "compliance", "--source", "mastodon", "--x-results", results]) == 2
    )
    assert "use it with --source x" in capsys.readouterr().err
