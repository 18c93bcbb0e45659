"""The ASGI application: OCPP WebSockets under /ocpp/, the HTTP API everywhere else."""

import gc
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from wattson import __version__
from wattson.access.directory_routes import router as directory_router
from wattson.access.routes import router as access_router
from wattson.api import errors, openapi
from wattson.dashboard import routes as dashboard_routes
from wattson.api.body_limit import BodyLimit
from wattson.api.headers import SecurityHeaders
from wattson.observability import metrics as prometheus
from wattson.observability.health import Readiness, ReadyAnswer, database_check
from wattson.ocpp.gateway import PREFIX as OCPP_PREFIX
from wattson.diagnostics.routes import router as diagnostics_router
from wattson.downtime.routes import router as downtime_router
from wattson.loadmgmt.limit_routes import router as charging_profiles_router
from wattson.loadmgmt.needs_routes import router as charging_needs_router
from wattson.loadmgmt.routes import router as circuits_router
from wattson.locations.routes import router as locations_router
from wattson.payments.driver_routes import router as driver_router, webhooks as payment_webhooks
from wattson.payments.routes import router as payments_router
from wattson.pki.routes import router as certificates_router
from wattson.ocpi.api_routes import router as ocpi_operator_router
from wattson.ocpi.app import create_ocpi_app
from wattson.runtime import Runtime
from wattson.security_events.routes import router as security_events_router
from wattson.catalogue.routes import router as catalogue_router
from wattson.sessions.cdr_routes import router as cdrs_router
from wattson.sessions.routes import router as sessions_router
from wattson.settings import Settings, get_settings
from wattson.stations.command_routes import router as commands_router
from wattson.stations.device_model_routes import router as device_model_router
from wattson.stations.reservation_routes import router as reservations_router
from wattson.stations.provisioning_routes import router as provisioning_router
from wattson.stations.routes import router as stations_router
from wattson.stations.security_upgrade_routes import router as security_upgrade_router
from wattson.stations.password_routes import router as password_router
from wattson.tariffs.group_routes import router as tariff_groups_router
from wattson.tariffs.routes import router as tariffs_router
from wattson.web.page import router as driver_page_router, static as driver_static
from wattson.webhooks import routes as webhook_routes
from wattson.webhooks.stream_routes import router as event_stream_router
from wattson.zones.routes import router as zones_router
from wattson.electricity.routes import router as electricity_rates_router
from wattson.statistics.routes import router as statistics_router


def create_app(settings: Settings | None = None):
    runtime = Runtime(settings or get_settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await runtime.start()
        gc.freeze()  # what start-up built lives as long as the process: spare the collector its walk
        try:
            yield
        finally:
            await runtime.stop()

    api = FastAPI(title="Wattson", version=__version__, lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None,
                  description="Charge point management: stations, sessions, tariffs and CDRs, id tokens and commands.")
    api.state.services = runtime.services
    api.state.runtime = runtime
    errors.install(api)
    api.add_middleware(SecurityHeaders)
    openapi.install(api)
    api.add_middleware(BodyLimit, max_bytes=runtime.settings.http_max_body_bytes)  # OCPI and webhooks too
    for router in (stations_router, device_model_router, commands_router, reservations_router, locations_router,
                   sessions_router, cdrs_router, tariffs_router, access_router, directory_router, ocpi_operator_router):
        api.include_router(router)
    for router in (payments_router, driver_router, payment_webhooks, driver_page_router):  # payments/, web/
        api.include_router(router)
    api.mount("/driver/static", driver_static, name="driver-static")
    api.include_router(webhook_routes.router)  # outgoing webhooks and their OpenAPI definitions (webhooks/)
    webhook_routes.install_definitions(api)
    api.include_router(diagnostics_router)  # connection diagnostics and the OCPP message log (diagnostics/)
    api.include_router(security_events_router)  # GET /api/v1/security-events (security_events/)
    api.include_router(catalogue_router)  # vendors, charge point models, vendor error codes (catalogue/)
    api.include_router(downtime_router)  # downtime periods, notices, availability (downtime/)
    api.include_router(circuits_router)  # circuits and their live load (loadmgmt/)
    api.include_router(charging_profiles_router)  # a session's charging profile history (loadmgmt/limits.py)
    api.include_router(charging_needs_router)  # a session's ISO 15118 charging needs (loadmgmt/charging_needs.py)
    api.include_router(certificates_router)  # station certificates: signing requests, renewal (pki/)
    api.include_router(security_upgrade_router)  # raising a station's security profile (stations/security_upgrade.py)
    api.include_router(password_router)  # a new Basic password over OCPP (stations/password_update.py)
    api.include_router(provisioning_router)  # accepting a Pending station (stations/provisioning.py)
    api.include_router(event_stream_router)  # GET /api/v1/events/stream (webhooks/stream_routes.py)
    api.include_router(zones_router)  # charging zones and parking spaces within locations (zones/)
    api.include_router(tariff_groups_router)  # tariff groups and tariff snapshots (tariffs/group_routes.py)
    api.include_router(electricity_rates_router)  # what energy costs the operator (electricity/)
    api.include_router(statistics_router)  # GET /api/v1/statistics/consumption (statistics/)
    api.include_router(dashboard_routes.router)  # the operator dashboard at / (dashboard/)
    dashboard_routes.install(api)
    api.mount("/ocpi", create_ocpi_app(runtime.services))  # its own envelope, errors and docs (docs/ocpi.md)

    @api.get("/health", tags=["system"])
    async def health():
        """Liveness: no key needed."""
        answer = {"status": "ok", "version": __version__, "role": runtime.role,
                  "connected_stations": len(runtime.gateway.connections)}
        if runtime.role in ("all", "worker"):  # one worker in the cluster runs the background jobs
            answer["worker"] = "active" if runtime.worker_lock.held else "standby"
        return answer

    readiness = Readiness({"database": database_check(runtime.services.db.engine)})
    if runtime.bus is not None:
        readiness.add("bus", runtime.bus.check)

    @api.get("/health/ready", tags=["system"], response_model=ReadyAnswer,
             responses={503: {"description": "Not ready: a check failed.", "model": ReadyAnswer}})
    async def ready():
        """Readiness: 200 when the database (and the bus, when configured) answer, else 503
        (docs/operations.md); no key needed."""
        ok, checks = await readiness.run()
        return JSONResponse({"status": "ready" if ok else "unavailable", "checks": checks},
                            status_code=200 if ok else 503)

    @api.get("/metrics", include_in_schema=False)
    async def metrics():
        """Prometheus text format; no key needed, like /health: expose it to the monitoring network only."""
        return Response(runtime.metrics.render(), media_type=prometheus.CONTENT_TYPE)

    return WattsonApp(api, runtime)


#: What every role serves over HTTP: the answers a balancer and the monitoring ask for.
SYSTEM_PATHS = ("/health", "/health/ready", "/metrics")


class WattsonApp:
    """Sends OCPP WebSockets straight to the gateway, skipping the web framework per frame; a
    process whose role has no gateway (or no API) refuses those requests with a JSON 404."""

    def __init__(self, api: FastAPI, runtime: Runtime):
        self.api = api
        self.runtime = runtime

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and scope["path"].startswith(OCPP_PREFIX):
            if self.runtime.serves_stations:
                await self.runtime.gateway(scope, receive, send)
            else:
                await self.runtime.gateway.refuse_websocket(scope, receive, send, 404, "not_served",
                                                            self._elsewhere("station connections"))
        elif self.runtime.serves_api or scope["type"] == "lifespan" or scope.get("path") in SYSTEM_PATHS:
            await self.api(scope, receive, send)
        elif scope["type"] == "http":
            await JSONResponse({"error": {"code": "not_served", "message": self._elsewhere("the operator API")}},
                               status_code=404)(scope, receive, send)
        else:
            await self.runtime.gateway.refuse_websocket(scope, receive, send, 404, "not_served",
                                                        self._elsewhere("this address"))

    def _elsewhere(self, what: str) -> str:
        return f"this Wattson process runs role {self.runtime.role}: {what} is served by other processes"
