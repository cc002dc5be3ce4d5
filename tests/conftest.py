"""Session-wide test set-up: offline models, Prefect state in a temp folder, one Prefect test harness."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

# Before Prefect or transformers are imported anywhere.
_PREFECT_HOME = tempfile.mkdtemp(prefix="commonground-prefect-")
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)  # removed when the test run ends
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.pop("PREFECT_API_URL", None)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
# Tests never read a developer's .env or environment settings.
for _key in [k for k in os.environ if k.startswith("COMMONGROUND_")]:
    del os.environ[_key]


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test harness (a temporary API and database) for every flow test."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


# --- a tiny random encoder and tiny labelled data, for the tone model and everything that scores

_WORD_TEXT = (
    "the a we i you they nhs doctors nurses patients waiting list funding strike pay evidence data study "
    "suggests should could improve plan staff hospital ward care thank thanks agree disagree because "
    "idiot stupid shut up hate liar disgrace useless pathetic clown lol user http camel case tag"
)
WORDS = _WORD_TEXT.split()

CONSTRUCTIVE = [
    "the evidence suggests we should improve funding for the ward because staff are leaving",
    "a study of waiting list data could help the hospital plan care for patients",
    "i agree with the nurses and i think a pay plan would improve staff retention",
    "thanks for the data , we could improve care if funding followed patients",
    "because the study suggests waiting list pressure we should plan more staff",
]
HOSTILE = [
    "shut up you idiot",
    "what a stupid clown , useless liar",
    "i hate you , pathetic disgrace",
    "lol you are so stupid",
    "useless nhs liar , shut up",
]
NEUTRAL = ["the ward", "doctors strike", "nurses pay", "hospital waiting list", "lol"]


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 1-layer BERT (hidden 32) with a small word-piece vocabulary."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = tmp_path_factory.mktemp("tiny_encoder")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(WORDS)), ",", ".", "@", "!", "?"]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True)
    tokenizer.save_pretrained(str(path))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=256,
    )
    BertModel(config).save_pretrained(str(path))
    return path


def _counts(pairs: dict[str, int]) -> str:
    return "\n".join(f"{k}:{v}" for k, v in pairs.items())


def write_datasets(path: Path, n: int = 40) -> Path:
    """CSV files laid out like the shared datasets (same file names and columns), with made-up rows."""
    path.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        good = i % 2 == 0
        text = CONSTRUCTIVE[i % 5] if good else (HOSTILE[i % 5] if i % 4 == 1 else NEUTRAL[i % 5])
        text = f"{text} {WORDS[i % len(WORDS)]}"
        a, b = (i % 3) + (1 if good else 0), (i % 2) + (0 if good else 2)
        rows.append(
            {
                "comment_counter": f"source1_{i}_1",
                "comment_text": text,
                "constructive": 0.8 if good else 0.2,
                "constructive_binary": 1.0 if good else 0.0,
                "crowd_toxicity_level": 2.5 if i % 4 == 1 else 1.0,
                "njudgements_constructiveness_expt": 5.0,
                "njudgements_toxicity_expt": 5.0,
                "constructive_characteristics": _counts(
                    {
                        "solution": a,
                        "evidence": a,
                        "specific_points": a,
                        "dialogue": b,
                        "personal_story": a % 2,
                    }
                ),
                "non_constructive_characteristics": _counts(
                    {"provocative": b, "sarcastic": b % 3, "no_respect": b, "unsubstantial": 1}
                ),
                "toxicity_characteristics": _counts(
                    {"personal_attack": b, "abusive": b % 3, "inflammatory": b} if b else {"no_toxic": 5}
                ),
            }
        )
    pd.DataFrame(rows).to_csv(path / "c3_constructive_train.csv", index=False)

    def tweets(offset: int) -> pd.DataFrame:
        out = []
        for i in range(n):
            bad = (i + offset) % 3 == 0
            text = HOSTILE[i % 5] if bad else (NEUTRAL + CONSTRUCTIVE)[i % 10]
            out.append({"text": f"@user {text} {WORDS[(i + offset) % len(WORDS)]}", "offensive": int(bad)})
        return pd.DataFrame(out)

    tweets(0).to_csv(path / "tweeteval_offensive_train.csv", index=False)
    tweets(1).to_csv(path / "tweeteval_offensive_val.csv", index=False)
    dav = tweets(2).rename(columns={"offensive": "y"})
    dav["class"] = [1 if y else 2 for y in dav["y"]]
    dav["hate_speech"] = 0
    dav["offensive_language"] = dav["y"] * 3
    dav["neither"] = (1 - dav["y"]) * 3
    dav["text"] = "RT @someone: " + dav["text"] + " &amp; more"
    dav[["text", "hate_speech", "offensive_language", "neither", "class"]].to_csv(
        path / "davidson_hate_offensive.csv", index=False
    )
    return path


@pytest.fixture(scope="session")
def tiny_datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_datasets(tmp_path_factory.mktemp("datasets"))


@pytest.fixture(scope="session")
def tiny_heads(tiny_encoder_dir: Path, tiny_datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Heads trained end to end by the training CLI on the tiny data with the tiny encoder."""
    from lab.tone import train as train_tone

    out = tmp_path_factory.mktemp("weights")
    cache = tmp_path_factory.mktemp("emb_cache")
    rc = train_tone.main(
        [
            "--datasets",
            str(tiny_datasets),
            "--out",
            str(out),
            "--encoder",
            str(tiny_encoder_dir),
            "--limit",
            "36",
            "--cache-dir",
            str(cache),
        ]
    )
    assert rc == 0
    return out / "tone_heads.safetensors"


@pytest.fixture()
def tiny_model(tiny_encoder_dir: Path, tiny_heads: Path):
    from models.tone import MiniLMTone

    return MiniLMTone(tiny_encoder_dir, tiny_heads, batch_size=4, max_length=128)
