"""One failure for a shared fixture that fails to start, not one error per dependent test.

pytest caches a failed session- or module-scoped fixture and reports every test that depends on
it as an ERROR: a server that did not start read as hundreds of errors. `started_once` remembers
the failure; `pytest_runtest_setup` (re-exported by conftest.py) then skips the later dependents
with a pointer to the first error, which stays the one reported failure.
"""

from collections.abc import Iterator
from typing import TypeVar

import pytest

T = TypeVar("T")

#: (fixture name, param or None) -> node id prefix of the tests that share that fixture instance.
_failed: dict[tuple[str, object], str] = {}


def _param_of(request):
    return getattr(request, "param", None)


def started_once(request: pytest.FixtureRequest, values: Iterator[T]) -> Iterator[T]:
    """Yield the first value of generator ``values`` (e.g. start_server's) and finish it at teardown.
    If it fails before yielding, remember that, so later tests sharing this fixture skip."""
    try:
        value = next(values)
    except pytest.skip.Exception:
        raise  # a skip (e.g. no PostgreSQL here) is already one line per test, and says why
    except BaseException:
        if request.scope != "function":
            scope = request.node.nodeid  # "" for the session: every test
            _failed[(request.fixturename, _param_of(request))] = scope + "::" if scope else ""
        raise
    yield value
    yield from values


def failed_fixture(item: pytest.Item) -> str | None:
    """The name (and param) of a failed shared fixture this test depends on, if any."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    for (name, param), prefix in _failed.items():
        if name in item.fixturenames and params.get(name) == param and item.nodeid.startswith(prefix):
            return name if param is None else f"{name}[{param}]"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test whose shared fixture already failed: the first dependent reported the error."""
    name = failed_fixture(item)
    if name is not None:
        pytest.skip(f"server fixture {name} failed to start; see the first error")
