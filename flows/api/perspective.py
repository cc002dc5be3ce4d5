"""Perspective's `comments:analyze` on our tone model: request and response shapes, attribute names, errors.

Shapes follow Perspective's published API reference (`AnalyzeCommentRequest` / `AnalyzeCommentResponse`),
so a client switches by changing its base URL. Each Perspective attribute we answer is one of our heads
(or its complement); our own heads answer under their own upper-case names too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.tone_base import UNSCORED, ToneScore

SUPPORTED_LANGUAGES = ("en",)
SCORE_TYPE = "PROBABILITY"


@dataclass(frozen=True)
class Attribute:
    """A Perspective attribute answered by one of our heads (`inverse`: by 1 minus it)."""

    head: str
    inverse: bool = False
    meaning: str = ""

    def value(self, score: ToneScore) -> float:
        if self.head in ("constructive", "hostile"):
            raw = getattr(score, self.head)
        else:
            raw = score.attributes[self.head]
        return 1.0 - raw if self.inverse else raw


# Perspective's names for what our model measures (validation scores: models/weights/MODEL_CARD.md).
PERSPECTIVE_ATTRIBUTES: dict[str, Attribute] = {
    "TOXICITY": Attribute("hostile", meaning="rude, disrespectful or offensive (TweetEval, UCC hostile)"),
    "INSULT": Attribute("insult", meaning="an insult or attack on a person (WikiTactics name calling, C3)"),
    "INFLAMMATORY": Attribute("antagonize", meaning="provokes or antagonises (UCC)"),
    "IDENTITY_ATTACK": Attribute(
        "generalisation_unfair", meaning="an unfair generalisation about a group (UCC)"
    ),
    "REASONING_EXPERIMENTAL": Attribute("reasoning", meaning="argues with reasons (P4G, WikiTactics, C3)"),
    "CURIOSITY_EXPERIMENTAL": Attribute(
        "curiosity", meaning="asks a real question (GoEmotions, EPITOME, ESConv)"
    ),
    "PERSONAL_STORY_EXPERIMENTAL": Attribute(
        "personal_story", meaning="shares own experience (P4G, ESConv, C3)"
    ),
    "COMPASSION_EXPERIMENTAL": Attribute(
        "compassion", meaning="caring, empathetic (GoEmotions, EPITOME, ESConv)"
    ),
    "RESPECT_EXPERIMENTAL": Attribute("respect", meaning="polite, respectful (two politeness corpora)"),
}


def unscored_error(score: ToneScore, attribute: str = "TOXICITY") -> ApiError:
    """The error Perspective gives for a text it cannot judge: a language it does not support (naming the
    first requested ``attribute``, as Perspective does), or nothing to score."""
    reason = score.unscored_reason or "empty"
    if reason.startswith("not English"):
        lang = reason.rsplit("(", 1)[-1].rstrip(")")
        return ApiError(
            400,
            f"Attribute scores are only available in English; the comment reads as {lang!r}.",
            error_type="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            languageNotSupportedByAttributeError={"detectedLanguages": [lang], "attribute": attribute},
        )
    return ApiError(400, f"The comment has nothing to score ({reason}).", error_type="COMMENT_EMPTY")


def attributes_of(heads: tuple[str, ...]) -> dict[str, Attribute]:
    """Every attribute a model with these attribute heads answers: Perspective's names, then ours."""
    have = {"constructive", "hostile", *heads}
    named = {name: a for name, a in PERSPECTIVE_ATTRIBUTES.items() if a.head in have}
    own = {head.upper(): Attribute(head) for head in ("constructive", "hostile", *heads)}
    return {**named, **{name: a for name, a in own.items() if name not in named}}


ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"


class ApiError(Exception):
    """An error in Google's JSON shape, `{"error": {"code", "message", "status", "details"}}`; Perspective's
    own errors carry an `errorType` (COMMENT_EMPTY, COMMENT_TOO_LONG, …) in their details."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str = "INVALID_ARGUMENT",
        error_type: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        self.details = [{"@type": ERROR_TYPE, "errorType": error_type, **extra}] if error_type else []

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class Comment(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    text: str
    type: str = "PLAIN_TEXT"


class AttributeParameters(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    scoreType: str = SCORE_TYPE
    scoreThreshold: float | None = None


class AnalyzeRequest(BaseModel):
    """Perspective's AnalyzeCommentRequest (fields we do not use, such as `context`, are accepted)."""

    model_config = ConfigDict(extra="ignore", strict=True)
    comment: Comment
    requestedAttributes: dict[str, AttributeParameters | None] = Field(default_factory=dict)
    languages: list[str] | None = None
    spanAnnotations: bool = False
    doNotStore: bool = False
    clientToken: str | None = None
    sessionId: str | None = None
    communityId: str | None = None


def parse_request(body: Any) -> AnalyzeRequest:
    """A request body as Perspective would take it, or an INVALID_ARGUMENT error naming the field."""
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "Invalid JSON payload received. Expected an object (AnalyzeCommentRequest).",
            error_type="INVALID_REQUEST",
        )
    try:
        return AnalyzeRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        raise ApiError(
            400, f"Invalid value at '{where}': {first['msg']}.", error_type="INVALID_REQUEST"
        ) from exc


def check_request(
    request: AnalyzeRequest, known: dict[str, Attribute], max_comment_bytes: int
) -> dict[str, Attribute]:
    """The attributes to answer, after Perspective's checks: text present and not too long, at least
    one attribute, every attribute known, a supported language."""
    if not request.comment.text.strip():
        raise ApiError(400, "Comment must be non-empty.", error_type="COMMENT_EMPTY")
    size = len(request.comment.text.encode("utf-8"))
    if size > max_comment_bytes:
        message = f"Comment text was too many bytes. Value ({size}) exceeded limit ({max_comment_bytes})."
        raise ApiError(400, message, error_type="COMMENT_TOO_LONG")
    if not request.requestedAttributes:
        raise ApiError(
            400,
            "No requested attributes: give at least one in requestedAttributes.",
            error_type="INVALID_REQUEST",
        )
    unknown = [name for name in request.requestedAttributes if _base(name) not in known]
    if unknown:
        raise ApiError(400, f"Unknown requested attribute: {unknown[0]}", error_type="INVALID_REQUEST")
    languages = [lang.lower() for lang in request.languages or []]
    if languages and not any(lang.split("-")[0] in SUPPORTED_LANGUAGES for lang in languages):
        first = next(iter(request.requestedAttributes))
        raise ApiError(
            400,
            f"Attribute {first} does not support request languages: {','.join(languages)}",
            error_type="LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            languageNotSupportedByAttributeError={"detectedLanguages": languages, "attribute": first},
        )
    return {name: known[_base(name)] for name in request.requestedAttributes}


def _base(name: str) -> str:
    """`TOXICITY@1` asks for a version of TOXICITY; there is one version of each here, the model's."""
    return name.split("@", 1)[0]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def spans(text: str) -> list[tuple[int, int]]:
    """[begin, end) offsets of the text's sentences, in characters (see `utf16_offset` for the wire)."""
    out, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.start()].strip():
            out.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        out.append((start, len(text)))
    return out


def utf16_offset(text: str, index: int) -> int:
    """Perspective counts span offsets in UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text[:index].encode("utf-16-le")) // 2


def response(
    request: AnalyzeRequest,
    attributes: dict[str, Attribute],
    summary: ToneScore,
    span_scores: list[tuple[int, int, ToneScore]],
) -> dict[str, Any]:
    """AnalyzeCommentResponse: each requested attribute's summary (and span) scores; an attribute under
    its scoreThreshold is left out, as Perspective does."""
    scores: dict[str, Any] = {}
    for name, attribute in attributes.items():
        value = round(attribute.value(summary), 6)
        params = request.requestedAttributes.get(name)
        threshold = params.scoreThreshold if params is not None else None
        if threshold is not None and value < threshold:
            continue
        entry: dict[str, Any] = {"summaryScore": {"value": value, "type": SCORE_TYPE}}
        if request.spanAnnotations:
            text = request.comment.text
            entry["spanScores"] = [
                {
                    "begin": utf16_offset(text, b),
                    "end": utf16_offset(text, e),
                    "score": {"value": round(attribute.value(s), 6), "type": SCORE_TYPE},
                }
                for b, e, s in span_scores
                if s.tone != UNSCORED
            ]
        scores[name] = entry
    out: dict[str, Any] = {"attributeScores": scores, "languages": list(SUPPORTED_LANGUAGES)}
    if request.clientToken is not None:
        out["clientToken"] = request.clientToken
    return out
