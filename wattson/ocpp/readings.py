"""Readings a station sent that Wattson dropped (``sessions.meter.reading_problem``): one log line
and one ``readings_dropped`` station event per message, so the operator sees the faulty meter
while the station's message is still accepted and its queue moves on."""

import logging

from wattson.ocpp.convert import format_time
from wattson.sessions.meter import BadReading

log = logging.getLogger("wattson.ocpp")
#: A dropped value is kept this long at most in the event (a station may send a huge one).
SHOWN_CHARS = 40


async def report_dropped(stations, charge_point_id: str, action: str, dropped: list[BadReading]) -> None:
    if not dropped:
        return
    shown = [{"timestamp": format_time(x.timestamp), "measurand": x.measurand, "value": _cut(x.value),
              "reason": x.reason} for x in dropped]
    log.warning("%s %s: dropped %d unusable reading(s), e.g. %s %r (%s)", charge_point_id, action, len(dropped),
                shown[0]["measurand"], shown[0]["value"], shown[0]["reason"])
    await stations.record_event(charge_point_id, "readings_dropped", {"action": action, "readings": shown})


def _cut(value: str) -> str:
    return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"
