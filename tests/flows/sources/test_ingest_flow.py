"""The ingest flow with platform sources under Prefect: counts in `runs`, retries, X's read caps, no secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import responses

from flows.options import RunOptions
from flows.pipeline import ingest
from warehouse.store import Warehouse

from .conftest import FakeBluesky, FakeMastodon, FakeX, mastodon_status, post_view, tweet

IMPORTS = Path(__file__).resolve().parents[2] / "fixtures" / "imports"

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., RunOptions]:
    """Options for a run into `tmp_path`; settings (waits, page sizes, tokens, caps) go where an
    operator puts them, in the environment."""

    def options(**settings: Any) -> RunOptions:
        fast = {"source_backoff_seconds": 0, "ingest_task_retry_delays": [0], "mastodon_page_size": 3}
        for name, value in {**fast, "x_page_size": 10, **settings}.items():
            monkeypatch.setenv(
                f"COMMONGROUND_{name.upper()}", value if isinstance(value, str) else json.dumps(value)
            )
        return RunOptions(data_dir=tmp_path, mastodon_instances=["mastodon.social"])

    return options


def runs(tmp_path: Path) -> list[dict[str, Any]]:
    frame = Warehouse(tmp_path / "commonground.duckdb").query(
        "SELECT status, counts, params FROM runs WHERE flow = 'ingest' ORDER BY started_at"
    )
    return [{"status": s, **json.loads(c)} for s, c in zip(frame["status"], frame["counts"], strict=True)]


def test_two_runs_of_the_mastodon_flow_count_every_post_read(
    configure: Callable[..., RunOptions], tmp_path: Path, http: responses.RequestsMock
) -> None:
    fake = FakeMastodon("mastodon.social", [mastodon_status(i, minutes=i) for i in range(1, 8)]).install(http)
    first = ingest(configure(), source="mastodon", queries=["NHS"])
    fake.statuses.append(mastodon_status(8, minutes=8))
    second = ingest(configure(), source="mastodon", queries=["NHS"])
    assert (first["read"], first["posts_stored"]) == (7, 7)
    assert (second["read"], second["posts_stored"]) == (1, 1)
    recorded = runs(tmp_path)
    assert [r["status"] for r in recorded] == ["completed", "completed"]
    for run in recorded:
        assert run["read"] == run["posts_stored"] + run["quarantined"] + run["duplicates"]


def test_a_transient_failure_is_retried_by_prefect_but_a_bad_request_is_not(
    configure: Callable[..., RunOptions], tmp_path: Path, http: responses.RequestsMock
) -> None:
    fake = FakeMastodon("mastodon.social", [mastodon_status(1)]).install(http)
    fake.fail_next(502, "<html>Bad Gateway</html>")
    counts = ingest(configure(source_attempts=1, ingest_task_retries=1), source="mastodon", queries=["NHS"])
    assert counts["posts_stored"] == 1
    assert len(fake.requests) == 3  # the 502, then the retried task: one page and the empty one after it

    x = FakeX([tweet(1)]).install(http)
    x.fail_next(
        400, {"title": "Invalid Request", "detail": "One or more parameters to your request was invalid."}
    )
    with pytest.raises(Exception, match="400"):
        ingest(
            configure(x_bearer_token="x-test-token", ingest_task_retries=2),
            source="x",
            queries=["NHS"],
        )
    assert len(x.requests) == 1
    assert runs(tmp_path)[-1]["status"] == "failed"


def test_the_x_read_caps_per_run_and_per_month_stop_the_run_and_say_so(
    configure: Callable[..., RunOptions], tmp_path: Path, http: responses.RequestsMock
) -> None:
    fake = FakeX([tweet(100 + i) for i in range(40)]).install(http)
    caps = {"x_bearer_token": "x-test-token", "x_max_reads_per_run": 25, "x_max_reads_per_month": 35}
    first = ingest(configure(**caps), source="x", queries=["NHS", "GP"])
    assert first["read"] == 20  # two pages of 10 for #NHS; 5 left is below one page, so #GP reads nothing
    assert first["x_read_cap_reached"]
    assert [n.split(":")[0] for n in first["notices"]] == ["x #NHS", "x #GP"]
    assert len(fake.requests) == 2

    second = ingest(configure(**caps), source="x", queries=["GP"])
    assert second["read"] == 10  # 15 left this month: one page of 10
    assert second["x_read_cap_reached"]
    assert [r["read"] for r in runs(tmp_path)] == [20, 10]


def test_no_token_or_password_reaches_the_logs_or_the_runs_table(
    configure: Callable[..., RunOptions],
    tmp_path: Path,
    http: responses.RequestsMock,
    bluesky: FakeBluesky,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secrets = {
        "x_bearer_token": "xbearer-SECRET-0001",
        "mastodon_tokens": {"mastodon.social": "masto-SECRET-0002"},
        "bluesky_handle": "analyst.bsky.social",
        "bluesky_app_password": "bsky-SECRET-0003",
    }
    FakeMastodon("mastodon.social", [mastodon_status(1)]).install(http)
    x = FakeX([tweet(1)]).install(http)
    x.fail_next(429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": "0"})
    bluesky.posts = [post_view("3lb0001")]
    caplog.set_level(logging.DEBUG)
    for name in ("mastodon", "x", "bluesky"):
        counts = ingest(configure(**secrets), source=name, queries=["NHS"])
        assert counts["posts_stored"] == 1
    assert x.requests[0]["auth"] == "Bearer xbearer-SECRET-0001"  # it was used…
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Authorization" in logged  # …tweepy did log its request headers at DEBUG…
    out, err = capsys.readouterr()
    tables = Warehouse(tmp_path / "commonground.duckdb").query(
        "SELECT concat_ws(' ', (SELECT string_agg(r::VARCHAR, ' ') FROM runs r), (SELECT string_agg(q::VARCHAR, "
        "' ') FROM quarantine q), (SELECT string_agg(p.raw, ' ') FROM posts p)) AS everything"
    )
    for secret in ("SECRET-0001", "SECRET-0002", "SECRET-0003"):
        assert secret not in logged  # …but never the token
        assert secret not in out + err
        assert secret not in tables.loc[0, "everything"]


def test_the_ingest_command_imports_a_csv_through_column_mappings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main

    columns = ["id=post id", "created_at=when", "text=body", "author_id=user id", "author_handle=user"]
    argv = ["--data-dir", str(tmp_path), "ingest", "--source", "file", "--path", str(IMPORTS / "posts.csv")]
    assert main([*argv, *(arg for c in columns for arg in ("--column", c))]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert (counts["read"], counts["posts_stored"]) == (4, 3)  # followers are not mapped: row c4 is fine
    assert main([*argv, "--column", "text"]) == 2
    assert "FIELD=COLUMN" in capsys.readouterr().err


def test_a_platform_without_credentials_says_which_setting_to_fill_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main

    assert main(["--data-dir", str(tmp_path), "ingest", "--source", "bluesky", "--tag", "NHS"]) == 2
    assert "COMMONGROUND_BLUESKY_APP_PASSWORD" in capsys.readouterr().err


class FailingThirdPage(FakeX):
    """X search that answers two pages, then refuses the third (a 400 no retry cures). The source
    holds each page until the next one comes (the last carries the cursor), so one page is written."""

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        if len(self.requests) == 2:
            self.fail_next(400, {"title": "Invalid Request", "detail": "One or more parameters was invalid."})
        return super().__call__(request)


def test_a_failed_run_still_records_what_it_read_wrote_and_quarantined(
    configure: Callable[..., RunOptions], tmp_path: Path, http: responses.RequestsMock
) -> None:
    tweets = [tweet(100 + i, minutes=i) for i in range(35)]
    tweets[-1]["created_at"] = "9999-12-31T23:59:59-05:00"  # the newest id: on the first page
    FailingThirdPage(tweets).install(http)
    with pytest.raises(Exception, match="400"):
        ingest(configure(x_bearer_token="x-test-token"), source="x", queries=["NHS"])
    (run,) = runs(tmp_path)
    assert run["status"] == "failed"
    assert (run["read"], run["posts_stored"], run["quarantined"]) == (10, 9, 1)
    assert run["failed_query"] == "NHS"
    stored = Warehouse(tmp_path / "commonground.duckdb").table_counts()
    assert (stored["posts"], stored["quarantine"]) == (9, 1)


def test_the_import_summary_counts_quarantined_rows_with_their_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main

    bad = tmp_path / "bad.csv"
    good = "2,2026-11-16T08:12:00Z,ho,jane\n"
    bad.write_text("id,created_at,text,author_handle\n1,2026-11-16T08:12:00Z,hi,jane,spill\n" + good)
    with bad.open("a") as handle:
        handle.write("3,9999-12-31T23:59:59-05:00,far,jane\n")
    assert main(["--data-dir", str(tmp_path / "d"), "ingest", "--source", "file", "--path", str(bad)]) == 0
    out, err = capsys.readouterr()
    counts = json.loads(out)
    assert (counts["read"], counts["posts_stored"], counts["quarantined"]) == (3, 1, 2)
    assert "quarantined 2" in err
    assert "more cell(s) than the header" in err and "in the future" in err
