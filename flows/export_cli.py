"""`commonground export-parquet`: scored posts and interactions as Parquet, by date and platform, incrementally."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse.settings import Settings

if TYPE_CHECKING:  # the CLI imports this module for every command: the work is imported when asked for
    from warehouse.parquet import ParquetExport

EXAMPLE_QUERY = (
    "SELECT date, platform, tone, count(*) FROM read_parquet('{out}/posts/**/*.parquet', "
    "hive_partitioning = true) GROUP BY ALL ORDER BY ALL"
)


def run_export(settings: Settings, out: Path | None = None) -> ParquetExport:
    """Export what is new or changed since the last export to `out` (default: the parquet_dir
    setting), pseudonymised unless `pseudonymize_exports` is off, and record it in `runs`."""
    from models.tone import tone_model_version
    from warehouse.parquet import export_parquet
    from warehouse.privacy import pseudonyms
    from warehouse.store import Warehouse

    target = Path(out) if out is not None else settings.parquet_path
    warehouse = Warehouse(
        settings.database_path,
        store_raw=settings.store_raw_payloads,
        lock_wait_seconds=settings.lock_wait_seconds,
        run_lock_wait_seconds=settings.run_lock_wait_seconds,
    )
    if not warehouse.path.exists():
        raise FileNotFoundError(
            f"No warehouse at {warehouse.path}: run `commonground run` (or `commonground demo`) first."
        )
    warehouse.init()
    names = pseudonyms(settings) if settings.pseudonymize_exports else None
    run_id = warehouse.start_run("export-parquet", {"out": str(target), "pseudonymized": names is not None})
    try:
        result = export_parquet(
            warehouse, target, model_version=tone_model_version(settings.tone_model), names=names
        )
    except BaseException as exc:
        warehouse.finish_run(run_id, status="failed", message=f"{type(exc).__name__}: {exc}")
        raise
    warehouse.finish_run(run_id, status="completed", counts=_counts(result))
    return result


def _counts(result: ParquetExport) -> dict[str, Any]:
    return {
        f"{name}_{key}": value
        for name, done in result.datasets.items()
        for key, value in (
            ("partitions_written", len(done.written)),
            ("partitions_removed", len(done.removed)),
            ("rows_written", done.rows_written),
            ("rows", done.rows),
        )
    }


def export_step(settings: Settings) -> dict[str, Any]:
    """The pipeline's last step when `export_parquet` is set: the counts of `run_export`."""
    return _counts(run_export(settings))


def describe(result: ParquetExport) -> str:
    lines = [f"Parquet export in {result.out}{' (everything written again)' if result.full else ''}:"]
    for name, done in result.datasets.items():
        unchanged = done.partitions - len(done.written)
        lines.append(
            f"  {name}: {done.rows:,} rows in {done.partitions} partitions; wrote {len(done.written)} "
            f"({done.rows_written:,} rows), {unchanged} unchanged, removed {len(done.removed)}"
        )
    lines.append(f"  read it with DuckDB: {EXAMPLE_QUERY.format(out=result.out)}")
    return "\n".join(lines)


def cmd_export_parquet(args: argparse.Namespace, settings: Settings) -> int:
    print(describe(run_export(settings, args.out)))
    return 0


def add_export_parser(sub: Any) -> None:
    """Register `export-parquet` on the CLI's subparsers."""
    parser = sub.add_parser(
        "export-parquet",
        help="scored posts and interactions as Parquet partitioned by date and platform (incremental)",
    )
    parser.add_argument(
        "--out", type=Path, help="folder to export to (default: the parquet_dir setting, data/parquet)"
    )
    parser.set_defaults(func=cmd_export_parquet)
