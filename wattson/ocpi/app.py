"""The OCPI interface as its own ASGI application under ``/ocpi``: every answer in the OCPI envelope
(unknown paths, wrong methods and invalid input included), request and correlation ids echoed
and logged, routing headers on the functional modules' answers."""

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from wattson import __version__
from wattson.api.openapi import offline_docs
from wattson.errors import WattsonError
from wattson.ocpi.routes import router
from wattson.ocpi.transport import CLIENT_ERROR, INVALID_PARAMETERS, SERVER_ERROR, OcpiError, respond

log = logging.getLogger("wattson.ocpi")
CONFIGURATION_MODULES = ("/versions", "/2.2.1/credentials")


def create_ocpi_app(services) -> FastAPI:
    app = FastAPI(title="Wattson OCPI 2.2.1 (CPO)", version=__version__, docs_url="/docs", redoc_url=None,
                  openapi_url="/openapi.json",
                  description="OCPI 2.2.1 for eMSPs and hubs: versions, credentials, locations, sessions, CDRs, "
                              "tariffs (sender); tokens, commands (receiver). Authorization: Token <credentials token>.")
    app.state.services = services
    offline_docs(app)  # Swagger UI from our own files, as /api/docs
    app.include_router(router)

    @app.exception_handler(OcpiError)
    async def ocpi_error(_: Request, exc: OcpiError):
        return respond(exc.data, exc.http_status, exc.status_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return respond(None, 400, INVALID_PARAMETERS, problems[:500])

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException):
        return respond(None, exc.status_code, CLIENT_ERROR, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(WattsonError)
    async def domain_error(_: Request, exc: WattsonError):
        return respond(None, exc.status if exc.status < 500 else 200, CLIENT_ERROR if exc.status < 500 else SERVER_ERROR,
                       exc.message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on OCPI %s %s", request.method, request.url.path)
        return respond(None, 500, SERVER_ERROR, "internal error")

    @app.middleware("http")
    async def ids_and_routing(request: Request, call_next):
        request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        correlation_id = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        response = await call_next(request)
        response.headers["X-Request-ID"], response.headers["X-Correlation-ID"] = request_id, correlation_id
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        if not path.startswith(CONFIGURATION_MODULES) and path != "/2.2.1":
            party = services.ocpi.party
            response.headers["OCPI-from-country-code"], response.headers["OCPI-from-party-id"] = \
                party.country_code, party.party_id
            for side in ("country-code", "party-id"):
                if request.headers.get(f"ocpi-from-{side}"):
                    response.headers[f"OCPI-to-{side}"] = request.headers[f"ocpi-from-{side}"]
        partner = getattr(request.state, "partner", None)
        log.info("OCPI %s %s -> %s partner=%s X-Request-ID=%s X-Correlation-ID=%s", request.method, request.url.path,
                 response.status_code, partner.id if partner else "-", request_id, correlation_id)
        return response

    return app
