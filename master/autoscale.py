"""The autoscaling step, as a pure function: one lag observation in, the pool's new desired count out.

A pool grows when its queue has asked for more workers on ``up_observations`` observations in a row,
straight to what the queue asks for. It shrinks when the queue has asked for fewer for a whole
``down_cooldown_s``, to the most it asked for meanwhile, so a short lull does not stop workers that the
next burst needs. It always stays within the admin's min/max
and never grows past what the host capacity budget leaves room for.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class AutoscalePolicy:
    """The knobs (``EXECUTIONER_AUTOSCALE_*``)."""

    target_lag: float
    """Jobs queued or running per worker the pool aims at."""
    up_observations: int
    down_cooldown_s: float


@dataclass(frozen=True, slots=True)
class AutoscaleState:
    """What one pool's autoscaler remembers between observations."""

    high_streak: int = 0
    """Observations in a row that asked for more workers."""
    low_since: datetime | None = None
    """Since when every observation asked for fewer workers."""
    low_peak: int = 0
    """The most workers asked for since ``low_since``."""


@dataclass(frozen=True, slots=True)
class AutoscaleDecision:
    """The outcome of one observation."""

    replicas: int
    """The pool's desired count from now on."""
    wanted: int
    """What the queue asks for, within min/max (before the capacity budget)."""
    state: AutoscaleState
    capped: bool = False
    """True when the budget held the pool below ``wanted``."""


def wanted_workers(lag: int, policy: AutoscalePolicy, minimum: int, maximum: int) -> int:
    """The workers a lag asks for, within ``minimum``..``maximum``."""
    return min(max(math.ceil(lag / policy.target_lag), minimum), maximum)


def autoscale(
    *,
    current: int,
    lag: int | None,
    minimum: int,
    maximum: int,
    capacity: int | None,
    policy: AutoscalePolicy,
    state: AutoscaleState,
    now: datetime,
) -> AutoscaleDecision:
    """Decide the desired count of one autoscaled pool after observing ``lag``.

    * ``current``: its desired count so far. Comparing the queue with it, not with the workers running,
      keeps workers that are still starting from being asked for twice.
    * ``lag``: jobs not yet done (queued or running); None when it could not be measured, which changes
      nothing but the min/max bounds.
    * ``capacity``: the most workers this pool can have within the budget (its own plus the free room),
      None for no limit. The budget never shrinks a pool and never pushes it below ``minimum``.
    """
    bounded = min(max(current, minimum), maximum)
    if lag is None:
        return AutoscaleDecision(bounded, bounded, state)
    wanted = wanted_workers(lag, policy, minimum, maximum)
    if bounded != current:  # the admin moved min/max: follow at once, and start counting afresh
        return AutoscaleDecision(bounded, wanted, AutoscaleState())
    if wanted > current:
        return _grow(
            current=current,
            wanted=wanted,
            minimum=minimum,
            capacity=capacity,
            policy=policy,
            state=state,
        )
    if wanted < current:
        return _shrink(current=current, wanted=wanted, policy=policy, state=state, now=now)
    return AutoscaleDecision(current, wanted, AutoscaleState())


def _grow(
    *,
    current: int,
    wanted: int,
    minimum: int,
    capacity: int | None,
    policy: AutoscalePolicy,
    state: AutoscaleState,
) -> AutoscaleDecision:
    streak = state.high_streak + 1
    fits = wanted if capacity is None else max(min(wanted, capacity), current, minimum)
    capped = fits < wanted
    if streak < policy.up_observations or fits == current:
        held = AutoscaleState(high_streak=streak)
        return AutoscaleDecision(current, wanted, held, capped=capped and streak >= policy.up_observations)
    return AutoscaleDecision(fits, wanted, AutoscaleState(), capped=capped)


def _shrink(
    *, current: int, wanted: int, policy: AutoscalePolicy, state: AutoscaleState, now: datetime
) -> AutoscaleDecision:
    low_since = state.low_since or now
    peak = max(state.low_peak, wanted) if state.low_since is not None else wanted
    if now - low_since >= timedelta(seconds=policy.down_cooldown_s):
        return AutoscaleDecision(peak, wanted, AutoscaleState())
    return AutoscaleDecision(current, wanted, AutoscaleState(low_since=low_since, low_peak=peak))
