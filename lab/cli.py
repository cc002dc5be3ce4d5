"""The lab's console commands (`eval`, `bench`, `sample`), added to `commonground` through the
`commonground.commands` entry points, so that the product's CLI never imports the lab."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse.settings import SAMPLE_CONVERSATION, Settings

if TYPE_CHECKING:
    from models.tone_base import ToneModel


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from lab.evaluate import format_table, run_eval

    if args.labels is not None:
        from lab.tone.labels import label_rows

        rows = label_rows(args.labels, labels_model(settings))
    else:
        rows = run_eval(args.datasets or settings.datasets_dir, only=args.only)
    print(format_table(rows))
    return 0


def labels_model(settings: Settings) -> ToneModel:
    """The tone model `eval --labels` measures: the configured one (`COMMONGROUND_TONE_MODEL`)."""
    from models.tone import load_tone_model

    return load_tone_model(
        settings.tone_model, batch_size=settings.tone_batch_size, max_length=settings.tone_max_length
    )


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from lab.bench import BENCHMARKS, SMOKE, BenchOptions, run_bench, table, write_report

    everything = list(SMOKE) if args.smoke else list(BENCHMARKS)
    names = everything if args.what == "all" else [args.what]
    options = BenchOptions(
        quick=args.quick or args.smoke,
        sizes=args.sizes,
        work_dir=args.work_dir,
        snapshot=args.snapshot,
        standin_enrich=args.standin_enrich,
    )
    run_bench(names, options=options)
    report = options.context["report"]
    print()
    print(table(report))
    day = report["date"][:10]
    path = write_report(report, args.json or settings.data_dir / "bench" / f"bench-{day}.json")
    print(f"\nwrote {path}")
    return 0


def _sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v.replace("_", "")) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes takes post counts like 10000,100000; got {value!r}"
        ) from None
    if not sizes or min(sizes) < 500:
        raise argparse.ArgumentTypeError(f"--sizes needs post counts of at least 500; got {value!r}")
    return sizes


def cmd_sample(args: argparse.Namespace, settings: Settings) -> int:
    from lab.sample.generate import write_sample
    from lab.sample.scale import SHARD_POSTS, write_large

    if args.posts > SHARD_POSTS:
        stats = write_large(args.out, n_posts=args.posts, n_accounts=args.accounts, seed=args.seed)
        print("wrote", *stats.pop("files"))
        print(json.dumps(stats, indent=1))
        return 0
    paths = write_sample(args.out, seed=args.seed, n_posts=args.posts, n_accounts=args.accounts)
    print("wrote", *paths)
    return 0


def add_eval(sub: argparse._SubParsersAction) -> None:
    evaluate = sub.add_parser("eval", help="model scores on labeled data, as a table")
    evaluate.add_argument("--datasets", type=Path, help="labeled data folder (default ../shared/datasets)")
    evaluate.add_argument("--only", action="append", choices=["tone", "network"], help="one model only")
    evaluate.add_argument(
        "--labels",
        type=Path,
        metavar="FILE",
        help="instead: the tone model's agreement with people's labels in FILE (the dashboard's tone "
        "feedback CSV, or any CSV with text and tone columns)",
    )
    evaluate.set_defaults(func=cmd_eval)


def add_bench(sub: argparse._SubParsersAction) -> None:
    from lab.bench import BENCHMARKS

    bench = sub.add_parser(
        "bench", help="speed, against baselines measured in the same run: one table and a JSON file"
    )
    bench.add_argument("what", nargs="?", choices=[*BENCHMARKS, "all"], default="all")
    bench.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    bench.add_argument(
        "--smoke", action="store_true", help="only the sections that take seconds (ingest, network), quick"
    )
    bench.add_argument(
        "--sizes", type=_sizes, help="e2e: post counts, comma-separated (default 10000,100000,1000000)"
    )
    bench.add_argument("--work-dir", type=Path, help="e2e/fixed: where generated data and databases go")
    bench.add_argument(
        "--standin-enrich",
        action="store_true",
        help="e2e: replace enrich by lab/pipeline/standin.py (no models; planted tones) to measure the other "
        "stages and the dashboard at sizes where enrich takes hours",
    )
    bench.add_argument(
        "--snapshot", type=Path, help="dashboard: the snapshot to query (default: e2e's largest)"
    )
    bench.add_argument(
        "--json", type=Path, help="where the JSON report goes (default data/bench/bench-DATE.json)"
    )
    bench.set_defaults(func=cmd_bench)


def add_sample(sub: argparse._SubParsersAction) -> None:
    sample = sub.add_parser("sample", help="regenerate the bundled sample conversation")
    sample.add_argument("--out", type=Path, default=SAMPLE_CONVERSATION.parent)
    sample.add_argument("--seed", type=int, default=2026)
    sample.add_argument(
        "--posts", type=int, default=3200, help="how many posts (above 3,200: written in shards, streamed)"
    )
    sample.add_argument("--accounts", type=int, default=420, help="how many accounts (about, when sharded)")
    sample.set_defaults(func=cmd_sample)
