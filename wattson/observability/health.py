"""Readiness: whether this process can do its work now, for ``GET /health/ready``.

Liveness (``/health``) only says the process answers; a load balancer or an orchestrator also
needs to know when to send it nothing, e.g. while the database is unreachable. Each check is a
named coroutine answering within ``TIMEOUT_S`` or failing; the database is always checked, the
bus will add its own check when one is configured (WATTSON_BUS_URL).
"""

import asyncio
import logging
from typing import Awaitable, Callable

from pydantic import BaseModel
from sqlalchemy import text

log = logging.getLogger("wattson.health")

#: Longest a check may take before it counts as failed: well under a probe's usual timeout, and
#: long enough for SQLite's single connection to come free under load.
TIMEOUT_S = 5.0

Check = Callable[[], Awaitable[None]]


class ReadyAnswer(BaseModel):
    status: str  # "ready" (200) or "unavailable" (503)
    checks: dict[str, str]  # check name -> "ok" or why not


def database_check(engine) -> Check:
    """One ``SELECT 1`` through the pool: a connection can be had and the server answers."""
    async def check() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    return check


class Readiness:
    def __init__(self, checks: dict[str, Check] | None = None, timeout: float = TIMEOUT_S):
        self.checks = dict(checks or {})
        self.timeout = timeout

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def run(self) -> tuple[bool, dict[str, str]]:
        """(ready, {check: "ok" or why not}); the checks run side by side."""
        results = await asyncio.gather(*(self._run(name, check) for name, check in self.checks.items()))
        answers = dict(zip(self.checks, results))
        return all(a == "ok" for a in answers.values()), answers

    async def _run(self, name: str, check: Check) -> str:
        try:
            async with asyncio.timeout(self.timeout):
                await check()
        except TimeoutError:
            log.warning("not ready: %s did not answer within %g s", name, self.timeout)
            return f"no answer within {self.timeout:g} s"
        except Exception as error:  # noqa: BLE001 - whatever fails, the answer is "not ready", not a 500
            log.warning("not ready: %s failed (%s)", name, type(error).__name__)
            return f"failed: {type(error).__name__}"
        return "ok"
