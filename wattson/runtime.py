"""Wires settings, database, services and the OCPP gateway into one running system."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from wattson.access.directory import DirectoryService
from wattson.access.service import AccessService
from wattson.bus.nats import NatsBus
from wattson.bus.subjects import Subjects
from wattson.catalogue.service import CatalogueService
from wattson.cluster.nodes import Nodes, myself
from wattson.cluster.singleton import WorkerLock
from wattson.db import Database
from wattson.db.migrate import upgrade
from wattson.diagnostics.service import DiagnosticsService
from wattson.downtime.service import DowntimeService
from wattson.electricity.service import ElectricityRateService
from wattson.loadmgmt.controller import LoadController
from wattson.loadmgmt.needs_service import EvNeedsService
from wattson.loadmgmt.service import LoadService
from wattson.locations.service import LocationService
from wattson.observability.metrics import Metrics
from wattson.ocpi.service import Ocpi
from wattson.ocpp.gateway import Gateway
from wattson.ocpp.v16 import Ocpp16
from wattson.ocpp.v201 import Ocpp21, Ocpp201
from wattson.ocpp.validation import SchemaSet
from wattson.operators.service import OperatorService
from wattson.payments.providers import build_provider
from wattson.payments.service import PaymentService
from wattson.pki.contract_auth import ContractAuthorizer, load_roots
from wattson.pki.contracts import ContractCertificates, build_provider as build_contract_provider
from wattson.pki.ocsp import OcspResponders
from wattson.pki.service import CertificateService
from wattson.pki.signers import build_signer
from wattson.security_events.service import SecurityEventService
from wattson.sessions.billing import BillingService
from wattson.sessions.query import SessionQueryService
from wattson.sessions.service import SessionService
from wattson.sessions.stale import StalePolicy, StaleSessions
from wattson.sessions.transactions import TransactionService
from wattson.settings import Settings
from wattson.station_cost.service import StationCost
from wattson.stations.command_service import CommandService
from wattson.stations.device_model import DeviceModelService
from wattson.stations.password_update import PasswordUpdates
from wattson.stations.provisioning import Provisioning, load_steps
from wattson.stations.reservations import ReservationService
from wattson.stations.security_upgrade import SecurityUpgrades
from wattson.stations.service import StationService
from wattson.statistics.service import StatisticsService
from wattson.tariffs.groups import TariffGroupService
from wattson.tariffs.service import TariffService
from wattson.tariffs.snapshots import TariffSnapshotService
from wattson.webhooks.service import WebhookService
from wattson.zones.service import ZoneService

log = logging.getLogger("wattson")

#: OCPP versions served, best first: negotiation picks the first one a station offers.
PROTOCOLS = (Ocpp21, Ocpp201, Ocpp16)


@dataclass
class Services:
    settings: Settings
    db: Database
    access: AccessService
    stations: StationService
    sessions: SessionService
    locations: LocationService
    directory: DirectoryService
    session_query: SessionQueryService
    reservations: ReservationService
    transactions: TransactionService
    device_model: DeviceModelService
    tariffs: TariffService
    billing: BillingService
    payments: PaymentService
    stale: StaleSessions
    operators: OperatorService
    commands: CommandService | None = None
    certificates: CertificateService | None = None  # station certificates (pki/), set by Runtime
    security_upgrades: SecurityUpgrades | None = None  # raising security profiles, set by Runtime
    password_updates: PasswordUpdates | None = None  # new Basic passwords over OCPP, set by Runtime
    provisioning: Provisioning | None = None  # Boot Pending provisioning and accepting, set by Runtime
    ocpi: Ocpi | None = None
    diagnostics: DiagnosticsService | None = None  # connection diagnostics (diagnostics/), set by Runtime
    webhooks: WebhookService | None = None  # subscriptions and deliveries (webhooks/), set by build_services
    security_events: SecurityEventService | None = None  # the security log (security_events/), by build_services
    catalogue: CatalogueService | None = None  # vendors, models, error codes (catalogue/), set by build_services
    downtime: DowntimeService | None = None  # downtime, notices, availability (downtime/), by build_services
    ocsp: OcspResponders | None = None  # GetCertificateStatus for stations (pki/ocsp.py), set by build_services
    contracts: ContractCertificates | None = None  # Get15118EVCertificate (pki/contracts.py), set by build_services
    contract_auth: ContractAuthorizer | None = None  # Authorize with contract certificates (pki/contract_auth.py)
    station_cost: StationCost | None = None  # running and final costs told to stations (station_cost/), set by Runtime
    load_controller: LoadController | None = None  # charging profiles to managed stations (loadmgmt/), set by Runtime
    load: LoadService | None = None  # circuits and their snapshot (loadmgmt/), set by build_services
    ev_needs: EvNeedsService | None = None  # ISO 15118 charging needs, K15-K17 (loadmgmt/), set by Runtime
    zones: ZoneService | None = None  # charging zones and parking spaces (zones/), set by build_services
    tariff_groups: TariffGroupService | None = None  # tariff groups (tariffs/groups.py), set by build_services
    tariff_snapshots: TariffSnapshotService | None = None  # (tariffs/snapshots.py), set by build_services
    electricity_rates: ElectricityRateService | None = None  # what energy costs (electricity/), set by build_services
    statistics: StatisticsService | None = None  # consumption statistics (statistics/), set by build_services


def build_services(settings: Settings) -> Services:
    db = Database(settings.database_url, pool_size=settings.db_pool_size, pool_overflow=settings.db_pool_overflow,
                  pool_timeout=settings.db_pool_timeout)
    access = AccessService(db)
    tariffs = TariffService(db)
    billing = BillingService(db, tariffs)
    sessions = SessionService(db, access, billing, settings.webhook_session_update_s)
    payments = PaymentService(db, settings, build_provider(settings, db), tariffs, billing)
    billing.tariff_listeners.append(payments.on_session_opened)
    billing.settled_listeners.append(payments.on_session_settled)
    access.add_admitter(payments.admits)
    ocsp = OcspResponders(settings.ocsp_timeout_s, settings.ocsp_cache_s, settings.ocsp_allow_private)
    return Services(settings=settings, db=db, access=access,
                    stations=StationService(db, settings.auto_register, tls=bool(settings.tls_cert),
                                            client_ca=bool(settings.tls_client_ca)),
                    sessions=sessions, locations=LocationService(db),
                    directory=DirectoryService(db), session_query=SessionQueryService(db),
                    reservations=ReservationService(db, settings.reservation_sweep_s),
                    transactions=TransactionService(db, sessions),
                    device_model=DeviceModelService(db), tariffs=tariffs, billing=billing,
                    payments=payments, stale=StaleSessions(db, sessions, stale_policy(settings)),
                    operators=OperatorService(db, timedelta(hours=settings.dashboard_session_hours)),
                    webhooks=WebhookService(db, settings), security_events=SecurityEventService(db),
                    downtime=DowntimeService(db), load=LoadService(db), catalogue=CatalogueService(db),
                    zones=ZoneService(db), tariff_groups=TariffGroupService(db),
                    tariff_snapshots=TariffSnapshotService(db),
                    electricity_rates=ElectricityRateService(db), statistics=StatisticsService(db),
                    ocsp=ocsp, contract_auth=ContractAuthorizer(ocsp, load_roots(settings.contract_roots)),
                    contracts=ContractCertificates(build_contract_provider(settings),
                                                   settings.contract_cert_timeout_s))


def stale_policy(settings: Settings) -> StalePolicy:
    def after(seconds: float) -> timedelta | None:
        return timedelta(seconds=seconds) if seconds else None
    return StalePolicy(available_after=after(settings.stale_session_available_s),
                       vanished_after=after(settings.stale_session_vanished_s),
                       every=timedelta(seconds=settings.stale_session_sweep_s))


class Runtime:
    """Everything one Wattson process runs; ``start``/``stop`` bracket its life.

    Its role (``WATTSON_ROLE``, ``wattson serve --role``) says which parts: ``gateway`` holds
    station connections, ``api`` serves operators, partners and drivers, ``worker`` runs the
    background jobs (only in the one worker holding the worker lock), ``all`` everything. Several
    processes share the database only with a bus (``WATTSON_BUS_URL``, NATS): docs/deployment.md.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.role = settings.role
        self.services = build_services(settings)
        protocols = [cls(self.services, SchemaSet(cls.schema_dir)) for cls in PROTOCOLS]
        self.metrics = Metrics(settings.node_id)  # /metrics (observability/metrics.py)
        self.metrics.watch_pool(self.services.db.engine)
        self.gateway = Gateway(self.services.stations, protocols, metrics=self.metrics,
                               log_frames=settings.ocpp_log_frames)
        me = myself(bus=settings.bus_url is not None, role=self.role, tls=bool(settings.tls_cert),
                    client_ca=bool(settings.tls_cert and settings.tls_client_ca))
        self.services.stations.writer.node_id = me.id  # presence: which node holds a station
        self.services.diagnostics = self.gateway.diagnostics = DiagnosticsService(
            self.services.db, me.id, settings.diagnostics_ids_per_address)
        self.bus = (NatsBus(settings.bus_url, me.id, self.gateway, self.metrics, Subjects(settings.bus_prefix))
                    if settings.bus_url else None)
        self.services.commands = CommandService(self.services.db, self.bus or self.gateway, self.services.sessions,
                                                self.services.reservations, settings.command_timeout)
        self.services.station_cost = StationCost(self.services.db, self.services.billing, settings.cost_update_s,
                                                 settings.command_timeout, self.services.commands.bus)
        self.services.ev_needs = EvNeedsService(self.services.db, self.services.commands, self.services.load,
                                                settings.loadmgmt_hold_s)
        self.services.load_controller = LoadController(
            self.services.db, self.services.load, self.services.commands.bus, settings.loadmgmt_interval_s,
            settings.loadmgmt_threshold_a, settings.loadmgmt_hold_s, settings.command_timeout)
        self.services.certificates = CertificateService(self.services.db, self.services.stations,
                                                        self.services.commands, build_signer(settings), settings)
        self.services.ocpi = Ocpi(self.services)
        self.services.payments.commands = self.services.commands
        self.services.security_upgrades = SecurityUpgrades(self.services.db, self.services.stations,
                                                           self.services.commands, settings.public_ocpp_url_tls)
        self.services.password_updates = PasswordUpdates(self.services.db, self.services.stations,
                                                         self.services.commands)
        self.services.provisioning = Provisioning(self.services.stations, self.services.commands,
                                                  load_steps(settings.provisioning_file))
        self.services.stations.pending_boot = self.services.provisioning.booted_pending
        lease = timedelta(seconds=settings.node_lease_s)
        self.nodes = Nodes(self.services.db, me, lease)
        if self.bus is not None:  # the gateways, not this process, may be the ones with TLS
            self.services.stations.gateways_tls = self.nodes.gateways_tls
        self.worker_lock = WorkerLock(self.services.db, lease.total_seconds() / 3, self._start_jobs, self._stop_jobs)

    @property
    def serves_stations(self) -> bool:
        return self.role in ("all", "gateway")

    @property
    def serves_api(self) -> bool:
        return self.role in ("all", "api")

    async def start(self) -> None:
        if self.settings.migrate_on_start:
            await upgrade(self.services.db)
        self.services.db.start()
        await self.nodes.join()  # refuses to run beside a process it cannot share with (cluster/nodes.py)
        if self.bus is None:  # one process holds every connection, so none can be online before it starts
            await self.services.stations.mark_all_offline()
        else:
            await self.bus.connect(serve_stations=self.serves_stations)
            # stations of nodes gone before this one started (their leases forgotten at its start)
            await self.services.stations.release_orphans(self.nodes.live())
            self.nodes.renewed.append(self._presence)
        if self.role in ("all", "worker"):
            self.worker_lock.start()
        log.info("Wattson ready (role %s) on %s", self.role, _redact(self.settings.database_url))

    async def frames(self, charge_point_id: str, action: str | None = None, limit: int = 100) -> dict:
        """The station's OCPP message log, newest first, from the gateway holding (or last holding)
        it: ``{"frames": [...], "capacity": N, "note": ...}`` (ocpp/frame_log.py)."""
        return await (self.bus or self.gateway).frames(charge_point_id, action, limit)

    async def _presence(self, gone: list[str], lost: bool) -> None:
        """Stations of nodes gone are shown offline; ours again online if we were taken for gone."""
        if gone:
            await self.services.stations.release_nodes(gone)
        if lost:
            await self.services.stations.reclaim(list(self.gateway.connections))

    async def _start_jobs(self) -> None:
        self.services.ocpi.start()  # the OCPI push worker (wattson/ocpi/push.py)
        self.services.payments.start_worker()  # resumes every open payment where it stood
        self.services.stale.start()  # closes sessions whose stop will not come (sessions/stale.py)
        self.services.reservations.start()  # stores expiries, with their reservation.ended
        self.services.certificates.start()  # renews station certificates about to expire (pki/service.py)
        self.services.webhooks.deliverer.start()  # fan-out, signed deliveries, pruning (webhooks/delivery.py)
        self.services.station_cost.start()  # running costs to stations, 1.6 final costs (station_cost/)
        self.services.load_controller.start()  # charging profiles to managed stations (loadmgmt/controller.py)

    async def _stop_jobs(self) -> None:
        await self.services.load_controller.stop()
        await self.services.station_cost.stop()
        await self.services.webhooks.deliverer.stop()
        await self.services.stale.stop()
        await self.services.reservations.stop()
        await self.services.certificates.stop()
        await self.services.payments.stop_worker()
        await self.services.ocpi.pusher.stop()

    async def stop(self) -> None:
        await self.worker_lock.stop()
        await self.gateway.close_all()
        await self.services.certificates.drain()  # signings under way, then their CertificateSigned
        await self.services.ev_needs.drain()  # schedules for EVs' charging needs under way
        await self.services.commands.drain()
        await self.services.provisioning.drain()
        await self.services.ocpi.stop()
        if self.bus is not None:
            await self.bus.close()
        await self.services.diagnostics.stop()
        await self.services.ocsp.close()
        await self.services.contracts.close()
        await self.nodes.leave()
        await self.services.db.dispose()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
