"""The `commonground` command line: run the pipeline, import files, score CSVs, analyse edge lists."""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from flows.export_cli import add_export_parser
from flows.lifecycle_cli import add_lifecycle_parsers
from flows.options import RunOptions
from flows.prefect_runtime import (
    explain_startup_failure,
    prepare_environment,
    prepare_prefect_database,
    temporary_server,
)
from flows.privacy_cli import add_opt_out_parser
from flows.sources.formats import DESCRIPTIONS, FORMATS
from warehouse.settings import (
    PROJECT_ROOT,
    SAMPLE_CONVERSATION,
    Settings,
    check_hashtag,
    explain_settings_error,
    explain_settings_source_error,
)

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

    counts = pipeline(_options(args))
    print(_summary(counts, settings))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from flows.pipeline import pipeline

    options = _options(args, sources=["file"], import_paths=[SAMPLE_CONVERSATION])
    if not SAMPLE_CONVERSATION.exists():
        print(
            f"The bundled sample {SAMPLE_CONVERSATION} is missing; run `commonground sample`.",
            file=sys.stderr,
        )
        return 2
    counts = pipeline(options)
    print(_summary(counts, settings))
    if args.no_dashboard:
        return 0
    return _dashboard(settings, args.port)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    queries = [str(p) for p in args.path] if args.source == "file" and args.path else args.tag or None
    if args.source == "file" and not queries:
        print("Give the file(s) to import: commonground ingest --source file --path FILE", file=sys.stderr)
        return 2
    choices: dict[str, Any] = {
        "mastodon_instances": args.instance,
        "import_format": args.format,
        "import_date_format": args.date_format,
        "import_platform": args.platform,
    }
    if args.column:
        pairs = [c.split("=", 1) for c in args.column]
        if any(len(p) != 2 or not all(p) for p in pairs):
            print("Give columns as FIELD=COLUMN, e.g. --column text=body", file=sys.stderr)
            return 2
        choices["csv_columns"] = {**settings.csv_columns, **dict(pairs)}
    options = _options(args, **choices)
    if args.preview:
        return _preview(options.settings(), queries or [])
    from flows.pipeline import ingest

    if args.source != "file":
        counts = ingest(options, source=args.source, queries=queries)
        _explain(options.settings(), {", ".join(queries or ["(configured)"]): counts})
        print(json.dumps(counts, indent=2, default=str))
        return 0
    # One run per file, so each file's counts and reasons are its own.
    per_file: dict[str, dict[str, Any]] = {}
    for query in queries or []:
        try:
            per_file[query] = ingest(options, source="file", queries=[query])
        except (FileNotFoundError, ValueError) as exc:
            print(f"commonground: {exc}", file=sys.stderr)
            per_file[query] = {"error": str(exc)}
    _explain(options.settings(), per_file)
    total = _total(per_file)
    print(json.dumps({**total, "files": per_file}, indent=2, default=str))
    # Posts left out because their authors deleted them (`commonground compliance`) were read fine.
    kept = total.get("posts_stored", 0) + total.get("duplicates", 0) + total.get("deleted", 0)
    if kept == 0:
        print("commonground: nothing was stored from these files (see the reasons above).", file=sys.stderr)
        return 1
    return 0


def _total(per_file: dict[str, dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for counts in per_file.values():
        for key, value in counts.items():
            if isinstance(value, int) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    return total


def _explain(settings: Settings, per_query: dict[str, dict[str, Any]]) -> None:
    """The counts, top quarantine reasons and warnings of each import, to stderr (stdout stays JSON)."""
    from flows.sources.formats import detect_format
    from flows.sources.import_report import describe_import
    from warehouse.store import Warehouse

    warehouse = Warehouse(settings.database_path)
    for query, counts in per_query.items():
        if "run_id" not in counts:
            continue
        rows = warehouse.query(
            "SELECT reason, line_no FROM quarantine WHERE run_id = ? ORDER BY line_no NULLS LAST",
            [counts["run_id"]],
        )
        quarantined = [
            (r, None if _missing(n) else int(n)) for r, n in zip(rows["reason"], rows["line_no"], strict=True)
        ]
        path = Path(query)
        fmt = settings.import_format
        if fmt == "auto" and path.is_file():
            fmt = detect_format(path)
        for line in describe_import(query, counts, quarantined, fmt if path.is_file() else None):
            print(line, file=sys.stderr)
        for notice in counts.get("notices", []):
            print(f"note: {notice}", file=sys.stderr)


def _missing(value: Any) -> bool:
    return value is None or value != value  # NaN / NA


def _preview(settings: Settings, paths: list[str]) -> int:
    """How the first records of each file map, before anything is written."""
    from flows.sources.files import FileSource
    from flows.sources.import_report import preview

    source = FileSource.from_settings(settings)
    for path in paths:
        for line in preview(source, Path(path)):
            print(line)
    return 0


def cmd_flow(args: argparse.Namespace, settings: Settings) -> int:
    from flows.pipeline import FLOWS

    print(json.dumps(FLOWS[args.command](_options(args)), indent=2, default=str))
    return 0


def cmd_network(args: argparse.Namespace, settings: Settings) -> int:
    from flows.network_cli import analyse_edge_file

    rewirings = settings.polarization_rewirings if args.rewirings is None else args.rewirings
    result = analyse_edge_file(
        args.edges, seed=settings.community_seed, n_rewirings=rewirings, hub_share=settings.rwc_hub_share
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    pol = result["polarization"]
    against = (
        "no baseline (--rewirings 0)"
        if pol["baseline_mean"] is None
        else f"vs {pol['baseline_mean']:.3f} by chance (z = {pol['z']:.1f})"
    )
    print(
        f"{len(result['communities'])} nodes, {len(result['camps'])} camps; "
        f"modularity {pol['score']:.3f} {against} → {args.out}"
    )
    return 0


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    from flows.score_cli import check_score_job, score_csv
    from models.tone import load_tone_model

    # Input, columns and --out are checked before the model takes its seconds to load.
    check_score_job(args.input, args.out, args.text_column, prefix=args.prefix)
    model = load_tone_model(
        settings.tone_model, batch_size=settings.tone_batch_size, max_length=settings.tone_max_length
    )
    result = score_csv(model, args.input, args.out, args.text_column, prefix=args.prefix)
    note = f" ({result['lines_with_bad_bytes']} lines had bytes that are not UTF-8, replaced)"
    print(
        f"scored {result['rows']} rows with {model.version} → {args.out}{note if result['lines_with_bad_bytes'] else ''}"
    )
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from flows.api.app import create_app
    from models.tone import load_tone_model

    host, port = args.host or settings.api_host, args.port or settings.api_port
    model = load_tone_model(
        settings.tone_model, batch_size=settings.tone_batch_size, max_length=settings.tone_max_length
    )
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.api_keys:
        print(f"note: listening on {host} without API keys; set COMMONGROUND_API_KEYS to ask for one.")
    print(
        f"Perspective-compatible API: POST http://{host}:{port}/v1alpha1/comments:analyze (model {model.version})"
    )
    uvicorn.run(create_app(model, settings), host=host, port=port, log_level="warning")
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from flows.report import weekly_report

    counts = weekly_report(args.week, _options(args))
    folder = Path(counts["folder"])
    if not counts["enough_data"]:
        print(f"{counts['week']} has too little data ({counts['posts']} posts): the report says so.")
    print(f"weekly report {counts['week']} → {folder}")
    for name in counts["files"]:
        print(f"  {folder / name}")
    return 0


def _iso_week(text: str) -> str:
    """argparse type for --week: the error names the format before anything starts."""
    from flows.report.week import parse_week

    try:
        return parse_week(text).label
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
        "--client.toolbarMode",
        "viewer",  # no "Deploy" button or developer menu
    ]
    try:
        return subprocess.call(command, env=dashboard_environment(settings))
    except KeyboardInterrupt:
        return 0


def dashboard_environment(settings: Settings) -> dict[str, str]:
    """The Streamlit process reads its own Settings from the environment: hand it this command's data
    folder and files (`--data-dir` included), or it would open the default snapshot."""
    return {
        **os.environ,
        "COMMONGROUND_DATA_DIR": str(settings.data_dir),
        "COMMONGROUND_SNAPSHOT": str(settings.snapshot_path),
        "COMMONGROUND_OUTREACH_DATABASE": str(settings.outreach_path),
    }


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from flows.schedules import build_deployments, describe, prefect_api_url, serve_schedules
    from warehouse.cron import check_cron

    if not args.show:
        prefect_api_url()  # no server configured: say so before importing every flow
    if args.cron:
        try:
            settings = settings.model_copy(update={"schedule_analyze_cron": check_cron(args.cron)})
        except ValueError as exc:
            raise ValueError(f"--cron: {exc}") from None
    deployments = build_deployments(settings, _options(args))
    if args.show:
        print("\n".join(describe(deployments)))
        return 0
    return serve_schedules(deployments, limit=settings.schedule_max_concurrent_runs)


# Commands that run Prefect flows, so need Prefect's database ready before its server starts
# (`serve` is not one: it needs a real server and never starts the temporary one).
RUNS_FLOWS = (cmd_run, cmd_demo, cmd_ingest, cmd_flow, cmd_report)


def _options(args: argparse.Namespace, **choices: Any) -> RunOptions:
    """The run's options: `--data-dir` and what the command chose; None leaves a setting as it is."""
    return RunOptions(data_dir=args.data_dir, **choices)


def _formats_epilog() -> str:
    lines = ["import formats (--format):"]
    lines += [f"  {name:<14} {text}" for name, text in DESCRIPTIONS.items()]
    lines.append("dates: ISO 8601, RFC 2822, 'Sun Oct 12 18:32:49 +0000 2014', epoch s or ms; stored in UTC.")
    return "\n".join(lines)


def _count(value: str) -> int:
    """argparse type: a whole number, 0 or more."""
    if not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 0 or more")
    return int(value)


def _hashtag(value: str) -> str:
    try:
        return check_hashtag(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_ingest(sub: Any) -> None:
    ingest = sub.add_parser(
        "ingest",
        help="collect posts from one source",
        description="Collect posts from a platform (by hashtag) or import files (--source file --path FILE).",
        epilog=_formats_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ingest.add_argument("--source", choices=["mastodon", "x", "bluesky", "file"], default="file")
    ingest.add_argument(
        "--tag", action="append", type=_hashtag, help="hashtag to collect: letters, digits, '_' (repeatable)"
    )
    ingest.add_argument("--path", action="append", type=Path, help="file to import (repeatable)")
    ingest.add_argument(
        "--instance", action="append", help="Mastodon instance to read (repeatable; default: settings)"
    )
    ingest.add_argument(
        "--format",
        choices=list(FORMATS),
        help="import file format (default: told apart by content; the formats are listed below)",
    )
    ingest.add_argument(
        "--date-format",
        metavar="LAYOUT",
        help="CSV/JSONL: layout of dates that are not ISO 8601, RFC 2822 or epoch, in strptime codes, "
        "e.g. '%%d/%%m/%%y %%H:%%M' (day/month dates are read only with one)",
    )
    ingest.add_argument(
        "--platform", help="CSV/JSONL: the platform of posts whose rows name none (e.g. x; default file)"
    )
    ingest.add_argument(
        "--preview",
        action="store_true",
        help="show how the first records of each file map (columns, ids, times, links); write nothing",
    )
    ingest.add_argument(
        "--column",
        action="append",
        metavar="FIELD=COLUMN",
        help="CSV import: read FIELD from COLUMN (repeatable)",
    )
    ingest.set_defaults(func=cmd_ingest)


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

    _add_ingest(sub)

    for name, text in (
        ("enrich", "extract text features and score tone for new posts"),
        ("analyze", "camps, polarization and constructive voices for the latest window"),
        ("publish", "write the dashboard snapshot"),
    ):
        sub.add_parser(name, help=text).set_defaults(func=cmd_flow)

    network = sub.add_parser("network", help="communities and polarization for any edge list")
    network.add_argument("edges", type=Path, help="edge list: src dst [kind] [weight], TSV or CSV")
    network.add_argument("--out", type=Path, required=True)
    network.add_argument(
        "--rewirings",
        type=_count,
        help="random rewirings for the baseline (default: polarization_rewirings, 20)",
    )
    network.set_defaults(func=cmd_network)

    score = sub.add_parser("score", help="add tone columns to any CSV")
    score.add_argument("input", type=Path, help="CSV file to score")
    score.add_argument("--text-column", required=True, help="the column holding the text")
    score.add_argument("--out", type=Path, required=True, help="where to write the scored CSV")
    score.add_argument(
        "--prefix",
        default="",
        help="put this before every output column's name (e.g. cg_ gives cg_constructive, cg_hostile, …), "
        "when the input already has columns named like them",
    )
    score.set_defaults(func=cmd_score)

    report = sub.add_parser("report", help="the weekly report (HTML, PDF, CSVs) for one ISO week")
    report.add_argument(
        "--week", type=_iso_week, help="ISO week as YYYY-Www, e.g. 2026-W47 (default: the last complete week)"
    )
    report.set_defaults(func=cmd_report)

    dashboard = sub.add_parser("dashboard", help="start the Streamlit dashboard")
    dashboard.add_argument("--port", type=int, default=8501)
    dashboard.set_defaults(func=cmd_dashboard)

    api = sub.add_parser("api", help="the tone model as a Perspective-compatible HTTP service")
    api.add_argument("--host", help="address to listen on (default: api_host, 127.0.0.1)")
    api.add_argument("--port", type=int, help="port (default: api_port, 8080)")
    api.set_defaults(func=cmd_api)

    serve = sub.add_parser(
        "serve",
        help="run ingest, analysis and the weekly report on their schedules (needs a Prefect server; "
        "`make serve` starts one)",
    )
    serve.add_argument(
        "--cron", help="when to analyse and publish (default: schedule_analyze_cron, daily at 06:15)"
    )
    serve.add_argument(
        "--show", action="store_true", help="list the deployments and their schedules; serve nothing"
    )
    serve.set_defaults(func=cmd_serve)
    add_opt_out_parser(sub)
    add_lifecycle_parsers(sub)
    add_export_parser(sub)
    # The lab's commands (eval, bench, sample) come as plug-ins: the product never imports the lab.
    for command in entry_points(group="commonground.commands"):
        command.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. What was imported before it runs is frozen out of the garbage collector
    (`gc.freeze`): those objects live as long as the process anyway, and the collection Python makes
    at exit went through all of them, 0.8-0.9 s of every command on 2 cores (Prefect, pydantic)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # A bad setting (pydantic's ValidationError is a ValueError) is one line naming the variable.
        settings = _options(args).settings()
        prepare_environment(settings)
        if args.func in RUNS_FLOWS and not getattr(args, "preview", False):
            prepare_prefect_database()
            with temporary_server(settings.prefect_server_keep_seconds) as server:
                import flows.pipeline  # noqa: F401  (imported while the server starts)

                if server is not None:
                    server.wait_until_ready()
                gc.freeze()
                return int(args.func(args, settings))
        gc.freeze()
        return int(args.func(args, settings))
    except ValidationError as exc:
        print(f"commonground: {explain_settings_error(exc)}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"commonground: {explain_settings_source_error(exc, os.environ)}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"commonground: {explain_startup_failure(exc) or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
