"""`commonground retention`, `compliance`, `backup` and `restore`: the privacy lifecycle of the warehouse."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from flows.options import RunOptions
from warehouse.settings import Settings


def _options(args: argparse.Namespace) -> RunOptions:
    return RunOptions(data_dir=args.data_dir)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: keep at least 1 day")
    return value


def _print_deleted(counts: dict[str, Any], *, dry_run: bool = False) -> None:
    deleted = counts.get("deleted") or {}
    verb = "would delete" if dry_run else "deleted"
    if not deleted:
        print(f"nothing to delete{' (dry run)' if dry_run else ''}")
    for table, n in deleted.items():
        print(f"  {verb} {n:>8}  {table}")
    if "file_bytes_after" in counts:
        before, after = counts["file_bytes_before"], counts["file_bytes_after"]
        print(f"  warehouse file rewritten without them: {before:,} → {after:,} bytes")
    for notice in counts.get("notices", []):
        print(f"note: {notice}")


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    from flows.lifecycle import retention
    from flows.prefect_runtime import prepare_prefect_database

    prepare_prefect_database()
    counts = retention(_options(args), days=args.days, dry_run=args.dry_run)
    print(f"retention: posts created before {counts['cutoff']} (UTC){' — dry run' if args.dry_run else ''}")
    _print_deleted(counts, dry_run=args.dry_run)
    if counts.get("snapshot"):
        print(f"snapshot: {counts['snapshot']}")
    return 0


def cmd_compliance(args: argparse.Namespace, settings: Settings) -> int:
    from flows.lifecycle import compliance
    from flows.prefect_runtime import prepare_prefect_database

    prepare_prefect_database()
    counts = compliance(
        _options(args), source=args.source, x_results=args.x_results, x_job=args.x_job, limit=args.limit
    )
    print(
        f"compliance {args.source}: {counts['checked']} checked, {counts['found_deleted']} deleted by their "
        f"authors, {counts['unchecked']} could not be checked"
    )
    _print_deleted(counts)
    if counts.get("snapshot"):
        print(f"snapshot: {counts['snapshot']}")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.lifecycle import backup
    from warehouse.records import utcnow
    from warehouse.store import Warehouse

    if not settings.database_path.exists():
        raise FileNotFoundError(f"No warehouse at {settings.database_path} to back up.")
    out = args.out or settings.data_dir / "backups" / f"commonground-{utcnow():%Y%m%d-%H%M%S}.duckdb"
    result = backup(Warehouse(settings.database_path), out, force=args.force)
    rows = sum(int(n) for n, _ in result["tables"].values())
    print(
        f"backup → {result['backup']} ({result['bytes']:,} bytes, {len(result['tables'])} tables, {rows:,} rows)"
    )
    print(f"note: the pseudonym key ({settings.pseudonym_key_path}) is not in it: keep a copy of it apart.")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from warehouse.lifecycle import restore
    from warehouse.store import Warehouse

    result = restore(args.backup, Warehouse(settings.database_path), force=args.force)
    print(json.dumps({k: v for k, v in result.items() if k != "tables"}, default=str))
    print(f"restored {len(result['tables'])} tables, every one checked against the backup's manifest.")
    print("Run `commonground publish` to show it on the dashboard.")
    return 0


def add_lifecycle_parsers(sub: Any) -> None:
    """Register the four commands on the `commonground` parser."""
    retention = sub.add_parser(
        "retention", help="delete posts older than the retention period, with everything derived from them"
    )
    retention.add_argument("--days", type=_positive, help="keep this many days (default: retention_days)")
    retention.add_argument("--dry-run", action="store_true", help="say what would be deleted; delete nothing")
    retention.set_defaults(func=cmd_retention)

    compliance = sub.add_parser("compliance", help="delete posts their authors deleted on the platform")
    compliance.add_argument("--source", choices=["mastodon", "bluesky", "x"], required=True)
    compliance.add_argument(
        "--x-results", type=Path, metavar="FILE", help="X: apply a compliance job's downloaded result file"
    )
    compliance.add_argument("--x-job", metavar="ID", help="X: apply the result of a job started before")
    compliance.add_argument(
        "--limit",
        type=_positive,
        help="re-check this many of the newest posts (default: compliance_max_checks)",
    )
    compliance.set_defaults(func=cmd_compliance)

    backup = sub.add_parser("backup", help="write a consistent copy of the warehouse to one file")
    backup.add_argument(
        "--out", type=Path, help="the file (default data_dir/backups/commonground-TIME.duckdb)"
    )
    backup.add_argument("--force", action="store_true", help="replace --out if it exists")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser("restore", help="replace the warehouse with a backup")
    restore.add_argument("backup", type=Path, help="a file written by `commonground backup`")
    restore.add_argument("--force", action="store_true", help="replace the existing warehouse")
    restore.set_defaults(func=cmd_restore)
