"""Telling an unreachable or overloaded database apart from a bug.

A station then gets a prompt InternalError (it retries its transaction messages) and an API
client a 503 with Retry-After, and the log gets one line instead of a traceback per request.
"""

from sqlalchemy import exc

#: What an API client is told to wait before trying again, in seconds.
RETRY_AFTER = 5
#: The classes of error ``unavailable`` may say yes to.
UNAVAILABLE = (exc.TimeoutError, exc.DisconnectionError, exc.DBAPIError, OSError)


def unavailable(error: BaseException) -> bool:
    """True when ``error`` says the database cannot be reached or no connection was free in time
    (the pool's wait, a refused or cut connection), not that a statement was wrong."""
    if isinstance(error, (exc.TimeoutError, exc.DisconnectionError, OSError)):
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated or isinstance(error, (exc.OperationalError, exc.InterfaceError)):
            return True
        return isinstance(error.orig, OSError) or isinstance(getattr(error.orig, "__cause__", None), OSError)
    return False


def log_failure(log, what: str, error: BaseException) -> None:
    """Log a background round's failure: one line when the database is away (it will be back; a
    traceback per round would bury the log), the traceback otherwise (a bug)."""
    if unavailable(error):
        log.warning("%s: database unavailable (%s: %s)", what, type(error).__name__, str(error).split("\n")[0])
    else:
        log.error("%s", what, exc_info=error)
