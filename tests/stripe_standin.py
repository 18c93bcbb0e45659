"""A loopback stand-in for the few Stripe API endpoints Wattson calls, with Stripe's behaviour
where Wattson relies on it: manual-capture PaymentIntents, idempotency keys, capture at most
the amount held, cancel, refunds, search by metadata. Test payment methods as Stripe's."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

METHODS = {"pm_card_visa": "requires_capture", "pm_card_chargeDeclined": "declined",
           "pm_card_authenticationRequired": "requires_action"}


class StripeStandIn:
    def __init__(self):
        self.intents: dict[str, dict] = {}
        self.refunds: list[dict] = []
        self.replies: dict[str, tuple[int, dict]] = {}  # idempotency key -> the first answer
        self.requests: list[tuple[str, str]] = []
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
                key = self.headers.get("Idempotency-Key")
                if key and key in standin.replies:
                    return self._answer(*standin.replies[key])
                status, body = standin.route(method, url.path, form, parse_qs(url.query))
                if key and method == "POST":
                    standin.replies[key] = (status, body)
                self._answer(status, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
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
