"""The OpenAPI document, completed with the error answers every endpoint can give.

FastAPI documents only success and its own 422 shape; Wattson answers errors with one body
(`{"error": {...}}`) and clients (and the schemathesis run in the tests) rely on the spec saying so.
"""

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

#: Swagger UI's files as the fastapi-offline package ships them: the docs work without the internet.
SWAGGER_FILES = files("fastapi_offline") / "static"

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
    offline_docs(app)


def offline_docs(app: FastAPI) -> None:
    """Serve ``app.docs_url`` from Swagger UI files of our own instead of FastAPI's page, which loads
    them from a CDN: an operator's first look at the API must not depend on a third party being
    reachable (or allowed by the Content-Security-Policy). The files are under ``{docs_url}/static``."""
    docs_url, openapi_url = app.docs_url, app.openapi_url
    if docs_url is None or openapi_url is None:
        return
    app.router.routes[:] = [r for r in app.router.routes if not (isinstance(r, Route) and r.path == docs_url)]
    static = f"{docs_url}/static"
    app.mount(static, StaticFiles(directory=str(SWAGGER_FILES)), name=f"swagger-ui{docs_url.replace('/', '-')}")

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(openapi_url=root + openapi_url, title=f"{app.title} - API docs",
                                   swagger_js_url=f"{root}{static}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}{static}/swagger-ui.css",
                                   swagger_favicon_url=f"{root}{static}/favicon.png",
                                   swagger_ui_parameters=app.swagger_ui_parameters)

    app.add_api_route(docs_url, docs, methods=["GET"], include_in_schema=False)
