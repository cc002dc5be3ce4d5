"""The discovery document Google's API client (`googleapiclient.discovery.build`) reads to call us.

Perspective's own Python sample builds its client from a discovery URL; pointed at ours, the same code
calls this service: only `discoveryServiceUrl` changes.
"""

from __future__ import annotations

from typing import Any


def _method(name: str, request: str, response: str) -> dict[str, Any]:
    path = f"v1alpha1/comments:{name}"
    return {
        "id": f"commentanalyzer.comments.{name}",
        "path": path,
        "flatPath": path,
        "httpMethod": "POST",
        "parameters": {},
        "parameterOrder": [],
        "request": {"$ref": request},
        "response": {"$ref": response},
    }


def discovery_document(root_url: str, attributes: list[str]) -> dict[str, Any]:
    root = root_url if root_url.endswith("/") else root_url + "/"
    schemas = (
        "AnalyzeCommentRequest",
        "AnalyzeCommentResponse",
        "BatchAnalyzeRequest",
        "BatchAnalyzeResponse",
    )
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "commentanalyzer:v1alpha1",
        "name": "commentanalyzer",
        "version": "v1alpha1",
        "title": "Perspective Comment Analyzer API, answered by commonground's open tone model",
        "description": "Attributes: " + ", ".join(attributes),
        "protocol": "rest",
        "rootUrl": root,
        "servicePath": "",
        "baseUrl": root,
        "batchPath": "batch",
        "parameters": {
            "key": {"type": "string", "location": "query", "description": "API key"},
            "alt": {"type": "string", "location": "query", "default": "json", "enum": ["json"]},
        },
        "schemas": {name: {"id": name, "type": "object"} for name in schemas},
        "resources": {
            "comments": {
                "methods": {
                    "analyze": _method("analyze", "AnalyzeCommentRequest", "AnalyzeCommentResponse"),
                    "batchAnalyze": _method("batchAnalyze", "BatchAnalyzeRequest", "BatchAnalyzeResponse"),
                }
            }
        },
    }
