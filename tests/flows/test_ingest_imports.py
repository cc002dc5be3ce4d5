"""A one-line `commonground ingest` pays for what it imports (issue 17: under 5 s): the command line and the
flows load no API client, model, NLP or analysis library until a step that uses it runs."""

from __future__ import annotations

import subprocess
import sys

# What a file import never uses: the platforms' API clients (Mastodon.py, tweepy and atproto, and requests
# under the first two), the tone model's stack, spaCy, the network analysis, the dashboard and reports.
HEAVY = (
    "mastodon",
    "tweepy",
    "atproto",
    "requests",
    "torch",
    "transformers",
    "onnxruntime",
    "sklearn",
    "spacy",
    "igraph",
    "leidenalg",
    "streamlit",
    "altair",
    "weasyprint",
)


def test_the_ingest_command_imports_no_client_model_or_analysis_library() -> None:
    code = (
        "import sys\n"
        "import flows.cli, flows.pipeline, flows.sources.files\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported before any step needs them: {out.stdout.strip()}"


def test_the_mastodon_source_still_brings_its_client() -> None:
    """The split is of the normaliser, not of the source: `MastodonSource` still loads Mastodon.py."""
    code = "import sys\nimport flows.sources.mastodon\nprint('mastodon' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
