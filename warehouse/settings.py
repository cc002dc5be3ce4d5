"""The one Settings object: every configurable value of commonground, read from env and `.env`.

It lives in `warehouse/` because both the flows and the dashboard need it and the dependency
rule is `dashboard → warehouse`, `flows → models, warehouse`. Models never read settings: the
flows pass them the values they need.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, get_origin

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from warehouse.cron import check_cron, check_timezone
from warehouse.locks import DEFAULT_LOCK_WAIT_SECONDS, DEFAULT_RUN_LOCK_WAIT_SECONDS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
SAMPLE_CONVERSATION = SAMPLE_DIR / "conversation.jsonl"

SourceName = Literal["mastodon", "x", "bluesky", "file"]
# A hashtag is letters, digits and '_' (any script): it reaches platform URLs, so nothing else may pass.
HASHTAG = re.compile(r"\w{1,100}")


def check_hashtag(tag: str) -> str:
    """The hashtag without its '#', or a ValueError saying what a hashtag may hold."""
    bare = str(tag).strip().removeprefix("#")
    if not HASHTAG.fullmatch(bare):
        raise ValueError(
            f"{tag!r} is not a hashtag: use letters, digits and '_' only (at most 100), with or without '#'"
        )
    return bare


# The import file formats (flows/sources/formats.py describes each; a test keeps the two lists equal).
ImportFormat = Literal["auto", "jsonl", "csv", "twarc2", "x-v1", "bluesky", "mastodon-json", "reddit"]


class Settings(BaseSettings):
    """Configuration for a commonground deployment (env prefix ``COMMONGROUND_``)."""

    model_config = SettingsConfigDict(
        env_prefix="COMMONGROUND_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
    )

    # --- where data lives
    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="Databases, snapshots, reports.")
    database: Path | None = Field(
        default=None, description="The DuckDB file the flows write (default data_dir/commonground.duckdb)."
    )
    snapshot: Path | None = Field(
        default=None,
        description="Read-only snapshot the dashboard opens (default data_dir/snapshot.duckdb).",
    )
    outreach_database: Path | None = Field(
        default=None,
        description="The dashboard's shortlist and notes (default data_dir/outreach.duckdb).",
    )
    datasets_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "datasets",
        description="Labeled public data for training and evaluating models.",
    )

    # --- waiting for the warehouse (warehouse/locks.py)
    lock_wait_seconds: float = Field(
        default=DEFAULT_LOCK_WAIT_SECONDS,
        ge=0,
        description="How long to wait, with backoff, while another process has the DuckDB file open.",
    )
    run_lock_wait_seconds: float = Field(
        default=DEFAULT_RUN_LOCK_WAIT_SECONDS,
        ge=0,
        description="How long a run waits for another run on the same warehouse to finish (one at a time).",
    )
    prefect_server_keep_seconds: float = Field(
        default=600.0,
        ge=0,
        description=(
            "How long Prefect's temporary API server stays up after the last command that used it, so the "
            "next command (with the same Prefect home) starts in seconds; 0 stops it with each command."
        ),
    )

    @field_validator("data_dir", mode="before")
    @classmethod
    def _named_data_dir(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("COMMONGROUND_DATA_DIR is empty: name a folder, or unset it for data/")
        return value

    # --- what to collect
    hashtags: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["NHS", "GP", "DigitalHealth", "ClinicalEntrepreneurs"],
        description="Hashtags to follow, without '#': a JSON list or comma-separated (NHS,GP).",
    )
    sources: list[SourceName] = Field(
        default_factory=lambda: list[SourceName](["file"]),
        description="Sources `commonground run` ingests from.",
    )
    import_paths: list[Path] = Field(
        default_factory=lambda: [SAMPLE_CONVERSATION],
        description="Files the `file` source imports (the bundled sample by default).",
    )
    topic: str = Field(default="uk-healthcare", description="Name of the hashtag set analysed together.")

    # --- tokens (never printed or logged)
    mastodon_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    x_bearer_token: SecretStr | None = None
    bluesky_handle: str | None = None
    bluesky_app_password: SecretStr | None = None

    # --- sources
    mastodon_instances: list[str] = Field(
        default_factory=lambda: ["mastodon.social", "mstdn.science", "med-mastodon.com", "mastodon.online"],
        description="Mastodon instances whose public hashtag timelines are read (no account needed).",
    )
    mastodon_page_size: int = Field(default=40, ge=1, le=40, description="Statuses per request (API max 40).")
    mastodon_max_pages: int = Field(default=25, ge=1, description="Pages per instance × hashtag per run.")
    mastodon_requests_per_window: int = Field(default=300, ge=1, description="Mastodon's default limit…")
    mastodon_window_seconds: float = Field(default=300, gt=0, description="…per this many seconds.")
    x_max_reads_per_run: int = Field(
        default=1_000, ge=0, description="X bills every post read: stop a run after this many."
    )
    x_max_reads_per_month: int = Field(
        default=10_000, ge=0, description="Posts read from X per calendar month (UTC), all runs together."
    )
    x_page_size: int = Field(default=100, ge=10, le=100, description="Posts per search request (10–100).")
    bluesky_service: str = Field(default="https://bsky.social", description="PDS or entryway to log in to.")
    bluesky_page_size: int = Field(default=100, ge=1, le=100)
    bluesky_max_pages: int = Field(default=25, ge=1, description="Pages per hashtag per run.")
    source_attempts: int = Field(
        default=4, ge=1, description="Tries per request on 429, 5xx and timeouts before the task gives up."
    )
    source_backoff_seconds: float = Field(
        default=2.0, ge=0, description="First wait after a transient error; doubles per try."
    )
    source_max_wait_seconds: float = Field(
        default=900, ge=0, description="Longest single wait for a rate-limit reset."
    )
    ingest_task_retries: int = Field(default=2, ge=0, description="Prefect retries of a failed ingest task.")
    ingest_task_retry_delays: list[float] = Field(
        default_factory=lambda: [30.0, 120.0], description="Seconds before each Prefect retry."
    )
    import_format: ImportFormat = Field(
        default="auto",
        description="Format of import files; 'auto' tells them apart by extension and content.",
    )
    csv_columns: dict[str, str] = Field(
        default_factory=dict,
        description="CSV import: our field → your column, e.g. {'text': 'body', 'author_handle': 'user'}.",
    )
    import_date_format: str | None = Field(
        default=None,
        description="CSV and JSONL imports: the layout of dates that are not ISO 8601, RFC 2822 or epoch "
        "(strptime codes, e.g. '%d/%m/%y %H:%M'); day/month dates are read only with one.",
    )
    import_platform: str = Field(
        default="file",
        description="CSV and JSONL imports: the platform of posts whose rows do not name one (e.g. 'x').",
    )

    # --- models
    tone_model: str = Field(
        default="minilm-tone",
        description=(
            "'minilm-tone' (the shipped model; '+int8' for the ONNX Runtime path), a directory written by "
            "`python -m lab.tone.train`, or a Hugging Face sequence-classification id or directory "
            "replacing one head ('hostile=ID', 'constructive=ID'; a bare id means hostile)."
        ),
    )
    tone_batch_size: int = Field(default=64, ge=1)
    tone_max_length: int = Field(default=128, ge=8, le=512)
    nlp_processes: int = Field(
        default=0,
        ge=0,
        description=(
            "Worker processes for spaCy's features in enrich (spaCy uses one core each); 0: one per CPU core. "
            "Used only when there are enough new texts to pay for starting them."
        ),
    )
    nlp_entities: bool = Field(
        default=True,
        description=(
            "Named entities (post_features.entities) in enrich. spaCy's entity recogniser is 60% of its time "
            "on posts and nothing in the dashboard or report reads them yet: set false for large runs."
        ),
    )
    community_seed: int = Field(default=42)
    window_days: int = Field(default=7, ge=1, description="Analysis window, ending at the newest post.")
    polarization_rewirings: int = Field(
        default=20,
        ge=0,
        description=(
            "Degree-preserving random rewirings behind each polarization baseline, at most: it stops after 5 "
            "once its mean is known to 1% of the excess (large graphs)."
        ),
    )

    # --- constructive voices (documented in models/voices.py)
    voices_top_n: int = Field(default=50, ge=1)
    voices_prior_weight: float = Field(default=3.0, ge=0, description="Pseudo-posts of shrinkage.")
    voices_min_posts: int = Field(default=2, ge=1)
    voices_reach_floor: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Share of the score an account engaged by one camp can still earn.",
    )
    voices_volume_scale: float = Field(
        default=4.0, gt=0, description="Constructive engagements at which the volume factor reaches 63%."
    )
    voices_mention_weight: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="How much a non-hostile mention counts as engagement (a tag is visibility, not agreement).",
    )
    voices_made_weight: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="How much constructive engagement an account makes counts, next to what it receives.",
    )
    rwc_hub_share: float = Field(
        default=0.01,
        gt=0,
        le=0.5,
        description="Random Walk Controversy: share of each side's highest-degree accounts where walks stop.",
    )
    hostility_permutations: int = Field(
        default=200,
        ge=0,
        description="Seeded shuffles of reply tone behind the hostility-across-camps baseline.",
    )
    extra_window_days: list[int] = Field(
        default_factory=lambda: [30],
        description="Longer windows analysed next to window_days (each its own analysis; the main one is newest).",
    )

    # --- beyond one machine: Dask workers (flows/runners.py) and Parquet exports (warehouse/parquet.py)
    task_runner: Literal["default", "dask"] = Field(
        default="default",
        description="'dask': tone scoring and ingest fetching run on Dask workers (prefect-dask); the "
        "flow's process still does every warehouse write.",
    )
    dask_address: str | None = Field(
        default=None,
        description="Scheduler of a running Dask cluster (tcp://host:8786); none starts a local cluster.",
    )
    dask_workers: int = Field(default=2, ge=1, description="Worker processes of a local Dask cluster.")
    dask_chunk_texts: int = Field(
        default=2_000, ge=1, description="Distinct texts per scoring task sent to a Dask worker."
    )
    parquet_dir: Path | None = Field(
        default=None, description="Where `commonground export-parquet` writes (default data_dir/parquet)."
    )
    export_parquet: bool = Field(
        default=False, description="Export new Parquet partitions at the end of every pipeline run."
    )

    @property
    def parquet_path(self) -> Path:
        return self.parquet_dir or self.data_dir / "parquet"

    # --- the Perspective-compatible service (`commonground api`)
    api_host: str = Field(default="127.0.0.1", description="Address `commonground api` listens on.")
    api_port: int = Field(default=8080, ge=1, le=65535)
    api_keys: list[SecretStr] = Field(
        default_factory=list, description="API keys accepted (`?key=`); none means no key is asked for."
    )
    api_requests_per_minute: int = Field(default=600, ge=1, description="Per key (or per client address).")
    api_max_request_bytes: int = Field(default=1_000_000, ge=1024, description="Largest request body.")
    api_max_comment_bytes: int = Field(
        default=20_480, ge=1, description="Largest text (Perspective's 20 KB)."
    )
    api_max_batch_texts: int = Field(default=100, ge=1, description="Texts or requests in one batch request.")
    api_batch_texts: int = Field(
        default=64, ge=1, description="Micro-batching: texts of concurrent requests scored in one model call."
    )
    api_batch_wait_ms: float = Field(
        default=5.0, ge=0, description="Micro-batching: how long the first request waits for company."
    )
    api_store_scores: bool = Field(
        default=False,
        description="Keep each scored comment's hash and scores in data_dir/api.duckdb (never its text), "
        "unless the request says doNotStore.",
    )

    # --- schedules (`commonground serve`; cron strings read in schedule_timezone)
    schedule_timezone: str = Field(
        default="Europe/London", description="IANA time zone every schedule's cron string is read in."
    )
    schedule_ingest_cron: str = Field(
        default="0 * * * *", description="When each configured source is ingested (hourly)."
    )
    schedule_analyze_cron: str = Field(
        default="15 6 * * *", description="When new posts are scored, analysed and published (daily 06:15)."
    )
    schedule_report_cron: str = Field(
        default="0 7 * * 1", description="When the weekly report for the last complete week is built."
    )
    schedule_max_concurrent_runs: int = Field(
        default=1,
        ge=1,
        description="Flow runs `commonground serve` runs at once; 1 because DuckDB takes one writer at a time.",
    )

    @field_validator("schedule_ingest_cron", "schedule_analyze_cron", "schedule_report_cron")
    @classmethod
    def _valid_cron(cls, value: str, info: ValidationInfo) -> str:
        try:
            return check_cron(value)
        except ValueError as exc:
            raise ValueError(f"COMMONGROUND_{str(info.field_name).upper()}: {exc}") from None

    @field_validator("hashtags", mode="before")
    @classmethod
    def _valid_hashtags(cls, value: object) -> list[str]:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [t for t in text.split(",") if t.strip()]
        if not isinstance(value, list | tuple):
            raise ValueError(
                "COMMONGROUND_HASHTAGS: give a JSON list or comma-separated hashtags, e.g. NHS,GP"
            )
        try:
            return [check_hashtag(tag) for tag in value]
        except ValueError as exc:
            raise ValueError(f"COMMONGROUND_HASHTAGS: {exc}") from None

    @field_validator("schedule_timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            return check_timezone(value)
        except ValueError as exc:
            raise ValueError(f"COMMONGROUND_SCHEDULE_TIMEZONE: {exc}") from None

    # --- retention and deletion compliance (`commonground retention`, `compliance`, warehouse/lifecycle.py)
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Delete posts older than this many days (by created_at), with everything derived from "
        "them, at every pipeline run and on `commonground retention`; unset: keep everything.",
    )
    compliance_max_checks: int = Field(
        default=500,
        ge=1,
        description="Stored posts (newest first) `commonground compliance` re-checks per source and run.",
    )
    x_compliance_poll_seconds: float = Field(
        default=30, gt=0, description="How often an X compliance job's status is asked for."
    )
    x_compliance_max_wait_seconds: float = Field(
        default=3600, ge=0, description="How long to wait for an X compliance job before giving its id."
    )

    # --- privacy
    pseudonymize_handles: bool = Field(
        default=False, description="Show stable pseudonyms instead of handles in dashboard and reports."
    )
    store_raw_payloads: bool = Field(default=True, description="Keep raw API payloads for lineage.")
    pseudonymize_exports: bool = Field(
        default=True,
        description="Pseudonyms instead of handles, ids, links and mentions in every exported file: the "
        "weekly report's HTML, PDF, CSVs and Parquet and the dashboard's downloads.",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="The secret behind every pseudonym (64 hex digits, or any text of 32+ characters); "
        "unset: read from pseudonym_key_file, which is generated on first use.",
    )
    pseudonym_key_file: Path | None = Field(
        default=None,
        description="Where the pseudonym key is kept, outside the database (default "
        "data_dir/secrets/pseudonym.key, mode 0600). Losing it changes every pseudonym.",
    )

    @field_validator("pseudonym_key")
    @classmethod
    def _long_enough_key(cls, value: SecretStr | None) -> SecretStr | None:
        # The message names the variable, so explain_settings_error never prints the secret itself.
        if value is not None and len(value.get_secret_value().strip()) < 32:
            raise ValueError(
                "COMMONGROUND_PSEUDONYM_KEY: too short; use 64 hex digits "
                '(python -c "import secrets; print(secrets.token_hex(32))") or 32+ characters of text'
            )
        return value

    dashboard_allowed_emails: list[str] = Field(
        default_factory=list,
        description="When set, the dashboard asks people to sign in (st.login, configured in "
        ".streamlit/secrets.toml [auth]) and lets in only these e-mail addresses; empty: no sign-in.",
    )

    @property
    def database_path(self) -> Path:
        return self.database or self.data_dir / "commonground.duckdb"

    @property
    def snapshot_path(self) -> Path:
        return self.snapshot or self.data_dir / "snapshot.duckdb"

    @property
    def outreach_path(self) -> Path:
        return self.outreach_database or self.data_dir / "outreach.duckdb"

    @property
    def pseudonym_key_path(self) -> Path:
        return self.pseudonym_key_file or self.data_dir / "secrets" / "pseudonym.key"

    @property
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"


def explain_settings_error(exc: ValidationError) -> str:
    """One line per bad setting: the variable, the value it had and what is expected."""
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        value = "(hidden)" if _is_secret(str(error["loc"][0]) if error["loc"] else "") else error.get("input")
        message = str(error["msg"]).removeprefix("Value error, ")
        if message.startswith(f"COMMONGROUND_{field.upper()}"):
            lines.append(message)
        else:
            lines.append(f"COMMONGROUND_{field.upper()}={value!r}: {message}")
    return "\n".join(lines)


def explain_settings_source_error(exc: SettingsError, environ: Mapping[str, str]) -> str:
    """One line for a setting that is not valid JSON where JSON is expected (a list or a mapping):
    pydantic-settings says only 'error parsing value for field "sources" from source ...'."""
    found = re.search(r'field "(\w+)"', str(exc))
    if found is None or found.group(1) not in Settings.model_fields:
        return str(exc)
    field = found.group(1)
    variable = f"COMMONGROUND_{field.upper()}"
    value = environ.get(variable)
    shown = "(hidden)" if _is_secret(field) else ("(in .env)" if value is None else repr(value))
    kind = get_origin(Settings.model_fields[field].annotation)
    example = '{"name": "value"}' if kind is dict else '["first", "second"]'
    return f"{variable}={shown}: this setting takes JSON, e.g. {variable}='{example}'"


def _is_secret(field: str) -> bool:
    """Tokens, passwords and keys: an error message never shows their values."""
    info = Settings.model_fields.get(field)
    return info is not None and "SecretStr" in str(info.annotation)
