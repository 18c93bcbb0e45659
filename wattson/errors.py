"""Domain errors. Services raise them; the HTTP layer turns them into JSON error bodies."""


class WattsonError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: object = None):
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthenticated(WattsonError):
    status = 401
    code = "unauthorized"


class NotFound(WattsonError):
    status = 404
    code = "not_found"


class Conflict(WattsonError):
    status = 409
    code = "conflict"


class Invalid(WattsonError):
    status = 422
    code = "validation_error"


class StationOffline(WattsonError):
    status = 409
    code = "station_offline"


class BusUnavailable(WattsonError):
    """The bus to the other processes (WATTSON_BUS_URL) is down: try again shortly."""
    status = 503
    code = "bus_unavailable"


class CommandNotSupported(WattsonError):
    status = 422
    code = "command_not_supported"
