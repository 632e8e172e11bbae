"""The targets of issue 15, as every scenario reports them: measured next to the limit, ``ok`` or not, and
the distance. Reported, never asserted (the machine's load moves every number)."""

from collections.abc import Iterable
from typing import Any, TypedDict


class Target(TypedDict):
    """One target in the results JSON (a scenario's ``targets`` list)."""

    name: str
    measured: float | None
    """None: not measured (the scenario could not), which counts as missed."""
    limit: float
    at_most: bool
    """True: the measured value must not exceed the limit; False: it must reach it."""
    unit: str
    ok: bool
    distance: float | None
    """``measured - limit``: how far past the limit (positive for an ``at_most`` miss, negative for an
    ``at_least`` one)."""


def at_most(name: str, measured: float | None, limit: float, unit: str = "") -> Target:
    """A target the measured value must not exceed."""
    return _target(name, measured, limit, True, unit)


def at_least(name: str, measured: float | None, limit: float, unit: str = "") -> Target:
    """A target the measured value must reach."""
    return _target(name, measured, limit, False, unit)


def _target(name: str, measured: float | None, limit: float, most: bool, unit: str) -> Target:
    ok = measured is not None and (measured <= limit if most else measured >= limit)
    distance = None if measured is None else round(measured - limit, 3)
    return Target(
        name=name, measured=measured, limit=limit, at_most=most, unit=unit, ok=ok, distance=distance
    )


def verdict(target: Target) -> str:
    """``ok`` or ``MISSED by <distance>``, with the unit."""
    if target["ok"]:
        return "ok"
    if target["distance"] is None:
        return "MISSED (not measured)"
    return f"MISSED by {amount(abs(target['distance']))}{target['unit'] and ' ' + target['unit']}"


def amount(value: float) -> str:
    """A measured amount for people: three significant digits, thousands separated, never exponents."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def every(scenarios: dict[str, Any]) -> Iterable[tuple[str, Target]]:
    """Every target reported by the scenarios that ran, with the scenario's name."""
    for name, result in scenarios.items():
        for target in result.get("targets", ()):
            yield name, target
