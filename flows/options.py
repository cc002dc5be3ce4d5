"""What one flow run may choose on top of the configured settings: the flows' typed parameter."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from warehouse.settings import ImportFormat, Settings, SourceName


class RunOptions(BaseModel):
    """Per-run choices; anything left unset comes from the settings (environment, `.env`).

    Tokens and the rest of the configuration are settings only, so a run's parameters, which Prefect
    records and shows, never hold a secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path | None = Field(default=None, description="Where databases and snapshots go.")
    sources: list[SourceName] | None = Field(default=None, description="Sources `run` ingests from.")
    hashtags: list[str] | None = Field(default=None, description="Hashtags to collect, without '#'.")
    import_paths: list[Path] | None = Field(default=None, description="Files the file source imports.")
    import_format: ImportFormat | None = Field(default=None, description="Format of the import files.")
    csv_columns: dict[str, str] | None = Field(default=None, description="CSV import: field → column.")
    import_date_format: str | None = Field(default=None, description="Layout of dates in CSV/JSONL imports.")
    import_platform: str | None = Field(default=None, description="Platform of CSV/JSONL posts naming none.")
    mastodon_instances: list[str] | None = Field(default=None, description="Mastodon instances to read.")
    tone_model: str | None = Field(default=None, description="The tone model to score with.")
    window_days: int | None = Field(default=None, ge=1, description="Analysis window in days.")

    def settings(self) -> Settings:
        """The settings with this run's choices on top."""
        return Settings(**self.model_dump(exclude_none=True))
