"""The schedules: the deployments `commonground serve` builds, the settings behind them, and real serving.

The last two tests start a real `prefect server start` on loopback in subprocesses with their own Prefect
home, so the session's test harness never sees them: one serves the publish flow every few seconds until a
run completes, the other runs `make serve`'s script (server + `commonground serve`) and stops it with
Ctrl-C. Both then check that no process they started is left.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from flows.cli import main
from flows.options import RunOptions
from flows.schedules import QUIET_LOGGERS, build_deployments, describe, quiet_websocket_tracebacks
from warehouse.cron import check_cron
from warehouse.settings import Settings

# --- the deployments ------------------------------------------------------------------------------


def _schedules(deployment: Any) -> list[tuple[str, str]]:
    return [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules]


def test_serve_builds_one_deployment_per_job_with_crons_timezone_and_parameters(tmp_path: Path) -> None:
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    settings = Settings(data_dir=tmp_path, sources=["mastodon", "file", "mastodon"])
    deployments = build_deployments(settings, RunOptions(data_dir=tmp_path))
    by_name = {f"{d.flow_name}/{d.name}": d for d in deployments}
    assert list(by_name) == [
        "ingest/commonground-ingest-mastodon",
        "ingest/commonground-ingest-file",
        "analyze-and-publish/commonground-analyze-and-publish",
        "weekly-report/commonground-weekly-report",
    ]
    options = {"data_dir": str(tmp_path)}
    ingest = by_name["ingest/commonground-ingest-mastodon"]
    assert _schedules(ingest) == [("0 * * * *", "Europe/London")]
    assert ingest.parameters == {"options": options, "source": "mastodon"}
    assert by_name["ingest/commonground-ingest-file"].parameters["source"] == "file"
    # Two ingests of one source never overlap: one slot, later runs wait for it.
    assert ingest.concurrency_limit == 1
    assert ingest.concurrency_options is not None
    assert ingest.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.ENQUEUE
    daily = by_name["analyze-and-publish/commonground-analyze-and-publish"]
    assert _schedules(daily) == [("15 6 * * *", "Europe/London")]
    assert daily.parameters == {"options": options}
    weekly = by_name["weekly-report/commonground-weekly-report"]
    assert _schedules(weekly) == [("0 7 * * 1", "Europe/London")]
    assert weekly.parameters == {"options": options}  # no week: the last complete week at run time
    assert "week" in weekly._parameter_openapi_schema.properties  # typed parameters reach Prefect
    assert {d.entrypoint for d in deployments} == {
        "flows.pipeline.ingest",
        "flows.schedules.analyze_and_publish",
        "flows.report.flow.weekly_report",
    }
    # The flow's docstring is what Prefect's UI shows about each deployment.
    assert daily.description and "snapshot" in daily.description


def test_schedules_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMONGROUND_SCHEDULE_TIMEZONE", "America/New_York")
    monkeypatch.setenv("COMMONGROUND_SCHEDULE_INGEST_CRON", "*/20  *  * * *")
    monkeypatch.setenv("COMMONGROUND_SCHEDULE_ANALYZE_CRON", "@daily")
    monkeypatch.setenv("COMMONGROUND_SCHEDULE_REPORT_CRON", "30 8 * * mon")
    monkeypatch.setenv("COMMONGROUND_SOURCES", '["x"]')
    deployments = build_deployments(Settings())
    assert [_schedules(d) for d in deployments] == [
        [("*/20 * * * *", "America/New_York")],
        [("@daily", "America/New_York")],
        [("30 8 * * mon", "America/New_York")],
    ]
    assert deployments[0].parameters == {"source": "x"}  # nothing chosen: settings decide at run time
    assert deployments[1].parameters == {}
    assert describe(deployments)[0] == (
        "ingest/commonground-ingest-x: */20 * * * * (America/New_York), at most 1 at a time; "
        "parameters {'source': 'x'}"
    )


GOOD_CRONS = ["0 * * * *", "15 6 * * *", "0 7 * * 1", "*/15 9-17 * * mon-fri", "0 0 1 jan,jul *", "@weekly"]
BAD_CRONS = {
    "61 * * * *": "minute field takes 0-59",
    "0 24 * * *": "hour field takes 0-23",
    "0 7 * *": "has 4 field(s)",
    "0 7 * * 1 2026": "has 6 field(s)",
    "*/0 * * * *": "step of 0",
    "0 7 * * fri-mon": "runs backwards",
    "0 7 * * funday": "day of week field",
    "hourly": "has 1 field(s)",
}


@pytest.mark.parametrize("cron", GOOD_CRONS)
def test_a_valid_cron_is_valid_for_prefect_too(cron: str) -> None:
    from prefect._internal.schemas.validators import validate_cron_string

    assert check_cron(cron) == validate_cron_string(check_cron(cron))


@pytest.mark.parametrize(("cron", "reason"), BAD_CRONS.items())
def test_a_bad_cron_setting_names_the_variable_and_the_field(cron: str, reason: str) -> None:
    with pytest.raises(ValidationError) as error:
        Settings(schedule_report_cron=cron)
    message = str(error.value)
    assert "COMMONGROUND_SCHEDULE_REPORT_CRON" in message
    assert reason in message


def test_a_bad_timezone_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMONGROUND_SCHEDULE_TIMEZONE", "Europe/Londres")
    with pytest.raises(
        ValidationError, match="COMMONGROUND_SCHEDULE_TIMEZONE: 'Europe/Londres' is not an IANA"
    ):
        Settings()
    assert Settings(schedule_timezone="UTC").schedule_timezone == "UTC"


def test_serve_command_lists_its_schedules_and_refuses_a_bad_cron(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(tmp_path), "serve", "--show", "--cron", "0 5 * * *"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ingest/commonground-ingest-file",
        "analyze-and-publish/commonground-analyze-and-publish",
        "weekly-report/commonground-weekly-report",
    ]
    assert lines[1].startswith(
        "analyze-and-publish/commonground-analyze-and-publish: 0 5 * * * (Europe/London)"
    )
    assert main(["serve", "--cron", "0 5 * *", "--show"]) == 2
    assert capsys.readouterr().err.startswith("commonground: --cron: '0 5 * *' has 4 field(s)")


def _clean_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "COMMONGROUND_"))}
    return {**clean, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "HF_HUB_OFFLINE": "1", **env}


def _serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "--data-dir", str(tmp_path), "serve"],
        env=_clean_env(PREFECT_HOME=str(tmp_path / "prefect"), **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_serve_without_a_prefect_server_says_how_to_get_one(tmp_path: Path) -> None:
    result = _serve(tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "commonground: `commonground serve` needs a Prefect server: run `make serve`"
    )
    assert "Preparing Prefect's local database" not in result.stderr  # serve never uses the temporary one
    unreachable = _serve(tmp_path, PREFECT_API_URL=f"http://127.0.0.1:{_free_port()}/api")
    assert unreachable.returncode == 2
    assert unreachable.stderr.startswith("commonground: Cannot reach the Prefect API at http://127.0.0.1:")
    assert "Traceback" not in result.stderr + unreachable.stderr


def test_a_closed_websocket_is_one_line_not_a_traceback() -> None:
    quiet_websocket_tracebacks()
    quiet_websocket_tracebacks()  # idempotent: one filter however often serve starts
    logger = logging.getLogger(QUIET_LOGGERS[0])
    assert len(logger.filters) == 1
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False  # only to this handler, not Prefect's console
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError:
            logger.warning("The %s websocket failed with an exception.", "Observer", exc_info=True)
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
    assert stream.getvalue() == (
        "The Observer websocket failed with an exception. "
        "(ConnectionResetError: [Errno 104] Connection reset by peer)\n"
    )


# --- a real Prefect server -------------------------------------------------------------------------

HEALTH_TIMEOUT = 120.0
RUN_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{url}{path}",
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST" if data else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _wait_for(what: str, check: Any, timeout: float, *alive: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in alive:
            assert process.poll() is None, (
                f"{process.args!r} exited with {process.returncode} waiting for {what}"
            )
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"no {what} within {timeout:.0f} s")


def _our_processes(marker: str) -> list[int]:
    """Live processes whose environment holds `marker` (TEST_RUN, the test's folder): every process the
    test started and everything they started, whatever became of their parents."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # exited, waiting to be reaped: not running
            if marker.encode() + b"\0" in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    # A session of its own: the signals the test sends are the only ones it gets.
    return subprocess.Popen(
        command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def _stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(STOP_TIMEOUT)


@pytest.fixture(scope="module")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Prefect home for both servers (one after the other): the second finds its database migrated,
    which saves it most of its start-up."""
    return tmp_path_factory.mktemp("prefect-server-home")


@pytest.fixture()
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """The processes a test starts; whatever is still running at the end is killed, group and all."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.slow
@pytest.mark.prefect_server
def test_a_real_server_runs_a_served_deployment_and_everything_stops(
    tmp_path: Path, server_home: Path, started: list[subprocess.Popen[str]]
) -> None:
    began = time.monotonic()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    prefect = str(Path(sys.executable).with_name("prefect"))
    server_env = _clean_env(PREFECT_HOME=str(server_home), PREFECT_UI_ENABLED="false", TEST_RUN=str(tmp_path))
    server = _start(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        server_env,
        tmp_path / "server.log",
    )
    started.append(server)
    _wait_for("healthy server", lambda: _api(url, "/health") is True, HEALTH_TIMEOUT, server)
    healthy = time.monotonic()

    data = tmp_path / "data"
    serve_code = (
        "import sys\n"
        "from prefect.deployments.runner import EntrypointType\n"
        "from flows.pipeline import publish\n"
        "from flows.schedules import serve_schedules\n"
        "d = publish.to_deployment(name='publish-every-3s', interval=3, concurrency_limit=1,\n"
        "    parameters={'options': {'data_dir': sys.argv[1]}}, entrypoint_type=EntrypointType.MODULE_PATH)\n"
        "raise SystemExit(serve_schedules([d], limit=1))\n"
    )
    serve_env = _clean_env(
        PREFECT_HOME=str(tmp_path / "client"),
        PREFECT_API_URL=url,
        TEST_RUN=str(tmp_path),
        # the runner looks for due runs every second, not every 10 s (Prefect's default): the first run
        # starts about as soon as it is due, which is all this test waits for
        PREFECT_RUNNER_POLL_FREQUENCY="1",
    )
    serve = _start([sys.executable, "-c", serve_code, str(data)], serve_env, tmp_path / "serve.log")
    started.append(serve)
    completed_filter = {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}
    runs = _wait_for(
        "completed flow run",
        lambda: _api(url, "/flow_runs/filter", completed_filter),
        RUN_TIMEOUT,
        server,
        serve,
    )
    completed = time.monotonic()
    assert runs[0]["parameters"] == {"options": {"data_dir": str(data)}}
    assert (data / "snapshot.duckdb").is_file()  # the flow really ran, in the data folder it was given
    [deployment] = _api(url, "/deployments/filter", {"deployments": {"name": {"any_": ["publish-every-3s"]}}})
    assert deployment["global_concurrency_limit"]["limit"] == 1

    assert _stop(serve) == 0
    # Its runs scheduled ahead go with it, so the next server on this home starts with nothing late.
    delete = urllib.request.Request(f"{url}/deployments/{deployment['id']}", method="DELETE")
    urllib.request.urlopen(delete, timeout=10).close()
    assert _stop(server) == 0
    serve_log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in serve_log, serve_log[-3000:]
    assert "Received KeyboardInterrupt, shutting down" in serve_log
    _wait_for("exit of every process started", lambda: not _our_processes(f"TEST_RUN={tmp_path}"), 10)
    print(
        f"\nreal server: healthy after {healthy - began:.1f} s, first run completed after "
        f"{completed - healthy:.1f} s more, all stopped after {time.monotonic() - began:.1f} s in all"
    )


@pytest.mark.slow
@pytest.mark.prefect_server
def test_make_serve_registers_every_schedule_and_stops_on_ctrl_c(
    tmp_path: Path, server_home: Path, started: list[subprocess.Popen[str]]
) -> None:
    began = time.monotonic()
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = _clean_env(PREFECT_HOME=str(server_home), PREFECT_UI_ENABLED="false", TEST_RUN=str(tmp_path))
    command = [
        sys.executable,
        "-m",
        "flows.serve_local",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
    ]
    local = _start(command, env, tmp_path / "serve_local.log")
    started.append(local)

    def served() -> list[dict[str, Any]]:
        # READY once the runner polls for their runs: serving has really begun.
        found = _api(url, "/deployments/filter", {"deployments": {"tags": {"all_": ["commonground"]}}})
        return found if len(found) == 3 and all(d["status"] == "READY" for d in found) else []

    deployments = _wait_for("three deployments served", served, 240, local)
    schedules = {
        d["name"]: [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in d["schedules"]]
        for d in deployments
    }
    assert schedules == {
        "commonground-ingest-file": [("0 * * * *", "Europe/London")],
        "commonground-analyze-and-publish": [("15 6 * * *", "Europe/London")],
        "commonground-weekly-report": [("0 7 * * 1", "Europe/London")],
    }
    assert _stop(local) == 0
    log = (tmp_path / "serve_local.log").read_text()
    shutdown = log[log.index("Stopping the schedules, then the Prefect server") :]
    assert "Traceback" not in shutdown and "ERROR" not in shutdown, shutdown[-3000:]
    assert "Traceback" not in log[: log.index("Prefect server ready")]  # nor while the server started
    assert f"UI at http://127.0.0.1:{port}" in log
    assert "All deployments have been paused" in log  # the schedules stopped while the server still answered
    _wait_for("exit of every process started", lambda: not _our_processes(f"TEST_RUN={tmp_path}"), 10)
    print(f"\nmake serve: registered, stopped and cleaned up in {time.monotonic() - began:.1f} s")


def test_make_serve_refuses_a_taken_port_and_a_server_that_dies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flows import serve_local

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve_local.run(port, tmp_path / "data") == 2
    assert f"Port {port} on 127.0.0.1 is taken" in capsys.readouterr().err
    dying = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(RuntimeError, match="The Prefect server exited with code 3"):
        serve_local.wait_until_healthy(dying, _free_port(), timeout=60)


@pytest.mark.slow
def test_the_daily_job_scores_analyses_and_publishes(tmp_path: Path, prefect_harness: None) -> None:
    from flows.pipeline import ingest
    from flows.schedules import analyze_and_publish

    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "imports" / "twarc2.jsonl"
    options = RunOptions(data_dir=tmp_path, import_paths=[fixture])
    stored = ingest(options, source="file")["posts_stored"]
    assert stored > 0
    counts = analyze_and_publish(options)
    assert counts["enrich"]["scored"] == stored  # every new post scored once
    assert counts["analyze"]["posts"] == stored
    assert counts["snapshot"] == str(tmp_path / "snapshot.duckdb")
    assert (tmp_path / "snapshot.duckdb").is_file()
