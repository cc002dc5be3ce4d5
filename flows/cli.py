"""The `commonground` command line: run the pipeline, import files, score CSVs, analyse edge lists."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from flows.prefect_runtime import explain_startup_failure, prepare_environment, prepare_prefect_database
from warehouse.settings import PROJECT_ROOT, SAMPLE_CONVERSATION, Settings

DASHBOARD_APP = PROJECT_ROOT / "dashboard" / "streamlit_app.py"


def _summary(counts: dict[str, Any], settings: Settings) -> str:
    from warehouse.store import Warehouse

    warehouse = Warehouse(settings.database_path)
    analysis = counts["analyze"]
    voices = warehouse.query(
        """SELECT v.rank, a.handle, round(v.score, 3) AS score, v.reasons FROM voices v
           JOIN accounts a USING (account_id) WHERE v.analysis_id = ? ORDER BY v.rank LIMIT 5""",
        [analysis["analysis_id"]],
    )
    camps = warehouse.query(
        "SELECT camp_id, label, size FROM community_profiles WHERE analysis_id = ? ORDER BY size DESC",
        [analysis["analysis_id"]],
    )
    ingested = counts["ingest"]
    stored = sum(v.get("posts_stored", 0) for v in ingested.values())
    quarantined = sum(v.get("quarantined", 0) for v in ingested.values())
    lines = [
        f"commonground — {analysis['analysis_id']}",
        f"  posts: {analysis['posts']} in window ({stored} new this run, {quarantined} quarantined)",
        f"  accounts: {analysis['accounts']}",
        f"  camps: {analysis['camps']} (from {analysis['communities']} Leiden communities); "
        f"segregation: modularity {analysis['polarization']:.2f} vs {analysis['polarization_baseline']:.2f} "
        f"on random rewirings (z = {analysis['polarization_z']:.1f})",
    ]
    lines += [f"    camp {r.camp_id}: {r.label} ({r.size} accounts)" for r in camps.itertuples()]
    lines.append("  top constructive voices:")
    lines += [f"    {r.rank}. @{r.handle} ({r.score})" for r in voices.itertuples()]
    lines.append(f"  snapshot: {counts['snapshot']}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from flows.pipeline import pipeline

    counts = pipeline(_overrides(args))
    print(_summary(counts, settings))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from flows.pipeline import pipeline

    overrides = {**_overrides(args), "sources": ["file"], "import_paths": [str(SAMPLE_CONVERSATION)]}
    if not SAMPLE_CONVERSATION.exists():
        print(
            f"The bundled sample {SAMPLE_CONVERSATION} is missing; run `commonground sample`.",
            file=sys.stderr,
        )
        return 2
    counts = pipeline(overrides)
    print(_summary(counts, settings))
    if args.no_dashboard:
        return 0
    return _dashboard(settings, args.port)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from flows.pipeline import ingest

    queries = [str(p) for p in args.path] if args.source == "file" and args.path else args.tag or None
    if args.source == "file" and not queries:
        print("Give the file(s) to import: commonground ingest --source file --path FILE", file=sys.stderr)
        return 2
    overrides = _overrides(args)
    if args.instance:
        overrides["mastodon_instances"] = args.instance
    if args.format:
        overrides["import_format"] = args.format
    if args.column:
        pairs = [c.split("=", 1) for c in args.column]
        if any(len(p) != 2 or not all(p) for p in pairs):
            print("Give columns as FIELD=COLUMN, e.g. --column text=body", file=sys.stderr)
            return 2
        overrides["csv_columns"] = {**settings.csv_columns, **dict(pairs)}
    counts = ingest(overrides, source=args.source, queries=queries)
    print(json.dumps(counts, indent=2, default=str))
    for notice in counts.get("notices", []):
        print(f"note: {notice}", file=sys.stderr)
    return 0


def cmd_flow(args: argparse.Namespace, settings: Settings) -> int:
    from flows.pipeline import FLOWS

    print(json.dumps(FLOWS[args.command](_overrides(args)), indent=2, default=str))
    return 0


def cmd_network(args: argparse.Namespace, settings: Settings) -> int:
    from flows.network_cli import analyse_edge_file

    result = analyse_edge_file(args.edges, seed=settings.community_seed, n_rewirings=args.rewirings)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    pol = result["polarization"]
    print(
        f"{len(result['communities'])} nodes, {len(result['camps'])} camps; "
        f"modularity {pol['score']:.3f} vs {pol['baseline_mean']:.3f} by chance (z = {pol['z']:.1f}) → {args.out}"
    )
    return 0


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    from flows.pipeline import cached_tone_model
    from flows.score_cli import score_csv

    model = cached_tone_model(settings.tone_model, settings.tone_batch_size, settings.tone_max_length)
    result = score_csv(model, args.input, args.out, args.text_column)
    note = f" ({result['lines_with_bad_bytes']} lines had bytes that are not UTF-8, replaced)"
    print(
        f"scored {result['rows']} rows with {model.version} → {args.out}{note if result['lines_with_bad_bytes'] else ''}"
    )
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from flows.evaluate import format_table, run_eval

    rows = run_eval(args.datasets or settings.datasets_dir, only=args.only)
    print(format_table(rows))
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from flows.bench import BENCHMARKS, run_bench

    names = list(BENCHMARKS) if args.what == "all" else [args.what]
    for line in run_bench(names, quick=args.quick):
        print(line, flush=True)
    return 0


def cmd_sample(args: argparse.Namespace, settings: Settings) -> int:
    from flows.sample_conversation import write_sample

    paths = write_sample(args.out, seed=args.seed)
    print("wrote", *paths)
    return 0


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    return _dashboard(settings, args.port)


def _dashboard(settings: Settings, port: int) -> int:
    if not settings.snapshot_path.exists():
        print("No snapshot yet: run `commonground demo --no-dashboard` or `commonground run` first.")
    print(f"Dashboard at http://localhost:{port} (Ctrl+C to stop)")
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD_APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
    ]
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from prefect import serve

    from flows.pipeline import pipeline

    serve(pipeline.to_deployment(name="commonground-daily", cron=args.cron))  # type: ignore[arg-type]
    return 0


# Commands that run Prefect flows, so need Prefect's database ready before its server starts.
RUNS_FLOWS = (cmd_run, cmd_demo, cmd_ingest, cmd_flow, cmd_serve)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = str(args.data_dir)
    return overrides


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commonground",
        description="Find common ground in healthcare conversations online.",
    )
    parser.add_argument("--data-dir", type=Path, help="where databases and snapshots go (default data/)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="build the sample warehouse and open the dashboard")
    demo.add_argument("--no-dashboard", action="store_true", help="run headless and print a summary")
    demo.add_argument("--port", type=int, default=8501)
    demo.set_defaults(func=cmd_demo)

    sub.add_parser("run", help="one full pipeline run with the configured sources").set_defaults(func=cmd_run)

    ingest = sub.add_parser("ingest", help="collect posts from one source")
    ingest.add_argument("--source", choices=["mastodon", "x", "bluesky", "file"], default="file")
    ingest.add_argument("--tag", action="append", help="hashtag to collect (repeatable)")
    ingest.add_argument("--path", action="append", type=Path, help="file to import (repeatable)")
    ingest.add_argument(
        "--instance", action="append", help="Mastodon instance to read (repeatable; default: settings)"
    )
    ingest.add_argument(
        "--format",
        choices=["auto", "jsonl", "csv", "twarc2", "mastodon-json"],
        help="import file format (default: told apart by extension and content)",
    )
    ingest.add_argument(
        "--column",
        action="append",
        metavar="FIELD=COLUMN",
        help="CSV import: read FIELD from COLUMN (repeatable)",
    )
    ingest.set_defaults(func=cmd_ingest)

    for name, text in (
        ("enrich", "extract text features and score tone for new posts"),
        ("analyze", "camps, polarization and constructive voices for the latest window"),
        ("publish", "write the dashboard snapshot"),
    ):
        sub.add_parser(name, help=text).set_defaults(func=cmd_flow)

    network = sub.add_parser("network", help="communities and polarization for any edge list")
    network.add_argument("edges", type=Path, help="edge list: src dst [kind] [weight], TSV or CSV")
    network.add_argument("--out", type=Path, required=True)
    network.add_argument("--rewirings", type=int, default=20, help="random rewirings for the baseline")
    network.set_defaults(func=cmd_network)

    score = sub.add_parser("score", help="add tone columns to any CSV")
    score.add_argument("input", type=Path, help="CSV file to score")
    score.add_argument("--text-column", required=True, help="the column holding the text")
    score.add_argument("--out", type=Path, required=True, help="where to write the scored CSV")
    score.set_defaults(func=cmd_score)

    evaluate = sub.add_parser("eval", help="model scores on labeled data, as a table")
    evaluate.add_argument("--datasets", type=Path, help="labeled data folder (default ../shared/datasets)")
    evaluate.add_argument("--only", action="append", choices=["tone", "network"], help="one model only")
    evaluate.set_defaults(func=cmd_eval)

    bench = sub.add_parser("bench", help="speed, as ratios against a baseline run in the same process")
    bench.add_argument("what", nargs="?", choices=["tone", "network", "all"], default="all")
    bench.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    bench.set_defaults(func=cmd_bench)

    sample = sub.add_parser("sample", help="regenerate the bundled sample conversation")
    sample.add_argument("--out", type=Path, default=SAMPLE_CONVERSATION.parent)
    sample.add_argument("--seed", type=int, default=2026)
    sample.set_defaults(func=cmd_sample)

    dashboard = sub.add_parser("dashboard", help="start the Streamlit dashboard")
    dashboard.add_argument("--port", type=int, default=8501)
    dashboard.set_defaults(func=cmd_dashboard)

    serve = sub.add_parser("serve", help="run the pipeline on a schedule (needs `prefect server start`)")
    serve.add_argument("--cron", default="0 6 * * *", help="when to run (default daily at 06:00)")
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    overrides = _overrides(args)
    settings = Settings(**overrides)
    prepare_environment(settings)
    try:
        if args.func in RUNS_FLOWS:
            prepare_prefect_database()
        return int(args.func(args, settings))
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"commonground: {explain_startup_failure(exc) or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
