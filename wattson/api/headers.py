"""Security headers on every HTML response (docs/security.md): a Content-Security-Policy the pages
work under, no MIME sniffing, no framing by other sites."""

from starlette.datastructures import MutableHeaders

#: The driver page and receipts: own scripts (plus Stripe.js when card payments go to Stripe);
#: the receipt's one inline <style>.
PAGES = ("default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self' 'unsafe-inline'; "
         "img-src 'self' data:; connect-src 'self' https://api.stripe.com; "
         "frame-src https://js.stripe.com https://hooks.stripe.com; frame-ancestors 'none'; base-uri 'none'; "
         "form-action 'self'")
#: The Swagger UI pages: its files served here (fastapi-offline), started with an inline script.
DOCS = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")


def policy(path: str) -> str:
    return DOCS if path.endswith("/docs") else PAGES


class SecurityHeaders:
    """ASGI middleware: adds the headers to HTML responses only (the JSON API needs none)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    headers["content-security-policy"] = policy(scope["path"])
                    headers["x-content-type-options"] = "nosniff"
                    headers["x-frame-options"] = "DENY"
            await send(message)

        await self.app(scope, receive, send_with_headers)
