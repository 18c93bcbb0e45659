"""Who signs a station's CSR (WATTSON_CERT_SIGNER): Wattson's own CA, a program the operator
names, or the operator's own Python code installed under the entry-point group
``wattson.certificate_signers``. Each is a ``Signer``: ``await sign(request)`` gives the PEM chain,
leaf first, or raises ``SigningFailed`` saying why (docs/security.md).
"""

import asyncio
import os
import shlex
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol

from wattson.errors import Invalid
from wattson.pki.authority import CertificateAuthority
from wattson.pki.csr import V2G
from wattson.settings import Settings

ENTRY_POINTS = "wattson.certificate_signers"
STDERR_SHOWN = 500  # characters of a failed command's error output kept in the record


@dataclass(frozen=True, slots=True)
class SigningRequest:
    """A CSR that passed the rules (``csr.review``), to be signed for one station."""

    charge_point_id: str
    certificate_type: str  # ChargingStationCertificate | V2GCertificate
    csr: str  # PEM


class SigningFailed(Exception):
    """The signer did not sign; the message is recorded and shown to operators."""


class Signer(Protocol):
    name: str

    async def sign(self, request: SigningRequest) -> str:
        """The PEM chain for ``request``, leaf first; SigningFailed when it cannot be had."""
        ...


class AuthoritySigner:
    """Wattson's own CA (WATTSON_CA_CERT, WATTSON_CA_KEY), for ``days`` at most."""

    name = "ca"

    def __init__(self, authority: CertificateAuthority, days: int):
        self.authority, self.days = authority, days

    async def sign(self, request: SigningRequest) -> str:
        try:
            return await asyncio.to_thread(self.authority.sign, request.csr, request.charge_point_id, self.days,
                                           v2g=request.certificate_type == V2G)
        except Invalid as error:
            raise SigningFailed(str(error)) from None


class CommandSigner:
    """A program run once per request: the CSR on its standard input, the chain expected on its
    standard output and exit status 0, within ``timeout`` seconds (then it is killed). It also
    gets WATTSON_CHARGE_POINT_ID and WATTSON_CERTIFICATE_TYPE in its environment."""

    name = "command"

    def __init__(self, argv: list[str], timeout: float):
        self.argv, self.timeout = argv, timeout

    async def sign(self, request: SigningRequest) -> str:
        env = {**os.environ, "WATTSON_CHARGE_POINT_ID": request.charge_point_id,
               "WATTSON_CERTIFICATE_TYPE": request.certificate_type}
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=env)
        except OSError as error:
            raise SigningFailed(f"the signing command {self.argv[0]!r} cannot be run: {error.strerror or error}") \
                from None
        try:
            out, err = await asyncio.wait_for(process.communicate(request.csr.encode()), self.timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise SigningFailed(f"the signing command did not finish within {self.timeout:g} s") from None
        except asyncio.CancelledError:  # shutting down: the program must not outlive the request
            process.kill()
            raise
        if process.returncode != 0:
            said = err.decode(errors="replace").strip()[-STDERR_SHOWN:]
            raise SigningFailed(f"the signing command exited with status {process.returncode}"
                                + (f": {said}" if said else ""))
        return out.decode(errors="replace")


def build_signer(settings: Settings) -> Signer | None:
    """The signer WATTSON_CERT_SIGNER names; None when it is the CA and no CA is configured (the
    stations' requests are then refused). ValueError naming the setting when it is unusable."""
    name = settings.cert_signer
    if name == "ca":
        authority = CertificateAuthority.from_settings(settings)
        return None if authority is None else AuthoritySigner(authority, settings.cert_validity_days)
    if name == "command":
        argv = shlex.split(settings.cert_signer_command or "")
        if not argv:
            raise ValueError("WATTSON_CERT_SIGNER=command needs WATTSON_CERT_SIGNER_COMMAND (the program to run)")
        return CommandSigner(argv, settings.cert_signer_timeout)
    found = entry_points(group=ENTRY_POINTS, name=name)
    if not found:
        installed = sorted(e.name for e in entry_points(group=ENTRY_POINTS))
        raise ValueError(f"WATTSON_CERT_SIGNER: no signer {name!r}; use ca, command or an entry point of the "
                         f"group {ENTRY_POINTS} ({', '.join(installed) or 'none is installed'})")
    factory = next(iter(found))
    try:
        signer = factory.load()(settings)
    except Exception as error:  # noqa: BLE001 - the operator's code: any failure is a start-up error
        raise ValueError(f"WATTSON_CERT_SIGNER: the signer {name!r} ({factory.value}) failed to load: "
                         f"{type(error).__name__}: {error}") from None
    if not callable(getattr(signer, "sign", None)):
        raise ValueError(f"WATTSON_CERT_SIGNER: {factory.value} did not give a signer (an object with "
                         f"async sign(request))")
    return signer
