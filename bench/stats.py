"""Summaries of measured samples."""

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(samples: Sequence[float]) -> dict[str, float]:
    """Count, mean, p50/p95/p99 and max of millisecond samples, rounded to 0.1 ms."""
    if not samples:
        return {"count": 0}
    return {
        "count": len(samples),
        "mean": round(sum(samples) / len(samples), 1),
        "p50": round(percentile(samples, 50), 1),
        "p95": round(percentile(samples, 95), 1),
        "p99": round(percentile(samples, 99), 1),
        "max": round(max(samples), 1),
    }


def slices(samples: Sequence[float], count: int) -> list[list[float]]:
    """``samples`` (in the order they happened) cut into ``count`` consecutive slices of nearly equal
    size (fewer when there are fewer samples)."""
    parts = min(count, len(samples))
    return [list(samples[len(samples) * n // parts : len(samples) * (n + 1) // parts]) for n in range(parts)]


def ratio(value: float, reference: float) -> float | None:
    """``value / reference`` rounded to 3 places; None when there is no reference."""
    if not reference or math.isnan(reference) or math.isnan(value):
        return None
    return round(value / reference, 3)
