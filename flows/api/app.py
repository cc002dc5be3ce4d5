"""`commonground api`: the tone model as a local HTTP service that answers Perspective's requests.

Routes: `POST /v1alpha1/comments:analyze` (Perspective's shape), `POST /v1alpha1/comments:batchAnalyze`
(many of those in one request, ours), `POST /v1/score` (our columns for one text or many), `GET /healthz`,
`GET /metrics` (Prometheus text) and `GET /$discovery/rest` (the discovery document Google's API client
builds from). Every response carries the model version in `X-Model-Version`. Bad input is answered in
Google's error shape, never with a 500.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flows.api.batching import MicroBatcher
from flows.api.discovery import discovery_document
from flows.api.perspective import (
    ApiError,
    attributes_of,
    check_request,
    parse_request,
    response,
    spans,
    unscored_error,
)
from models.tone import ToneModel
from models.tone_base import UNSCORED, ToneScore
from warehouse.settings import Settings
from warehouse.store import log_api_scores


@dataclass
class RateLimiter:
    """A token bucket per API key (or per client address when no keys are configured)."""

    per_minute: int
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, who: str) -> bool:
        now = time.monotonic()
        tokens, last = self.buckets.get(who, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - last) * self.per_minute / 60)
        if tokens < 1:
            self.buckets[who] = (tokens, now)
            return False
        self.buckets[who] = (tokens - 1, now)
        return True


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "commonground_api_requests", "Requests answered", ["route", "code"], registry=self.registry
        )
        self.latency = Histogram(
            "commonground_api_request_seconds", "Time to answer", ["route"], registry=self.registry
        )
        self.texts = Counter("commonground_api_texts_scored", "Texts scored", registry=self.registry)


class ToneService:
    """What the routes share: the model behind a micro-batcher, the limits, the metrics."""

    def __init__(self, model: ToneModel, settings: Settings) -> None:
        self.model = model
        self.settings = settings
        self.batcher = MicroBatcher(
            model.score, max_texts=settings.api_batch_texts, max_wait_ms=settings.api_batch_wait_ms
        )
        self.attributes = attributes_of(model.attributes)
        self.keys = {k.get_secret_value() for k in settings.api_keys}
        self.limiter = RateLimiter(settings.api_requests_per_minute)
        self.metrics = Metrics()

    def caller(self, request: Request) -> str:
        """The API key (`?key=` as Perspective takes it, or the x-goog-api-key header), checked."""
        key = request.query_params.get("key") or request.headers.get("x-goog-api-key") or ""
        if self.keys and key not in self.keys:
            raise ApiError(403, "The request is missing a valid API key.", "PERMISSION_DENIED")
        return key if self.keys else (request.client.host if request.client else "local")

    async def body(self, request: Request) -> Any:
        """The JSON body, read only when its declared and actual size are within the limit."""
        limit = self.settings.api_max_request_bytes
        declared = request.headers.get("content-length", "0")
        if (int(declared) if declared.isdigit() else 0) > limit or len(raw := await request.body()) > limit:
            raise ApiError(413, f"Request too large: the limit is {limit} bytes.")
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested thousands deep
            raise ApiError(400, f"Invalid JSON payload received. {type(exc).__name__}: {exc}"[:300]) from exc

    async def analyze(self, body: Any) -> dict[str, Any]:
        request = parse_request(body)
        wanted = check_request(request, self.attributes, self.settings.api_max_comment_bytes)
        text = request.comment.text
        parts = spans(text) if request.spanAnnotations else []
        scores = await self.batcher.score([text, *(text[b:e] for b, e in parts)])
        self.metrics.texts.inc(len(scores))
        if scores[0].tone == UNSCORED:
            raise unscored_error(scores[0], next(iter(wanted)))
        if self.settings.api_store_scores and not request.doNotStore:
            await run_in_threadpool(self._store, [(text, scores[0])], request.clientToken)
        return response(
            request, wanted, scores[0], [(b, e, s) for (b, e), s in zip(parts, scores[1:], strict=True)]
        )

    async def batch_analyze(self, body: Any) -> dict[str, Any]:
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise ApiError(400, "Give a non-empty list of AnalyzeCommentRequest objects in 'requests'.")
        if len(requests) > self.settings.api_max_batch_texts:
            raise ApiError(
                400, f"Too many requests in one batch: the limit is {self.settings.api_max_batch_texts}."
            )
        answers = []
        for item in requests:
            try:
                answers.append(await self.analyze(item))
            except ApiError as exc:
                answers.append(exc.body())
        return {"responses": answers}

    async def score(self, body: Any) -> dict[str, Any]:
        texts = _texts(body, self.settings.api_max_batch_texts, self.settings.api_max_comment_bytes)
        scores = await self.batcher.score(texts)
        self.metrics.texts.inc(len(scores))
        return {"model_version": self.model.version, "scores": [_columns(s) for s in scores]}

    def endpoint(self, path: str, handler: Callable[[Any], Awaitable[dict[str, Any]]], name: str) -> Route:
        """A POST route: key, rate limit, size and JSON checks, then the handler; errors in Google's shape."""

        async def answer(request: Request) -> Response:
            started = time.perf_counter()
            try:
                who = self.caller(request)
                if not self.limiter.allow(who):
                    per_minute = self.settings.api_requests_per_minute
                    raise ApiError(
                        429, f"Quota exceeded: {per_minute} requests a minute.", "RESOURCE_EXHAUSTED"
                    )
                reply: Response = JSONResponse(await handler(await self.body(request)))
            except ApiError as exc:
                reply = JSONResponse(exc.body(), status_code=exc.code)
            except Exception as exc:  # a bug of ours: still Google's shape, and said, not a stack trace
                reply = JSONResponse(
                    ApiError(500, f"Internal error: {type(exc).__name__}", "INTERNAL").body(), 500
                )
            self.metrics.requests.labels(name, str(reply.status_code)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - started)
            return reply

        return Route(path, answer, methods=["POST"], name=name)

    def _store(self, scored: list[tuple[str, ToneScore]], client_token: str | None) -> None:
        log_api_scores(self.settings.data_dir / "api.duckdb", self.model.version, scored, client_token)


class ModelVersionHeader:
    """ASGI middleware: every response says which model answered (`X-Model-Version`)."""

    def __init__(self, app: ASGIApp, version: str) -> None:
        self.app, self.version = app, version.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-model-version", self.version)]
            await send(message)

        await self.app(scope, receive, with_header if scope["type"] == "http" else send)


def create_app(model: ToneModel, settings: Settings) -> Starlette:
    service = ToneService(model, settings)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "model_version": model.version})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(service.metrics.registry), media_type="text/plain; version=0.0.4")

    async def discovery(request: Request) -> Response:
        return JSONResponse(discovery_document(str(request.base_url), sorted(service.attributes)))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await service.batcher.close()

    app = Starlette(
        routes=[
            service.endpoint("/v1alpha1/comments:analyze", service.analyze, "analyze"),
            service.endpoint("/v1alpha1/comments:batchAnalyze", service.batch_analyze, "batch_analyze"),
            service.endpoint("/v1/score", service.score, "score"),
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/$discovery/rest", discovery),
        ],
        middleware=[Middleware(ModelVersionHeader, version=model.version)],
        lifespan=lifespan,
    )
    app.state.service = service
    return app


def _texts(body: Any, max_texts: int, max_bytes: int) -> list[str]:
    """`{"text": "…"}` or `{"texts": ["…", …]}`: the texts to score, checked."""
    if isinstance(body, dict) and isinstance(body.get("text"), str):
        texts = [body["text"]]
    elif isinstance(body, dict) and isinstance(body.get("texts"), list):
        texts = body["texts"]
    else:
        raise ApiError(400, "Give 'text' (a string) or 'texts' (a list of strings).")
    if not texts or len(texts) > max_texts or not all(isinstance(t, str) for t in texts):
        raise ApiError(400, f"'texts' must hold 1 to {max_texts} strings.")
    too_long = next((i for i, t in enumerate(texts) if len(t.encode("utf-8")) > max_bytes), None)
    if too_long is not None:
        raise ApiError(400, f"Text {too_long} is too long: the limit is {max_bytes} bytes.")
    return texts


def _columns(score: ToneScore) -> dict[str, Any]:
    """One text's scores with the columns `commonground score` writes."""

    def number(v: float) -> float | None:  # JSON has no NaN: an unscored text's probabilities are null
        return None if v != v else v

    return {
        "constructive": number(score.constructive),
        "hostile": number(score.hostile),
        "is_constructive": score.is_constructive,
        "is_hostile": score.is_hostile,
        "tone": score.tone,
        "reasons": list(score.reasons),
        "unscored_reason": score.unscored_reason,
        **{f"attr_{name}": number(value) for name, value in score.attributes.items()},
    }
