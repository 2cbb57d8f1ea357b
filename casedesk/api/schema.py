"""The OpenAPI schema's shared parts: every operation's error answers (problem+json), and
the 308 a merged case's address answers."""

from __future__ import annotations

from typing import Any

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
ERRORS = {
    "400": "Invalid input: `errors` lists each problem with its field. Nothing was changed.",
    "401": "No token, or a token that is unknown, revoked or expired.",
    "403": "The token's user may not do this.",
    "404": "No such thing, or one this token may not see (the same answer for both).",
    "405": "This method is not allowed here.",
    "409": "Refused in the case's current state (the detail says why); nothing was changed.",
    "413": "The request is too large.",
    "415": "Send JSON or multipart/form-data.",
    "422": "This Idempotency-Key was used with another request.",
    "429": "Over the rate limit; Retry-After says when to try again.",
}
MOVED = {
    "description": "The case was merged into another: the same request belongs at Location.",
    "headers": {"Location": {"schema": {"type": "string"}}},
    "content": {"application/json": {"schema": {
        "type": "object", "properties": {"detail": {"type": "string"},
                                         "merged_into": {"type": "integer"}},
    }}},
}


def add_problem_responses(result: dict[str, Any], generator: Any, request: Any,
                          public: bool) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(code, {"description": description, "content": problem})
            if "{case_id}" in path:
                responses.setdefault("308", MOVED)
    return result
