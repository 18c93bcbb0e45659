"""Calls to a partner's OCPI interfaces: our credentials token, unique request ids, routing
headers, and the response envelope checked."""

import logging
import uuid

import httpx

from wattson.ocpi.objects import Party
from wattson.ocpi.transport import authorization_header

log = logging.getLogger("wattson.ocpi.client")


class PartnerError(Exception):
    """The partner could not be reached, or did not answer with OCPI success. ``retry``: worth
    trying again later (network, timeout, HTTP 5xx, OCPI 3xxx)."""

    def __init__(self, message: str, retry: bool = True):
        super().__init__(message)
        self.retry = retry


class OcpiClient:
    def __init__(self, us: Party, timeout: float):
        self.us = us
        self.timeout = timeout

    async def call(self, method: str, url: str, token: str, *, body=None, encode: bool = True,
                   to: tuple[str | None, str | None] | None = None, timeout: float | None = None,
                   correlation_id: str | None = None) -> tuple[object, httpx.Response]:
        """The ``data`` of the partner's answer, and the answer itself. ``to``: the receiving
        party's (country_code, party_id) for the routing headers of a functional module."""
        request_id = str(uuid.uuid4())
        headers = {"Authorization": authorization_header(token, encode), "X-Request-ID": request_id,
                   "X-Correlation-ID": correlation_id or str(uuid.uuid4())}
        if to is not None:
            headers.update({"OCPI-from-country-code": self.us.country_code, "OCPI-from-party-id": self.us.party_id})
            if to[0] and to[1]:
                headers.update({"OCPI-to-country-code": to[0], "OCPI-to-party-id": to[1]})
        try:
            async with httpx.AsyncClient(timeout=timeout or self.timeout, follow_redirects=False) as client:
                response = await client.request(method, url, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise PartnerError(f"{method} {url}: {type(error).__name__} {error}".strip()) from None
        log.info("OCPI %s %s -> %s (X-Request-ID %s)", method, url, response.status_code, request_id)
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or not isinstance(envelope.get("status_code"), int):
            raise PartnerError(f"{method} {url}: HTTP {response.status_code} without an OCPI envelope",
                               retry=response.status_code >= 500 or response.status_code == 429)
        code = envelope["status_code"]
        if response.status_code >= 300 or not 1000 <= code < 2000:
            message = envelope.get("status_message") or ""
            raise PartnerError(f"{method} {url}: HTTP {response.status_code}, OCPI {code} {message}".strip(),
                               retry=response.status_code >= 500 or code >= 3000 or response.status_code == 429)
        return envelope.get("data"), response
