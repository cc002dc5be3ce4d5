"""Fine-tune the tone encoder on another machine (a GPU) from a pack of token ids: no datasets, no tokenizer.

    python -m lab.tone.packed pack --out DIR [--datasets DIR] [--limit N]    # here: tokenise, pack
    python -m lab.tone.packed run --pack DIR --out DIR [--variants a,b] [--budget S]   # there (torch only)
    python -m lab.tone.packed compare --results DIR [--datasets DIR]         # here: every variant's combination
    python -m lab.tone.packed import --results DIR --variant V --work-dir W  # here: a checkpoint for train
    python -m lab.tone.train --resume --work-dir W --out models/weights     # heads, combination, card

The pack holds every corpus's whole training split (``lab.tone.stage.task_sources``), the validation
sets, the check sets' texts (contrast and civil criticism) as token ids, and the packaged MiniLM in
float16 (its word embeddings stay frozen). ``run`` trains each named variant of ``VARIANTS`` in turn
within a time budget; after each it writes every variant's validation and check-set probabilities and
the checkpoints of the best two (float16, in halves: the files that come back from such a machine are
at most 16 MiB each). ``run`` imports only numpy, torch, transformers, safetensors and this package's
training code, so the machine needs nothing of the product.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from lab.tone.data import best_threshold
from lab.tone.finetune import FinetuneConfig, TaskData, predict
from lab.tone.stage import HEADS, ValSets, epoch_scores, shape_task, train_stage

PACK_META = "pack.json"
PACK_ARRAYS = "pack.npz"
ENCODER_SUBDIR = "encoder"
RESULTS_JSON = "results.json"
RESULTS_NPZ = "results.npz"
KEEP_CHECKPOINTS = 2
CHECK_SETS = ("contrast", "civil")

# What ``run`` can train: FinetuneConfig fields over its defaults. Measured (models/weights/MODEL_CARD.md,
# not shipped): every corpus uncapped and TweetEval twice per epoch; TweetEval's ROC-AUC is best after
# the first epoch of "all-3ep".
VARIANTS: dict[str, dict[str, Any]] = {
    "all-3ep": {"epochs": 3.0, "corpus_cap": False, "tweet_repeat": 2},
    "all-2ep-lr8": {"epochs": 2.0, "lr": 8e-5, "corpus_cap": False, "tweet_repeat": 2},
    # prepared for the next machine (``--processes 4``), not run yet: around "all-2ep-lr8"
    "c3long-2ep-lr8": {
        "epochs": 2.0,
        "lr": 8e-5,
        "corpus_cap": False,
        "tweet_repeat": 2,
        "c3_max_words": None,
    },
    "tweets3-2ep-lr8": {"epochs": 2.0, "lr": 8e-5, "corpus_cap": False, "tweet_repeat": 3},
    "all-2ep-lr8-seed2": {"epochs": 2.0, "lr": 8e-5, "corpus_cap": False, "tweet_repeat": 2, "seed": 2},
    "c3long-tweets3-2ep-lr8": {
        "epochs": 2.0,
        "lr": 8e-5,
        "corpus_cap": False,
        "tweet_repeat": 3,
        "c3_max_words": None,
    },
    "all-1ep-lr8": {"epochs": 1.0, "lr": 8e-5, "corpus_cap": False, "tweet_repeat": 2},
    "all-2ep-lr1e4": {"epochs": 2.0, "lr": 1e-4, "corpus_cap": False, "tweet_repeat": 2},
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------------------------ pack


def _flat(ids: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(x) for x in ids])
    flat = np.fromiter((t for x in ids for t in x), dtype=np.uint16, count=int(offsets[-1]))
    return flat, offsets


def _unflat(flat: np.ndarray, offsets: np.ndarray) -> list[list[int]]:
    values = flat.astype(np.int64).tolist()
    return [values[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]


def write_pack(ddir: Path, enc_dir: Path, out: Path, limit: int | None = None) -> dict[str, Any]:
    """Tokenise every corpus, the validation and check sets; copy the encoder in float16."""
    from transformers import AutoTokenizer

    from lab.tone.combine import CheckProbs
    from lab.tone.corpora import attribute_corpora
    from lab.tone.data import load_data
    from lab.tone.finetune import window
    from lab.tone.stage import EVAL_MAX_LENGTH, task_sources, token_ids

    tok = AutoTokenizer.from_pretrained(str(enc_dir), local_files_only=True)
    assert len(tok) < 2**16, "token ids are packed as uint16"
    sources, val = task_sources(load_data(ddir, limit), attribute_corpora(ddir, limit), tok)
    arrays: dict[str, np.ndarray] = {}
    for i, t in enumerate(sources):
        arrays[f"src{i}_ids"], arrays[f"src{i}_off"] = _flat(t.ids)
        arrays[f"src{i}_targets"] = t.targets
        if t.words is not None:
            arrays[f"src{i}_words"] = np.asarray(t.words)
    for name, (ids, targets) in val.items():
        arrays[f"val_{name}_ids"], arrays[f"val_{name}_off"] = _flat(ids)
        arrays[f"val_{name}_targets"] = targets
    for name, (_, texts) in CheckProbs.sets(ddir).items():
        ids = [window(x, EVAL_MAX_LENGTH, None) for x in token_ids(tok, texts)]
        arrays[f"chk_{name}_ids"], arrays[f"chk_{name}_off"] = _flat(ids)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / PACK_ARRAYS, **arrays)  # type: ignore[arg-type]
    meta = {
        "heads": list(HEADS),
        "pad_id": int(tok.pad_token_id or 0),
        "sources": [{"name": t.name, "window": t.window} for t in sources],
        "val": list(val),
        "datasets": str(ddir),
        "limit": limit,
    }
    (out / PACK_META).write_text(json.dumps(meta, indent=1))
    _half_encoder(enc_dir, out / ENCODER_SUBDIR)
    return meta


def _half_encoder(enc_dir: Path, out: Path) -> None:
    from safetensors.torch import load_file, save_file

    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text((enc_dir / "config.json").read_text())
    state = load_file(str(enc_dir / "model.safetensors"))
    save_file(
        {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()},
        str(out / "model.safetensors"),
    )


def read_pack(pack: Path) -> tuple[dict[str, Any], list[TaskData], ValSets, dict[str, list[list[int]]]]:
    """The pack's meta, training sources, validation sets and check sets' token ids."""
    meta = json.loads((pack / PACK_META).read_text())
    a = np.load(pack / PACK_ARRAYS)
    sources = [
        TaskData(
            s["name"],
            _unflat(a[f"src{i}_ids"], a[f"src{i}_off"]),
            a[f"src{i}_targets"],
            int(s["window"]),
            words=a[f"src{i}_words"] if f"src{i}_words" in a.files else None,
        )
        for i, s in enumerate(meta["sources"])
    ]
    val = {n: (_unflat(a[f"val_{n}_ids"], a[f"val_{n}_off"]), a[f"val_{n}_targets"]) for n in meta["val"]}
    checks = {n: _unflat(a[f"chk_{n}_ids"], a[f"chk_{n}_off"]) for n in CHECK_SETS}
    return meta, sources, val, checks


# ------------------------------------------------------------------------------------------------- run


def device_score(val: ValSets, probs: dict[str, np.ndarray]) -> dict[str, float]:
    """What ``run`` ranks variants by: the mean over heads of their mean validation ROC-AUC, and the best
    TweetEval macro-F1 of the hostile head (the combination is fitted afterwards, where the data is)."""
    scores = epoch_scores({n: (val[n][1], p) for n, p in probs.items()})
    per_head = [
        float(np.mean([v for k, v in scores.items() if k.endswith(f"/{h}") and v is not None]))
        for h in HEADS
        if any(k.endswith(f"/{h}") for k in scores)
    ]
    y = (val["tweeteval"][1][:, HEADS.index("hostile")] >= 0.5).astype(int)
    _, te_f1 = best_threshold(y, probs["tweeteval"][:, HEADS.index("hostile")], "macro_f1")
    mean_auc = float(np.mean(per_head))
    return {"mean_head_auc": mean_auc, "tweeteval_macro_f1": float(te_f1), "score": (mean_auc + te_f1) / 2}


def _save_halves(state: dict[str, Any], out: Path, stem: str) -> None:
    """``state`` in float16, in two files of about half the size each."""
    from safetensors.torch import save_file

    names = sorted(state)
    sizes = np.cumsum([state[k].numel() for k in names])
    cut = int(np.searchsorted(sizes, sizes[-1] / 2))
    for part, keys in (("a", names[: cut + 1]), ("b", names[cut + 1 :])):
        save_file(
            {k: state[k].half().contiguous().cpu() for k in keys}, str(out / f"{stem}_{part}.safetensors")
        )


class Results:
    """Every variant's numbers and probabilities, rewritten to ``out`` after each one."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.rows: dict[str, dict[str, Any]] = {}
        self.arrays: dict[str, np.ndarray] = {}

    def add(
        self, name: str, row: dict[str, Any], probs: dict[str, np.ndarray], state: dict[str, Any]
    ) -> None:
        self.rows[name] = row
        self.arrays.update({f"{name}/{k}": v for k, v in probs.items()})
        best = self.best()
        if name in best:
            _save_halves(state, self.out, f"ckpt_{name}")
        for old in self.rows:
            if old not in best:
                for f in self.out.glob(f"ckpt_{old}_*.safetensors"):
                    f.unlink()
        self.write()

    def best(self) -> list[str]:
        """The variants whose checkpoints are kept: the best by ``device_score``."""
        return sorted(self.rows, key=lambda n: -self.rows[n]["device_score"]["score"])[:KEEP_CHECKPOINTS]

    def write(self) -> None:
        np.savez_compressed(self.out / RESULTS_NPZ, **self.arrays)  # type: ignore[arg-type]
        (self.out / RESULTS_JSON).write_text(json.dumps(self.rows, indent=1))

    @classmethod
    def merge(cls, parts: Sequence[Path], out: Path) -> Results:
        """The results of several ``run`` processes as one, with the checkpoints of the best two."""
        merged = cls(out)
        for part in parts:
            if not (part / RESULTS_JSON).is_file():
                log(f"no results in {part}")
                continue
            merged.rows.update(json.loads((part / RESULTS_JSON).read_text()))
            arrays = np.load(part / RESULTS_NPZ)
            merged.arrays.update({k: arrays[k] for k in arrays.files})
        for part in parts:
            for name in merged.best():
                for f in part.glob(f"ckpt_{name}_*.safetensors"):
                    shutil.copy(f, out / f.name)
        merged.write()
        return merged


def run_variant(
    name: str, pack: Path, packed: tuple[Any, ...], work: Path, device: str
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]:
    """Train one variant from the packaged encoder; its row, probabilities and trained state."""
    import torch

    from lab.tone.finetune import trained_state
    from models.tone_base import build_tone_net

    meta, sources, val, checks = packed
    config = replace(FinetuneConfig(threads=2, device=device, bf16=device != "cpu"), **VARIANTS[name])
    net = build_tone_net(pack / ENCODER_SUBDIR, len(HEADS)).float()
    tasks = [shape_task(t, config) for t in sources]
    t0 = time.perf_counter()
    info = train_stage(net, tasks, val, meta["pad_id"], work / name, config, log=log)
    last = max(h["epoch"] for h in info["history"])
    vals = np.load(work / name / f"epoch{last}_val.npz")
    probs = {f"val_{k}": np.asarray(vals[k]) for k in vals.files}
    probs.update({f"chk_{n}": predict(net, ids, meta["pad_id"]) for n, ids in checks.items()})
    score = device_score(val, {k[4:]: v for k, v in probs.items() if k.startswith("val_")})
    row = {
        "variant": name,
        "config": asdict(config),
        "device": device,
        "pack_limit": meta["limit"],
        "gpu": torch.cuda.get_device_name() if device == "cuda" else None,
        "seconds": round(time.perf_counter() - t0, 1),
        "device_score": score,
        **{k: v for k, v in info.items() if k != "heads"},
    }
    log(f"{name}: {score} in {row['seconds']} s")
    return row, probs, trained_state(net)


def run(pack: Path, out: Path, variants: Sequence[str], budget_s: float, work: Path) -> Results:
    """Train ``variants`` in order while the budget lasts (a variant is skipped when the seconds per
    epoch measured so far say it would not finish)."""
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    t0 = time.perf_counter()
    packed = read_pack(pack)
    log(f"device {device}; pack read in {time.perf_counter() - t0:.1f} s")
    results = Results(out)
    per_epoch: float | None = None
    for name in variants:
        epochs = float(VARIANTS[name]["epochs"])
        left = budget_s - (time.perf_counter() - t0)
        if per_epoch is not None and per_epoch * epochs * 1.15 > left:
            log(f"skipping {name}: about {per_epoch * epochs:.0f} s needed, {left:.0f} s left")
            continue
        row, probs, state = run_variant(name, pack, packed, work, device)
        per_epoch = max(per_epoch or 0.0, row["seconds"] / epochs)
        results.add(name, row, probs, state)
    return results


def run_parallel(
    pack: Path, out: Path, variants: Sequence[str], budget_s: float, work: Path, processes: int
) -> Results:
    """``variants`` dealt round-robin to ``processes`` ``run`` processes sharing the GPU, then merged.

    A training step of this small model is bound by Python on one CPU core, not by the GPU (26 ms a step
    on an H200), so several processes train several variants in about the time of one."""
    import subprocess

    groups = [list(variants[i::processes]) for i in range(processes)]
    procs: list[tuple[Path, subprocess.Popen[bytes]]] = []
    for i, group in enumerate(g for g in groups if g):
        sub = work / f"process{i}"
        cmd = [sys.executable, "-m", "lab.tone.packed", "run", "--pack", str(pack), "--out", str(sub / "out")]
        cmd += ["--variants", ",".join(group), "--budget", str(budget_s), "--work-dir", str(sub / "work")]
        cmd += [x for v in group for x in ("--define", f"{v}={json.dumps(VARIANTS[v])}")]
        (sub / "out").mkdir(parents=True, exist_ok=True)
        procs.append((sub / "out", subprocess.Popen(cmd)))
    deadline = time.monotonic() + budget_s + 60
    for _, proc in procs:
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"stopping process {proc.pid}: past the budget")
            proc.kill()
    return Results.merge([part for part, _ in procs], out)


# --------------------------------------------------------------------------------------- back here


def _load_halves(results: Path, variant: str) -> dict[str, Any]:
    from safetensors.torch import load_file

    parts = sorted(results.glob(f"ckpt_{variant}_*.safetensors"))
    if not parts:
        raise SystemExit(
            f"no checkpoint of {variant!r} in {results} (only the best {KEEP_CHECKPOINTS} come back)"
        )
    state: dict[str, Any] = {}
    for p in parts:
        state.update({k: v.float() for k, v in load_file(str(p)).items()})
    return state


def import_variant(results: Path, variant: str, work_dir: Path) -> Path:
    """Write ``final.safetensors``, ``final_val.npz`` and ``info.json`` for ``lab.tone.train --resume``."""
    from safetensors.torch import save_file

    rows = json.loads((results / RESULTS_JSON).read_text())
    arrays = np.load(results / RESULTS_NPZ)
    prefix = f"{variant}/val_"
    work_dir.mkdir(parents=True, exist_ok=True)
    save_file(_load_halves(results, variant), str(work_dir / "final.safetensors"))
    np.savez(
        work_dir / "final_val.npz",
        **{k[len(prefix) :]: arrays[k] for k in arrays.files if k.startswith(prefix)},
    )
    (work_dir / "info.json").write_text(json.dumps(rows[variant], indent=1))
    return work_dir


def compare(results: Path, ddir: Path) -> list[dict[str, Any]]:
    """Every variant's constructive combination (``lab.tone.combine``), from the probabilities it sent."""
    from lab.tone.checks import head_metrics
    from lab.tone.combine import CheckProbs, choose_constructive
    from lab.tone.corpora import attribute_corpora
    from lab.tone.data import load_data
    from lab.tone.train import hostile_threshold, validation_targets

    rows = json.loads((results / RESULTS_JSON).read_text())
    arrays = np.load(results / RESULTS_NPZ)
    limit = next(iter(rows.values()))["pack_limit"]  # the rows the pack was made of
    data, corpora = load_data(ddir, limit), attribute_corpora(ddir, limit)
    (contrast, _), (civil, _) = CheckProbs.sets(ddir).values()
    targets = validation_targets(data, corpora)
    out = []
    for name in rows:
        probs = {k.split("/val_", 1)[1]: arrays[k] for k in arrays.files if k.startswith(f"{name}/val_")}
        checks = CheckProbs(contrast, arrays[f"{name}/chk_contrast"], civil, arrays[f"{name}/chk_civil"])
        heads, _ = head_metrics(HEADS, targets, probs)
        t_hos, te_f1 = hostile_threshold(data, probs)
        chosen = choose_constructive(data, probs, checks, t_hos, log=log)
        out.append(
            {
                "variant": name,
                "tweeteval_macro_f1": round(te_f1, 4),
                "heads_kept": sum(1 for m in heads.values() if m["status"] == "kept"),
                "head_auc": {h: m["roc_auc_mean"] for h, m in heads.items()},
                "chosen": chosen["report"]["chosen"],
                "report": chosen["report"],
            }
        )
        log(f"{name}: {json.dumps(out[-1])[:1500]}")
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lab.tone.packed", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="tokenise the corpora and copy the encoder into --out")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--datasets", type=Path, default=None)
    p.add_argument("--encoder", type=Path, default=None)
    p.add_argument("--limit", type=int, default=None)
    r = sub.add_parser("run", help="train variants from a pack (on the GPU machine)")
    r.add_argument("--pack", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--variants", default=",".join(VARIANTS))
    r.add_argument("--budget", type=float, default=3600.0, help="seconds for all variants together")
    r.add_argument("--work-dir", type=Path, default=Path("/tmp/commonground-packed"))
    r.add_argument("--processes", type=int, default=1, help="train variants in this many processes at once")
    r.add_argument("--define", action="append", default=[], help="NAME=JSON: a variant beside VARIANTS")
    c = sub.add_parser("compare", help="every variant's constructive combination, here")
    c.add_argument("--results", type=Path, required=True)
    c.add_argument("--datasets", type=Path, default=None)
    i = sub.add_parser("import", help="one variant's checkpoint as a work dir for lab.tone.train --resume")
    i.add_argument("--results", type=Path, required=True)
    i.add_argument("--variant", required=True)
    i.add_argument("--work-dir", type=Path, required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        args.out.mkdir(parents=True, exist_ok=True)
        for definition in args.define:
            name, _, fields = definition.partition("=")
            VARIANTS[name] = json.loads(fields)
        variants = [v for v in args.variants.split(",") if v]
        unknown = sorted(set(variants) - set(VARIANTS))
        if unknown:
            raise SystemExit(f"--variants: unknown {unknown}; known: {', '.join(VARIANTS)}")
        if args.processes > 1:
            run_parallel(args.pack, args.out, variants, args.budget, args.work_dir, args.processes)
        else:
            run(args.pack, args.out, variants, args.budget, args.work_dir)
        return 0
    if args.command == "import":
        import_variant(args.results, args.variant, args.work_dir)
        return 0
    from lab.tone.train import resolve_datasets

    ddir = resolve_datasets(args.datasets)
    if args.command == "pack":
        from models.tone import default_encoder_dir

        write_pack(ddir, args.encoder or default_encoder_dir(), args.out, args.limit)
    else:
        print(json.dumps(compare(args.results, ddir), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
