"""The lab's console commands (`eval`, `bench`, `sample`), added to `commonground` through the
`commonground.commands` entry points, so that the product's CLI never imports the lab."""

from __future__ import annotations

import argparse
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
    from lab.bench import BENCHMARKS, run_bench

    names = list(BENCHMARKS) if args.what == "all" else [args.what]
    for line in run_bench(names, quick=args.quick):
        print(line, flush=True)
    return 0


def cmd_sample(args: argparse.Namespace, settings: Settings) -> int:
    from lab.sample.generate import write_sample

    paths = write_sample(args.out, seed=args.seed)
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
    bench = sub.add_parser("bench", help="speed, as ratios against a baseline run in the same process")
    bench.add_argument("what", nargs="?", choices=["tone", "network", "api", "all"], default="all")
    bench.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    bench.set_defaults(func=cmd_bench)


def add_sample(sub: argparse._SubParsersAction) -> None:
    sample = sub.add_parser("sample", help="regenerate the bundled sample conversation")
    sample.add_argument("--out", type=Path, default=SAMPLE_CONVERSATION.parent)
    sample.add_argument("--seed", type=int, default=2026)
    sample.set_defaults(func=cmd_sample)
