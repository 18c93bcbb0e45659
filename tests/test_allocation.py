"""The allocation rules (``wattson.loadmgmt.allocation``, no I/O), one by one on small examples
worked out by hand. Generated trees and demands are in test_allocation_properties.py."""

from datetime import datetime, timedelta, timezone

import pytest

from wattson.loadmgmt.allocation import (HEADROOM_A, Allocation, CircuitNode, Demand, allocate, circuit_paths,
                                         required_current, usage_cap)

T0 = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)


def limits(result: dict) -> dict:
    return {key[0]: allocation.limit_a for key, allocation in result.items()}


def ev(name: str, circuit: int = 1, **fields) -> Demand:
    return Demand((name, 1), circuit, **fields)


def test_equal_share_on_one_circuit():
    result = allocate([CircuitNode(1, None, 63.0)], [ev("a"), ev("b"), ev("c")])
    assert limits(result) == pytest.approx({"a": 21.0, "b": 21.0, "c": 21.0})
    assert result["a", 1] == Allocation(("a", 1), pytest.approx(21.0), 3)


def test_what_a_demand_cannot_take_goes_to_the_others():
    result = allocate([CircuitNode(1, None, 63.0)], [ev("a", max_a=10.0), ev("b"), ev("c")])
    assert limits(result) == pytest.approx({"a": 10.0, "b": 26.5, "c": 26.5})


def test_plenty_of_capacity_gives_everyone_its_maximum():
    result = allocate([CircuitNode(1, None, 400.0)], [ev("a", max_a=16.0), ev("b")])
    assert limits(result) == {"a": 16.0, "b": 32.0}


def test_margin_and_unmanaged_load_come_off_each_phase():
    circuit = CircuitNode(1, None, 100.0, safety_margin_a=5.0, unmanaged_a=(30.0, 10.0, 0.0))
    result = allocate([circuit], [ev("a"), ev("b"), ev("c")])
    assert limits(result) == pytest.approx({"a": 65 / 3, "b": 65 / 3, "c": 65 / 3})  # L1 binds: 100 - 5 - 30


def test_single_phase_evses_on_rotated_phases():
    # L1: a, b and d; L2: c and d; L3: d. L1 saturates first at 20/3, then c has L2 to itself.
    demands = [ev("a", phases=(0,)), ev("b", phases=(0,)), ev("c", phases=(1,)), ev("d", phases=(1, 2, 0))]
    result = allocate([CircuitNode(1, None, 20.0)], demands)
    assert limits(result) == pytest.approx({"a": 20 / 3, "b": 20 / 3, "c": 40 / 3, "d": 20 / 3})
    assert result["c", 1].phases == 1 and result["d", 1].phases == 3


def test_a_parent_limit_binds_its_children():
    circuits = [CircuitNode(1, None, 40.0), CircuitNode(2, 1, 16.0), CircuitNode(3, 1, 32.0)]
    result = allocate(circuits, [ev("a", 2), ev("b", 2), ev("c", 3)])
    assert limits(result) == pytest.approx({"a": 8.0, "b": 8.0, "c": 24.0})  # circuit 2 full at 8, the root at 24


def test_unmanaged_load_of_a_sub_circuit_loads_its_parents_too():
    circuits = [CircuitNode(1, None, 40.0), CircuitNode(2, 1, 32.0, unmanaged_a=(20.0, 20.0, 20.0)),
                CircuitNode(3, 1, 32.0)]
    assert limits(allocate(circuits, [ev("a", 3)])) == pytest.approx({"a": 20.0})


def test_a_margin_counts_on_its_own_circuit_only():
    circuits = [CircuitNode(1, None, 40.0, safety_margin_a=4.0), CircuitNode(2, 1, 40.0, safety_margin_a=10.0)]
    assert limits(allocate(circuits, [ev("a", 2, max_a=63.0)])) == pytest.approx({"a": 30.0})
    assert limits(allocate(circuits, [ev("a", 1, max_a=63.0)])) == pytest.approx({"a": 36.0})


def test_power_cap():
    circuit = CircuitNode(1, None, 63.0, max_power_w=22080.0)  # 32 A on three phases at 230 V
    assert limits(allocate([circuit], [ev("a"), ev("b"), ev("c")])) == pytest.approx(
        {"a": 32 / 3, "b": 32 / 3, "c": 32 / 3})
    # a single-phase EV weighs a third: 2 * 690 W/A + 230 W/A = 1610 W per ampere of level
    result = allocate([circuit], [ev("a"), ev("b"), ev("c", phases=(2,))])
    assert limits(result) == pytest.approx({"a": 22080 / 1610, "b": 22080 / 1610, "c": 22080 / 1610})


def test_power_cap_counts_unmanaged_load_but_not_the_margin():
    circuit = CircuitNode(1, None, 63.0, max_power_w=23000.0, safety_margin_a=3.0, unmanaged_a=(10.0, 0.0, 0.0))
    assert limits(allocate([circuit], [ev("a", max_a=63.0)])) == pytest.approx({"a": (23000 / 230 - 10) / 3})


def test_pausing_keeps_the_oldest_sessions():
    circuit = CircuitNode(1, None, 16.0, phases=1)
    demands = [ev(name, phases=(0,), since=T0 + timedelta(minutes=i)) for i, name in enumerate("abc")]
    assert limits(allocate([circuit], demands)) == {"a": 8.0, "b": 8.0, "c": 0.0}


def test_priority_goes_before_age_and_the_key_breaks_ties():
    circuit = CircuitNode(1, None, 16.0, phases=1)
    demands = [ev("a", phases=(0,), since=T0), ev("b", phases=(0,), since=T0 + timedelta(minutes=1)),
               ev("c", phases=(0,), since=T0 + timedelta(minutes=2), priority=1)]
    assert limits(allocate([circuit], demands)) == {"a": 8.0, "b": 0.0, "c": 8.0}
    same = [ev(name, phases=(0,)) for name in "cab"]
    assert limits(allocate([circuit], same)) == {"a": 8.0, "b": 8.0, "c": 0.0}


def test_an_unknown_start_counts_as_the_newest():
    circuit = CircuitNode(1, None, 12.0, phases=1)
    demands = [ev("a", phases=(0,)), ev("b", phases=(0,), since=T0.replace(tzinfo=None)),
               ev("c", phases=(0,), since=T0 + timedelta(minutes=1))]
    assert limits(allocate([circuit], demands)) == {"a": 0.0, "b": 6.0, "c": 6.0}


def test_pausing_on_one_circuit_does_not_pause_others():
    circuits = [CircuitNode(1, None, 100.0), CircuitNode(2, 1, 12.0), CircuitNode(3, 1, 100.0)]
    demands = [ev("a", 2, since=T0), ev("b", 2, since=T0), ev("c", 2, since=T0), ev("d", 3, priority=-1)]
    assert limits(allocate(circuits, demands)) == {"a": 6.0, "b": 6.0, "c": 0.0, "d": 32.0}


def test_a_smaller_ev_still_charges_where_a_bigger_minimum_does_not_fit():
    circuit = CircuitNode(1, None, 14.0)
    demands = [ev("a", min_a=6.0, priority=2), ev("b", min_a=10.0, priority=1), ev("c", min_a=6.0)]
    assert limits(allocate([circuit], demands)) == {"a": 7.0, "b": 0.0, "c": 7.0}


def test_an_ev_whose_maximum_is_below_its_minimum_is_paused():
    result = allocate([CircuitNode(1, None, 20.0)], [ev("a", max_a=4.0), ev("b")])
    assert limits(result) == {"a": 0.0, "b": 20.0}


def test_a_minimum_of_zero_never_pauses():
    result = allocate([CircuitNode(1, None, 10.0)], [ev(name, min_a=0.0) for name in "abcd"])
    assert limits(result) == pytest.approx({"a": 2.5, "b": 2.5, "c": 2.5, "d": 2.5})


def test_what_a_session_does_not_use_goes_to_the_others():
    demands = [ev("a", drawn_a=4.0, offered_a=16.0), ev("b", drawn_a=16.0, offered_a=16.0)]
    assert limits(allocate([CircuitNode(1, None, 32.0)], demands)) == {"a": 6.0, "b": 26.0}


@pytest.mark.parametrize("drawn, offered, cap", [
    (None, 16.0, 32.0),      # nothing known: its maximum
    (10.0, 16.0, 12.0),      # clearly less: its draw plus headroom
    (1.0, 16.0, 6.0),        # never below the minimum
    (-0.3, None, 6.0),       # a meter's noise below zero is zero
    (15.2, 16.0, 32.0),      # near its offer: it wants more
    (14.5, 16.0, 16.0),      # in between: the offer holds
    (14.0, 16.0, 16.0),
    (13.9, 16.0, 15.9),
    (10.0, None, 12.0),      # offer unknown: draw plus headroom
    (0.0, 0.0, 32.0),        # paused until now: may take everything again
    (40.0, 32.0, 32.0),      # never above the maximum
])
def test_usage_cap(drawn, offered, cap):
    assert usage_cap(ev("a", drawn_a=drawn, offered_a=offered)) == pytest.approx(cap)


def test_a_capped_offer_is_stable():
    offer = usage_cap(ev("a", drawn_a=12.0, offered_a=20.0))
    assert offer == 12.0 + HEADROOM_A
    assert usage_cap(ev("a", drawn_a=12.0, offered_a=offer)) == offer


def test_usage_cap_of_an_ev_that_cannot_charge():
    assert usage_cap(ev("a", max_a=4.0, drawn_a=3.0)) == 0.0


def test_refused_profiles_count_at_their_maximum_and_are_not_limited():
    demands = [ev("a", managed=False, max_a=16.0, drawn_a=2.0), ev("b"), ev("c")]
    result = allocate([CircuitNode(1, None, 40.0)], demands)
    assert limits(result) == {"a": 16.0, "b": 12.0, "c": 12.0}


def test_unmanaged_load_alone_over_the_limit_pauses_the_managed_demands_under_it():
    circuits = [CircuitNode(1, None, 100.0), CircuitNode(2, 1, 32.0, unmanaged_a=(30.0, 0.0, 0.0)),
                CircuitNode(3, 1, 32.0)]
    result = allocate(circuits, [ev("a", 2), ev("b", 2, phases=(1,)), ev("c", 3)])
    assert limits(result) == {"a": 0.0, "b": 32.0, "c": 32.0}
    over = [CircuitNode(1, None, 20.0), CircuitNode(2, 1, 63.0)]
    result = allocate(over, [ev("a", 2, managed=False), ev("b", 2)])
    assert limits(result) == {"a": 32.0, "b": 0.0}


def test_a_single_phase_circuit_has_no_l2_or_l3():
    circuits = [CircuitNode(1, None, 63.0), CircuitNode(2, 1, 32.0, phases=1)]
    result = allocate(circuits, [ev("a", 2, phases=(0,)), ev("b", 2, phases=(1,)), ev("c", 2)])
    assert limits(result) == {"a": 32.0, "b": 0.0, "c": 0.0}


def test_priority_strategy_fills_the_highest_class_first():
    demands = [ev("a", priority=2), ev("b", priority=1), ev("c")]
    circuit = CircuitNode(1, None, 32.0)
    assert limits(allocate([circuit], demands, "priority")) == {"a": 20.0, "b": 6.0, "c": 6.0}
    demands[0] = ev("a", priority=2, max_a=16.0)
    assert limits(allocate([circuit], demands, "priority")) == {"a": 16.0, "b": 10.0, "c": 6.0}
    assert limits(allocate([circuit], demands, "equal")) == pytest.approx({"a": 32 / 3, "b": 32 / 3, "c": 32 / 3})


def test_departure_strategy_serves_the_required_current_first():
    now = T0
    # 22 080 Wh in 2 h on three phases at 230 V: 16 A
    urgent = ev("a", departure=now + timedelta(hours=2), energy_needed_wh=22080.0)
    assert required_current(urgent, 230.0, now) == pytest.approx(16.0)
    circuit = CircuitNode(1, None, 28.0)
    result = allocate([circuit], [urgent, ev("b")], "departure", now=now)
    assert limits(result) == pytest.approx({"a": 16.0, "b": 12.0})
    assert limits(allocate([circuit], [urgent, ev("b")], "equal")) == pytest.approx({"a": 14.0, "b": 14.0})


def test_departure_strategy_shares_fairly_when_requirements_do_not_fit():
    now = T0
    demands = [ev("a", departure=now + timedelta(hours=1), energy_needed_wh=20700.0),  # 30 A
               ev("b", departure=now + timedelta(hours=1), energy_needed_wh=6900.0),   # 10 A
               ev("c")]
    result = allocate([CircuitNode(1, None, 36.0)], demands, "departure", now=now.replace(tzinfo=None))
    assert limits(result) == pytest.approx({"a": 20.0, "b": 10.0, "c": 6.0})


def test_departure_due_or_needs_unknown():
    now = T0
    late = ev("a", departure=now - timedelta(minutes=1), energy_needed_wh=1000.0)
    assert required_current(late, 230.0, now) == float("inf")
    assert required_current(ev("b", departure=now + timedelta(hours=1)), 230.0, now) == 0.0
    assert required_current(ev("b", energy_needed_wh=5000.0), 230.0, now) == 0.0
    result = allocate([CircuitNode(1, None, 28.0)], [late, ev("b")], "departure", now=now)
    assert limits(result) == pytest.approx({"a": 22.0, "b": 6.0})


def test_every_demand_gets_an_allocation_and_no_demand_nothing():
    assert allocate([CircuitNode(1, None, 10.0)], []) == {}
    assert allocate([], []) == {}


def test_circuit_paths():
    circuits = [CircuitNode(3, 2, 10.0), CircuitNode(1, None, 10.0), CircuitNode(2, 1, 10.0), CircuitNode(4, 1, 1.0)]
    assert circuit_paths(circuits) == {1: (1,), 2: (2, 1), 3: (3, 2, 1), 4: (4, 1)}


@pytest.mark.parametrize("circuits, demands, strategy, message", [
    ([CircuitNode(1, None, 10.0)], [], "greedy", "unknown strategy"),
    ([CircuitNode(1, None, 10.0)], [ev("a", 2)], "equal", "circuit 2, which is not given"),
    ([CircuitNode(1, 2, 10.0), CircuitNode(2, 1, 10.0)], [], "equal", "cycle"),
    ([CircuitNode(1, 1, 10.0)], [], "equal", "cycle"),
    ([CircuitNode(1, 9, 10.0)], [], "equal", "parent 9 is not given"),
    ([CircuitNode(1, None, 10.0), CircuitNode(1, None, 20.0)], [], "equal", "given twice"),
    ([CircuitNode(1, None, 10.0, phases=2)], [], "equal", "1 or 3"),
    ([CircuitNode(1, None, 10.0)], [ev("a"), ev("a")], "equal", "two demands"),
    ([CircuitNode(1, None, 10.0)], [ev("a", phases=())], "equal", "phases"),
    ([CircuitNode(1, None, 10.0)], [ev("a", phases=(0, 0))], "equal", "phases"),
    ([CircuitNode(1, None, 10.0)], [ev("a", phases=(3,))], "equal", "phases"),
    ([CircuitNode(1, None, 10.0)], [ev("a", min_a=-1.0)], "equal", "not negative"),
    ([CircuitNode(1, None, 10.0)], [ev("a", drawn_a=float("nan"))], "equal", "finite"),
])
def test_bad_input_is_a_clear_error(circuits, demands, strategy, message):
    with pytest.raises(ValueError, match=message):
        allocate(circuits, demands, strategy)
