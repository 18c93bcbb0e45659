"""Every setting Wattson reads, in one place: environment variables prefixed ``WATTSON_``.

docs/configuration.md documents each of them; keep the two in step.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wattson.db.engine import POOL_OVERFLOW, POOL_SIZE, POOL_TIMEOUT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WATTSON_", extra="ignore")

    database_url: str = Field(
        "sqlite+aiosqlite:///./wattson.db",
        description="SQLAlchemy URL; sqlite:/// and postgresql:// get their async drivers added.",
    )
    db_pool_size: int = Field(POOL_SIZE, ge=1, description="PostgreSQL connections each process keeps open.")
    db_pool_overflow: int = Field(POOL_OVERFLOW, ge=0, description="PostgreSQL connections a process may open beyond "
                                                        "db_pool_size under load.")
    db_pool_timeout: float = Field(POOL_TIMEOUT, gt=0, description="Seconds a unit of work waits for a free PostgreSQL "
                                                          "connection (or to connect) before a station gets "
                                                          "InternalError and an API client 503.")
    host: str = "127.0.0.1"
    port: int = Field(8180, ge=0, le=65535)
    auto_register: bool = Field(False, description="Accept unknown stations and register them on connect.")
    heartbeat_interval: int = Field(300, ge=1, description="Seconds, sent in BootNotification responses.")
    command_timeout: float = Field(30.0, gt=0, description="Seconds to wait for a station's reply.")
    default_items_per_message: int | None = Field(
        None, ge=1, description="Entries per GetVariables, SetVariables or GetReport for a 2.x station whose device "
                                "model has not said its ItemsPerMessage; unset: no limit (docs/ocpp.md).")
    default_bytes_per_message: int | None = Field(
        None, ge=1, description="Bytes per GetVariables, SetVariables or GetReport message for a 2.x station whose "
                                "device model has not said its BytesPerMessage; unset: no limit (docs/ocpp.md).")
    stale_session_available_s: float = Field(
        900.0, ge=0, description="Close an active session whose station has been connected this many seconds "
                                 "and reported its connector Available (after the session's last reading) this "
                                 "long ago, without a stop; 0: never (docs/ocpp.md).")
    stale_session_vanished_s: float = Field(
        7 * 86400.0, ge=0, description="Close an active session whose station has been offline this many "
                                       "seconds; 0: never (docs/ocpp.md).")
    node_lease_s: float = Field(
        30.0, ge=3, description="A process's lease on the database, renewed every third of it: a process that "
                                "stopped renewing is taken for gone this long after (docs/architecture.md).")
    role: Literal["all", "gateway", "api", "worker"] = Field(
        "all", description="What this process runs (``wattson serve --role``): gateway holds station connections, "
                           "api serves the operator API, OCPI and driver pages, worker runs the background jobs; all "
                           "does everything (docs/deployment.md).")
    bus_url: str | None = Field(None, description="NATS server linking several processes (nats://host:4222); unset: "
                                                  "one process is the whole system and no bus is needed.")
    bus_prefix: str = Field("wattson", pattern=r"^[A-Za-z0-9_-]{1,32}$",
                            description="First token of every NATS subject, and of the events stream's name: "
                                        "several deployments can share one NATS server.")
    stale_session_sweep_s: float = Field(60.0, gt=0, description="How often the stale session policy looks.")
    reservation_sweep_s: float = Field(30.0, gt=0, description="How often the worker stores passed reservations as "
                                                              "expired, each with its reservation.ended event.")
    cost_update_s: float = Field(60.0, ge=0, description="Seconds between two running costs told to a station "
                                                         "for one priced transaction (2.x CostUpdated, 1.6 "
                                                         "California RunningCost), sooner when its rate may "
                                                         "change; 0: none (docs/station-cost.md).")
    # Load management: the controller (docs/smart-charging.md, "Profiles and fail-safe").
    loadmgmt_interval_s: float = Field(60.0, gt=0, description="Seconds between two full re-allocations of every "
                                                               "circuit; starts, stops and draws re-allocate sooner.")
    loadmgmt_threshold_a: float = Field(1.0, ge=0, description="A new limit goes to a station only when it differs "
                                                               "from the one in force by at least this (A per phase).")
    loadmgmt_hold_s: int = Field(600, ge=0, description="Seconds a live TxProfile holds its allocated limit before "
                                                        "it falls to the fail-safe share; refreshed at half of it. "
                                                        "0: it holds until replaced.")
    boot_retry_interval: int = Field(60, ge=1, description="Seconds a Pending or Rejected station waits before booting again.")
    api_key_attempts: int = Field(20, ge=1, description="Wrong API keys one client address may send (within 10 "
                                                        "minutes of each other) before it is answered 429.")
    # The dashboard (docs/dashboard.md).
    dashboard_session_hours: float = Field(12.0, gt=0, description="How long a dashboard login lasts.")
    dashboard_login_attempts: int = Field(5, ge=1, description="Wrong passwords one account or client address "
                                                               "may try (within 10 minutes) before waiting.")
    dashboard_secure_cookies: bool | None = Field(
        None, description="Mark the login cookie Secure; unset: when the request came over TLS (directly or "
                          "X-Forwarded-Proto https from a proxy).")
    migrate_on_start: bool = True
    log_level: str = "info"
    log_format: Literal["text", "json"] = Field("text", description="Log lines as text, or one JSON object a "
                                                                    "line with station_id and message_id.")
    node_id: str | None = Field(None, max_length=200, description="This process's name in the metrics' node label "
                                                                  "(default hostname-pid).")
    ws_protocol: Literal["wattson", "websockets-sansio", "websockets", "wsproto"] = Field(
        "wattson", description="uvicorn's WebSocket implementation: Wattson's (websockets-sansio without a pause "
                               "per message, with the ASGI TLS extension) or one of uvicorn's own, to compare.")
    ocpp_log_frames: int = Field(
        100, ge=0, le=10_000, description="OCPP frames kept in memory per station for its message log (both "
                                          "directions; also for the last 1,000 disconnected stations); 0: no log.")
    diagnostics_ids_per_address: int = Field(
        100, ge=1, description="Distinct station ids refused from one client address within 10 minutes that get "
                               "connection diagnostics rows of their own; beyond, one counted row for the address.")
    ocpp_max_frame_bytes: int = Field(
        2 * 1024 * 1024, ge=1024, description="Largest WebSocket message a station may send, in bytes; a larger one "
                                          "is refused unread: the connection is closed with 1009.")
    http_max_body_bytes: int = Field(
        1024 * 1024, ge=1024, description="Largest HTTP request body, in bytes; a larger one is answered 413 as "
                                          "soon as its Content-Length, or the bytes received, pass it.")
    tls_cert: Path | None = Field(None, description="PEM server certificate (chain); with tls_key, serve wss:// and "
                                                    "https:// on tls_port too.")
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert.")
    tls_cert_2: Path | None = Field(None, description="A second PEM server certificate (chain) of the other key "
                                                      "type (RSA beside ECDSA, or the reverse), presented to "
                                                      "clients that cannot use the first (docs/security.md).")
    tls_key_2: Path | None = Field(None, description="PEM private key of tls_cert_2.")
    tls_port: int = Field(8443, ge=0, le=65535, description="Port of the TLS listener (same host).")
    tls_client_ca: Path | None = Field(None, description="PEM CA bundle station client certificates must chain to "
                                                         "(security profile 3).")
    public_ocpp_url_tls: str | None = Field(
        None, pattern=r"^wss://[^/?#\s]+(/[^?#\s]*)?$", max_length=400,
        description="The wss:// URL stations reach the TLS listener at, without the identity (e.g. "
                    "wss://csms.example.com:8443/ocpp): the ocppCsmsUrl an OCPP 2.x station is given when its "
                    "security profile is raised (docs/security.md).")
    provisioning_file: Path | None = Field(
        None, description="JSON list of commands ({\"command\": name, \"params\": {...}}) run on a Pending "
                          "station's boot; once all are Accepted the station is accepted (docs/ocpp.md).")
    ca_cert: Path | None = Field(None, description="PEM certificate of the CA that signs station certificates.")
    ca_key: Path | None = Field(None, description="PEM private key of ca_cert.")
    # Station certificates: SignCertificate, CertificateSigned, renewal (docs/security.md).
    cert_organization: str | None = Field(None, min_length=1, max_length=64,
                                          description="The organisation (O) a station's CSR must name; unset: "
                                                      "any, but one must be there.")
    cert_signer: str = Field("ca", min_length=1, max_length=100,
                             description="Who signs station CSRs: ca (ca_cert/ca_key), command "
                                         "(cert_signer_command) or the name of an entry point of the group "
                                         "wattson.certificate_signers.")
    cert_signer_command: str | None = Field(None, description="For cert_signer=command: the program and its "
                                                              "arguments (shell words); the CSR on its stdin, "
                                                              "the PEM chain expected on its stdout.")
    cert_signer_timeout: float = Field(30.0, gt=0, description="Seconds a signer may take before the request "
                                                               "is recorded failed (the command is killed).")
    cert_validity_days: int = Field(365, ge=1, le=3650, description="Days a certificate signed by ca_cert is "
                                                                    "valid (never beyond the CA's own expiry).")
    cert_renew_days: float = Field(30.0, ge=0, description="Signed certificates expiring within this many days "
                                                           "are renewed by the worker (once each); 0: never.")
    cert_sweep_s: float = Field(3600.0, gt=0, description="How often the worker looks for certificates to renew.")
    # --- OCPI (docs/ocpi.md) ---
    # public_url (below) is also the base of the OCPI URLs we advertise; unset: the address a request came to.
    ocpi_country_code: str = Field("NL", pattern=r"^[A-Za-z]{2}$", description="Our OCPI country_code (ISO 3166 alpha-2).")
    ocpi_party_id: str = Field("WAT", pattern=r"^[A-Za-z0-9]{3}$", description="Our OCPI party_id.")
    ocpi_business_name: str = Field("Wattson", max_length=100, description="business_details.name in our credentials.")
    ocpi_page_limit: int = Field(100, ge=1, le=1000, description="Most objects one OCPI list page holds (X-Limit).")
    ocpi_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a partner's answer to our requests.")
    ocpi_authorize_timeout: float = Field(5.0, gt=0, description="Seconds to wait for an eMSP's real-time authorisation.")
    ocpi_retry_max: float = Field(600.0, gt=0, description="Longest wait between two attempts of a failed push.")
    ocpi_session_update_interval: float = Field(60.0, gt=0, description="Seconds between pushes of a running roaming "
                                                                        "session (kWh, cost).")
    ocpi_currency: str = Field("EUR", pattern=r"^[A-Z]{3}$", description="Currency of sessions no tariff applies to.")

    # Direct (ad hoc) payment: docs/payments.md.
    payment_provider: Literal["sandbox", "stripe"] = Field(
        "sandbox", description="Who holds and captures the driver's card payment: the built-in sandbox (test cards "
                               "only) or Stripe (PaymentIntents with manual capture).")
    payment_start_timeout: float = Field(90.0, gt=0, description="Seconds a paid charger has to start the session "
                                                                 "before the whole hold is released.")
    payment_poll_interval: float = Field(2.0, gt=0, description="Seconds between the payment worker's rounds "
                                                                "(stop conditions, starts, settlement, reconciliation).")
    payment_stop_margin: float = Field(5.0, ge=0, lt=100, description="Percent of the hold kept back: the session "
                                                                       "is stopped when its cost reaches the rest.")
    payment_default_power_kw: float = Field(11.0, gt=0, description="Power assumed for a product's price when the "
                                                                    "EVSE's maximum power is unknown.")
    payment_webhook_secret: str | None = Field(None, description="The sandbox provider's webhook signing secret "
                                                                 "(default whsec_sandbox).")
    public_url: str | None = Field(None, description="The address drivers reach Wattson at, e.g. "
                                                     "https://charge.example.com: what QR codes encode (default "
                                                     "http://HOST:PORT).")
    driver_rate_limit: int = Field(120, ge=1, description="Requests per minute one client may make to the public "
                                                          "driver API and page.")
    stripe_secret_key: str | None = Field(None, description="Stripe secret key (sk_...), for payment_provider=stripe.")
    stripe_publishable_key: str | None = Field(None, description="Stripe publishable key (pk_...), for the page.")
    stripe_webhook_secret: str | None = Field(None, description="Stripe webhook signing secret (whsec_...).")
    stripe_api_base: str | None = Field(None, description="Another address for Stripe's API (a test stand-in).")

    # The seller on every receipt (docs/payments.md#receipts).
    seller_name: str | None = Field(None, max_length=200, description="Who issues the receipts: the company's name.")
    seller_address: str | None = Field(None, max_length=300, description="The seller's address, one line.")
    seller_vat_id: str | None = Field(None, max_length=32, description="The seller's VAT id (e.g. CZ12345678).")

    # Outgoing webhooks (docs/webhooks.md).
    webhook_allow_private: bool = Field(False, description="Let webhooks go to loopback, private, link-local and "
                                                           "other non-public addresses (tests, private networks).")
    webhook_allow_http: bool = Field(False, description="Let webhooks use plain http:// to any allowed address "
                                                        "(development only; loopback and private targets allowed "
                                                        "by webhook_allow_private may use http anyway).")
    webhook_timeout_s: float = Field(10.0, gt=0, le=300, description="Seconds a receiver has to connect and answer.")
    webhook_concurrency: int = Field(4, ge=1, le=64, description="Deliveries in flight per subscription at most.")
    webhook_retry_base_s: float = Field(10.0, gt=0, description="Seconds before the first retry; doubled per failure.")
    webhook_retry_max_s: float = Field(3600.0, gt=0, description="Longest wait between two attempts.")
    webhook_retry_horizon_s: float = Field(86400.0, gt=0, description="Seconds after its creation a delivery is "
                                                                      "retried; then it is marked failed.")
    webhook_pause_after: int = Field(20, ge=0, description="Failed attempts in a row that pause a subscription "
                                                           "(0: never paused).")
    webhook_secret_grace_s: float = Field(86400.0, ge=0, description="Seconds a rotated-out secret still signs "
                                                                     "deliveries, beside the new one.")
    webhook_retention_days: float = Field(7.0, gt=0, description="Days events are kept once no delivery waits "
                                                                 "for them.")
    webhook_poll_s: float = Field(1.0, gt=0, le=60, description="Seconds between the delivery worker's looks for "
                                                                "new events and due retries.")

    # The event stream, GET /api/v1/events/stream (docs/webhooks.md#event-stream).
    event_stream_poll_s: float = Field(1.0, gt=0, le=60, description="Seconds between an API process's looks for "
                                                                     "new events, shared by all its listeners.")
    event_stream_keepalive_s: float = Field(15.0, gt=0, le=300, description="Seconds of quiet after which a "
                                                                            "stream sends a keep-alive comment.")

    # Webhook producers (docs/webhooks.md): session.updated's pace.
    webhook_session_update_s: float = Field(60.0, ge=0, description="Seconds between two session.updated events "
                                                                    "of one session at least (0: every reading).")

    # OCSP and ISO 15118 contract certificates for stations (docs/security.md#ocsp-and-iso-15118-contract-certificates).
    ocsp_timeout_s: float = Field(5.0, gt=0, le=60, description="Seconds an OCSP responder has to answer a "
                                                                "station's GetCertificateStatus, all told.")
    ocsp_cache_s: float = Field(3600.0, ge=0, description="Longest time an OCSP answer is served again (it is "
                                                          "never kept past its nextUpdate); 0: never cached.")
    ocsp_allow_private: bool = Field(False, description="Let stations' OCSP requests go to loopback, private and "
                                                        "link-local addresses (a responder in the own network).")
    contract_cert_provider: str | None = Field(
        None, description="Who answers Get15118EVCertificate: http (a PKI gateway at contract_cert_url), pool "
                          "(prepared answers in contract_cert_pool, tests and demos) or the name of an entry point "
                          "in wattson.contract_certificates; unset: Failed NoCertService.")
    contract_cert_url: str | None = Field(None, description="The PKI gateway the http provider POSTs requests to.")
    contract_cert_token: str | None = Field(None, description="Bearer token the http provider sends, if any.")
    contract_cert_pool: Path | None = Field(None, description="Directory of prepared EXI responses (pool provider).")
    contract_cert_timeout_s: float = Field(10.0, gt=0, le=60, description="Seconds the provider has to answer.")
    contract_roots: Path | None = Field(None, description="PEM file of the V2G and mobility operator root "
                                                          "certificates a contract certificate sent in Authorize "
                                                          "must chain to; unset: such a certificate is CertChainError.")

    # The command line (docs/cli.md).
    api_key: str | None = Field(None, description="The operator API key `wattson commands` sends to a running "
                                                  "server (--api-key overrides); the server itself ignores it.")

    @field_validator("tls_cert", "tls_key", "tls_cert_2", "tls_key_2", "tls_client_ca", "ca_cert", "ca_key",
                     "contract_cert_pool", "contract_roots", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        return None if value == "" else value

    @field_validator("public_ocpp_url_tls", "provisioning_file", mode="before")
    @classmethod
    def _empty_is_not_configured(cls, value):
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        return async_database_url(url)


def async_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, sqlite:///) and add the async driver."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def require_file(variable: str, path: Path | None) -> None:
    """Fail start-up with the variable to fix when a configured file is not there."""
    if path is not None and not path.is_file():
        raise ValueError(f"{variable}: {path} is not a readable file")


@lru_cache
def get_settings() -> Settings:
    return Settings()
