"""`commonground bench fixed`: what a one-shot command costs before it does any work.

Wall time of `commonground ingest` on a one-line file and of `commonground score` on a one-row CSV,
each a fresh process, as a user types them; the Prefect home is warmed by one untimed run first, so
the numbers are the steady cost, not the first-ever start. The one-line `ingest` is timed twice: with
the Prefect server the warm-up left up for the commands that follow (flows/prefect_server.py, what a
user's second command meets), and with a server of its own (`COMMONGROUND_PREFECT_SERVER_KEEP_SECONDS=0`,
what the first command of a session pays).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from lab.pipeline.bench import bench_env, commonground, default_work_dir, timed_process
from warehouse.settings import SAMPLE_CONVERSATION


def run(quick: bool = False, work_dir: Path | None = None) -> list[str]:
    folder = (work_dir or default_work_dir()) / "fixed"
    shutil.rmtree(folder / "data", ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    env = bench_env(work_dir or default_work_dir())
    with SAMPLE_CONVERSATION.open(encoding="utf-8") as handle:
        line = handle.readline()
    one_line = folder / "one.jsonl"
    one_line.write_text(line, encoding="utf-8")
    one_row = folder / "one.csv"
    one_row.write_text("text\n" + json.dumps(json.loads(line)["text"]) + "\n", encoding="utf-8")
    ingest = commonground(
        "--data-dir", str(folder / "data"), "ingest", "--source", "file", "--path", str(one_line)
    )
    # The server the warm-up starts stays up for the timed commands, and a minute after the last.
    env["COMMONGROUND_PREFECT_SERVER_KEEP_SECONDS"] = "60"
    warm = timed_process("warm-up", ingest, folder / "warm.log", env)
    lines = [f"warm-up ingest (Prefect home {'created' if warm.rc == 0 else 'FAILED'}): {warm.seconds:.1f} s"]
    repeats = 1 if quick else 3
    own_server = {**env, "COMMONGROUND_PREFECT_SERVER_KEEP_SECONDS": "0"}
    for name, argv, run_env in (
        ("ingest of a one-line file (server kept from the command before)", ingest, env),
        ("ingest of a one-line file (a server of its own)", ingest, own_server),
        (
            "score of a one-row CSV",
            commonground("score", str(one_row), "--text-column", "text", "--out", str(folder / "scored.csv")),
            env,
        ),
    ):
        logs = [
            folder / f"{name.split()[0]}-{'own' if run_env is own_server else 'kept'}-{i}.log"
            for i in range(repeats)
        ]
        runs = [timed_process(name, argv, log, run_env) for log in logs]
        failed = [r for r in runs if r.rc != 0]
        best = min(r.seconds for r in runs)
        status = f" (FAILED rc {failed[0].rc}, see {failed[0].log})" if failed else ""
        lines.append(
            f"{name}: {best:.1f} s (best of {repeats}), peak {max(r.peak_bytes for r in runs) / 1024**2:.0f} MiB"
            + status
        )
    return lines
