"""The OCPI adapter assembled: one object the runtime creates, starts and stops."""

from wattson.ocpi.client import OcpiClient
from wattson.ocpi.commands import CommandReceiver
from wattson.ocpi.objects import Party
from wattson.ocpi.outbox import OutboxService
from wattson.ocpi.partners import PartnerService
from wattson.ocpi.push import ChangeTracker, Pusher
from wattson.ocpi.sender import SenderService
from wattson.ocpi.tokens import RoamingAuthorizer, TokenStore


class Ocpi:
    def __init__(self, services):
        settings, db = services.settings, services.db
        self.party = Party(settings.ocpi_country_code.upper(), settings.ocpi_party_id.upper())
        client = OcpiClient(self.party, settings.ocpi_timeout)
        self.partners = PartnerService(db, client, self.party, settings.ocpi_business_name)
        self.sender = SenderService(db, services.tariffs, services.billing, self.party, settings.ocpi_business_name,
                                    settings.ocpi_currency)
        self.tokens = TokenStore(db)
        self.outbox = OutboxService(db)  # what operators see of the push queue (the dashboard)
        self.tracker = ChangeTracker(db)
        self.pusher = Pusher(db, self.tracker, self.partners, self.sender, client, self.party, settings.ocpi_retry_max,
                             settings.ocpi_session_update_interval)
        self.commands = CommandReceiver(db, services.commands, self.pusher.enqueue_command_result,
                                        settings.command_timeout)
        # Partners' drivers are answered at our chargers through the version-neutral access service.
        services.access.add_fallback(RoamingAuthorizer(db, client, settings.ocpi_authorize_timeout))

    def start(self) -> None:
        self.pusher.start()

    async def stop(self) -> None:
        await self.commands.drain()
        await self.pusher.stop()
