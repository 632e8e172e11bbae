"""autoscale(): every sizing decision of an autoscaled pool, on plain data."""

from datetime import UTC, datetime, timedelta

import pytest

from master.autoscale import AutoscaleDecision, AutoscalePolicy, AutoscaleState, autoscale, wanted_workers

pytestmark = pytest.mark.unit

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
POLICY = AutoscalePolicy(target_lag=2, up_observations=3, down_cooldown_s=60)
FRESH = AutoscaleState()


def observe(
    current: int,
    lag: int | None,
    *,
    state: AutoscaleState = FRESH,
    at_s: float = 0,
    bounds: tuple[int, int] = (1, 8),
    capacity: int | None = None,
) -> AutoscaleDecision:
    return autoscale(
        current=current,
        lag=lag,
        minimum=bounds[0],
        maximum=bounds[1],
        capacity=capacity,
        policy=POLICY,
        state=state,
        now=T0 + timedelta(seconds=at_s),
    )


def run(
    current: int, lags: list[int | None], *, every_s: float = 2, bounds: tuple[int, int] = (1, 8)
) -> list[int]:
    """Feed observations ``every_s`` apart; the desired count after each."""
    state, sizes = FRESH, []
    for i, lag in enumerate(lags):
        decision = observe(current, lag, state=state, at_s=i * every_s, bounds=bounds)
        state, current = decision.state, decision.replicas
        sizes.append(current)
    return sizes


def test_workers_wanted_is_lag_over_target_within_bounds() -> None:
    assert [wanted_workers(lag, POLICY, 1, 4) for lag in (0, 1, 2, 3, 7, 8, 100)] == [1, 1, 1, 2, 4, 4, 4]
    assert wanted_workers(0, POLICY, 0, 4) == 0


def test_grows_only_after_enough_observations_in_a_row_then_straight_to_what_is_wanted() -> None:
    assert run(1, [9, 9, 9]) == [1, 1, 5]


def test_a_dip_restarts_the_count() -> None:
    assert run(1, [9, 9, 2, 9, 9, 9]) == [1, 1, 1, 1, 1, 5]


def test_growth_stops_at_max() -> None:
    assert run(1, [100, 100, 100], bounds=(1, 3)) == [1, 1, 3]


def test_shrinks_only_after_the_cool_down_to_the_most_asked_for_meanwhile() -> None:
    # lag 4 asks for 2, lag 0 for 1: after 60 s below 5 the pool keeps the 2 the lull still needed.
    assert run(5, [4, 0, 0, 0, 0, 0, 0, 0], every_s=10) == [5, 5, 5, 5, 5, 5, 2, 2]
    # and, a cool-down later, the rest
    assert run(2, [0] * 8, every_s=10) == [2, 2, 2, 2, 2, 2, 1, 1]


def test_the_cool_down_counts_from_the_first_low_observation_after_growing() -> None:
    grown = observe(1, 9, state=AutoscaleState(high_streak=2))
    assert grown.replicas == 5
    state = grown.state
    for at_s in (10, 30, 69):
        decision = observe(5, 0, state=state, at_s=at_s)
        assert decision.replicas == 5
        state = decision.state
    assert observe(5, 0, state=state, at_s=70).replicas == 1


def test_a_burst_during_the_cool_down_cancels_it() -> None:
    # low from 0 s, a burst at 30 s, low again from 40 s: the shrink waits until 100 s
    assert run(4, [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0], every_s=10) == [4] * 10 + [1]


def test_min_and_max_apply_at_once() -> None:
    assert observe(1, 0, bounds=(3, 8)).replicas == 3
    assert observe(6, 100, bounds=(1, 4)).replicas == 4


def test_unknown_lag_keeps_the_size_within_bounds() -> None:
    assert run(3, [None] * 10) == [3] * 10
    assert observe(9, None, bounds=(1, 4)).replicas == 4


def test_scales_up_from_zero() -> None:
    assert run(0, [1, 1, 1], bounds=(0, 4)) == [0, 0, 1]
    assert run(1, [0] * 8, every_s=10, bounds=(0, 4))[-1] == 0


def test_capacity_caps_growth_and_says_so() -> None:
    decision = observe(1, 20, state=AutoscaleState(high_streak=2), capacity=3)
    assert (decision.replicas, decision.wanted, decision.capped) == (3, 8, True)


def test_a_full_budget_holds_the_pool_and_growth_resumes_when_room_appears() -> None:
    full = observe(2, 20, state=AutoscaleState(high_streak=2), capacity=2)
    assert (full.replicas, full.capped) == (2, True)
    assert observe(2, 20, state=full.state, at_s=2, capacity=6).replicas == 6


def test_capacity_never_shrinks_a_pool_nor_pushes_it_below_min() -> None:
    assert observe(4, 20, state=AutoscaleState(high_streak=2), capacity=2).replicas == 4
    assert observe(1, 0, bounds=(3, 8), capacity=1).replicas == 3


def test_steady_lag_changes_nothing() -> None:
    assert run(2, [4, 3, 4, 3] * 5) == [2] * 20
