"""The Perspective-compatible service, over real HTTP on loopback (uvicorn in a thread, httpx as client)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from flows.api.app import create_app
from flows.api.batching import MicroBatcher
from flows.api.perspective import PERSPECTIVE_ATTRIBUTES
from flows.api.server import running
from models.tone import MiniLMTone, score_frame
from warehouse.settings import Settings

# Perspective's documented AnalyzeComment example (API reference, "AnalyzeComment response"): the
# request and the shape of its answer, which ours must match field by field.
DOCUMENTED_TEXT = "What kind of idiot name is foo? Sorry, I like your name."
DOCUMENTED_RESPONSE: dict[str, Any] = {
    "attributeScores": {
        "TOXICITY": {"summaryScore": {"value": 0.8627961, "type": "PROBABILITY"}},
        "UNSUBSTANTIAL": {
            "spanScores": [
                {"begin": 0, "end": 31, "score": {"value": 0.52690625, "type": "PROBABILITY"}},
                {"begin": 32, "end": 55, "score": {"value": 0.9106685, "type": "PROBABILITY"}},
            ],
            "summaryScore": {"value": 0.69036055, "type": "PROBABILITY"},
        },
    },
    "languages": ["en"],
}


@contextmanager
def serving(model: MiniLMTone, tmp_path: Path, **settings: Any) -> Iterator[str]:
    """The real app under uvicorn on a loopback port, for the length of the block."""
    with running(create_app(model, Settings(data_dir=tmp_path, **settings))) as url:
        yield url


@pytest.fixture
def api(tiny_model: MiniLMTone, tmp_path: Path) -> Iterator[str]:
    with serving(tiny_model, tmp_path) as url:
        yield url


def _shape(value: Any) -> Any:
    """The structure of a JSON value: keys, list lengths and value types, not the numbers."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def test_the_documented_request_gets_the_documented_shape(api: str, tiny_model: MiniLMTone) -> None:
    body = {
        "comment": {"text": DOCUMENTED_TEXT},
        "languages": ["en"],
        "requestedAttributes": {"TOXICITY": {}, "INSULT": {}},
        "spanAnnotations": True,
    }
    reply = httpx.post(f"{api}/v1alpha1/comments:analyze", json=body)
    assert reply.status_code == 200
    assert reply.headers["x-model-version"] == tiny_model.version
    got = reply.json()
    documented = DOCUMENTED_RESPONSE["attributeScores"]["UNSUBSTANTIAL"]
    assert set(got) == set(DOCUMENTED_RESPONSE) and got["languages"] == ["en"]
    for name in ("TOXICITY", "INSULT"):
        attribute = got["attributeScores"][name]
        assert _shape(attribute) == _shape(documented)  # summaryScore and two spanScores, typed alike
        assert attribute["summaryScore"]["type"] == "PROBABILITY"
        assert [s["begin"] for s in attribute["spanScores"]] == [s["begin"] for s in documented["spanScores"]]
        assert attribute["spanScores"][0]["end"] == documented["spanScores"][0]["end"]
        assert attribute["spanScores"][1]["end"] == len(DOCUMENTED_TEXT)  # exclusive; the docs say 55
    expected = tiny_model.score([DOCUMENTED_TEXT])[0]
    assert got["attributeScores"]["TOXICITY"]["summaryScore"]["value"] == pytest.approx(
        expected.hostile, abs=1e-6
    )
    insult = expected.attributes["insult"]
    assert got["attributeScores"]["INSULT"]["summaryScore"]["value"] == pytest.approx(insult, abs=1e-6)


def test_every_perspective_attribute_is_answered_by_the_head_that_replaces_it(
    api: str, tiny_model: MiniLMTone
) -> None:
    text = "The waiting list data suggests we should fund more district nurses."
    names = [
        "TOXICITY",
        "INSULT",
        "INFLAMMATORY",
        "IDENTITY_ATTACK",
        "REASONING_EXPERIMENTAL",
        "CURIOSITY_EXPERIMENTAL",
        "PERSONAL_STORY_EXPERIMENTAL",
        "COMPASSION_EXPERIMENTAL",
        "RESPECT_EXPERIMENTAL",
    ]
    assert set(PERSPECTIVE_ATTRIBUTES) == set(names)
    body = {"comment": {"text": text}, "requestedAttributes": {name: {} for name in names}}
    got = httpx.post(f"{api}/v1alpha1/comments:analyze", json=body).json()["attributeScores"]
    s = tiny_model.score([text])[0]
    values = {"hostile": s.hostile, "constructive": s.constructive, **s.attributes}
    for name in names:
        head = PERSPECTIVE_ATTRIBUTES[name].head
        assert got[name]["summaryScore"]["value"] == pytest.approx(values[head], abs=1e-6), name
    # our own heads by their own names too
    own = {"requestedAttributes": {"CONSTRUCTIVE": {}, "SARCASTIC": {}}, "comment": {"text": text}}
    got = httpx.post(f"{api}/v1alpha1/comments:analyze", json=own).json()["attributeScores"]
    assert got["SARCASTIC"]["summaryScore"]["value"] == pytest.approx(s.attributes["sarcastic"], abs=1e-6)
    assert got["CONSTRUCTIVE"]["summaryScore"]["value"] == pytest.approx(s.constructive, abs=1e-6)
    old = {"requestedAttributes": {"SEVERE_TOXICITY": {}}, "comment": {"text": text}}  # no head answers it
    assert httpx.post(f"{api}/v1alpha1/comments:analyze", json=old).status_code == 400


FRENCH = "Les délais aux urgences sont beaucoup trop longs, il faut embaucher plus d'infirmières."


@pytest.mark.parametrize(
    ("text", "error_type", "detail", "message"),
    [
        (
            FRENCH,
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            {"detectedLanguages": ["fr"], "attribute": "INSULT"},
            "only available in English",
        ),
        ("😀😀🎉", "COMMENT_EMPTY", None, "nothing to score (no words)"),
        ("@someone https://t.co/abc", "COMMENT_EMPTY", None, "nothing to score (no words)"),
    ],
)
def test_texts_the_model_cannot_judge_get_perspectives_errors_and_are_not_kept(
    tiny_model: MiniLMTone,
    tmp_path: Path,
    text: str,
    error_type: str,
    detail: dict[str, Any] | None,
    message: str,
) -> None:
    body = {"comment": {"text": text}, "requestedAttributes": {"INSULT": {}, "TOXICITY": {}}}
    with serving(tiny_model, tmp_path, api_store_scores=True) as url:
        reply = httpx.post(f"{url}/v1alpha1/comments:analyze", json=body)
        batch = httpx.post(
            f"{url}/v1alpha1/comments:batchAnalyze",
            json={"requests": [body, {**body, "comment": {"text": "thanks for the data"}}]},
        ).json()["responses"]
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and message in error["message"]
    assert error["details"][0]["errorType"] == error_type
    if detail is not None:
        assert error["details"][0]["languageNotSupportedByAttributeError"] == detail
    assert batch[0] == reply.json() and "TOXICITY" in batch[1]["attributeScores"]
    con = duckdb.connect(str(tmp_path / "api.duckdb"), read_only=True)
    stored = con.execute("SELECT count(*), min(tone) FROM api_scores").fetchone()
    con.close()
    assert stored == (1, tiny_model.score(["thanks for the data"])[0].tone)  # only the English text


def test_a_span_it_cannot_judge_gets_no_span_score(api: str) -> None:
    text = "We should fund more district nurses. 😀😀"
    request = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "spanAnnotations": True}
    got = httpx.post(f"{api}/v1alpha1/comments:analyze", json=request).json()["attributeScores"]["TOXICITY"]
    assert [(s["begin"], s["end"]) for s in got["spanScores"]] == [(0, 36)]  # the emoji sentence is left out


def test_without_span_annotations_only_summaries_and_thresholds_leave_scores_out(api: str) -> None:
    body = {
        "comment": {"text": "shut up you idiot"},
        "requestedAttributes": {"TOXICITY": {}, "RESPECT_EXPERIMENTAL": {"scoreThreshold": 1.01}},
        "clientToken": "t-1",
    }
    got = httpx.post(f"{api}/v1alpha1/comments:analyze", json=body).json()
    assert set(got["attributeScores"]) == {"TOXICITY"}
    assert set(got["attributeScores"]["TOXICITY"]) == {"summaryScore"}
    assert got["clientToken"] == "t-1"


@pytest.mark.parametrize(
    ("payload", "status", "error_type", "message"),
    [
        (
            '{"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}',
            400,
            "COMMENT_EMPTY",
            "non-empty",
        ),
        ('{"comment": {"text": "hi"}, "requestedAttributes": {"FOO": {}}}', 400, "INVALID_REQUEST", "FOO"),
        (
            '{"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}',
            400,
            "INVALID_REQUEST",
            "comment.text",
        ),
        ('{"comment": "hi", "requestedAttributes": {"TOXICITY": {}}}', 400, "INVALID_REQUEST", "comment"),
        (
            '{"comment": {"text": "hi"}, "requestedAttributes": ["TOXICITY"]}',
            400,
            "INVALID_REQUEST",
            "requested",
        ),
        ('{"comment": {"text": "hi"}}', 400, "INVALID_REQUEST", "attribute"),
        ("[1, 2]", 400, "INVALID_REQUEST", "object"),
        ("{not json", 400, None, "Invalid JSON payload"),
        ("[" * 100_000 + "]" * 100_000, 400, None, "Invalid JSON payload"),
        (b"\xff\xfe not utf-8", 400, None, "Invalid JSON payload"),
        (
            '{"comment": {"text": "bonjour"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["fr"]}',
            400,
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            "Attribute TOXICITY does not support request languages: fr",
        ),
        (
            json.dumps({"comment": {"text": "é" * 10_241}, "requestedAttributes": {"TOXICITY": {}}}),
            400,
            "COMMENT_TOO_LONG",
            "exceeded limit (20480)",
        ),
    ],
)
def test_bad_input_gets_perspective_errors_never_a_500(
    api: str, payload: str | bytes, status: int, error_type: str | None, message: str
) -> None:
    content = payload if isinstance(payload, bytes) else payload.encode()
    reply = httpx.post(f"{api}/v1alpha1/comments:analyze", content=content)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert error["code"] == status and error["status"] == "INVALID_ARGUMENT"
    assert message in error["message"]
    if error_type:
        assert error["details"][0]["errorType"] == error_type
    assert reply.headers["x-model-version"]


def test_score_and_batch_endpoints_answer_our_columns(api: str, tiny_model: MiniLMTone) -> None:
    texts = ["the evidence suggests we should fund nurses", "shut up you idiot", "", FRENCH]
    got = httpx.post(f"{api}/v1/score", json={"texts": texts}).json()
    frame = score_frame(tiny_model, texts)
    assert got["model_version"] == tiny_model.version
    for row, expected in zip(got["scores"][:2], frame.to_dict("records")[:2], strict=True):
        assert set(row) == set(expected) - {"model_version"}
        assert row["tone"] == expected["tone"] and row["unscored_reason"] is None
        assert row["hostile"] == pytest.approx(expected["hostile"], abs=1e-6)
        assert row["reasons"] == [r for r in expected["reasons"].split("; ") if r]
    for row, reason in zip(got["scores"][2:], ("empty", "not English (fr)"), strict=True):
        # JSON has no NaN: an unscored text's numbers are null, with its reason
        assert row["tone"] == "unscored" and row["unscored_reason"] == reason and row["reasons"] == []
        assert row["constructive"] is None and row["hostile"] is None and row["is_hostile"] is False
        assert all(row[f"attr_{a}"] is None for a in tiny_model.attributes)
    batch = {
        "requests": [
            {"comment": {"text": "thanks for the data"}, "requestedAttributes": {"TOXICITY": {}}},
            {"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}},
        ]
    }
    answers = httpx.post(f"{api}/v1alpha1/comments:batchAnalyze", json=batch).json()["responses"]
    assert "TOXICITY" in answers[0]["attributeScores"]
    assert answers[1]["error"]["details"][0]["errorType"] == "COMMENT_EMPTY"
    assert httpx.post(f"{api}/v1/score", json={"texts": []}).status_code == 400


def test_health_metrics_and_discovery(api: str, tiny_model: MiniLMTone) -> None:
    httpx.post(f"{api}/v1/score", json={"text": "hello"})
    health = httpx.get(f"{api}/healthz")
    assert health.json() == {"status": "ok", "model_version": tiny_model.version}
    assert health.headers["x-model-version"] == tiny_model.version
    metrics = httpx.get(f"{api}/metrics").text
    assert 'commonground_api_requests_total{code="200",route="score"} 1.0' in metrics
    assert "commonground_api_texts_scored_total 1.0" in metrics
    document = httpx.get(f"{api}/$discovery/rest").json()
    assert document["rootUrl"] == f"{api}/"
    assert document["resources"]["comments"]["methods"]["analyze"]["path"] == "v1alpha1/comments:analyze"


def test_keys_rate_limit_and_request_size(tiny_model: MiniLMTone, tmp_path: Path) -> None:
    body = {"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}}
    with serving(
        tiny_model, tmp_path, api_keys=["k-1"], api_requests_per_minute=2, api_max_request_bytes=2048
    ) as url:
        path = f"{url}/v1alpha1/comments:analyze"
        denied = httpx.post(path, json=body)
        assert denied.status_code == 403 and denied.json()["error"]["status"] == "PERMISSION_DENIED"
        assert httpx.post(f"{path}?key=k-1", json=body).status_code == 200
        assert httpx.post(path, json=body, headers={"x-goog-api-key": "k-1"}).status_code == 200
        limited = httpx.post(f"{path}?key=k-1", json=body)
        assert limited.status_code == 429 and limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    with serving(tiny_model, tmp_path, api_max_request_bytes=2048) as url:
        big = {"comment": {"text": "x" * 4000}, "requestedAttributes": {"TOXICITY": {}}}
        assert httpx.post(f"{url}/v1alpha1/comments:analyze", json=big).status_code == 413


def test_scores_are_kept_only_when_asked_and_never_with_the_text(
    tiny_model: MiniLMTone, tmp_path: Path
) -> None:
    text = "the waiting list data is out"
    with serving(tiny_model, tmp_path) as url:  # not asked: nothing kept
        httpx.post(
            f"{url}/v1alpha1/comments:analyze",
            json={"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}},
        )
    assert not (tmp_path / "api.duckdb").exists()
    with serving(tiny_model, tmp_path, api_store_scores=True) as url:
        for do_not_store in (True, False):
            request = {
                "comment": {"text": text},
                "requestedAttributes": {"TOXICITY": {}},
                "doNotStore": do_not_store,
            }
            assert httpx.post(f"{url}/v1alpha1/comments:analyze", json=request).status_code == 200
    con = duckdb.connect(str(tmp_path / "api.duckdb"), read_only=True)
    rows = con.execute("SELECT * FROM api_scores").df()
    con.close()
    assert len(rows) == 1  # the doNotStore request left nothing
    assert text not in " ".join(map(str, rows.to_numpy().ravel())) and len(rows.loc[0, "text_sha256"]) == 64


def test_concurrent_requests_share_model_calls() -> None:
    calls: list[int] = []

    def score(texts: Any) -> list[Any]:
        calls.append(len(texts))
        time.sleep(0.02)
        return [f"score of {t}" for t in texts]

    async def burst(batcher: MicroBatcher) -> list[Any]:
        results = await asyncio.gather(*(batcher.score([f"t{i}", f"u{i}"]) for i in range(10)))
        await batcher.close()
        return results

    results = asyncio.run(burst(MicroBatcher(score, max_texts=64, max_wait_ms=20)))
    assert results == [[f"score of t{i}", f"score of u{i}"] for i in range(10)]  # each gets its own, in order
    assert sum(calls) == 20 and len(calls) < 10
    calls.clear()
    asyncio.run(burst(MicroBatcher(score, max_texts=1)))
    assert calls == [2] * 10  # one model call per request


def test_perspectives_documented_python_client_works_by_changing_its_url(
    api: str, tiny_model: MiniLMTone
) -> None:
    """Perspective's Python sample builds google-api-python-client from a discovery URL; pointed at ours,
    the same code gets the same answer as a plain HTTP request."""
    from googleapiclient import discovery
    from googleapiclient.errors import HttpError

    client = discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey="any-key",
        discoveryServiceUrl=f"{api}/$discovery/rest?version=v1alpha1",
        static_discovery=False,
        cache_discovery=False,
    )
    request = {
        "comment": {"text": DOCUMENTED_TEXT},
        "requestedAttributes": {"TOXICITY": {}},
        "languages": ["en"],
    }
    answer = client.comments().analyze(body=request).execute()
    assert answer == httpx.post(f"{api}/v1alpha1/comments:analyze", json=request).json()
    with pytest.raises(HttpError) as failed:
        client.comments().analyze(body={**request, "comment": {"text": ""}}).execute()
    assert failed.value.status_code == 400 and "non-empty" in str(failed.value)


def test_span_offsets_count_utf16_code_units_as_perspective_does(api: str) -> None:
    text = "Great work 🎉. You are an idiot."
    request = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "spanAnnotations": True}
    spans = httpx.post(f"{api}/v1alpha1/comments:analyze", json=request).json()["attributeScores"]["TOXICITY"]
    assert [(s["begin"], s["end"]) for s in spans["spanScores"]] == [(0, 14), (15, 32)]  # the emoji counts 2
