"""`commonground bench e2e`: the pipeline end to end on generated conversations of growing size.

Each stage (ingest, enrich, analyze, publish) runs as its own `commonground` process, exactly as a user
runs it, so its wall time includes the start-up and its peak RSS is its own (read from `wait4`). All sizes
share one warm Prefect home. The growth exponent between two sizes is log(t2/t1) / log(n2/n1): 1 is linear.
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STAGES = ("ingest", "enrich", "analyze", "publish")
FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000,)
POSTS_PER_ACCOUNT = 5  # 1M posts by 200k accounts


@dataclass
class StageRun:
    """One process: its command, exit status, wall seconds and peak resident memory."""

    name: str
    seconds: float
    peak_bytes: int
    rc: int
    log: Path


@dataclass
class SizeRun:
    posts: int
    stages: list[StageRun] = field(default_factory=list)
    generate: StageRun | None = None
    snapshot: Path | None = None

    @property
    def ok(self) -> bool:
        return all(s.rc == 0 for s in self.stages)


def bench_env(work_dir: Path) -> dict[str, str]:
    """The environment of every process the bench starts: one shared (warm) Prefect home, offline models."""
    env = dict(os.environ)
    env.update(
        PREFECT_HOME=str(work_dir / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    # On a busy machine the temporary Prefect server can take minutes to start; a bench measures that
    # time rather than failing on it (a value the user set wins).
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "600")
    env.pop("COMMONGROUND_DATA_DIR", None)
    return env


def timed_process(name: str, argv: list[str], log: Path, env: dict[str, str]) -> StageRun:
    """Run one Python process (`python -m ...` or `python -c ...`) to the end; its wall time and its own
    peak RSS (lab/pipeline/probe.py says why the probe reads it, not `wait4`)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak_file = log.with_suffix(".peak")
    peak_file.unlink(missing_ok=True)
    wrapped = [argv[0], "-m", "lab.pipeline.probe", str(peak_file), *argv[1:]]
    start = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.run(wrapped, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
    seconds = time.perf_counter() - start
    try:
        peak = int(peak_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        peak = 0  # killed before it could say
    return StageRun(name, seconds, peak, proc.returncode, log)


def commonground(*args: str) -> list[str]:
    """The `commonground` command line, through this interpreter (no reliance on PATH)."""
    return [sys.executable, "-m", "flows.cli", *args]


def run_size(
    posts: int,
    work_dir: Path,
    env: dict[str, str],
    *,
    stages: tuple[str, ...] = STAGES,
    fresh: bool = True,
    standin: bool = False,
) -> SizeRun:
    """Generate `posts` posts (cached between runs) and run each stage on a fresh data folder (or, with
    `fresh=False`, on the one left by an earlier run, to finish its remaining stages). With `standin`,
    enrich is replaced by lab/pipeline/standin.py (no models, planted tones; see there)."""
    folder = work_dir / f"posts-{posts}"
    data_dir = folder / "data"
    sample = folder / "sample"
    result = SizeRun(posts)
    if not (sample / "conversation.jsonl").exists():
        gen = [sys.executable, "-m", "lab.sample.generate", "--out", str(sample), "--posts", str(posts)]
        gen += ["--accounts", str(max(420, posts // POSTS_PER_ACCOUNT))]
        result.generate = timed_process("generate", gen, folder / "generate.log", env)
        if result.generate.rc != 0:
            raise RuntimeError(f"generating {posts} posts failed; see {result.generate.log}")
    for db in data_dir.glob("*.duckdb*") if fresh else ():
        db.unlink()
    for stage in stages:
        argv = commonground("--data-dir", str(data_dir), stage)
        if stage == "ingest":
            argv += ["--source", "file", "--path", str(sample / "conversation.jsonl")]
        if stage == "enrich" and standin:
            stage = "enrich (stand-in)"
            argv = [sys.executable, "-m", "lab.pipeline.standin", "--data-dir", str(data_dir)]
            argv += ["--truth", str(sample / "truth_posts.tsv")]
        run = timed_process(stage, argv, folder / f"{stage.split()[0]}.log", env)
        result.stages.append(run)
        if run.rc != 0:
            break
    snapshot = data_dir / "snapshot.duckdb"
    result.snapshot = snapshot if snapshot.exists() and result.ok else None
    return result


def growth_exponent(n1: int, t1: float, n2: int, t2: float) -> float:
    """How time grows with size between two runs: 1.0 is linear, 2.0 quadratic."""
    if n1 <= 0 or n2 <= 0 or n1 == n2 or t1 <= 0 or t2 <= 0:
        return math.nan
    return math.log(t2 / t1) / math.log(n2 / n1)


def summarise(runs: list[SizeRun]) -> tuple[list[str], list[dict[str, Any]]]:
    """Lines to print and rows for the table/JSON: per size and stage, then exponents between sizes."""
    lines: list[str] = []
    rows: list[dict[str, Any]] = []
    for run in runs:
        total = sum(s.seconds for s in run.stages)
        peak = max((s.peak_bytes for s in run.stages), default=0)
        parts = ", ".join(
            f"{s.name} {s.seconds:.1f} s / {s.peak_bytes / 1024**2:.0f} MiB"
            + ("" if s.rc == 0 else f" (rc {s.rc})")
            for s in run.stages
        )
        lines.append(f"{run.posts:,} posts: {total:.1f} s, peak {peak / 1024**2:.0f} MiB ({parts})")
        if run.generate is not None:
            lines.append(
                f"  (generating them took {run.generate.seconds:.1f} s, {run.generate.peak_bytes / 1024**2:.0f} MiB)"
            )
        for s in run.stages:
            rows.append(
                {
                    "posts": run.posts,
                    "stage": s.name,
                    "seconds": round(s.seconds, 2),
                    "peak_mib": round(s.peak_bytes / 1024**2),
                    "rc": s.rc,
                }
            )
        rows.append(
            {
                "posts": run.posts,
                "stage": "total",
                "seconds": round(total, 2),
                "peak_mib": round(peak / 1024**2),
                "rc": 0 if run.ok else 1,
            }
        )
    for a, b in itertools.pairwise(runs):
        times_a = {s.name: s.seconds for s in a.stages}
        times_b = {s.name: s.seconds for s in b.stages}
        times_a["total"], times_b["total"] = sum(times_a.values()), sum(times_b.values())
        exps = {k: growth_exponent(a.posts, times_a[k], b.posts, times_b[k]) for k in times_b if k in times_a}
        lines.append(
            f"growth exponent {a.posts:,} → {b.posts:,}: "
            + ", ".join(f"{k} {v:.2f}" for k, v in exps.items())
        )
        rows += [
            {"posts": b.posts, "from_posts": a.posts, "stage": k, "exponent": round(v, 3)}
            for k, v in exps.items()
        ]
    return lines, rows


def project(runs: list[SizeRun], target: int) -> list[str]:
    """Each stage's time at `target` posts from the last two sizes (a projection, not a run).

    A stage is taken as a fixed cost plus a cost per post, fitted through the two runs; where the larger
    run was not slower (the fixed cost and the machine's load drown the per-post cost) the larger run's
    time is scaled linearly instead, an upper bound. Growth exponents below 1 come from the fixed cost,
    so extrapolating them would understate a large run."""
    if len(runs) < 2 or any(r.posts >= target for r in runs):
        return []
    a, b = runs[-2], runs[-1]
    times_a = {s.name: s.seconds for s in a.stages}
    parts = []
    total = 0.0
    for s in b.stages:
        per_post = (s.seconds - times_a.get(s.name, s.seconds)) / (b.posts - a.posts)
        linear = s.seconds * target / b.posts
        t = s.seconds + per_post * (target - b.posts) if per_post > 0 else linear
        total += t
        parts.append(f"{s.name} {t / 3600:.1f} h")
    return [
        f"PROJECTION (not run) for {target:,} posts, fixed cost + cost per post fitted on "
        f"{a.posts:,} and {b.posts:,}: {total / 3600:.1f} h ({', '.join(parts)})"
    ]


def run(
    quick: bool = False,
    sizes: tuple[int, ...] | None = None,
    work_dir: Path | None = None,
    standin: bool = False,
) -> dict[str, Any]:
    """Run every size; the lines, the rows and the largest snapshot built (for the dashboard section)."""
    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    work_dir = work_dir or default_work_dir()
    env = bench_env(work_dir)
    runs = []
    for posts in sorted(sizes):
        run_ = run_size(posts, work_dir, env, standin=standin)
        runs.append(run_)
        if not run_.ok:
            break
    lines, rows = summarise(runs)
    lines += project(runs, 1_000_000)
    snapshots = [r.snapshot for r in runs if r.snapshot is not None]
    return {"lines": lines, "rows": rows, "snapshot": snapshots[-1] if snapshots else None}


def default_work_dir() -> Path:
    import tempfile

    return Path(tempfile.gettempdir()) / "commonground-bench"
