"""The two servers Wattson's throughput is compared with, measured in the same run.

``echo``: a raw ``websockets`` server that parses every frame as JSON and answers a CALLRESULT
with an empty payload: no validation, no handlers, no storage. What Python itself can do on one
core; ``--uvloop`` runs it on uvloop, the event loop Wattson uses.

``echo-asgi``: the same echo behind the transport Wattson runs on (uvicorn with Wattson's
WebSocket protocol class, ASGI messages, uvloop): what is left for Wattson's own work per message
once the transport has taken its share.

``ocpp-library``: a central system written as the ``ocpp`` package's documentation shows
(``websockets.serve`` + a ``ChargePoint`` subclass with ``@on`` handlers, the library's
defaults: schema validation with ``jsonschema`` in a thread, camelCase/snake_case conversion),
answering without storing anything. Logging stays at WARNING (the documented example logs every
message at INFO, which would only make it slower).

    python -m bench.baselines echo --port 9000 [--uvloop]
    python -m bench.baselines echo-asgi --port 9000
    python -m bench.baselines ocpp-library --port 9000
"""

import argparse
import asyncio
import itertools
import logging
from datetime import datetime, timezone

import orjson
import websockets
from websockets.asyncio.server import serve


async def echo(websocket) -> None:
    async for text in websocket:
        message = orjson.loads(text)
        await websocket.send(orjson.dumps([3, message[1], {}]).decode())


async def asgi_echo(scope, receive, send) -> None:
    """``echo`` as an ASGI app: accept the first subprotocol offered, answer every frame."""
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept", "subprotocol": (scope.get("subprotocols") or [None])[0]})
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            return
        message = orjson.loads(event.get("text") or event.get("bytes"))
        await send({"type": "websocket.send", "text": orjson.dumps([3, message[1], {}]).decode()})


def serve_asgi_echo(port: int) -> None:
    import uvicorn

    from wattson.ocpp.transport import OcppWebSocketProtocol

    uvicorn.run(asgi_echo, host="127.0.0.1", port=port, ws=OcppWebSocketProtocol, ws_per_message_deflate=False,
                loop="uvloop", lifespan="off", log_level="warning", access_log=False)


def library_central_system():
    """The documented shape: one ChargePoint class per version, one handler per action."""
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint as ChargePoint16, call_result as result16
    from ocpp.v16.enums import Action as Action16, RegistrationStatus as Registration16
    from ocpp.v201 import ChargePoint as ChargePoint201, call_result as result201
    from ocpp.v201.enums import Action as Action201, RegistrationStatusEnumType

    transaction_ids = itertools.count(1)

    def now() -> str:
        return datetime.now(timezone.utc).isoformat()

    class CentralSystem16(ChargePoint16):
        @on(Action16.boot_notification)
        def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kwargs):
            return result16.BootNotification(current_time=now(), interval=300, status=Registration16.accepted)

        @on(Action16.status_notification)
        def on_status_notification(self, connector_id: int, error_code: str, status: str, **kwargs):
            return result16.StatusNotification()

        @on(Action16.start_transaction)
        def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs):
            return result16.StartTransaction(transaction_id=next(transaction_ids), id_tag_info={"status": "Accepted"})

        @on(Action16.meter_values)
        def on_meter_values(self, connector_id: int, meter_value: list, **kwargs):
            return result16.MeterValues()

    class CentralSystem201(ChargePoint201):
        @on(Action201.boot_notification)
        def on_boot_notification(self, charging_station, reason, **kwargs):
            return result201.BootNotification(current_time=now(), interval=300,
                                              status=RegistrationStatusEnumType.accepted)

        @on(Action201.status_notification)
        def on_status_notification(self, timestamp, connector_status, evse_id, connector_id, **kwargs):
            return result201.StatusNotification()

        @on(Action201.transaction_event)
        def on_transaction_event(self, event_type, timestamp, trigger_reason, seq_no, transaction_info, **kwargs):
            return result201.TransactionEvent()

    async def on_connect(websocket) -> None:
        charge_point_id = websocket.request.path.strip("/").split("/")[-1]
        cls = CentralSystem201 if websocket.subprotocol == "ocpp2.0.1" else CentralSystem16
        try:
            await cls(charge_point_id, websocket).start()
        except websockets.exceptions.ConnectionClosed:
            pass

    return on_connect


async def main(kind: str, port: int) -> None:
    handler = echo if kind == "echo" else library_central_system()
    async with serve(handler, "127.0.0.1", port, subprotocols=["ocpp1.6", "ocpp2.0.1"],
                     compression=None):
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["echo", "echo-asgi", "ocpp-library"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.kind == "echo-asgi":
        serve_asgi_echo(args.port)
    elif args.uvloop:
        import uvloop

        uvloop.run(main(args.kind, args.port))
    else:
        asyncio.run(main(args.kind, args.port))
