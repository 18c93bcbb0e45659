"""A shared fixture that fails to start reads as one failure: its first dependent test reports the
error, the later ones skip pointing at it (tests/fixture_failures.py). Checked on inner pytest runs."""

from pathlib import Path

pytest_plugins = ["pytester"]

HELPERS = Path(__file__).parent

CONFTEST = f"""
import sys
sys.path.insert(0, {str(HELPERS)!r})

import pytest
from fixture_failures import pytest_runtest_setup, started_once


def broken_start():
    raise AssertionError("server did not start")
    yield


def working_start(value):
    yield value


@pytest.fixture(scope="session")
def broken(request):
    yield from started_once(request, broken_start())


@pytest.fixture(scope="session", params=["good", "bad"])
def half_broken(request):
    yield from started_once(request, broken_start() if request.param == "bad" else working_start(request.param))


@pytest.fixture(scope="module")
def module_broken(request):
    yield from started_once(request, broken_start())


@pytest.fixture(scope="session")
def skipping(request):
    yield from started_once(request, (pytest.skip("no database here") for _ in [1]))
"""


def run(pytester, **tests: str):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(**tests)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")


def test_three_tests_of_a_failed_fixture_are_one_error_and_two_skips(pytester):
    result = run(pytester, test_inner="""
def test_a(broken): pass
def test_b(broken): pass
def test_c(broken): pass
def test_unrelated(): pass
""")
    result.assert_outcomes(errors=1, skipped=2, passed=1)
    result.stdout.fnmatch_lines(["*server did not start*",
                                 "*server fixture broken failed to start; see the first error*"])
    assert result.stdout.str().count("AssertionError: server did not start") == 1


def test_only_the_failed_param_skips(pytester):
    result = run(pytester, test_inner="""
def test_a(half_broken): assert half_broken == "good"
def test_b(half_broken): assert half_broken == "good"
def test_c(half_broken): assert half_broken == "good"
""")
    result.assert_outcomes(passed=3, errors=1, skipped=2)
    result.stdout.fnmatch_lines(["*server fixture half_broken[[]bad[]] failed to start*"])


def test_a_module_fixture_fails_once_per_module_and_a_skip_stays_a_skip(pytester):
    many = """
def test_a(module_broken): pass
def test_b(module_broken): pass
def test_c(skipping): pass
def test_d(skipping): pass
"""
    result = run(pytester, test_one=many, test_two=many)
    result.assert_outcomes(errors=2, skipped=6)
    assert result.stdout.str().count("no database here") >= 2  # its own reason, not "failed to start"
