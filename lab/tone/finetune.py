"""Fine-tune the tone encoder end to end: one MiniLM, one linear layer of heads, several tasks.

Used by ``python -m lab.tone.train``; no I/O beyond what its caller passes in and the checkpoint
directory it is given.

* Tasks, one batch at a time, interleaved at random in proportion to their sizes:
  ``c3`` (constructive, the crowd's mean score, + soft attribute targets, the share of annotators who
  ticked each characteristic) and ``tweets`` (hostile, TweetEval offensive).
* A text longer than its task's window is cut to a random window of that many tokens each epoch.
* The word-embedding matrix stays frozen (it is half of MiniLM's parameters); everything above it is
  trained, and only that part ships (``tone_encoder.safetensors``), overlaid on the packaged MiniLM.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FROZEN_PREFIX = "embeddings.word_embeddings."


@dataclass
class TaskData:
    """Token ids (with [CLS]/[SEP]) and a target matrix; NaN in ``targets`` means "no label for this head"."""

    name: str
    ids: list[list[int]]
    targets: np.ndarray  # [n, n_heads] float32, NaN = not supervised
    window: int
    words: np.ndarray | None = None  # word count of each source text (C3 keeps comments under 60 words)


@dataclass
class FinetuneConfig:
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 5e-5
    head_lr: float = 1e-3
    warmup: float = 0.06
    weight_decay: float = 0.01
    seed: int = 1
    threads: int | None = 2
    attr_weight: float = 1.0  # loss weight of each attribute head relative to constructive / hostile
    log_every: int = 50
    # C3 (see lab.tone.stage): train the constructive head on comments under ``c3_max_words`` words
    # (None: all, longer ones cut to windows), on the crowd's mean score, each comment ``c3_repeat``
    # times per epoch.
    c3_max_words: int | None = 60
    c3_repeat: int = 1
    tweet_repeat: int = 1  # TweetEval passes per epoch
    corpus_cap: bool = True  # at most ``lab.tone.stage.CORPUS_CAP`` examples of the largest corpora
    device: str = "cpu"  # "cuda" on a machine with a GPU (``lab.tone.packed``)
    bf16: bool = False  # bfloat16 autocast for the training steps (GPU); prediction stays float32


def window(ids: Sequence[int], width: int, rng: random.Random | None) -> list[int]:
    """``ids`` (with [CLS] first and [SEP] last) cut to ``width`` tokens: a random window when ``rng``
    is given, else the start."""
    if len(ids) <= width:
        return list(ids)
    body = list(ids[1:-1])
    keep = width - 2
    start = rng.randint(0, len(body) - keep) if rng is not None else 0
    return [ids[0], *body[start : start + keep], ids[-1]]


def bucketed_batches(task: TaskData, batch_size: int, rng: random.Random, pool: int = 50) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort pools of ``pool`` batches by length, cut.

    Padding to the longest text of a random batch would double the cost of short tweets."""
    order = list(range(len(task.ids)))
    rng.shuffle(order)
    out: list[list[int]] = []
    size = batch_size * pool
    for s in range(0, len(order), size):
        chunk = sorted(order[s : s + size], key=lambda i: min(len(task.ids[i]), task.window))
        out += [chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size)]
    return out


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    import torch

    width = max(len(s) for s in seqs)
    input_ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, s in enumerate(seqs):
        input_ids[row, : len(s)] = torch.tensor(list(s), dtype=torch.long)
        mask[row, : len(s)] = 1
    return input_ids, mask


def predict(net: Any, ids: Sequence[Sequence[int]], pad_id: int, batch_size: int = 64) -> np.ndarray:
    """Sigmoid probabilities ``[n, n_heads]`` in input order (length-sorted batches)."""
    import torch

    net.eval()
    device = next(net.parameters()).device
    n_heads = int(net.heads.out_features)
    out = np.zeros((len(ids), n_heads), dtype=np.float32)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            input_ids, mask = pad_batch([ids[i] for i in idx], pad_id)
            logits = net(input_ids.to(device), mask.to(device))
            out[idx] = torch.sigmoid(logits).float().cpu().numpy()
    return out


def _optimizer(net: Any, config: FinetuneConfig) -> Any:
    """AdamW over everything but the frozen word embeddings; no weight decay on biases and norms."""
    import torch

    for name, p in net.encoder.named_parameters():
        p.requires_grad = not name.startswith(FROZEN_PREFIX)
    enc_params = [p for n, p in net.encoder.named_parameters() if p.requires_grad]
    no_decay = [p for n, p in net.encoder.named_parameters() if p.requires_grad and p.ndim == 1]
    decay = [p for p in enc_params if p.ndim > 1]
    return torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config.weight_decay, "lr": config.lr},
            {"params": no_decay, "weight_decay": 0.0, "lr": config.lr},
            {"params": list(net.heads.parameters()), "weight_decay": 0.0, "lr": config.head_lr},
        ],
        fused=config.device != "cpu",
    )


def _warmup_then_linear_decay(total: int, warmup: float) -> Callable[[int], float]:
    warm = max(1, int(total * warmup))

    def lr_factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total - step) / max(1, total - warm))

    return lr_factor


def _epoch_plan(
    tasks: Sequence[TaskData], batch_size: int, rng: random.Random
) -> list[tuple[int, list[int]]]:
    """(task index, example indices) for every batch of one epoch, tasks interleaved at random."""
    plan: list[tuple[int, list[int]]] = []
    for ti, t in enumerate(tasks):
        plan += [(ti, b) for b in bucketed_batches(t, batch_size, rng)]
    rng.shuffle(plan)
    return plan


def _batch_loss(
    net: Any,
    task: TaskData,
    idx: list[int],
    pad_id: int,
    head_weights: Any,
    rng: random.Random,
    bf16: bool = False,
) -> Any:
    """Weighted binary cross-entropy over the heads each example has a label for, per labelled example."""
    import torch

    seqs = [window(task.ids[i], task.window, rng) for i in idx]
    input_ids, mask = pad_batch(seqs, pad_id)
    device = head_weights.device
    target = torch.tensor(task.targets[idx], dtype=torch.float32).to(device)
    known = ~torch.isnan(target)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = net(input_ids.to(device), mask.to(device))
    loss_el = torch.nn.functional.binary_cross_entropy_with_logits(
        logits.float(), torch.nan_to_num(target, nan=0.0), reduction="none"
    )
    weights = known.float() * head_weights
    return (loss_el * weights).sum() / known.any(dim=1).float().sum().clamp(min=1.0)


def finetune(
    net: Any,
    tasks: Sequence[TaskData],
    pad_id: int,
    head_weights: np.ndarray,
    config: FinetuneConfig,
    *,
    on_epoch: Callable[[int, Any], None] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train ``net`` in place; ``on_epoch(epoch, net)`` runs after each whole epoch (and at the end)."""
    import torch

    if config.threads is not None:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    net.to(config.device)
    optimizer = _optimizer(net, config)
    steps_per_epoch = sum(math.ceil(len(t.ids) / config.batch_size) for t in tasks)
    total = max(1, round(steps_per_epoch * config.epochs))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_then_linear_decay(total, config.warmup))
    hw = torch.tensor(head_weights, dtype=torch.float32, device=config.device)
    trained = [p for p in net.parameters() if p.requires_grad]
    step, epoch, t0 = 0, 0, time.perf_counter()
    running: list[Any] = []
    while step < total:
        epoch += 1
        plan = _epoch_plan(tasks, config.batch_size, rng)
        net.train()
        for ti, idx in plan[: total - step]:  # the last epoch may stop part-way
            loss = _batch_loss(net, tasks[ti], idx, pad_id, hw, rng, config.bf16)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            running.append(loss.detach())  # a tensor: reading it every step would wait for the GPU
            if step % config.log_every == 0 or step == total:
                el = time.perf_counter() - t0
                mean_loss = float(torch.stack(running).mean())
                running = []
                log(
                    f"step {step}/{total} epoch {epoch} loss {mean_loss:.4f} "
                    f"{el / 60:.1f} min (eta {el / step * (total - step) / 60:.1f} min)"
                )
        if on_epoch is not None:
            on_epoch(epoch, net)
    return {
        "steps": total,
        "epochs": config.epochs,
        "train_minutes": round((time.perf_counter() - t0) / 60, 1),
    }


def trained_state(net: Any) -> dict[str, Any]:
    """The parameters that ship: every encoder tensor except the frozen word embeddings, plus the heads."""
    state = {
        f"encoder.{k}": v for k, v in net.encoder.state_dict().items() if not k.startswith(FROZEN_PREFIX)
    }
    state.update({f"heads.{k}": v for k, v in net.heads.state_dict().items()})
    return {k: v.detach().contiguous() for k, v in state.items() if "position_ids" not in k}
