"""The OpenAPI document, completed with the error answers every endpoint can give.

FastAPI documents only success and its own 422 shape; Wattson answers errors with one body
(`{"error": {...}}`) and clients (and the schemathesis run in the tests) rely on the spec saying so.
"""

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_BODY = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "examples": ["not_found"]},
            "message": {"type": "string", "examples": ["charge point 'CP-9' not found"]},
            "details": {"description": "Field errors for 422; the command record for 502/504; else null."},
        },
    }},
}
ERRORS = {
    "400": "A body that cannot be read (not UTF-8, not JSON of any shape).",
    "401": "Missing, unknown or revoked API key.",
    "403": "The key's role does not allow this.",
    "404": "Unknown id.",
    "409": "Conflict with the current state (duplicate, in use, station offline).",
    "422": "Invalid input; `details` names each field.",
    "429": "Too many wrong API keys from this client address: refused unchecked; retry after `Retry-After` seconds.",
}
#: Headers some of the error answers carry.
ERROR_HEADERS = {"429": {"Retry-After": {"description": "Seconds until this address may try again.",
                                         "schema": {"type": "integer", "minimum": 1}}}}


def install(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_BODY
            for path, operations in spec.get("paths", {}).items():
                if not path.startswith("/api/v1/"):
                    continue
                for operation in operations.values():
                    responses = operation.setdefault("responses", {})
                    for status, description in ERRORS.items():
                        responses[status] = {"description": description, "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                        if status in ERROR_HEADERS:
                            responses[status]["headers"] = ERROR_HEADERS[status]
                    for status in ("502", "504"):
                        if status in responses:
                            responses[status]["content"] = {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            for name in ("HTTPValidationError", "ValidationError"):
                spec["components"]["schemas"].pop(name, None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi
