"""`score`, `network` and settings fail early and clearly: input checked before the model, atomic output,
no silently overwritten column, no baseline that was never computed, one line per bad setting."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from flows.cli import main
from flows.score_cli import score_csv
from models.tone import MiniLMTone
from models.tone_base import ToneScore


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A tone model that cannot load: any error about the input must come before loading it."""
    monkeypatch.setenv("COMMONGROUND_TONE_MODEL", str(tmp_path / "no-such-model"))
    monkeypatch.setenv("COMMONGROUND_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.usefixtures("no_model")
def test_score_checks_its_input_and_output_before_the_model_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    posts = tmp_path / "posts.csv"
    posts.write_text("id,message,hostile\n1,hello,yes\n", encoding="utf-8")
    out = tmp_path / "scored.csv"
    cases = [
        (["score", str(tmp_path / "missing.csv")], "missing.csv does not exist."),
        (["score", str(tmp_path)], "is a folder, not a CSV file."),
        (["score", str(posts), "--text-column", "text"], "no column 'text'; columns found: 'id', 'message'"),
        (["score", str(posts)], "already has column(s) 'hostile', which score would write"),
        (["score", str(posts), "--prefix", "cg_", "--out", str(tmp_path)], "is a folder: give a file name"),
    ]
    for argv, expected in cases:
        if "--text-column" not in argv:
            argv += ["--text-column", "message"]
        if "--out" not in argv:
            argv += ["--out", str(out)]
        assert main(argv) == 2
        assert expected in _one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "posts.csv"]  # nothing written


def test_score_writes_into_a_new_folder_and_prefixes_clashing_outputs(
    tiny_model: MiniLMTone, tmp_path: Path
) -> None:
    posts = tmp_path / "posts.csv"
    posts.write_text("id,body,hostile\n1,shut up you idiot,1\n2,thanks for the data,0\n", encoding="utf-8")
    out = tmp_path / "new" / "folder" / "scored.csv"
    with pytest.raises(ValueError, match=r"--prefix cg_ writes cg_constructive"):
        score_csv(tiny_model, posts, out, "body")
    assert score_csv(tiny_model, posts, out, "body", prefix="cg_")["rows"] == 2
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["hostile"] for r in rows] == ["1", "0"]  # the labelled column is kept as it was
    assert {"cg_constructive", "cg_hostile", "cg_tone", "cg_model_version"} <= set(rows[0])
    assert all(0.0 <= float(r["cg_hostile"]) <= 1.0 for r in rows)
    assert [p.name for p in out.parent.iterdir()] == ["scored.csv"]  # no temporary file left


class _FailsPartWay:
    """A tone model that scores one chunk, then fails (a kill, an out-of-memory) on the next."""

    def __init__(self, model: MiniLMTone) -> None:
        self.model, self.version, self.attributes, self.calls = model, model.version, model.attributes, 0

    def score(self, texts: Sequence[str]) -> list[ToneScore]:
        self.calls += 1
        if self.calls > 1:
            raise MemoryError("out of memory")
        return self.model.score(texts)


def test_score_leaves_no_partial_file_and_keeps_the_old_one(tiny_model: MiniLMTone, tmp_path: Path) -> None:
    posts = tmp_path / "posts.csv"
    posts.write_text("id,body\n" + "".join(f"{i},thanks for the data\n" for i in range(5)), encoding="utf-8")
    out = tmp_path / "out" / "scored.csv"
    out.parent.mkdir()
    out.write_text("an earlier result\n", encoding="utf-8")
    with pytest.raises(MemoryError):
        score_csv(_FailsPartWay(tiny_model), posts, out, "body", chunk_rows=2)
    assert out.read_text(encoding="utf-8") == "an earlier result\n"
    assert [p.name for p in out.parent.iterdir()] == ["scored.csv"]


def test_network_without_rewirings_has_no_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edges = tmp_path / "edges.tsv"
    pairs = [(a, b) for group in ("abcd", "efgh") for a in group for b in group if a != b] + [("a", "e")]
    edges.write_text("".join(f"{a}\t{b}\tretweet\n" for a, b in pairs), encoding="utf-8")
    out = tmp_path / "net.json"
    assert main(["network", str(edges), "--out", str(out), "--rewirings", "0"]) == 0
    assert "no baseline (--rewirings 0)" in capsys.readouterr().out
    pol = json.loads(out.read_text())["polarization"]
    assert set(pol) == {"score", "baseline_mean", "baseline_std", "z", "measures"}  # keys stay
    assert pol["score"] > 0 and pol["baseline_mean"] is None and pol["z"] is None
    assert all(m["value"] is not None and m["z"] is None for m in pol["measures"].values())
    with pytest.raises(SystemExit):
        main(["network", str(edges), "--out", str(out), "--rewirings", "-1"])


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("COMMONGROUND_SOURCES", "file", "COMMONGROUND_SOURCES='file': this setting takes JSON, e.g."),
        ("COMMONGROUND_MASTODON_TOKENS", "s3cret", "COMMONGROUND_MASTODON_TOKENS=(hidden): this setting"),
        ("COMMONGROUND_MASTODON_TOKENS", '{"a": 5}', "COMMONGROUND_MASTODON_TOKENS.A='(hidden)'"),
        ("COMMONGROUND_DATA_DIR", " ", "COMMONGROUND_DATA_DIR is empty"),
        ("COMMONGROUND_LOCK_WAIT_SECONDS", "-1", "COMMONGROUND_LOCK_WAIT_SECONDS='-1': Input should be"),
    ],
)
def test_settings_pydantic_cannot_name_are_one_line_too(
    variable: str, value: str, expected: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["serve", "--show"]) == 2
    err = _one_error_line(capsys)
    assert err.startswith(f"commonground: {expected}")
    if "TOKENS" in variable:  # a token's value never reaches the terminal
        assert "s3cret" not in err and "5" not in err


def test_a_missing_data_folder_is_created_and_a_file_in_the_way_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "not" / "yet" / "there"
    assert main(["--data-dir", str(data), "serve", "--show"]) == 0
    assert data.is_dir()
    capsys.readouterr()
    (tmp_path / "a-file").write_text("")
    assert main(["--data-dir", str(tmp_path / "a-file" / "data"), "serve", "--show"]) == 2
    assert "--data-dir (COMMONGROUND_DATA_DIR)=" in _one_error_line(capsys)
