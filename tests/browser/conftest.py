"""The browser test's set-up: the bundled sample built for real, `streamlit run` on it, headless Chromium.

Screenshots, render timings and the Streamlit log go to ``tests/browser/output/`` (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from warehouse.settings import PROJECT_ROOT, SAMPLE_CONVERSATION

OUTPUT_DIR = Path(__file__).resolve().parent / "output"
# A developer's shortcut: a data folder already built with `commonground --data-dir DIR demo --no-dashboard`
# (it must hold snapshot.duckdb); unset, the sample is built from scratch, as in CI.
REUSE_DATA_DIR = "CG_BROWSER_TEST_DATA_DIR"
STARTUP_TIMEOUT_S = 90.0
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _missing(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where .ci/run installs chromium, so a skip cannot hide."""
    if in_ci():
        pytest.fail(
            f"{reason} (CI=true: .ci/run must install it: apt-get install chromium fonts-noto-color-emoji)"
        )
    pytest.skip(f"{reason}; install it to run the browser test (Debian: apt-get install chromium)")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's chromium (no Playwright browser download); checked first, before anything slow is built."""
    path = shutil.which("chromium")
    if path is None:
        _missing("chromium is not installed (no `chromium` on PATH)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    return str(path)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Emptied at the start of each session, so what is there comes from the last run."""
    shutil.rmtree(OUTPUT_DIR, ignore_errors=True)
    OUTPUT_DIR.mkdir(parents=True)
    return OUTPUT_DIR


@pytest.fixture(scope="session")
def sample_data_dir(
    chromium_executable: str,
    output_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Path:
    """A data folder holding the bundled sample's snapshot, built by the real pipeline.

    The flows run in-process under the session's Prefect test harness (what `commonground demo
    --no-dashboard` runs, without preparing a second Prefect database and server), with the shipped tone
    model on the CPU; most of the time is scoring the sample's 3,200 posts."""
    reuse = os.environ.get(REUSE_DATA_DIR)
    if reuse:
        data_dir = Path(reuse).resolve()
        if not (data_dir / "snapshot.duckdb").is_file():
            pytest.fail(
                f"{REUSE_DATA_DIR}={reuse} has no snapshot.duckdb: build it with "
                f"`commonground --data-dir {reuse} demo --no-dashboard`, or unset {REUSE_DATA_DIR}."
            )
        print(f"\nbrowser test: reusing the sample snapshot in {data_dir} ({REUSE_DATA_DIR})")
        return data_dir

    request.getfixturevalue("prefect_harness")
    from flows.options import RunOptions
    from flows.pipeline import pipeline

    data_dir = tmp_path_factory.mktemp("browser-sample")
    started = time.perf_counter()
    counts = pipeline(RunOptions(data_dir=data_dir, sources=["file"], import_paths=[SAMPLE_CONVERSATION]))
    took = time.perf_counter() - started
    print(f"\nbrowser test: built the sample snapshot in {took:.0f} s ({counts['snapshot']})")
    (output_dir / "build_seconds.txt").write_text(f"{took:.1f}\n")
    return data_dir


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with code {proc.returncode} before answering:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(
        f"streamlit did not answer {url}/_stcore/health within {STARTUP_TIMEOUT_S:.0f} s:\n{_log_tail(log)}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group (it was started in a session of its own)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.fixture(scope="session")
def dashboard_url(
    sample_data_dir: Path, output_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`streamlit run dashboard/streamlit_app.py` on the sample snapshot; stopped (and checked gone) at the end."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONGROUND_")}
    env.update(
        COMMONGROUND_DATA_DIR=str(sample_data_dir),
        COMMONGROUND_SNAPSHOT=str(sample_data_dir / "snapshot.duckdb"),
        # a fresh shortlist database, never a developer's
        COMMONGROUND_OUTREACH_DATABASE=str(tmp_path_factory.mktemp("browser-outreach") / "outreach.duckdb"),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    log = output_dir / "streamlit.log"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "dashboard/streamlit_app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        # the code served is fixed for the test: no file watcher, so no "source changed" prompt
        "--server.fileWatcherType",
        "none",
    ]
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_healthy(proc, url, log)
            yield url
        finally:
            _stop(proc)
    assert proc.poll() is not None, "the streamlit server is still running after the test"


@pytest.fixture(scope="module")
def browser(chromium_executable: str) -> Iterator[Any]:
    """Headless Debian chromium driven by Playwright's sync API. Module-scoped: while Playwright's sync API
    is open, its event loop runs in the main thread, and later tests that call asyncio.run() would fail."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
