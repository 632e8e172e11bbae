"""Placement over several hosts (master/placement.py, plan_hosts): capacity, spread, drains, faults and
the shortfall messages, on plain data."""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from master.model import Action, ObservedContainer, RemoveDead, StartWorker, StopWorker
from master.placement import HostView, WorkerSize, place
from master.plan import plan_hosts

pytestmark = pytest.mark.unit

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
SIZE = WorkerSize(cpus=1.0, memory_mb=1024)
ALL = frozenset({"python", "cpp"})


def host(
    name: str, cpus: float = 4, memory_mb: int = 8192, state: str = "up", languages: Iterable[str] = ALL
) -> HostView:
    return HostView(name, state, cpus, memory_mb, frozenset(languages))


def worker(
    id: str, host: str, language: str = "python", state: str = "running", age_s: int = 60
) -> ObservedContainer:
    started = NOW - timedelta(seconds=age_s)
    return ObservedContainer(id, f"w-{id}", "dev", language, state, started, started, host=host)


def spread(starts: Sequence[StartWorker]) -> dict[tuple[str, str], int]:
    return dict(Counter((s.host, s.language) for s in starts))


@pytest.mark.parametrize(
    ("wanted", "hosts", "existing", "expected", "problems"),
    [
        pytest.param(
            {"python": 4},
            [host("a"), host("b")],
            [],
            {("a", "python"): 2, ("b", "python"): 2},
            {},
            id="spread-evenly",
        ),
        pytest.param(
            {"python": 3},
            [host("a", cpus=8), host("b", cpus=2)],
            [],
            {("a", "python"): 3},
            {},
            id="most-free-room-first",
        ),
        pytest.param(
            {"python": 2},
            [host("a"), host("b")],
            [worker("x", "a"), worker("y", "a")],
            {("b", "python"): 2},
            {},
            id="existing-workers-take-room",
        ),
        pytest.param(
            {"python": 4},
            [host("a", memory_mb=2048), host("b", cpus=1)],
            [],
            {("a", "python"): 2, ("b", "python"): 1},
            {"python": "1 worker(s) do not fit on the up hosts: needs 1 more CPUs and 1024 MB more memory"},
            id="memory-and-cpu-each-bound",
        ),
        pytest.param(
            {"python": 5},
            [host("a", cpus=2), host("b", cpus=1)],
            [],
            {("a", "python"): 2, ("b", "python"): 1},
            {"python": "2 worker(s) do not fit on the up hosts: needs 2 more CPUs"},
            id="short-of-cpus",
        ),
        pytest.param(
            {"python": 2},
            [host("a", cpus=8, memory_mb=1536)],
            [],
            {("a", "python"): 1},
            {"python": "1 worker(s) do not fit on the up hosts: needs 1024 MB more memory"},
            id="short-of-memory",
        ),
        pytest.param(
            {"python": 1},
            [host("a", state="draining"), host("b", state="down")],
            [],
            {},
            {"python": "1 worker(s) not started: no host is up"},
            id="no-host-up",
        ),
        pytest.param(
            {"python": 1, "cpp": 1},
            [host("a", languages={"cpp"})],
            [],
            {("a", "cpp"): 1},
            {"python": "1 worker(s) not started: no up host has the python image"},
            id="image-missing",
        ),
        pytest.param(
            {"python": 3, "cpp": 1},
            [host("a", cpus=2)],
            [],
            {("a", "cpp"): 1, ("a", "python"): 1},
            {"python": "2 worker(s) do not fit on the up hosts: needs 2 more CPUs"},
            id="languages-take-turns",
        ),
        pytest.param(
            {"python": 3},
            [host("a", cpus=0.3)],
            [],
            {},
            {"python": "3 worker(s) do not fit on the up hosts: needs 3 more CPUs"},
            id="host-smaller-than-a-worker",
        ),
    ],
)
def test_place(
    wanted: dict[str, int],
    hosts: list[HostView],
    existing: list[ObservedContainer],
    expected: dict[tuple[str, str], int],
    problems: dict[str, str],
) -> None:
    placement = place(wanted, hosts, existing, SIZE)
    assert spread(placement.starts) == expected
    assert placement.problems == problems


def test_fractional_cpus_fit_exactly() -> None:
    placement = place({"python": 3}, [host("a", cpus=0.3)], [], WorkerSize(cpus=0.1, memory_mb=64))
    assert spread(placement.starts) == {("a", "python"): 3}


def test_dead_containers_take_no_room_stopping_ones_do() -> None:
    existing = [worker("dead", "a", state="exited"), worker("live", "a")]
    assert spread(place({"python": 5}, [host("a", cpus=4)], existing, SIZE).starts) == {("a", "python"): 3}


def test_never_over_capacity_whatever_is_asked() -> None:
    hosts = [host("a", cpus=3), host("b", cpus=2, memory_mb=1024)]
    for count in range(12):
        placed = spread(place({"python": count, "cpp": count}, hosts, [], SIZE).starts)
        assert sum(n for (h, _), n in placed.items() if h == "a") <= 3
        assert sum(n for (h, _), n in placed.items() if h == "b") <= 1


def starts(actions: Sequence[Action]) -> dict[tuple[str, str], int]:
    return spread([a for a in actions if isinstance(a, StartWorker)])


def stopped(actions: Sequence[Action]) -> list[str]:
    return sorted(a.container.id for a in actions if isinstance(a, StopWorker))


def test_a_down_host_workers_are_placed_on_the_others() -> None:
    observed = [worker("a1", "a"), worker("a2", "a"), worker("b1", "b"), worker("b2", "b")]
    hosts = [host("a"), host("b", state="down")]
    result = plan_hosts({"python": 4}, observed, hosts, size=SIZE, cluster="dev", now=NOW)
    assert starts(result.actions) == {("a", "python"): 2}
    assert stopped(result.actions) == [] and result.problems == {}


def test_an_unreachable_host_still_counts_and_is_left_alone() -> None:
    observed = [worker("a1", "a"), worker("b1", "b"), worker("b2", "b", state="exited")]
    hosts = [host("a"), host("b", state="unreachable")]
    assert plan_hosts({"python": 2}, observed, hosts, size=SIZE, cluster="dev", now=NOW).actions == []


def test_a_host_back_from_down_is_not_doubled() -> None:
    # b came back holding its old workers while their replacements run on a: the surplus is stopped.
    observed = [worker(f"a{i}", "a", age_s=10) for i in range(4)] + [worker("b1", "b", age_s=900)]
    hosts = [host("a", cpus=8), host("b")]
    result = plan_hosts({"python": 4}, observed, hosts, size=SIZE, cluster="dev", now=NOW)
    assert starts(result.actions) == {} and len(stopped(result.actions)) == 1


def test_drain_starts_the_replacement_first_then_stops_the_old() -> None:
    hosts = [host("a"), host("b", state="draining")]
    first = plan_hosts(
        {"python": 2}, [worker("a1", "a"), worker("b1", "b")], hosts, size=SIZE, cluster="dev", now=NOW
    )
    assert starts(first.actions) == {("a", "python"): 1} and stopped(first.actions) == []
    starting = [worker("a1", "a"), worker("a2", "a", state="restarting"), worker("b1", "b")]
    assert (
        stopped(plan_hosts({"python": 2}, starting, hosts, size=SIZE, cluster="dev", now=NOW).actions) == []
    )
    replaced = [worker("a1", "a"), worker("a2", "a"), worker("b1", "b"), worker("b9", "b", state="exited")]
    last = plan_hosts({"python": 2}, replaced, hosts, size=SIZE, cluster="dev", now=NOW)
    assert stopped(last.actions) == ["b1"] and starts(last.actions) == {}
    assert [a.container.id for a in last.actions if isinstance(a, RemoveDead)] == ["b9"]


def test_a_drain_with_nowhere_to_go_keeps_the_workers_and_says_why() -> None:
    hosts = [host("a", cpus=1), host("b", state="draining")]
    observed = [worker("a1", "a"), worker("b1", "b")]
    result = plan_hosts({"python": 2}, observed, hosts, size=SIZE, cluster="dev", now=NOW)
    assert stopped(result.actions) == [] and starts(result.actions) == {}
    assert result.problems == {"python": "1 worker(s) do not fit on the up hosts: needs 1 more CPUs"}
