"""Imports every feature's models so that ``Base.metadata`` knows all tables (Alembic needs it)."""

from wattson.access import models as access  # noqa: F401
from wattson.catalogue import models as catalogue  # noqa: F401
from wattson.cluster import models as cluster  # noqa: F401
from wattson.db.base import Base
from wattson.diagnostics import models as diagnostics  # noqa: F401
from wattson.downtime import models as downtime  # noqa: F401
from wattson.electricity import models as electricity  # noqa: F401
from wattson.loadmgmt import models as loadmgmt  # noqa: F401
from wattson.loadmgmt import limits as charging_limits  # noqa: F401
from wattson.loadmgmt import charging_needs as ev_charging_needs  # noqa: F401
from wattson.locations import models as locations  # noqa: F401
from wattson.operators import models as operators  # noqa: F401
from wattson.ocpi import models as ocpi  # noqa: F401
from wattson.payments import models as payments  # noqa: F401
from wattson.pki import models as pki  # noqa: F401
from wattson.security_events import models as security_events  # noqa: F401
from wattson.sessions import models as sessions  # noqa: F401
from wattson.station_cost import models as station_cost  # noqa: F401
from wattson.stations import models as stations  # noqa: F401
from wattson.tariffs import models as tariffs  # noqa: F401
from wattson.webhooks import models as webhooks  # noqa: F401
from wattson.zones import models as zones  # noqa: F401

metadata = Base.metadata
