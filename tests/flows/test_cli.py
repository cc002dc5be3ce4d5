"""The command line on real files: edge lists, CSV scoring and its clear errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from flows.cli import main
from flows.network_cli import read_edge_list
from flows.score_cli import score_csv
from models.tone import MiniLMTone


def test_network_command_on_a_conover_style_file(tmp_path: Path) -> None:
    lines = []
    for i in range(40):
        side = i % 2
        for k in (1, 2, 3):
            j = (i + 2 * k) % 40  # same parity: the same side
            lines.append(f"{i}\t{j}\tretweet\t{k % 2}\t1286901355\t#tag{side}")
    lines += ["0\t1\tretweet\t0\t1286901355\t#x", "5\t6\tretweet\t1\t1286901355"]
    edges = tmp_path / "retweet.edgelist"
    edges.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out" / "net.json"
    assert main(["network", str(edges), "--out", str(out), "--rewirings", "4"]) == 0
    result = json.loads(out.read_text())
    assert len(result["communities"]) == 40
    assert set(result["communities"]) == {str(i) for i in range(40)}
    sides = {result["communities"][str(i)] for i in range(0, 40, 2)}
    assert len(sides) == 1  # every even node in one camp
    pol = result["polarization"]
    assert {"score", "baseline_mean", "baseline_std", "z", "measures"} <= set(pol)
    assert pol["z"] > 3


def test_edge_list_formats_and_errors(tmp_path: Path) -> None:
    csv_file = tmp_path / "e.csv"
    csv_file.write_text("src,dst,kind,weight\na,b,reply,2.5\nb,c,retweet,1\n")
    frame = read_edge_list(csv_file)
    assert list(frame.itertuples(index=False, name=None)) == [
        ("a", "b", "reply", 2.5),
        ("b", "c", "repost", 1.0),
    ]
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\trepost\tlots\n")
    with pytest.raises(ValueError, match="weight 'lots' is not a number"):
        read_edge_list(bad)
    assert main(["network", str(tmp_path / "missing.tsv"), "--out", str(tmp_path / "o.json")]) == 2


def test_score_csv_adds_tone_columns_and_survives_bad_bytes(tiny_model: MiniLMTone, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    body = 'id,body\n1,"Thanks, the evidence suggests we should improve funding"\n2,shut up you idiot\n3,\n'
    french = '6,"Les délais aux urgences sont beaucoup trop longs, il faut plus d\'infirmières."\n'
    source.write_bytes(
        body.encode() + b"4,caf\xe9 latte\n" + b'5,"' + b"long " * 2000 + b'"\n' + french.encode()
    )
    out = tmp_path / "out.csv"
    result = score_csv(tiny_model, source, out, "body", chunk_rows=2)
    assert result == {"rows": 6, "lines_with_bad_bytes": 1}
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    tone_columns = ["constructive", "hostile", "is_constructive", "is_hostile", "tone", "reasons"]
    heads = [f"attr_{a}" for a in tiny_model.attributes]  # every head's output is in the CSV
    assert list(rows[0]) == ["id", "body", *tone_columns, "unscored_reason", *heads, "model_version"]
    for row, reason in ((rows[2], "empty"), (rows[5], "not English (fr)")):
        assert row["tone"] == "unscored" and row["unscored_reason"] == reason
        assert row["constructive"] == row["hostile"] == row["reasons"] == "" and row["is_hostile"] == "False"
        assert all(row[h] == "" for h in heads)  # no number for a text it did not judge
    for row in (rows[0], rows[1], rows[3], rows[4]):
        assert row["unscored_reason"] == "" and row["tone"] in ("constructive", "neutral", "hostile")
        assert 0.0 <= float(row["hostile"]) <= 1.0 and all(0.0 <= float(row[h]) <= 1.0 for h in heads)
        assert set(filter(None, row["reasons"].split("; "))) <= set(tiny_model.attributes)


def test_score_csv_names_the_missing_column(tiny_model: MiniLMTone, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,message\n1,hello\n")
    with pytest.raises(ValueError, match=r"no column 'text'; columns found: 'id', 'message'"):
        score_csv(tiny_model, source, tmp_path / "out.csv", "text")


def test_network_json_has_the_documented_shape_and_node_ids_as_written(tmp_path: Path) -> None:
    lines = [f"00{i}\t00{(i + 2 * k) % 30}\tretweet\t0\t1286901355" for i in range(30) for k in (1, 2)]
    lines += [f"00{i}\t00{(i + 1) % 30}\tmention\t0\t1286901355" for i in range(0, 30, 3)]
    edges = tmp_path / "all.edgelist"
    edges.write_text("\n".join(lines) + "\n")
    out = tmp_path / "net.json"
    assert main(["network", str(edges), "--out", str(out), "--rewirings", "3"]) == 0
    result = json.loads(out.read_text())
    assert set(result) == {"communities", "camps", "polarization", "details"}
    assert set(result["communities"]) == {f"00{i}" for i in range(30)}
    pol = result["polarization"]
    assert set(pol) == {"score", "baseline_mean", "baseline_std", "z", "measures"}
    assert set(pol["measures"]) == {"modularity", "ei_index", "rwc", "boundary"}
    for values in pol["measures"].values():
        assert set(values) == {"value", "baseline_mean", "baseline_std", "z"}
    assert pol["score"] == pol["measures"]["modularity"]["value"]
    camp = result["camps"][0]
    assert set(camp) == {"camp_id", "size", "n_communities", "insularity", "ei_index", "top_accounts"}
    assert sum(c["size"] for c in result["camps"]) == sum(
        v is not None for v in result["communities"].values()
    )
    assert result["details"]["n_rewirings"] == 3


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "COMMONGROUND_WINDOW_DAYS",
            "abc",
            "COMMONGROUND_WINDOW_DAYS='abc': Input should be a valid integer",
        ),
        (
            "COMMONGROUND_WINDOW_DAYS",
            "0",
            "COMMONGROUND_WINDOW_DAYS='0': Input should be greater than or equal",
        ),
        ("COMMONGROUND_PSEUDONYMIZE_HANDLES", "maybe", "COMMONGROUND_PSEUDONYMIZE_HANDLES='maybe'"),
        ("COMMONGROUND_SCHEDULE_TIMEZONE", "Mars/Base", "COMMONGROUND_SCHEDULE_TIMEZONE: 'Mars/Base' is not"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    variable: str, value: str, expected: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["serve", "--show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"commonground: {expected}")
    assert "Traceback" not in err and "pydantic.dev" not in err
    assert len(err.strip().splitlines()) == 1
