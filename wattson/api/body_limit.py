"""A cap on HTTP request bodies (``WATTSON_HTTP_MAX_BODY_BYTES``), applied before the application
reads a byte of them.

The API reads a JSON body whole before validating it, so without a cap a 50 MB body is buffered
and parsed only to be refused. A request whose Content-Length is above the cap is answered 413 at
once, its body never read; one without a length (chunked) is read up to the cap and answered 413
as soon as it passes it, else handed on. The 413 closes the connection: the rest is not read.
"""

from wattson.api.errors import error_response

CODE = "payload_too_large"


class BodyLimit:
    """ASGI middleware: HTTP requests only; WebSockets and lifespan pass untouched."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = declared_length(scope)
        if length is not None:  # the server delivers no more than declared
            if length > self.max_bytes:
                return await self._refuse(scope, receive, send)
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                return await self._refuse(scope, receive, send)
            chunks.append(body)
            if not message.get("more_body", False):
                break
        first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        async def replay():
            nonlocal first
            if first is None:
                return await receive()
            message, first = first, None
            return message

        await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send) -> None:
        response = error_response(413, f"the request body is larger than {self.max_bytes} bytes", CODE,
                                  {"max_bytes": self.max_bytes}, headers={"Connection": "close"})
        await response(scope, receive, send)


def declared_length(scope) -> int | None:
    """The request's Content-Length; None when it has none (chunked, or no body)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:  # servers refuse these first; if one does not, read it as unbounded
                return None
    return None
