"""ISO 15118 contract certificates for EVs (OCPP 2.x Get15118EVCertificate, use cases M01 Install
and M02 Update).

An EV asking for a contract certificate sends an EXI-encoded CertificateInstallationReq (or
CertificateUpdateReq) through the station; only the PKI of the EV's mobility operator (directly,
or through a contract certificate pool such as Hubject's) can answer it. Wattson does not decode
EXI nor make contract certificates: it relays the request to a *provider* and the provider's EXI
response back to the station.

A provider is any object with::

    async def certificate(self, request: ContractRequest) -> ContractAnswer

chosen by ``WATTSON_CONTRACT_CERT_PROVIDER``:

- unset: none; every request is answered Failed, reasonCode ``NoCertService``;
- ``http``: POSTs the request as JSON to ``WATTSON_CONTRACT_CERT_URL`` (a CPO's PKI gateway)
  and relays its ``{"status", "exiResponse", ...}`` (``HttpProvider``, docs/security.md);
- ``pool``: prepared EXI responses from the directory ``WATTSON_CONTRACT_CERT_POOL`` (tests, demos);
- any other name: the entry point of that name in the group ``wattson.contract_certificates``,
  a callable that takes the settings and returns a provider::

    [project.entry-points."wattson.contract_certificates"]
    hubject = "acme_pnc:provider"          # def provider(settings): return HubjectProvider(...)

Whatever the provider does — raise, hang, answer nonsense — the station gets Failed with a
reason, within ``WATTSON_CONTRACT_CERT_TIMEOUT_S``.
"""

import asyncio
import base64
import binascii
import hashlib
import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Literal, Protocol

import httpx
from pydantic import BaseModel, Field, ValidationError

from wattson import __version__

log = logging.getLogger("wattson.pki")
ENTRY_POINT_GROUP = "wattson.contract_certificates"
ACCEPTED, FAILED = "Accepted", "Failed"
#: the largest provider answer read (2.1's exiResponse has up to 17,000 base64 characters)
MAX_ANSWER_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class ContractRequest:
    """One Get15118EVCertificate, as the station sent it (``exi_request`` still base64)."""
    charge_point_id: str
    ocpp_version: str
    iso15118_schema_version: str
    action: Literal["Install", "Update"]
    exi_request: str
    maximum_contract_certificate_chains: int | None = None  # 2.1, ISO 15118-20
    prioritized_emaids: tuple[str, ...] = ()  # 2.1, ISO 15118-20

    def exi_bytes(self) -> bytes:
        """The EXI stream the EV sent; ValueError if ``exi_request`` is not base64."""
        return base64.b64decode(self.exi_request, validate=True)


@dataclass(frozen=True, slots=True)
class ContractAnswer:
    """A provider's answer: Accepted with the base64 EXI response for the EV, or Failed with a
    ``reason`` (OCPP reasonCode, at most 20 characters) and ``info``."""
    status: Literal["Accepted", "Failed"]
    exi_response: str = ""
    reason: str | None = None
    info: str | None = None
    remaining_contracts: int | None = None  # 2.1

    @classmethod
    def failed(cls, reason: str, info: str) -> "ContractAnswer":
        return cls(FAILED, "", reason, info)


class ContractProvider(Protocol):
    async def certificate(self, request: ContractRequest) -> ContractAnswer: ...


class ProviderNotConfigured(ValueError):
    """The configured provider cannot be built; the message names the setting to fix."""


# --- built-in providers ----------------------------------------------------------------------------
class PoolProvider:
    """Prepared answers in a directory: ``<sha256>.exi`` answers the EXI request whose bytes have
    that SHA-256 (lowercase hex), ``default.exi`` any other; each file holds the EXI response's
    bytes. With neither, Failed. For tests and demos: a real deployment's answers come from the
    EV's mobility operator."""

    def __init__(self, directory: Path):
        self.directory = directory

    async def certificate(self, request: ContractRequest) -> ContractAnswer:
        digest = hashlib.sha256(request.exi_bytes()).hexdigest()
        exi = await asyncio.to_thread(self._read, digest)
        if exi is None:
            return ContractAnswer.failed("NoCertificate", f"no prepared response for the request {digest[:16]}… "
                                                          "and no default.exi")
        return ContractAnswer(ACCEPTED, base64.b64encode(exi).decode())

    def _read(self, digest: str) -> bytes | None:
        for name in (f"{digest}.exi", "default.exi"):
            try:
                return (self.directory / name).read_bytes()
            except FileNotFoundError:
                continue
        return None


class _StatusInfo(BaseModel):
    reasonCode: str = Field(min_length=1)
    additionalInfo: str | None = None


class _GatewayAnswer(BaseModel):
    """What an ``http`` provider's gateway answers (the OCPP response's own fields)."""
    status: Literal["Accepted", "Failed"]
    exiResponse: str = ""
    statusInfo: _StatusInfo | None = None
    remainingContracts: int | None = Field(None, ge=0)


class HttpProvider:
    """Forwards each request to a PKI gateway: POST ``url`` with the JSON
    ``{"chargingStationId", "ocppVersion", "iso15118SchemaVersion", "action", "exiRequest"[,
    "maximumContractCertificateChains", "prioritizedEMAIDs"]}`` (with ``Authorization: Bearer
    <token>`` when one is set); a 200 answer ``{"status": "Accepted"|"Failed", "exiResponse",
    "statusInfo"?, "remainingContracts"?}`` is relayed, anything else is Failed."""

    def __init__(self, url: str, token: str | None, timeout_s: float):
        self.url, self.token = url, token
        headers = {"User-Agent": f"Wattson/{__version__}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), headers=headers, trust_env=False,
                                        follow_redirects=False)

    async def certificate(self, request: ContractRequest) -> ContractAnswer:
        body = {"chargingStationId": request.charge_point_id, "ocppVersion": request.ocpp_version,
                "iso15118SchemaVersion": request.iso15118_schema_version, "action": request.action,
                "exiRequest": request.exi_request}
        if request.maximum_contract_certificate_chains is not None:
            body["maximumContractCertificateChains"] = request.maximum_contract_certificate_chains
        if request.prioritized_emaids:
            body["prioritizedEMAIDs"] = list(request.prioritized_emaids)
        try:
            reply = await self.client.post(self.url, json=body)
        except httpx.TimeoutException:
            return ContractAnswer.failed("Timeout", "the contract certificate service did not answer in time")
        except httpx.HTTPError as error:
            return ContractAnswer.failed("Unreachable", f"the contract certificate service cannot be reached: "
                                                        f"{type(error).__name__}")
        if reply.status_code != 200:
            return ContractAnswer.failed("HttpError", f"the contract certificate service answered HTTP "
                                                      f"{reply.status_code}")
        if len(reply.content) > MAX_ANSWER_BYTES:
            return ContractAnswer.failed("TooLarge", "the contract certificate service's answer is too large")
        try:
            answer = _GatewayAnswer.model_validate_json(reply.content)
        except ValidationError as error:
            return ContractAnswer.failed("MalformedResponse", "the contract certificate service's answer is not "
                                                              f"{{status, exiResponse}}: {error.errors()[0]['msg']}")
        info = answer.statusInfo
        return ContractAnswer(answer.status, answer.exiResponse, info.reasonCode if info else None,
                              info.additionalInfo if info else None, answer.remainingContracts)

    async def close(self) -> None:
        await self.client.aclose()


def check_provider(settings) -> None:
    """ProviderNotConfigured saying what is missing for the provider ``WATTSON_CONTRACT_CERT_PROVIDER``
    names (at start-up, before anything is served)."""
    name = settings.contract_cert_provider
    if not name:
        return
    if name == "pool":
        pool = settings.contract_cert_pool
        if pool is None or not pool.is_dir():
            raise ProviderNotConfigured(f"WATTSON_CONTRACT_CERT_POOL: {pool} is not a directory "
                                        "(WATTSON_CONTRACT_CERT_PROVIDER=pool)")
    elif name == "http":
        if not settings.contract_cert_url or not settings.contract_cert_url.startswith(("http://", "https://")):
            raise ProviderNotConfigured("WATTSON_CONTRACT_CERT_URL must be an http:// or https:// URL "
                                        "(WATTSON_CONTRACT_CERT_PROVIDER=http)")
    elif not _entry_points(name):
        raise ProviderNotConfigured(f"WATTSON_CONTRACT_CERT_PROVIDER: {name!r} is neither pool, http nor an "
                                    f"installed entry point of {ENTRY_POINT_GROUP}")


def build_provider(settings) -> ContractProvider | None:
    """The provider ``WATTSON_CONTRACT_CERT_PROVIDER`` names (None: unset), or
    ProviderNotConfigured saying what is missing."""
    check_provider(settings)
    name = settings.contract_cert_provider
    if not name:
        return None
    if name == "pool":
        return PoolProvider(settings.contract_cert_pool)
    if name == "http":
        return HttpProvider(settings.contract_cert_url, settings.contract_cert_token, settings.contract_cert_timeout_s)
    point = _entry_points(name)[0]
    provider = point.load()(settings)
    log.info("contract certificate provider %s loaded (%s)", name, point.value)
    return provider


def _entry_points(name: str) -> list:
    return [point for point in entry_points(group=ENTRY_POINT_GROUP) if point.name == name]


# --- what the OCPP adapter calls ------------------------------------------------------------------
class ContractCertificates:
    """Answers stations' contract certificate requests from the configured provider, guarding the
    station from whatever the provider does."""

    def __init__(self, provider: ContractProvider | None, timeout_s: float):
        self.provider, self.timeout_s = provider, timeout_s

    async def certificate(self, request: ContractRequest) -> ContractAnswer:
        if self.provider is None:
            return ContractAnswer.failed("NoCertService", "no ISO 15118 contract certificate service is configured")
        try:
            request.exi_bytes()
        except (ValueError, binascii.Error):
            return ContractAnswer.failed("InvalidInput", "exiRequest is not base64")
        try:
            answer = await asyncio.wait_for(self.provider.certificate(request), self.timeout_s)
        except (TimeoutError, asyncio.TimeoutError):
            log.warning("%s Get15118EVCertificate: the provider did not answer within %g s",
                        request.charge_point_id, self.timeout_s)
            return ContractAnswer.failed("Timeout", f"the contract certificate service did not answer within "
                                                    f"{self.timeout_s:g} s")
        except Exception as error:  # noqa: BLE001 - a provider's bug must reach the station as Failed
            log.warning("%s Get15118EVCertificate: the provider failed: %s: %s", request.charge_point_id,
                        type(error).__name__, error)
            return ContractAnswer.failed("ProviderError", f"the contract certificate service failed: "
                                                          f"{type(error).__name__}")
        return checked(answer)

    async def close(self) -> None:
        close = getattr(self.provider, "close", None)
        if close is not None:
            await close()


def checked(answer: object) -> ContractAnswer:
    """A provider's answer if it is one a station can be given, else Failed saying so: Accepted
    needs a base64 EXI response."""
    if not isinstance(answer, ContractAnswer) or answer.status not in (ACCEPTED, FAILED):
        return ContractAnswer.failed("ProviderError", "the contract certificate service gave no ContractAnswer")
    if answer.status == ACCEPTED:
        try:
            if not base64.b64decode(answer.exi_response, validate=True):
                raise ValueError("empty")
        except (ValueError, binascii.Error):
            return ContractAnswer.failed("ProviderError", "the contract certificate service's exiResponse is "
                                                          "not base64 EXI")
    elif not answer.reason:
        return ContractAnswer(FAILED, answer.exi_response, "Failed", answer.info, answer.remaining_contracts)
    return answer
