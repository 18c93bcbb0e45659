"""A loopback stand-in for the few Stripe API endpoints Wattson calls, with Stripe's behaviour
where Wattson relies on it: manual-capture PaymentIntents, idempotency keys, capture at most
the amount held, cancel, refunds, search by metadata. Test payment methods as Stripe's.

Crash tests hold one call at a gate (``hold``): in flight, before the stand-in records it, or
recorded with its answer not yet sent, so that a server killed meanwhile has lost the answer."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

METHODS = {"pm_card_visa": "requires_capture", "pm_card_chargeDeclined": "declined",
           "pm_card_authenticationRequired": "requires_action"}
WAIT_S = 120  # the longest a gate holds a call (then it answers as usual)


class Gate:
    """The next call of one kind, held: ``reached`` is set once it is held; ``release`` lets it
    go on, or (``drop``) closes its connection unanswered, as a dead client or network would."""

    def __init__(self, recorded: bool):
        self.recorded = recorded  # held after the stand-in recorded its effect, else before
        self.reached = threading.Event()
        self._released = threading.Event()
        self.drop = False

    def release(self, drop: bool = False) -> None:
        self.drop = drop
        self._released.set()

    def wait(self) -> bool:
        """Held here (in the handler's thread); True when the call is to be dropped."""
        self.reached.set()
        self._released.wait(WAIT_S)
        return self.drop


def action_of(method: str, path: str) -> str:
    """create, retrieve, capture, cancel, search or refund."""
    parts = path.strip("/").split("/")
    if parts == ["v1", "refunds"]:
        return "refund"
    if parts == ["v1", "payment_intents"]:
        return "create"
    return parts[3] if len(parts) > 3 else ("search" if parts[-1] == "search" else "retrieve")


class StripeStandIn:
    def __init__(self):
        self.intents: dict[str, dict] = {}
        self.refunds: list[dict] = []
        self.replies: dict[str, tuple[int, dict]] = {}  # idempotency key -> the first answer
        self.requests: list[tuple[str, str]] = []
        self.recorded: list[tuple[str, str]] = []  # the calls that took effect (not answered from a key's reply)
        self.gates: dict[str, Gate] = {}  # action -> the gate its next call waits at
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._handle("GET", {})

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                self._handle("POST", {k: v[0] for k, v in form.items()})

            def _handle(self, method, form):
                url = urlparse(self.path)
                standin.requests.append((method, url.path))
                gate = standin.gates.pop(action_of(method, url.path), None)
                if gate is not None and not gate.recorded and gate.wait():
                    self.close_connection = True  # dropped before it reached the "provider"
                    return
                key = self.headers.get("Idempotency-Key")
                if key and key in standin.replies:
                    return self._answer(*standin.replies[key])
                status, body = standin.route(method, url.path, form, parse_qs(url.query))
                standin.recorded.append((method, url.path))
                if key and method == "POST":
                    standin.replies[key] = (status, body)
                if gate is not None and gate.recorded and gate.wait():
                    self.close_connection = True  # done, but the answer is lost
                    return
                self._answer(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hold(self, action: str, recorded: bool) -> Gate:
        """Hold the next ``action`` call (see action_of) at a gate, before or after it takes effect."""
        gate = self.gates[action] = Gate(recorded)
        return gate

    def close(self):
        for gate in self.gates.values():
            gate.release()
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def error(status, kind, code, message, **extra):
        return status, {"error": {"type": kind, "code": code, "message": message, **extra}}

    def route(self, method, path, form, query):
        parts = path.strip("/").split("/")
        if parts == ["v1", "refunds"] and method == "POST":
            return self.refund(form)
        if parts[:2] == ["v1", "payment_intents"] and method == "POST" and len(parts) == 2:
            return self.create(form)
        if parts[:2] == ["v1", "payment_intents"] and len(parts) == 3 and parts[2] == "search":
            key = query["query"][0].split(":'", 1)[1].rstrip("'")
            data = [i for i in self.intents.values() if i["metadata"].get("wattson_key") == key]
            return 200, {"object": "search_result", "data": data, "has_more": False, "url": path}
        intent = self.intents.get(parts[2]) if len(parts) >= 3 else None
        if intent is None:
            return self.error(404, "invalid_request_error", "resource_missing", "no such payment_intent")
        if len(parts) == 3:
            return 200, intent
        action = parts[3]
        if action == "capture":
            amount = int(form.get("amount_to_capture", intent["amount"]))
            if intent["status"] != "requires_capture" or amount > intent["amount"]:
                return self.error(400, "invalid_request_error", "payment_intent_unexpected_state",
                                  f"cannot capture {amount} of {intent['amount']} in {intent['status']}")
            intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
            return 200, intent
        if action == "cancel":
            if intent["status"] not in ("requires_capture", "requires_action", "requires_payment_method"):
                return self.error(400, "invalid_request_error", "payment_intent_unexpected_state",
                                  f"cannot cancel in {intent['status']}")
            intent.update(status="canceled", amount_capturable=0)
            return 200, intent
        return self.error(404, "invalid_request_error", "resource_missing", "unknown endpoint")

    def create(self, form):
        outcome = METHODS.get(form.get("payment_method"), "declined")
        intent = {"id": "pi_" + uuid.uuid4().hex[:20], "object": "payment_intent", "amount": int(form["amount"]),
                  "currency": form["currency"], "capture_method": form.get("capture_method"),
                  "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                  "status": outcome, "amount_received": 0, "amount_capturable": 0,
                  "latest_charge": {"id": "ch_1", "object": "charge", "payment_method_details": {
                      "card": {"brand": "visa", "last4": "4242"}}}}
        self.intents[intent["id"]] = intent
        if outcome == "declined":
            intent["status"] = "requires_payment_method"
            return self.error(402, "card_error", "card_declined", "Your card was declined.",
                              decline_code="generic_decline", payment_intent=intent)
        if outcome == "requires_capture":
            intent["amount_capturable"] = intent["amount"]
        return 200, intent

    def refund(self, form):
        intent = self.intents.get(form["payment_intent"])
        amount = int(form.get("amount", 0))
        refunded = sum(r["amount"] for r in self.refunds if r["payment_intent"] == form["payment_intent"])
        if intent is None or intent["status"] != "succeeded" or refunded + amount > intent["amount_received"]:
            return self.error(400, "invalid_request_error", "charge_already_refunded", "cannot refund")
        refund = {"id": "re_" + uuid.uuid4().hex[:20], "object": "refund", "amount": amount,
                  "payment_intent": form["payment_intent"], "status": "succeeded"}
        self.refunds.append(refund)
        return 200, refund
