"""Station certificates as domain operations: a station's signing request checked, recorded and
answered at once; the signing and the CertificateSigned that carries the chain done afterwards,
each step recorded (and a station event); renewal asked for by operators or by the expiry sweep."""

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import aliased

from wattson.background import Loop
from wattson.db import Database, utcnow
from wattson.db.errors import log_failure
from wattson.db.lookup import get_or_404
from wattson.db.paging import newest_first
from wattson.errors import BusUnavailable, StationOffline, WattsonError
from wattson.pki import csr as rules
from wattson.pki.models import StationCertificate
from wattson.pki.signers import Signer, SigningFailed, SigningRequest
from wattson.security_events import rules as security_rules
from wattson.security_events.service import record_security_event
from wattson.settings import Settings
from wattson.stations import commands as c
from wattson.stations.command_service import CommandService
from wattson.stations.models import ChargePoint, Command
from wattson.stations.service import StationService

log = logging.getLogger("wattson.pki")

REQUESTED, REJECTED, SIGNED, SENT = "requested", "rejected", "signed", "sent"
ACCEPTED_BY_STATION, REFUSED_BY_STATION, FAILED = "accepted_by_station", "refused_by_station", "failed"
#: a certificate the station has (or was sent and did not refuse): what renewal looks after
IN_USE = (SENT, ACCEPTED_BY_STATION)
#: the TriggerMessage that has a station send a new SignCertificate, by certificate type
TRIGGERS = {None: "SignChargingStationCertificate", rules.CHARGING_STATION: "SignChargingStationCertificate",
            rules.V2G: "SignV2GCertificate", "Combined": "SignCombinedCertificate"}
#: signings under way at once: a station sending request after request (or many stations after
#: a CA change) queues them rather than starting a signing program for each at once
SIGNING_AT_ONCE = 4
#: beyond WATTSON_CERT_SIGNER_TIMEOUT: a command signer's own timeout (it kills the program) comes first
TIMEOUT_GRACE_S = 2.0
NO_SIGNER = rules.Refusal(rules.NO_SIGNER, "no certificate signer is configured (WATTSON_CA_CERT and "
                                           "WATTSON_CA_KEY, or WATTSON_CERT_SIGNER)")


class CertificateService:
    def __init__(self, db: Database, stations: StationService, commands: CommandService, signer: Signer | None,
                 settings: Settings):
        self.db, self.stations, self.commands, self.signer = db, stations, commands, signer
        self.organization = settings.cert_organization
        self.signer_timeout = settings.cert_signer_timeout
        self.renew_within = timedelta(days=settings.cert_renew_days)
        self.sweep_every_s = settings.cert_sweep_s
        self._sweep = Loop("certificate-renewal")
        self._signing: set[asyncio.Task] = set()
        self._signers = asyncio.Semaphore(SIGNING_AT_ONCE)
        # A station may answer CertificateSigned before its command id is stored with the record:
        # storing it and reading the answer take turns.
        self._sending = asyncio.Lock()
        commands.after("certificate-signed", self.delivered)

    # --- a station's SignCertificate -------------------------------------------------------------
    async def request(self, charge_point_id: str, csr_pem: str, certificate_type: str | None = None
                      ) -> rules.Refusal | None:
        """Record a station's signing request; None when it is accepted (the chain follows in a
        CertificateSigned, sent once signed, after this answer), else why it is refused."""
        review = rules.review(csr_pem, charge_point_id, certificate_type or rules.CHARGING_STATION,
                              self.organization)
        refusal = review.refusal or (NO_SIGNER if self.signer is None else None)
        row = StationCertificate(charge_point_id=charge_point_id, certificate_type=certificate_type,
                                 subject=None if review.subject is None else review.subject[:500],
                                 csr=None if refusal else csr_pem, state=REJECTED if refusal else REQUESTED,
                                 reason=None if refusal is None else refusal.reason, created_at=utcnow())
        async with self.db.session() as s:
            s.add(row)
        await self._event(row)
        if refusal is None:
            task = asyncio.create_task(self._sign_and_send(row), name=f"sign-certificate-{row.id}")
            self._signing.add(task)
            task.add_done_callback(self._signing.discard)
        return refusal

    async def _sign_and_send(self, row: StationCertificate) -> None:
        try:
            if await self._sign(row):
                await self._send(row)
        except Exception as error:  # noqa: BLE001 - a background task: nothing above it to tell
            log_failure(log, f"{row.charge_point_id} certificate request {row.id}", error)

    async def _sign(self, row: StationCertificate) -> bool:
        """Have the signer sign; the record signed with its certificate's facts, or failed."""
        request = SigningRequest(row.charge_point_id, row.certificate_type or rules.CHARGING_STATION, row.csr)
        try:
            async with self._signers:
                chain = await asyncio.wait_for(self.signer.sign(request), self.signer_timeout + TIMEOUT_GRACE_S)
            issued = rules.read_chain(chain, row.csr)
        except TimeoutError:
            error = f"the signer did not answer within {self.signer_timeout:g} s"
            log.warning("%s certificate request %s: not signed: %s", row.charge_point_id, row.id, error)
            await self._move(row, FAILED, reason=error, csr=None)
            return False
        except (SigningFailed, ValueError) as error:
            log.warning("%s certificate request %s: not signed: %s", row.charge_point_id, row.id, error)
            await self._move(row, FAILED, reason=str(error), csr=None)
            return False
        except Exception as error:  # noqa: BLE001 - a bug in the operator's signer: logged as one
            log.error("%s certificate request %s: the signer %r broke", row.charge_point_id, row.id,
                      getattr(self.signer, "name", type(self.signer).__name__), exc_info=error)
            await self._move(row, FAILED, reason=f"the signer broke: {type(error).__name__}: {error}", csr=None)
            return False
        await self._move(row, SIGNED, chain=chain, serial=issued.serial, not_before=issued.not_before,
                         not_after=issued.not_after, csr=None)
        return True

    async def _send(self, row: StationCertificate) -> None:
        """CertificateSigned on its way (its answer arrives in ``delivered``), or failed."""
        params = _present({"certificate_chain": row.chain, "certificate_type": row.certificate_type})
        async with self._sending:
            try:
                command = await self.commands.submit(row.charge_point_id, "certificate-signed", params, wait=False)
            except WattsonError as error:  # offline, the bus away, a chain the station's version cannot take
                await self._move(row, FAILED, reason=f"CertificateSigned not sent: {error.message}")
                return
            await self._move(row, SENT, command_id=command.id)

    async def delivered(self, command: Command) -> None:
        """The station's answer to a CertificateSigned of ours: the record accepted or refused by
        the station, or failed when it did not answer. Other certificate-signed commands (sent
        by operators) have no record and change nothing."""
        async with self._sending:
            async with self.db.session() as s:
                row = await s.scalar(select(StationCertificate).where(StationCertificate.command_id == command.id))
        if row is None:
            return
        if command.state == c.COMPLETED and command.status == "Accepted":
            await self._move(row, ACCEPTED_BY_STATION)
        elif command.state == c.COMPLETED:
            info = (command.response or {}).get("statusInfo") or {}
            said = " ".join(filter(None, (info.get("reasonCode"), info.get("additionalInfo"))))
            await self._move(row, REFUSED_BY_STATION, reason=f"the station answered {command.status}"
                                                             + (f": {said}" if said else ""))
        else:
            await self._move(row, FAILED, reason=f"CertificateSigned {command.state}: "
                                                 f"{command.error_code or ''} {command.error_description or ''}".strip())

    async def _move(self, row: StationCertificate, state: str, **fields) -> None:
        """The record in its next state (with ``fields``) and a station event saying so; a
        certificate signed, installed, refused or failed is a security event too, kept exactly
        when the record's change is (the same transaction)."""
        values = {"state": state, "updated_at": utcnow(), **fields}
        async with self.db.session() as s:
            await s.execute(update(StationCertificate).where(StationCertificate.id == row.id).values(**values))
            for name, value in values.items():
                setattr(row, name, value)
            if change := security_rules.certificate_change(row.state, row.certificate_type, row.serial, row.reason):
                type, severity, detail = change
                record_security_event(s, type, charge_point_id=row.charge_point_id, severity=severity,
                                      detail=detail, data=_present({
                                          "certificate_id": row.id, "certificate_type": row.certificate_type,
                                          "serial": row.serial, "reason": row.reason, "command_id": row.command_id,
                                          "not_after": row.not_after.isoformat() if row.not_after else None}))
        await self._event(row)

    async def _event(self, row: StationCertificate, step: str | None = None, **extra) -> None:
        data = _present({"certificate_id": row.id, "certificate_type": row.certificate_type, "state": row.state,
                          "reason": row.reason, "serial": row.serial, "command_id": row.command_id, **extra})
        await self.stations.record_event(row.charge_point_id, f"certificate_{step or row.state}", data)

    # --- the operator's view ----------------------------------------------------------------------
    async def history(self, charge_point_id: str, limit: int, before: tuple | None = None
                      ) -> list[StationCertificate]:
        """The station's signing requests, newest first (keyset paging on created_at, id)."""
        query = newest_first(select(StationCertificate).where(StationCertificate.charge_point_id == charge_point_id),
                             StationCertificate.created_at, StationCertificate.id, limit, before)
        async with self.db.session() as s:
            await get_or_404(s, ChargePoint, charge_point_id, "charge point")
            return list(await s.scalars(query))

    async def renew(self, charge_point_id: str, certificate_type: str | None = None, wait: bool = True) -> Command:
        """Ask the station for a new signing request (2.x TriggerMessage, 1.6 ExtendedTriggerMessage)."""
        command = await self.commands.submit(charge_point_id, "trigger-message",
                                             {"message": TRIGGERS[certificate_type]}, wait)
        await self.stations.record_event(charge_point_id, "certificate_renewal_requested", _present(
            {"certificate_type": certificate_type, "command_id": command.id}))
        return command

    # --- renewal by expiry (worker) ---------------------------------------------------------------
    def start(self) -> None:
        """The expiry sweep (worker role): every ``sweep_every_s``; never with WATTSON_CERT_RENEW_DAYS=0."""
        if self.renew_within:
            self._sweep.every(self.sweep_every_s, self.renew_due, log, "certificate renewal sweep failed")

    async def stop(self) -> None:
        await self._sweep.stop()

    async def drain(self) -> None:
        """Let signings under way finish before shutting down."""
        if self._signing:
            await asyncio.gather(*self._signing, return_exceptions=True)

    async def renew_due(self, now: datetime | None = None, limit: int = 100) -> int:
        """Trigger a new signing request for each certificate in use that expires within
        WATTSON_CERT_RENEW_DAYS and has none triggered yet, unless a newer one of its station and
        type was accepted since; how many were triggered. A station offline is tried next round."""
        now = now or utcnow()
        newer = aliased(StationCertificate)
        superseded = exists().where(newer.charge_point_id == StationCertificate.charge_point_id,
                                    newer.certificate_type.is_not_distinct_from(StationCertificate.certificate_type),
                                    newer.id > StationCertificate.id, newer.state == ACCEPTED_BY_STATION)
        async with self.db.session() as s:
            due = list(await s.scalars(select(StationCertificate).where(
                StationCertificate.state.in_(IN_USE), StationCertificate.renewal_triggered_at.is_(None),
                StationCertificate.not_after <= now + self.renew_within, ~superseded)
                .order_by(StationCertificate.not_after).limit(limit)))
        triggered = 0
        for row in due:
            try:
                command = await self.commands.submit(row.charge_point_id, "trigger-message",
                                                     {"message": TRIGGERS[row.certificate_type]}, wait=False)
            except (StationOffline, BusUnavailable):
                continue
            except WattsonError as error:  # the station's version cannot be asked: do not ask every round
                await self._triggered(row, now, reason=f"renewal not triggered: {error.message}")
                continue
            await self._triggered(row, now, trigger_command_id=command.id)
            triggered += 1
        return triggered

    async def _triggered(self, row: StationCertificate, now: datetime, **extra) -> None:
        async with self.db.session() as s:
            await s.execute(update(StationCertificate).where(StationCertificate.id == row.id)
                            .values(renewal_triggered_at=now, updated_at=now))
        row.renewal_triggered_at = now
        await self._event(row, "renewal_triggered", expires_at=row.not_after.isoformat(), **extra)


def _present(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None}
