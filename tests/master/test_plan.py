"""plan(): the master's every decision, on plain data."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from master.model import Action, ObservedContainer, RemoveDead, StartWorker, StopWorker
from master.plan import Backoff, plan

pytestmark = pytest.mark.unit

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def container(
    id: str, language: str = "python", state: str = "running", *, cluster: str = "dev", age_s: float = 60
) -> ObservedContainer:
    started = NOW - timedelta(seconds=age_s)
    ended = state in ("exited", "dead")
    return ObservedContainer(
        id=id,
        name=f"executioner-{cluster}-{language}-{id}",
        cluster=cluster,
        language=language,
        state=state,
        created_at=started,
        started_at=started,
        finished_at=NOW - timedelta(seconds=1) if ended else None,
        exit_code=1 if ended else None,
    )


def ids(actions: Sequence[Action], kind: type[StopWorker | RemoveDead]) -> list[str]:
    return [a.container.id for a in actions if isinstance(a, kind)]


def starts(actions: Sequence[Action]) -> list[str]:
    return [a.language for a in actions if isinstance(a, StartWorker)]


def test_scale_up_from_nothing() -> None:
    assert plan({"python": 3}, [], cluster="dev", now=NOW) == [StartWorker("python")] * 3


def test_at_the_desired_count_nothing_happens() -> None:
    observed = [container("a"), container("b")]
    assert plan({"python": 2}, observed, cluster="dev", now=NOW) == []


def test_scale_down_stops_the_youngest() -> None:
    observed = [container("old", age_s=3600), container("young", age_s=10), container("mid", age_s=600)]
    actions = plan({"python": 1}, observed, cluster="dev", now=NOW)
    assert ids(actions, StopWorker) == ["young", "mid"]
    assert starts(actions) == []


def test_scale_down_stops_workers_that_do_not_run_first() -> None:
    observed = [container("young", age_s=10), container("paused", "python", "paused", age_s=3600)]
    assert ids(plan({"python": 1}, observed, cluster="dev", now=NOW), StopWorker) == ["paused"]


def test_workers_being_stopped_are_neither_counted_nor_stopped_again() -> None:
    observed = [container("a"), container("b"), container("draining")]
    assert plan({"python": 2}, observed, cluster="dev", now=NOW, stopping={"draining"}) == []
    assert starts(plan({"python": 3}, observed, cluster="dev", now=NOW, stopping={"draining"})) == ["python"]


def test_a_dead_worker_is_removed_and_replaced() -> None:
    observed = [container("ok"), container("dead", state="exited")]
    actions = plan({"python": 2}, observed, cluster="dev", now=NOW)
    assert ids(actions, RemoveDead) == ["dead"]
    assert starts(actions) == ["python"]


@pytest.mark.parametrize("state", ["exited", "dead", "created"])
def test_every_ended_state_is_removed(state: str) -> None:
    actions = plan({"python": 0}, [container("x", state=state)], cluster="dev", now=NOW)
    assert actions == [RemoveDead(container("x", state=state))]


def test_a_dead_worker_being_stopped_is_left_to_its_stop() -> None:
    observed = [container("done", state="exited")]
    assert plan({"python": 0}, observed, cluster="dev", now=NOW, stopping={"done"}) == []


def test_other_clusters_containers_are_ignored() -> None:
    observed = [
        container("theirs", cluster="prod"),
        container("their-dead", state="exited", cluster="prod"),
        container("their-other-language", "java", cluster="prod"),
    ]
    assert plan({"python": 1}, observed, cluster="dev", now=NOW) == [StartWorker("python")]


def test_several_languages_are_reconciled_independently() -> None:
    observed = [container("p1", "python"), container("p2", "python", age_s=1), container("c1", "cpp")]
    actions = plan({"python": 1, "cpp": 3, "java": 1}, observed, cluster="dev", now=NOW)
    assert ids(actions, StopWorker) == ["p2"]
    assert sorted(starts(actions)) == ["cpp", "cpp", "java"]


def test_a_language_nobody_asks_for_is_stopped() -> None:
    observed = [container("r1", "ruby"), container("p1", "python")]
    assert ids(plan({"python": 1}, observed, cluster="dev", now=NOW), StopWorker) == ["r1"]


def test_a_negative_desired_count_means_zero() -> None:
    assert ids(plan({"python": -2}, [container("a")], cluster="dev", now=NOW), StopWorker) == ["a"]


def test_a_language_that_cannot_start_still_has_its_dead_removed_and_surplus_stopped() -> None:
    observed = [container("dead", state="exited")]
    assert plan({"python": 1}, observed, cluster="dev", now=NOW, cannot_start={"python"}) == [
        RemoveDead(observed[0])
    ]
    surplus = [container("a"), container("b", age_s=1)]
    actions = plan({"python": 1}, surplus, cluster="dev", now=NOW, cannot_start={"python"})
    assert ids(actions, StopWorker) == ["b"]


def test_a_crash_loop_backs_off_exponentially() -> None:
    backoff = Backoff(base_s=1, max_s=60, window_s=600)

    def starts_after(failures_ago_s: list[float]) -> list[str]:
        failures = {"python": [NOW - timedelta(seconds=s) for s in failures_ago_s]}
        return starts(plan({"python": 1}, [], cluster="dev", now=NOW, failures=failures, backoff=backoff))

    assert starts_after([0.5]) == []  # one failure: wait 1 s
    assert starts_after([1.5]) == ["python"]
    assert starts_after([30, 20, 3]) == []  # three failures: wait 4 s after the last
    assert starts_after([30, 20, 5]) == ["python"]
    assert starts_after([900, 800, 700, 0.5]) == []  # old ones are forgotten: one recent failure
    assert starts_after([900, 800, 700, 1.5]) == ["python"]


def test_back_off_only_holds_back_the_failing_language() -> None:
    failures = {"python": [NOW]}
    actions = plan({"python": 1, "cpp": 1}, [], cluster="dev", now=NOW, failures=failures)
    assert starts(actions) == ["cpp"]


def test_back_off_does_not_stop_the_surviving_workers() -> None:
    failures = {"python": [NOW] * 5}
    observed = [container("survivor"), container("dead", state="exited")]
    actions = plan({"python": 2}, observed, cluster="dev", now=NOW, failures=failures)
    assert actions == [RemoveDead(observed[1])]


def test_backoff_delay_doubles_up_to_its_maximum() -> None:
    backoff = Backoff(base_s=1, max_s=10, window_s=600)
    assert [backoff.delay(n).total_seconds() for n in range(6)] == [0, 1, 2, 4, 8, 10]
    assert backoff.blocked_until([], NOW) is None
    assert backoff.blocked_until([NOW - timedelta(seconds=1)] * 2, NOW) == NOW + timedelta(seconds=1)
