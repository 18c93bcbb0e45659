"""The OCPP 2.x transaction rules and payload conversions, without a server."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import permutations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wattson.access.rules import AuthResult
from wattson.ocpp.rpc import RpcError
from wattson.ocpp.v201.convert import id_tag_of, id_token_info, samples_of, tx_event, value_text
from wattson.sessions.meter import Sample, pack, unpack
from wattson.sessions.models import ACTIVE, FINISHED, Session
from wattson.sessions.transactions import (ENDED, ENDED_NOT_RECEIVED, STARTED, UPDATED, TxEvent, apply_event,
                                           close_unended)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(kind: str, seq: int, minutes: float, wh: int | None = None, **fields) -> TxEvent:
    samples = [Sample(timestamp=at(minutes), value=str(wh))] if wh is not None else []
    return TxEvent(transaction_id="T", event_type=kind, seq_no=seq, timestamp=at(minutes),
                   trigger_reason=fields.pop("trigger", "MeterValuePeriodic"), samples=samples, **fields)


def new_session(first: TxEvent) -> Session:
    return Session(charge_point_id="CP", evse=1, connector=1, transaction_id="T", started_at=first.timestamp,
                   meter_start=0, status=ACTIVE, energy_wh=0)


def replay(events: list[TxEvent]) -> Session:
    session = new_session(events[0])
    for e in events:
        apply_event(session, e, None)
    return session


STREAM = [
    event(STARTED, 0, 0, 1000, trigger="Authorized", charging_state="Charging"),
    event(UPDATED, 1, 10, 3000, charging_state="SuspendedEV"),
    event(UPDATED, 2, 20, 4000, charging_state="Charging"),
    event(ENDED, 3, 30, 6000, stopped_reason="EVDisconnected", charging_state="Idle"),
]


@pytest.mark.parametrize("order", list(permutations(range(4))))
def test_any_arrival_order_gives_the_same_session(order):
    s = replay([STREAM[i] for i in order])
    assert (s.status, s.started_at, s.stopped_at) == (FINISHED, at(0), at(30))
    assert (s.meter_start, s.meter_stop, s.energy_wh) == (1000, 6000, 5000)
    assert (s.charging_state, s.last_seq_no, s.stop_reason, s.start_reason) == ("Idle", 3, "EVDisconnected",
                                                                                  "Authorized")


def test_a_reading_stamped_after_the_stop_counts_only_if_it_is_the_ended_events_own():
    s = replay([event(STARTED, 0, 0, 0), event(ENDED, 2, 30)])
    assert (s.status, s.energy_wh) == (FINISHED, 0)
    apply_event(s, event(UPDATED, 1, 31, 9999), None)  # after the stop: not part of this session
    assert s.energy_wh == 0
    ended_late_reading = TxEvent(transaction_id="T", event_type=ENDED, seq_no=5, timestamp=at(40),
                                 trigger_reason="StopAuthorized",
                                 samples=[Sample(timestamp=at(40) + timedelta(milliseconds=5), value="700")])
    s2 = replay([event(STARTED, 0, 0, 0), ended_late_reading])
    assert (s2.meter_stop, s2.energy_wh) == (700, 700)


def test_a_register_that_goes_backwards_counts_as_no_energy():
    s = replay([event(STARTED, 0, 0, 5000), event(ENDED, 1, 10, 4000)])
    assert s.energy_wh == 0


def test_tokens_start_and_stop():
    ok = AuthResult("Accepted", driver_id=7)
    s = new_session(STREAM[0])
    apply_event(s, event(STARTED, 0, 0, 0, id_tag="TAG"), ok)
    apply_event(s, event(ENDED, 1, 5, 10, id_tag="OTHER"), AuthResult("Accepted"))
    assert (s.id_tag, s.auth_status, s.driver_id, s.stop_id_tag) == ("TAG", "Accepted", 7, "OTHER")


def test_a_token_presented_after_plug_in_authorises_the_session():
    s = new_session(STREAM[0])
    apply_event(s, event(STARTED, 0, 0, 0, trigger="CablePluggedIn"), None)
    apply_event(s, event(UPDATED, 1, 1, id_tag="LATE", trigger="Authorized"), AuthResult("Accepted", driver_id=3))
    assert (s.id_tag, s.driver_id, s.start_reason) == ("LATE", 3, "CablePluggedIn")


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_the_remote_start_id_of_a_cable_first_start_is_kept_whatever_the_order(order):
    """F01: the Started event (CablePluggedIn) has none, the Updated RemoteStart names it; a later
    Updated naming another changes nothing, and a Started event's own id would win."""
    stream = [event(STARTED, 0, 0, trigger="CablePluggedIn", charging_state="EVConnected"),
              event(UPDATED, 1, 1, trigger="RemoteStart", remote_start_id=42),
              event(UPDATED, 2, 2, trigger="ChargingStateChanged", charging_state="Charging")]
    s = replay([stream[i] for i in order])
    assert (s.remote_start_id, s.charging_state) == (42, "Charging")
    apply_event(s, event(UPDATED, 3, 3, remote_start_id=7), None)
    assert s.remote_start_id == 42
    apply_event(s, event(STARTED, 0, 0, trigger="RemoteStart", remote_start_id=9), None)
    assert s.remote_start_id == 9


def test_a_session_closed_for_a_lost_ended_takes_the_real_one_later():
    s = replay(STREAM[:3])
    close_unended(s)
    assert (s.status, s.stop_reason, s.stopped_at, s.energy_wh) == (FINISHED, ENDED_NOT_RECEIVED, at(20), 3000)
    apply_event(s, STREAM[3], None)
    assert (s.stop_reason, s.stopped_at, s.energy_wh) == ("EVDisconnected", at(30), 5000)


def test_2x_samples_scale_by_the_multiplier_exactly():
    [a, b, c] = samples_of([{"timestamp": "2026-11-22T08:00:00Z", "sampledValue": [
        {"value": 1.23, "unitOfMeasure": {"unit": "kWh", "multiplier": 1}},
        {"value": 7, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W", "multiplier": 3},
         "phase": "L1", "context": "Trigger", "location": "EV"},
        {"value": 0.1}]}])
    assert (a.value, a.unit, a.measurand, a.context, a.location) == ("12.3", "kWh", "Energy.Active.Import.Register",
                                                                      "Sample.Periodic", "Outlet")
    assert (b.value, b.unit, b.phase, b.context, b.location) == ("7000", "W", "L1", "Trigger", "EV")
    assert (c.value, c.unit) == ("0.1", "Wh")


def test_id_token_info_names_the_reason():
    assert id_token_info(AuthResult("Invalid", reason="unknown")) == {"status": "Unknown"}
    assert id_token_info(AuthResult("Invalid", reason="not_here"))["status"] == "NotAtThisLocation"
    assert id_token_info(AuthResult("Invalid", reason="not_yet_valid"))["status"] == "NotAtThisTime"
    assert id_token_info(AuthResult("Invalid")) == {"status": "Invalid"}
    info = id_token_info(AuthResult("Accepted", datetime(2027, 1, 1, tzinfo=timezone.utc), "PARENT"))
    assert info == {"status": "Accepted", "cacheExpiryDateTime": "2027-01-01T00:00:00.000Z",
                    "groupIdToken": {"idToken": "PARENT", "type": "Central"}}


def test_tokens_of_the_event():
    assert id_tag_of(None) is None and id_tag_of({"idToken": "", "type": "NoAuthorization"}) is None
    assert id_tag_of({"idToken": "ABC", "type": "ISO14443"}) == "ABC"
    with pytest.raises(RpcError) as error:
        id_tag_of({"idToken": "x" * 37, "type": "Central"})
    assert error.value.code == "PropertyConstraintViolation"


def test_tx_event_reads_every_field():
    e = tx_event({"eventType": "Updated", "timestamp": "2026-11-22T08:00:00+01:00", "triggerReason": "ChargingStateChanged",
                  "seqNo": 4, "offline": True, "reservationId": 9,
                  "transactionInfo": {"transactionId": "abc", "chargingState": "SuspendedEVSE", "remoteStartId": 12},
                  "evse": {"id": 2, "connectorId": 3}, "idToken": {"idToken": "T1", "type": "eMAID"}})
    assert (e.transaction_id, e.event_type, e.seq_no, e.timestamp) == ("abc", UPDATED, 4, at(-60))
    assert (e.evse, e.connector, e.id_tag, e.charging_state, e.remote_start_id, e.reservation_id, e.offline) == \
        (2, 3, "T1", "SuspendedEVSE", 12, 9, True)


@given(st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False)),
       st.integers(-6, 6))
def test_a_sampled_value_is_written_as_plain_decimal_exactly(value, multiplier):
    text = value_text(value, multiplier)
    assert "e" not in text.lower() and not text.endswith(".") and not (("." in text) and text.endswith("0"))
    assert Decimal(text) == Decimal(str(value)).scaleb(multiplier)


def test_samples_are_stored_one_row_per_instant_and_read_back_unchanged():
    at, later = datetime(2026, 3, 1, 10, tzinfo=timezone.utc), datetime(2026, 3, 1, 10, 1, tzinfo=timezone.utc)
    samples = [Sample(at, "1500"), Sample(at, "16.5", "Current.Import", "A", "L1", "Sample.Periodic", "Outlet"),
               Sample(later, "c2ln", format="SignedData", unit=None)]
    rows = pack(samples)
    assert [(t, len(stored)) for t, stored in rows] == [(at, 2), (later, 1)]
    assert rows[1][1] == [{"measurand": "Energy.Active.Import.Register", "value": "c2ln", "format": "SignedData"}]
    assert [x for t, stored in rows for x in unpack(t, stored)] == samples
