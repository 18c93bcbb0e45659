"""The OCPP-J frames the load generator sends, built as bytes (orjson), one version per class.

MeterValues (1.6) and TransactionEvent Updated (2.0.1) carry one sample of four measurands:
energy register, active power, current and voltage, as a charging station reports them.
"""

import time
import uuid
from datetime import datetime, timezone

import orjson

from bench.wsclient import encode

#: Stand-ins replaced per message in a pre-serialised frame (numbers where the field is a number).
UNIQUE_ID, TIMESTAMP, SEQ, ENERGY = "@ID@", "@TS@", 918273645, 192837465
#: This process's mark in the transaction ids it opens.
RUN = uuid.uuid4().hex[:8]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_clock = [0, ""]


def coarse_now() -> bytes:
    """The time to 100 ms: formatting it for every message would cost the generator more than
    building the rest of the frame."""
    tick = int(time.time() * 10)
    if tick != _clock[0]:
        _clock[0], _clock[1] = tick, now().encode()
    return _clock[1]


def frame(unique_id: int, action: str, payload: dict) -> bytes:
    return encode(orjson.dumps([2, str(unique_id), action, payload]))


def template(action: str, payload: dict):
    """``build(unique_id, seq)``: the frame with the stand-ins filled in, without serialising it."""
    text = orjson.dumps([2, UNIQUE_ID, action, payload])
    marks = [UNIQUE_ID.encode(), TIMESTAMP.encode(), str(SEQ).encode(), str(ENERGY).encode()]
    pieces, kinds = [], []
    rest = text
    while True:
        found = [(rest.find(m), i) for i, m in enumerate(marks) if rest.find(m) >= 0]
        if not found:
            pieces.append(rest)
            break
        at, kind = min(found)
        pieces.append(rest[:at])
        kinds.append(kind)
        rest = rest[at + len(marks[kind]):]

    def build(unique_id: int, seq: int) -> bytes:
        values = (str(unique_id).encode(), coarse_now(), str(seq).encode(), str(1000 + 10 * seq).encode())
        out = [pieces[0]]
        for kind, piece in zip(kinds, pieces[1:]):
            out.append(values[kind])
            out.append(piece)
        return encode(b"".join(out))

    return build


def tag(station: str) -> str:
    """The station's own id tag (at most 20 characters, as 1.6 allows)."""
    return station[-20:]


class V16:
    subprotocol = "ocpp1.6"

    @staticmethod
    def boot(i: int) -> bytes:
        return frame(i, "BootNotification", {"chargePointVendor": "Wattson", "chargePointModel": "Bench"})

    @staticmethod
    def status(i: int, connector: int) -> bytes:
        return frame(i, "StatusNotification", {"connectorId": connector, "errorCode": "NoError",
                                               "status": "Available", "timestamp": now()})

    @staticmethod
    def start(i: int, station: str, id_tag: str = "BENCHTAG") -> bytes:
        return frame(i, "StartTransaction", {"connectorId": 1, "idTag": id_tag, "meterStart": 0,
                                             "timestamp": now()})

    @staticmethod
    def started(reply: bytes) -> bool:
        """A CALLRESULT with a transaction id."""
        message = orjson.loads(reply)
        return message[0] == 3 and isinstance(message[2].get("transactionId"), int)

    @staticmethod
    def transaction_id(reply: bytes, station: str) -> int:
        return orjson.loads(reply)[2].get("transactionId", 1)

    @staticmethod
    def sampler(tx):
        return template("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [{
            "timestamp": TIMESTAMP, "sampledValue": [
                {"value": str(ENERGY), "context": "Sample.Periodic",
                 "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unit": "Wh"},
                {"value": "7360", "context": "Sample.Periodic", "measurand": "Power.Active.Import",
                 "location": "Outlet", "unit": "W"},
                {"value": "32.0", "context": "Sample.Periodic", "measurand": "Current.Import",
                 "location": "Outlet", "unit": "A"},
                {"value": "230.0", "context": "Sample.Periodic", "measurand": "Voltage", "location": "Outlet",
                 "unit": "V"}]}]})


class V201:
    subprotocol = "ocpp2.0.1"

    @staticmethod
    def boot(i: int) -> bytes:
        return frame(i, "BootNotification", {"reason": "PowerUp",
                                             "chargingStation": {"model": "Bench", "vendorName": "Wattson"}})

    @staticmethod
    def status(i: int, connector: int) -> bytes:
        return frame(i, "StatusNotification", {"timestamp": now(), "connectorStatus": "Available",
                                               "evseId": 1, "connectorId": 1})

    @staticmethod
    def start(i: int, station: str, id_tag: str | None = None) -> bytes:
        token = {"idToken": {"idToken": id_tag, "type": "ISO14443"}} if id_tag else {}
        return frame(i, "TransactionEvent", {
            "eventType": "Started", "timestamp": now(), "triggerReason": "CablePluggedIn", "seqNo": 0,
            "transactionInfo": {"transactionId": V201.transaction_id(b"", station), "chargingState": "EVConnected"},
            **token, "evse": {"id": 1, "connectorId": 1}})

    @staticmethod
    def started(reply: bytes) -> bool:
        """A CALLRESULT (the transaction id is the station's own in 2.x)."""
        return orjson.loads(reply)[0] == 3

    @staticmethod
    def transaction_id(reply: bytes, station: str) -> str:
        """A new transaction in every generator process (each run starts its own): the same id in
        a later run would make its events, numbered from 1 again, repeats the server only
        recognises and stores nothing for."""
        return f"TX-{station}-{RUN}"

    @staticmethod
    def sampler(tx):
        return template("TransactionEvent", {
            "eventType": "Updated", "timestamp": TIMESTAMP, "triggerReason": "MeterValuePeriodic", "seqNo": SEQ,
            "transactionInfo": {"transactionId": tx, "chargingState": "Charging"},
            "meterValue": [{"timestamp": TIMESTAMP, "sampledValue": [
                {"value": ENERGY, "context": "Sample.Periodic",
                 "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unitOfMeasure": {"unit": "Wh"}},
                {"value": 7360, "context": "Sample.Periodic", "measurand": "Power.Active.Import",
                 "location": "Outlet", "unitOfMeasure": {"unit": "W"}},
                {"value": 32.0, "context": "Sample.Periodic", "measurand": "Current.Import", "location": "Outlet",
                 "unitOfMeasure": {"unit": "A"}},
                {"value": 230.0, "context": "Sample.Periodic", "measurand": "Voltage", "location": "Outlet",
                 "unitOfMeasure": {"unit": "V"}}]}]})


VERSIONS = {"1.6": V16, "2.0.1": V201}
