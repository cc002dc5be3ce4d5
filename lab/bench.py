"""`commonground bench`: speed measured against baselines run in the same process, as one table and JSON.

Sections: tone (scorer vs a naive loop, and vs this CPU's compute limit), ingest (batched upserts vs
row-by-row INSERTs), e2e (every stage at growing sizes), network (the analysis at growing sizes),
dashboard (p50/p95 of every query on the largest snapshot built), fixed (a one-line job's cost) and api.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Each module has run(quick: bool, ...) -> list[str]: the lines to print, including `ratio: N` lines
# that compare against a baseline measured in the same run. The e2e module returns a dict (lines, rows,
# snapshot), since the dashboard section measures the largest snapshot it built.
BENCHMARKS: dict[str, str] = {
    "tone": "lab.tone.bench",
    "ingest": "lab.ingest.bench",
    "network": "lab.network.bench",
    "e2e": "lab.pipeline.bench",
    "dashboard": "lab.dashboard.bench",
    "fixed": "lab.pipeline.fixed",
    "api": "lab.api.bench",
}
# What `--quick` runs in seconds with no model load (tests/lab/test_bench.py and CI).
SMOKE = ("ingest", "network")


@dataclass
class BenchOptions:
    quick: bool = False
    sizes: tuple[int, ...] | None = None  # e2e sizes in posts
    work_dir: Path | None = None
    snapshot: Path | None = None
    standin_enrich: bool = False  # e2e: enrich replaced by lab/pipeline/standin.py
    context: dict[str, Any] = field(default_factory=dict)


def run_section(name: str, options: BenchOptions) -> tuple[list[str], list[dict[str, Any]]]:
    module = importlib.import_module(BENCHMARKS[name])
    if name == "e2e":
        out = module.run(
            options.quick, sizes=options.sizes, work_dir=options.work_dir, standin=options.standin_enrich
        )
        options.context["snapshot"] = out["snapshot"]
        return list(out["lines"]), list(out["rows"])
    if name == "dashboard":
        return module.run(options.quick, snapshot=options.snapshot or options.context.get("snapshot")), []
    if name == "fixed":
        return module.run(options.quick, work_dir=options.work_dir), []
    return module.run(quick=options.quick), []


def run_bench(names: list[str], *, quick: bool = False, options: BenchOptions | None = None) -> list[str]:
    """Every section's lines, printed as they come; `options.context["report"]` gets the JSON report."""
    options = options or BenchOptions(quick=quick)
    report = new_report(options)
    lines: list[str] = []
    for name in names:
        start = time.perf_counter()
        print(f"== {name}", flush=True)
        got, rows = run_section(name, options)
        for line in got:
            print(line, flush=True)
        lines += [f"== {name}", *got]
        report["sections"][name] = {
            "lines": got,
            "rows": rows,
            "seconds": round(time.perf_counter() - start, 1),
        }
    report["load_end"] = _load()
    options.context["report"] = report
    return lines


def new_report(options: BenchOptions) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "load_start": _load(),
        "quick": options.quick,
        "sizes": list(options.sizes or ()),
        "sections": {},
    }


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def table(report: dict[str, Any]) -> str:
    """The report as one plain-text table: section, measure, value."""
    rows = [("section", "measure", "value")]
    for name, section in report["sections"].items():
        for line in section["lines"]:
            measure, _, value = line.partition(": ")
            rows.append((name, measure.strip(), value.strip()) if value else (name, "", measure.strip()))
    width0 = max(len(r[0]) for r in rows)
    width1 = min(60, max(len(r[1]) for r in rows))
    out = [f"{a:<{width0}}  {b:<{width1}}  {c}" for a, b, c in rows]
    out.insert(1, "-" * min(120, max(len(line) for line in out)))
    return "\n".join(out)


def write_report(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    return path
