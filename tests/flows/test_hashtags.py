"""A hashtag reaches platform URLs: only letters, digits and '_' get that far, from every way in."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.cli import main
from flows.options import RunOptions
from flows.pipeline import ingest
from warehouse.settings import Settings, check_hashtag

PATH_TRICK = "../../accounts/verify_credentials"


@pytest.mark.parametrize("tag", ["NHS", "#GP", "DigitalHealth", "nhs_2026", "Gesundheitswesen", "santé"])
def test_hashtags_of_any_script_pass_without_their_hash(tag: str) -> None:
    assert check_hashtag(tag) == tag.removeprefix("#")


@pytest.mark.parametrize("tag", [PATH_TRICK, "NHS/GP", "a b", "", "#", "x?y=1", "nhs%2F..", "x" * 101])
def test_anything_else_is_refused_with_what_a_hashtag_may_hold(tag: str) -> None:
    with pytest.raises(ValueError, match="letters, digits and '_'"):
        check_hashtag(tag)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("NHS,GP", ["NHS", "GP"]), (' ["NHS", "#GP"]', ["NHS", "GP"]), ("#NHS, #GP,", ["NHS", "GP"])],
)
def test_the_setting_takes_a_json_list_or_commas(
    value: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONGROUND_HASHTAGS", value)
    assert Settings().hashtags == expected


def test_a_bad_hashtag_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("COMMONGROUND_HASHTAGS", f"NHS,{PATH_TRICK}")
    assert main(["serve", "--show"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"commonground: COMMONGROUND_HASHTAGS: {PATH_TRICK!r} is not a hashtag")
    assert len(err.splitlines()) == 1


def test_the_command_line_refuses_a_path_as_a_tag(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "--source", "mastodon", "--tag", PATH_TRICK])
    assert exit_.value.code == 2
    assert "argument --tag: '../../accounts/verify_credentials' is not a hashtag" in capsys.readouterr().err


def test_the_ingest_flow_refuses_it_before_any_request(tmp_path: Path, prefect_harness: None) -> None:
    """The flow is what schedules and scripts call: it checks too, before a source or a run exists."""
    with pytest.raises(ValueError, match="is not a hashtag"):
        ingest(RunOptions(data_dir=tmp_path), source="mastodon", queries=[PATH_TRICK])
    assert not (tmp_path / "commonground.duckdb").exists()  # no run was recorded
