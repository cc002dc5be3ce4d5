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
    """Files laid out like the shared datasets (same file names and columns), with made-up rows: C3,
    TweetEval and Davidson, then every attribute corpus (:func:`write_attribute_corpora`)."""
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
    write_attribute_corpora(path, first_c3_text=rows[0]["comment_text"])
    return path


# --- tiny attribute corpora, in the layout and columns lab/tone/corpora.py reads from the shared datasets

TOPICS = (
    "waiting lists",
    "GP appointments",
    "ambulance response times",
    "nurse pay",
    "mental health services",
    "hospital parking",
    "prescription charges",
    "social care funding",
    "cancer screening",
    "dental care",
)
UCC_LABELS = (
    "antagonize",
    "condescending",
    "dismissive",
    "generalisation",
    "generalisation_unfair",
    "healthy",
    "hostile",
    "sarcastic",
)
UCC_UNHEALTHY = ("hostile", "antagonize", "dismissive", "condescending", "sarcastic", "generalisation_unfair")
UCC_TEXT = {
    "hostile": "Anyone who still defends {t} like this should be ashamed of themselves, frankly.",
    "antagonize": "Go on then, tell us again how wonderful {t} are, we are all waiting for it.",
    "dismissive": "Nobody cares what you think about {t}, so you may as well move along now.",
    "condescending": "Bless you for trying to follow the debate on {t}, it is complicated for some people.",
    "sarcastic": "Oh brilliant, another promise about {t}, I am sure this one will work out fine.",
    "generalisation_unfair": "Every manager in charge of {t} is lazy and only cares about the bonus.",
}
UCC_HEALTHY = "I think the plan for {t} is reasonable, and it deserves a fair hearing from everyone."
UCC_CIVIL = "The report on {t} is not convincing, and the figures in it look wrong to me."
GOEMOTIONS_NAMES = [
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
]
GOEMOTIONS_TEXT = {  # labels (names) -> text
    ("curiosity",): "Has anyone here had their {t} sorted out quickly, and how did you manage it?",
    ("caring",): "I really hope your mum gets the {t} she needs soon, take care of yourself.",
    ("disapproval",): "I don't think the new approach to {t} is the right one for patients.",
    ("disappointment",): "Honestly a bit let down by the latest news about {t} this week.",
    ("anger", "disapproval"): "This mess with {t} makes me furious every single time I read about it.",
    ("neutral",): "The council published the new figures on {t} this morning.",
}


def _write_ucc(path: Path, c3_text: str, kept_ids: list[str]) -> None:
    """``unhealthy_conversations/ucc_val.csv``: each unhealthy comment carries two labels (its own and the
    next one's), some with a crowd confidence under 1; healthy comments, civil criticism among them (on
    the ids our review keeps, so the corpus civil-criticism set finds them; one of the four falls in our
    validation split, the only part the check uses), and one comment also in C3."""
    rows: list[dict[str, object]] = []

    def add(uid: str, text: str, positive: set[str], conf: float = 1.0) -> None:
        row: dict[str, object] = {"_unit_id": uid, "_trusted_judgments": 3, "comment": text}
        for label in UCC_LABELS:
            row[label] = int(label in positive)
            row[f"{label}:confidence"] = conf
        rows.append(row)

    for i in range(30):
        head = UCC_UNHEALTHY[i % 6]
        also = UCC_UNHEALTHY[(i + 1) % 6]
        positive = {head, also} | ({"generalisation"} if "generalisation_unfair" in (head, also) else set())
        add(
            f"17000{i:05d}",
            UCC_TEXT[head].format(t=TOPICS[i % 10]) + f" #{i}",
            positive,
            1.0 if i % 4 else 0.67,
        )
    for i in range(12):
        add(f"17100{i:05d}", UCC_HEALTHY.format(t=TOPICS[i % 10]) + f" ({i})", {"healthy"})
    for i, uid in enumerate(kept_ids):
        add(uid, UCC_CIVIL.format(t=TOPICS[(i + 3) % 10]), {"healthy"})
    add("1719999999", c3_text, {"hostile"})  # also in C3: the loader leaves it out
    folder = path / "unhealthy_conversations"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "ucc_val.csv", index=False)


def _write_goemotions(folder: Path, kept_ids: list[str]) -> None:
    """``train.tsv``, ``dev.tsv``, ``test.tsv`` (text, label indices, id; no header) and ``labels.txt``;
    the test split's civil criticism sits on ids our review keeps."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "labels.txt").write_text("\n".join(GOEMOTIONS_NAMES) + "\n")

    def line(labels: tuple[str, ...], text: str, rid: str) -> str:
        return f"{text}\t{','.join(str(GOEMOTIONS_NAMES.index(n)) for n in labels)}\t{rid}"

    for split, n, offset in (("train", 30, 0), ("dev", 18, 3)):
        kinds = list(GOEMOTIONS_TEXT)
        lines = [
            line(
                kinds[i % len(kinds)],
                GOEMOTIONS_TEXT[kinds[i % len(kinds)]].format(t=TOPICS[(i + offset) % 10])
                + ("" if i < 10 else f" ({split} {i})"),
                f"{split}{i:04d}",
            )
            for i in range(n)
        ]
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    test = [
        line(("disapproval",), f"I don't think the plan for {TOPICS[i]} will help patients much.", rid)
        for i, rid in enumerate(kept_ids)
    ]
    test += [
        line(("anger", "disapproval"), "This plan for dental care makes me furious.", "anger01"),
        line(("disapproval",), "What a stupid plan for hospital parking.", "insult01"),
        line(("neutral",), "The new figures on nurse pay came out today.", "neutral01"),
    ]
    (folder / "test.tsv").write_text("\n".join(test) + "\n")


def _write_politeness(attrs: Path) -> None:
    """Stanford politeness (two annotated CSVs) and holistic politeness (train / val / test CSVs)."""
    folder = attrs / "stanford_politeness"
    folder.mkdir(parents=True, exist_ok=True)
    for name, community in (("wikipedia", "Wikipedia"), ("stack-exchange", "092011 Stack Overflow")):
        rows = []
        for i in range(20):
            t = TOPICS[i % 10]
            polite = i % 2 == 0
            text = (
                f"Could you please explain where the {t} figures come from? Thanks so much for your help."
                if polite
                else f"Why did you change the {t} section again without asking anyone first?"
            ) + f" ({name} {i})"
            z = (0.4 + 0.1 * (i % 7)) * (1 if polite else -1)
            rows.append(
                {
                    "Community": community,
                    "Id": 1000 + i,
                    "Request": text,
                    **{f"Score{k}": 13 + (4 if polite else -4) for k in range(1, 6)},
                    **{f"TurkId{k}": f"A{k}TURK" for k in range(1, 6)},
                    "Normalized Score": z,
                }
            )
        pd.DataFrame(rows).to_csv(folder / f"{name}.annotated.csv", index=False)
    folder = attrs / "holistic_politeness_en"
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", 20), ("val", 12), ("test", 8)):
        rows = []
        for i in range(n):
            t = TOPICS[i % 10]
            polite = i % 2 == 0
            text = (
                f"Thank you for the careful edit to the article on {t}, it reads much better now."
                if polite
                else f"Your edit to the article on {t} is nonsense and you clearly never read the sources."
            ) + f" ({split} {i})"
            rows.append({"Utterance": text, "labels": (3.0 + (i % 3) / 3) if polite else (i % 3) / 3})
        pd.DataFrame(rows).to_csv(folder / f"english_{split}_4-14.csv", index=False)


EPITOME_RESPONSES = (  # (text, emotional reactions, interpretations, explorations)
    ("That sounds so hard, I am sorry you are going through this with {t}. What has helped so far?", 2, 1, 2),
    ("I understand how exhausting the wait for {t} must be, and you are not alone in this.", 1, 2, 0),
    ("Just ring them again tomorrow about the {t}.", 0, 0, 0),
    ("When did you last speak to your doctor about the {t}?", 0, 0, 1),
)


def _write_epitome(folder: Path) -> None:
    """The three EPITOME files: the same (seeker post, response) pairs, each with its own level."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in range(18):
        seeker = (
            f"I have been waiting months for help with {TOPICS[s % 10]} and I feel completely alone ({s})."
        )
        for r in range(2):
            text, er, ip, ex = EPITOME_RESPONSES[(s + r * 2) % 4]
            rows.append(
                (
                    f"t3_{s:03d}",
                    f"t1_{s:03d}{r}",
                    seeker,
                    text.format(t=TOPICS[s % 10]) + f" ({s}.{r})",
                    er,
                    ip,
                    ex,
                )
            )
    for name, col in (("emotional-reactions", 4), ("interpretations", 5), ("explorations", 6)):
        df = pd.DataFrame(
            [
                {
                    "sp_id": r[0],
                    "rp_id": r[1],
                    "seeker_post": r[2],
                    "response_post": r[3],
                    "level": r[col],
                    "rationales": "",
                }
                for r in rows
            ]
        )
        df.to_csv(folder / f"{name}-reddit.csv", index=False)


ESCONV_TURNS = {
    "Questions": "How are you coping with the worry about {t}?",
    "Self-disclosure": "I went through the same thing with {t} last year and it was really hard for me.",
    "Providing Suggestions": "Maybe you could ask the practice manager to review your {t} case.",
    "Information": "The NHS website lists the official standards for {t} in England.",
    "Affirmation and Reassurance": "You are doing the right thing by asking about {t}, well done.",
    "Reflection of feelings": "It sounds like the uncertainty about {t} is making you anxious.",
    "Others": "Hello there, thanks for getting in touch about {t}.",
}


def _write_esconv(folder: Path) -> None:
    """Dev and test files in ESConv's line format: the context's segments separated by `` EOS ``, each
    segment ``<score> <speaker> <turn> [Strategy] text`` for a supporter turn; the last segment is the turn."""
    folder.mkdir(parents=True, exist_ok=True)
    strategies = list(ESCONV_TURNS)
    for name, offset in (("devWithStrategy_short.tsv", 0), ("testWithStrategy_short.tsv", 5)):
        lines = []
        for i in range(21):
            t = TOPICS[(i + offset) % 10]
            strategy = strategies[i % len(strategies)]
            seeker = f"1.0 0 0 I am really worried about {t} at the moment. "
            turn = ESCONV_TURNS[strategy].format(t=t) + f" ({name[:3]}{i})"
            lines.append(f"{seeker} EOS 1.0 1 1 [Others] Hello  EOS 1.0 1 2 [{strategy}] {turn}")
        lines.append("1.0 1 1 [Questions] How can I help?  EOS 0.0 0 2 Thanks, I just needed to talk.")
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


P4G_UNITS = (  # (er_label_1, text)
    ("greeting", "Hello, how are you doing today with {t}?"),
    ("logical-appeal", "A small donation now means fewer children go without {t} later, so it adds up."),
    ("credibility-appeal", "The charity has worked on {t} for thirty years and publishes audited accounts."),
    ("personal-story", "My own niece needed help with {t} last winter and the charity was there for her."),
    ("task-related-inquiry", "Have you ever donated to a charity that works on {t} before?"),
)


def _write_persuasionforgood(folder: Path) -> None:
    """``300_dialog.csv``: persuader (B4 0) sentence units with their strategy, persuadee units unlabelled."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for d in range(9):
        dialogue = f"20180719-2101{d:02d}_{200 + d}_live"
        t = TOPICS[d % 10]
        for turn, (label, text) in enumerate(P4G_UNITS):
            unit = text.format(t=t) + f" ({d})"
            rows.append((dialogue, 0, turn, unit, label, None))
            rows.append(
                (
                    dialogue,
                    1,
                    turn,
                    f"I see, thanks for telling me about that ({d}.{turn}).",
                    None,
                    "acknowledgement",
                )
            )
    df = pd.DataFrame(rows, columns=["B2", "B4", "Turn", "Unit", "er_label_1", "ee_label_1"])
    df["er_label_2"] = None
    df["ee_label_2"] = None
    df["neg"], df["neu"], df["pos"] = 0.0, 1.0, 0.0
    df.insert(0, "Unnamed: 0", range(len(df)))
    df.to_csv(folder / "300_dialog.csv", index=False)


WIKITACTICS_UTTERANCES = (  # (rebuttal labels, text)
    ([], "I have moved the section on {t} further down the page."),
    (["DH0: Name calling/hostility"], "You are a vandal and you have no business editing the page on {t}."),
    (
        ["DH5: Counterargument with new evidence / reasoning"],
        "The 2019 audit contradicts that claim about {t}, see page four of the report.",
    ),
    (["DH4: Stating your stance"], "I still prefer the old wording of the {t} paragraph."),
    (
        ["DH1: Ad hominem/ad argument", "DH6: Refutation"],
        "You plainly have an agenda, and anyway the source on {t} says the opposite of your summary.",
    ),
)


def _write_wikitactics(folder: Path) -> None:
    """``wikitactics.json``: disputes (train, val, test) of utterances with rebuttal tactic labels."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    disputes = []
    for d, split in enumerate(("train",) * 5 + ("val", "val", "test")):
        t = TOPICS[d % 10]
        utterances = [
            {
                "text": text.format(t=t) + f" ({d})",
                "username": f"Editor{k}",
                "rebuttal_labels": labels,
                "coordination_labels": [],
            }
            for k, (labels, text) in enumerate(WIKITACTICS_UTTERANCES)
        ]
        disputes.append(
            {"conv_id": f"{d}.1.1", "utterances": utterances, "split": split, "escalation_label": d % 2}
        )
    (folder / "wikitactics.json").write_text(json.dumps(disputes, indent=1))


def write_attribute_corpora(path: Path, first_c3_text: str) -> Path:
    """Every post-length attribute corpus in the shared datasets' layout, small: both classes of every head
    in its training and validation split (tests/lab/tone/test_corpora.py checks it)."""
    from lab.tone.checksets import corpus_review

    review = corpus_review()
    kept = {
        src: review.loc[(review["source"] == src) & (review["decision"] == "keep"), "id"].head(4).tolist()
        for src in ("goemotions_test", "ucc_val")
    }
    attrs = path / "attributes"
    _write_ucc(path, first_c3_text, kept["ucc_val"])
    _write_goemotions(attrs / "goemotions", kept["goemotions_test"])
    _write_politeness(attrs)
    _write_epitome(attrs / "epitome")
    _write_esconv(attrs / "esconv")
    _write_persuasionforgood(attrs / "persuasionforgood")
    _write_wikitactics(attrs / "wikitactics")
    return path


@pytest.fixture(scope="session")
def tiny_datasets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_datasets(tmp_path_factory.mktemp("datasets"))


TINY_LIMIT = 36  # rows per file for the tiny training run (``--limit``)


@pytest.fixture(scope="session")
def tiny_work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The work directory (checkpoints, validation probabilities) of the tiny training run."""
    return tmp_path_factory.mktemp("tone_work")


@pytest.fixture(scope="session")
def tiny_heads(
    tiny_encoder_dir: Path, tiny_datasets: Path, tiny_work_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Weights trained end to end by the training CLI on the tiny data with the tiny encoder: the encoder
    file of the directory it writes (``tone_model.json`` and ``MODEL_CARD.md`` beside it)."""
    from lab.tone import train as train_tone
    from models.tone import ENCODER_FILE

    out = tmp_path_factory.mktemp("weights")
    rc = train_tone.main(
        [
            "--datasets",
            str(tiny_datasets),
            "--out",
            str(out),
            "--encoder",
            str(tiny_encoder_dir),
            "--limit",
            str(TINY_LIMIT),
            "--work-dir",
            str(tiny_work_dir),
        ]
    )
    assert rc == 0
    return out / ENCODER_FILE


@pytest.fixture()
def tiny_model(tiny_encoder_dir: Path, tiny_heads: Path):
    from models.tone import MiniLMTone

    return MiniLMTone(tiny_encoder_dir, tiny_heads, batch_size=4, max_length=128)
