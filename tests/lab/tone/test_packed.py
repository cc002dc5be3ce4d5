"""Training from a pack (``lab.tone.packed``): the same tasks as ``lab.tone.train``, on CPU here, and a
checkpoint that ``lab.tone.train --resume`` turns into a model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lab.tone import packed, train
from lab.tone.corpora import attribute_corpora
from lab.tone.data import load_data
from lab.tone.finetune import FinetuneConfig
from lab.tone.stage import HEADS, shape_task, training_tasks
from models.tone import ENCODER_FILE, META_FILE, MiniLMTone
from tests.conftest import TINY_LIMIT


@pytest.fixture(scope="module")
def pack(tiny_datasets: Path, tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pack")
    packed.write_pack(tiny_datasets, tiny_encoder_dir, out, TINY_LIMIT)
    return out


@pytest.mark.parametrize(
    "config",
    [FinetuneConfig(), FinetuneConfig(c3_max_words=None, c3_repeat=2, tweet_repeat=3, corpus_cap=False)],
)
def test_a_pack_gives_the_tasks_and_validation_sets_of_the_datasets(
    pack: Path, tiny_datasets: Path, tiny_encoder_dir: Path, config: FinetuneConfig
) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_encoder_dir), local_files_only=True)
    data, corpora = load_data(tiny_datasets, TINY_LIMIT), attribute_corpora(tiny_datasets, TINY_LIMIT)
    tasks, val = training_tasks(data, corpora, tok, config)
    meta, sources, pval, checks = packed.read_pack(pack)
    assert meta["pad_id"] == tok.pad_token_id and meta["heads"] == list(HEADS)
    for want, got in zip(tasks, [shape_task(s, config) for s in sources], strict=True):
        assert (got.name, got.window, got.ids) == (want.name, want.window, want.ids)
        np.testing.assert_array_equal(got.targets, want.targets)
    assert list(pval) == list(val)
    for name, (ids, targets) in val.items():
        assert pval[name][0] == ids
        np.testing.assert_array_equal(pval[name][1], targets)
    assert set(checks) == {"contrast", "civil"} and all(len(v) > 0 for v in checks.values())
    # the encoder travels in float16: half the bytes
    assert (pack / "encoder" / "model.safetensors").stat().st_size < 0.6 * (
        tiny_encoder_dir / "model.safetensors"
    ).stat().st_size


def test_a_variant_trained_from_the_pack_becomes_a_model(
    pack: Path, tiny_datasets: Path, tiny_encoder_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(packed.VARIANTS, "tiny-a", {"epochs": 1.0})
    monkeypatch.setitem(
        packed.VARIANTS, "tiny-b", {"epochs": 2.0, "lr": 1e-4, "corpus_cap": False, "tweet_repeat": 2}
    )
    monkeypatch.setattr(packed, "KEEP_CHECKPOINTS", 1)  # the merge here keeps the best one of the two
    results = tmp_path / "results"
    argv = ["run", "--pack", str(pack), "--out", str(results), "--work-dir", str(tmp_path / "work")]
    # two processes, one variant each; the variants travel with --define
    assert packed.main([*argv, "--variants", "tiny-a,tiny-b", "--processes", "2"]) == 0
    rows = json.loads((results / packed.RESULTS_JSON).read_text())
    assert sorted(rows) == ["tiny-a", "tiny-b"]
    assert rows["tiny-b"]["config"]["tweet_repeat"] == 2 and rows["tiny-b"]["steps"] > rows["tiny-a"]["steps"]
    # only the best by the device score keeps a checkpoint, in two halves
    best = sorted(rows, key=lambda n: -rows[n]["device_score"]["score"])[:1]
    kept = {p.name for p in results.glob("ckpt_*")}
    assert kept == {f"ckpt_{n}_{part}.safetensors" for n in best for part in "ab"}
    with pytest.raises(SystemExit, match="unknown"):
        packed.main([*argv, "--variants", "no-such-variant"])
    arrays = np.load(results / packed.RESULTS_NPZ)
    n_contrast = len(packed.read_pack(pack)[3]["contrast"])
    assert arrays["tiny-a/chk_contrast"].shape == (n_contrast, len(HEADS))

    work = tmp_path / "resume"
    assert (
        packed.main(["import", "--results", str(results), "--variant", best[0], "--work-dir", str(work)]) == 0
    )
    out = tmp_path / "model"
    args = ["--datasets", str(tiny_datasets), "--encoder", str(tiny_encoder_dir), "--limit", str(TINY_LIMIT)]
    assert train.main([*args, "--out", str(out), "--work-dir", str(work), "--resume"]) == 0
    meta = json.loads((out / META_FILE).read_text())
    assert meta["training"]["variant"] == best[0] and meta["training"]["device"] == "cpu"
    assert (out / ENCODER_FILE).is_file()
    scores = MiniLMTone(tiny_encoder_dir, out, threads=1).score(
        ["We could extend clinic hours on Saturdays."]
    )
    assert scores[0].tone in {"constructive", "neutral", "hostile"}
    with pytest.raises(SystemExit, match="only the best"):
        worst = next(n for n in rows if n not in best)
        packed.import_variant(results, worst, tmp_path / "nothing")
