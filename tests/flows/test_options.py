"""The flows' typed parameter: a deployment shows each option by name, and none of them is a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from flows.options import RunOptions
from flows.pipeline import FLOWS


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_every_flow_shows_its_options_by_name(name: str) -> None:
    schema = FLOWS[name].parameters.model_dump()  # type: ignore[attr-defined]
    assert "options" in schema["properties"]
    shown = set(schema["definitions"]["RunOptions"]["properties"])
    assert {"data_dir", "sources", "hashtags", "import_paths", "tone_model"} <= shown
    assert not {n for n in shown if any(s in n for s in ("token", "password", "secret"))}


def test_options_go_on_top_of_the_settings_and_tokens_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMONGROUND_WINDOW_DAYS", "3")
    monkeypatch.setenv("COMMONGROUND_HASHTAGS", '["NHS"]')
    settings = RunOptions(data_dir=tmp_path, hashtags=["GP"]).settings()
    assert (settings.data_dir, settings.hashtags, settings.window_days) == (tmp_path, ["GP"], 3)
    with pytest.raises(ValidationError, match="x_bearer_token"):
        RunOptions(x_bearer_token="secret")  # type: ignore[call-arg]
