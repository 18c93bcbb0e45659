"""One error body everywhere: ``{"error": {"code", "message", "details"}}``."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from wattson.db.errors import RETRY_AFTER, UNAVAILABLE, unavailable
from wattson.errors import WattsonError

log = logging.getLogger("wattson.api")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          409: "conflict", 422: "validation_error", 429: "rate_limited", 502: "station_error",
          503: "unavailable", 504: "station_timeout"}


def error_response(status: int, message: str, code: str | None = None, details: object = None,
                   headers: dict | None = None) -> JSONResponse:
    body = {"error": {"code": code or _CODES.get(status, "error"), "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(WattsonError)
    async def domain_error(_: Request, exc: WattsonError):
        return error_response(exc.status, exc.message, exc.code, exc.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError):
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return error_response(422, "request validation failed", details=details)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException):
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    async def database_error(request: Request, exc: Exception):
        if not unavailable(exc):
            return await unexpected(request, exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return error_response(503, "the database is unavailable; try again shortly", "database_unavailable",
                              headers={"Retry-After": str(RETRY_AFTER)})

    # Handlers of these classes answer within the app; Starlette re-raises what the catch-all
    # Exception handler answered, and the server would log a traceback per request.
    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, database_error)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error", "internal_error")
