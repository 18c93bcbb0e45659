"""Every setting Wattson reads, in one place: environment variables prefixed ``WATTSON_``.

docs/configuration.md documents each of them; keep the two in step.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WATTSON_", extra="ignore")

    database_url: str = Field(
        "sqlite+aiosqlite:///./wattson.db",
        description="SQLAlchemy URL; sqlite:/// and postgresql:// get their async drivers added.",
    )
    host: str = "127.0.0.1"
    port: int = Field(8180, ge=0, le=65535)
    auto_register: bool = Field(False, description="Accept unknown stations and register them on connect.")
    heartbeat_interval: int = Field(300, ge=1, description="Seconds, sent in BootNotification responses.")
    command_timeout: float = Field(30.0, gt=0, description="Seconds to wait for a station's reply.")
    boot_retry_interval: int = Field(60, ge=1, description="Seconds a Pending or Rejected station waits before booting again.")
    migrate_on_start: bool = True
    log_level: str = "info"
    ws_protocol: Literal["wattson", "websockets-sansio", "websockets", "wsproto"] = Field(
        "wattson", description="uvicorn's WebSocket implementation: Wattson's (websockets-sansio without a pause "
                               "per message, with the ASGI TLS extension) or one of uvicorn's own, to compare.")
    tls_cert: Path | None = Field(None, description="PEM server certificate (chain); with tls_key, serve wss:// and "
                                                    "https:// on tls_port too.")
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert.")
    tls_port: int = Field(8443, ge=0, le=65535, description="Port of the TLS listener (same host).")
    tls_client_ca: Path | None = Field(None, description="PEM CA bundle station client certificates must chain to "
                                                         "(security profile 3).")
    ca_cert: Path | None = Field(None, description="PEM certificate of the CA that signs station certificates.")
    ca_key: Path | None = Field(None, description="PEM private key of ca_cert.")

    @field_validator("tls_cert", "tls_key", "tls_client_ca", "ca_cert", "ca_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
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
