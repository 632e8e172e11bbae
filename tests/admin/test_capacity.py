"""The host capacity budget: how many workers fit, and which starts the master leaves out."""

from datetime import UTC, datetime

import pytest

from master.capacity import NO_BUDGET, Budget, occupying, within_budget, worker_budget
from master.model import Action, ObservedContainer, RemoveDead, StartWorker

pytestmark = pytest.mark.unit

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def container(id: str, state: str) -> ObservedContainer:
    return ObservedContainer(id, f"w-{id}", "dev", "python", state, created_at=NOW)


def test_the_tighter_of_cpus_and_memory_sets_the_budget() -> None:
    by_cpu = worker_budget(cpus=2.0, memory_mb=16_384, worker_cpus=0.5, worker_memory_mb=1280)
    assert (by_cpu.workers, by_cpu.reason) == (4, "2 CPUs at 0.5 per worker")
    by_memory = worker_budget(cpus=8.0, memory_mb=4096, worker_cpus=0.5, worker_memory_mb=1280)
    assert (by_memory.workers, by_memory.reason) == (3, "4096 MB of memory at 1280 MB per worker")


def test_fractional_cpus_divide_exactly() -> None:
    assert worker_budget(cpus=0.3, memory_mb=None, worker_cpus=0.1, worker_memory_mb=64).workers == 3


def test_without_limits_anything_fits() -> None:
    assert worker_budget(cpus=None, memory_mb=None, worker_cpus=1, worker_memory_mb=64) == NO_BUDGET
    assert NO_BUDGET.room(1000) is None


def test_dead_containers_hold_nothing_stopping_ones_do() -> None:
    states = ["running", "exited", "dead", "created", "restarting", "paused", "removing"]
    assert occupying([container(str(i), s) for i, s in enumerate(states)]) == 4


def test_starts_that_fit_are_kept_and_the_rest_counted_per_language() -> None:
    dead = RemoveDead(container("x", "exited"))
    actions: list[Action] = [dead, *[StartWorker("python")] * 3, *[StartWorker("cpp")] * 2]
    kept, deferred = within_budget(actions, occupied=2, budget=Budget(5, "test"))
    assert kept[0] == dead  # removals are never held back
    # three free slots, shared in turns: python, cpp, python
    assert sorted(a.language for a in kept if isinstance(a, StartWorker)) == ["cpp", "python", "python"]
    assert deferred == {"python": 1, "cpp": 1}


def test_a_full_budget_starts_nothing() -> None:
    kept, deferred = within_budget([StartWorker("python")], occupied=6, budget=Budget(5, "test"))
    assert (kept, deferred) == ([], {"python": 1})


def test_everything_fits_untouched() -> None:
    actions: list[Action] = [StartWorker("python"), StartWorker("cpp")]
    assert within_budget(actions, occupied=0, budget=Budget(2, "test")) == (actions, {})
