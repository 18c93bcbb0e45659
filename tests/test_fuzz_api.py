"""Schemathesis fuzzes every endpoint of the OpenAPI spec against a running server: no 5xx, and
every answer (status, content type, body) as the spec describes. Bounded: a few examples each."""

import pytest
import schemathesis
from conftest import READY_BOUND_S, start_server
from hypothesis import HealthCheck, given, settings

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def fuzzed_server(tmp_path):
    """A server of its own: the fuzzer deletes what it finds (API keys included), so it shares nothing.
    After each accepted request schemathesis probes the operation with a wrong key and expects a
    401 or 403; hundreds of those from one address would rightly be answered 429 after
    WATTSON_API_KEY_ATTEMPTS (tests/test_throttling.py), so here the bound is out of its reach."""
    yield from start_server(tmp_path, "sqlite", command_timeout="2", api_key_attempts="1000000")


def test_every_endpoint_conforms_to_its_spec(fuzzed_server):
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.http_url}/api/openapi.json")
    headers = {"Authorization": f"Bearer {fuzzed_server.api_key}"}
    failures, operations = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            # Left out: "positive data acceptance", which takes any 4xx to a schema-valid request for a
            # bug. Wattson answers 422 to what the schema cannot express (an id that names nothing,
            # "exactly one of"), and says so in the spec; that breaks no contract.
            case.call_and_validate(headers=headers, timeout=READY_BOUND_S,
                                   excluded_checks=[schemathesis.checks.positive_data_acceptance])

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collect every failure, report all
            failures[operation.label] = str(error)[:3000]
    assert operations > 20
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
