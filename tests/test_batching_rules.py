"""Device-model calls cut to a station's ItemsPerMessage / BytesPerMessage and the answers merged
(``wattson.ocpp.v201.batching``, no I/O): properties on generated requests (hypothesis) and the
merge of completed, refused, timed-out and unsent parts.
"""

import uuid

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from wattson.ocpp.v201 import batching as b
from wattson.stations import commands as c

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=50)
entries = st.builds(lambda comp, var, instance, kind: {
    "component": {"name": comp}, "variable": {"name": var, **({"instance": instance} if instance else {})},
    **({"attributeType": kind} if kind else {})},
    names, names, st.one_of(st.none(), names), st.sampled_from([None, "Actual", "Target"]))
limits = st.builds(b.Limits, st.one_of(st.none(), st.integers(1, 12)), st.one_of(st.none(), st.integers(60, 2000)))


def wire_size(action: str, payload: dict) -> int:
    """What the connection really sends: a fresh UUID as the message id."""
    return len(orjson.dumps([2, str(uuid.uuid4()), action, payload]))


def entry(i: int) -> dict:
    return {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": f"Variable{i}"}}


@SETTINGS
@given(st.lists(entries, min_size=1, max_size=40), limits, st.sampled_from(["GetVariables", "SetVariables"]))
def test_every_entry_once_in_order_and_no_message_over_the_limits(items, lim, action):
    name = b.LISTS[action][0]
    payload = {name: items}
    plan = b.split(action, payload, lim)
    assert [e for chunk in plan.chunks for e in chunk.payload[name]] == items
    assert [chunk.first for chunk in plan.chunks] == [sum(ch.count for ch in plan.chunks[:i])
                                                     for i in range(len(plan.chunks))]
    for chunk in plan.chunks:
        assert chunk.count == len(chunk.payload[name]) >= 1
        if lim.items is not None:
            assert chunk.count <= lim.items
        if lim.bytes is not None:
            if chunk.too_large:  # alone, and truly too large on its own
                assert chunk.count == 1 and wire_size(action, chunk.payload) > lim.bytes
            else:
                assert wire_size(action, chunk.payload) <= lim.bytes
        else:
            assert not chunk.too_large
    # greedy: a chunk closes only when the next entry would not fit
    for this, following in zip(plan.chunks, plan.chunks[1:]):
        if this.too_large or following.too_large:
            continue
        grown = {name: this.payload[name] + following.payload[name][:1]}
        assert (lim.items is not None and this.count + 1 > lim.items) or \
               (lim.bytes is not None and wire_size(action, grown) > lim.bytes)


@SETTINGS
@given(st.lists(entries, min_size=1, max_size=30), st.integers(1, 10), st.integers(1, 2**31 - 1))
def test_get_report_parts_have_their_own_request_ids(items, per_message, request_id):
    payload = {"requestId": request_id, "componentVariable": items, "componentCriteria": ["Problem"]}
    plan = b.split("GetReport", payload, b.Limits(per_message, 1500))
    ids = [chunk.payload["requestId"] for chunk in plan.chunks]
    assert ids[0] == request_id and len(set(ids)) == len(ids)
    assert all(0 <= i <= b.MAX_REQUEST_ID for i in ids)
    assert all(chunk.payload["componentCriteria"] == ["Problem"] for chunk in plan.chunks)
    assert [e for chunk in plan.chunks for e in chunk.payload["componentVariable"]] == items
    assert all(chunk.too_large or wire_size("GetReport", chunk.payload) <= 1500 for chunk in plan.chunks)


def test_no_limits_known_is_one_message_as_asked():
    payload = {"getVariableData": [entry(i) for i in range(100)]}
    plan = b.split("GetVariables", payload, b.Limits())
    assert not plan.needed and plan.chunks[0].payload == payload


def test_an_entry_too_large_alone_is_its_own_chunk_and_never_dropped():
    big = {"component": {"name": "C"}, "variable": {"name": "V"}, "attributeValue": "x" * 500}
    payload = {"setVariableData": [{**entry(1), "attributeValue": "1"}, big, {**entry(2), "attributeValue": "2"}]}
    plan = b.split("SetVariables", payload, b.Limits(None, 300))
    assert [(ch.count, ch.too_large) for ch in plan.chunks] == [(1, False), (1, True), (1, False)]
    ok = lambda i: c.Outcome(c.COMPLETED, "SetVariables", plan.chunks[i].payload, {"setVariableResult": [
        {"attributeStatus": "Accepted", **entry(i + 1)}]})
    outcome = b.merge(plan, [ok(0), b.not_sent(plan, plan.chunks[1], ""), ok(2)])
    assert outcome.state == c.FAILED and outcome.error_code == b.TOO_LARGE
    results = outcome.response["setVariableResult"]
    assert [r["attributeStatus"] for r in results] == ["Accepted", "Rejected", "Accepted"]
    assert results[1]["component"] == {"name": "C"}
    assert results[1]["attributeStatusInfo"]["reasonCode"] == "TooLarge"
    assert "above the station's BytesPerMessage[SetVariables] of 300" in results[1]["attributeStatusInfo"][
        "additionalInfo"]
    assert "entries 2" in outcome.error_description


def test_limits_from_reported_values():
    default = b.Limits(50, None)
    assert b.limits_of("2", " 400 ", default) == b.Limits(2, 400)
    assert b.limits_of(None, None, default) == default
    assert b.limits_of("0", "lots", default) == default  # not a positive integer: the default
    assert b.limits_of("-3", "", b.Limits()) == b.Limits()


def plan_of(n: int, per_message: int) -> b.Plan:
    return b.split("GetVariables", {"getVariableData": [entry(i) for i in range(n)]}, b.Limits(per_message))


def answered(plan: b.Plan, i: int) -> c.Outcome:
    results = [{"attributeStatus": "Accepted", "attributeValue": e["variable"]["name"], **e}
               for e in plan.chunks[i].payload["getVariableData"]]
    return c.Outcome(c.COMPLETED, "GetVariables", plan.chunks[i].payload, {"getVariableResult": results})


def test_merged_results_in_request_order():
    plan = plan_of(5, 2)
    outcome = b.merge(plan, [answered(plan, i) for i in range(3)])
    assert outcome.state == c.COMPLETED and outcome.error_code is None
    assert outcome.request == plan.payload
    assert [r["attributeValue"] for r in outcome.response["getVariableResult"]] == [f"Variable{i}" for i in range(5)]


def test_a_refused_part_fails_the_command_with_an_error_per_entry():
    plan = plan_of(5, 2)
    refused = c.Outcome(c.FAILED, "GetVariables", plan.chunks[1].payload, error_code="FormatViolation",
                        error_description="too long")
    outcome = b.merge(plan, [answered(plan, 0), refused, answered(plan, 2)])
    assert (outcome.state, outcome.error_code) == (c.FAILED, "FormatViolation")
    assert outcome.error_description.startswith("1 of 3 messages to the station not answered (entries 3-4)")
    results = outcome.response["getVariableResult"]
    assert [r["variable"]["name"] for r in results] == [f"Variable{i}" for i in range(5)]
    assert [r["attributeStatus"] for r in results] == ["Accepted", "Accepted", "Rejected", "Rejected", "Accepted"]
    assert results[2]["attributeStatusInfo"] == {
        "reasonCode": "NotAnswered",
        "additionalInfo": "Wattson: the station answered CALLERROR FormatViolation: too long"}


def test_time_run_out_is_a_timeout_and_later_parts_say_they_were_not_sent():
    plan = plan_of(5, 2)
    late = c.Outcome(c.TIMEOUT, "GetVariables", plan.chunks[1].payload, error_description="no reply within 3 s")
    outcome = b.merge(plan, [answered(plan, 0), late, b.not_sent(plan, plan.chunks[2], "an earlier message ...")])
    assert outcome.state == c.TIMEOUT
    reasons = [r.get("attributeStatusInfo", {}).get("reasonCode") for r in outcome.response["getVariableResult"]]
    assert reasons == [None, None, "NotAnswered", "NotAnswered", "NotSent"]
    assert "entries 3-4, 5" in outcome.error_description


def test_get_report_status_of_the_whole_and_of_each_part():
    payload = {"requestId": 7, "componentVariable": [{"component": {"name": f"C{i}"}} for i in range(3)]}
    plan = b.split("GetReport", payload, b.Limits(1))
    said = lambda i, status: c.Outcome(c.COMPLETED, "GetReport", plan.chunks[i].payload, {"status": status})
    outcome = b.merge(plan, [said(0, "EmptyResultSet"), said(1, "Accepted"), said(2, "EmptyResultSet")])
    assert (outcome.state, outcome.status) == (c.COMPLETED, "Accepted")
    assert outcome.response["requests"] == [{"requestId": 7, "entries": 1, "status": "EmptyResultSet"},
                                            {"requestId": 8, "entries": 1, "status": "Accepted"},
                                            {"requestId": 9, "entries": 1, "status": "EmptyResultSet"}]
    empty = b.merge(plan, [said(i, "EmptyResultSet") for i in range(3)])
    assert empty.status == "EmptyResultSet"
    refused = c.Outcome(c.FAILED, "GetReport", plan.chunks[2].payload, error_code="OccurenceConstraintViolation")
    partly = b.merge(plan, [said(0, "Rejected"), said(1, "EmptyResultSet"), refused])
    assert (partly.state, partly.status, partly.error_code) == (c.FAILED, "Rejected", "OccurenceConstraintViolation")
    assert partly.response["requests"][2]["status"] is None
    assert "OccurenceConstraintViolation" in partly.response["requests"][2]["error"]


def test_request_ids_wrap_within_their_range():
    payload = {"requestId": b.MAX_REQUEST_ID, "componentVariable": [{"component": {"name": "A"}}] * 2}
    plan = b.split("GetReport", payload, b.Limits(1))
    assert [ch.payload["requestId"] for ch in plan.chunks] == [b.MAX_REQUEST_ID, 0]
