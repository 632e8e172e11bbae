"""FailureHistory: the back-off's memory and the report's last errors."""

from datetime import UTC, datetime, timedelta

import pytest

from master.failures import FailureHistory
from master.model import ObservedContainer

pytestmark = pytest.mark.unit

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def dead(id: str, language: str = "python", ended_s_ago: float = 1) -> ObservedContainer:
    return ObservedContainer(
        id=id,
        name=f"w-{id}",
        cluster="dev",
        language=language,
        state="exited",
        created_at=NOW - timedelta(minutes=5),
        finished_at=NOW - timedelta(seconds=ended_s_ago),
        exit_code=137,
        oom_killed=True,
    )


def test_a_dead_container_is_recorded_once_with_its_end_time() -> None:
    history = FailureHistory(window_s=600)
    new = history.record_dead([dead("a")], NOW)
    assert [(f.container_name, f.exit_code, f.oom_killed, f.at) for f in new] == [
        ("w-a", 137, True, NOW - timedelta(seconds=1))
    ]
    assert history.record_dead([dead("a")], NOW) == []  # seen again: removing it failed
    assert history.times(NOW) == {"python": [NOW - timedelta(seconds=1)]}


def test_logs_are_attached_to_the_container_s_failure() -> None:
    history = FailureHistory(window_s=600)
    history.record_dead([dead("a"), dead("b")], NOW)
    history.attach_logs("b", "Traceback...\n")
    assert {f.container_name: f.logs for f in history.latest("python")} == {
        "w-a": "",
        "w-b": "Traceback...\n",
    }


def test_start_errors_count_as_failures() -> None:
    history = FailureHistory(window_s=600)
    history.record_start_error("cpp", "ImageNotFound: no such image", NOW)
    (failure,) = history.latest("cpp")
    assert (failure.error, failure.container_id, failure.at) == ("ImageNotFound: no such image", None, NOW)


def test_old_failures_are_forgotten() -> None:
    history = FailureHistory(window_s=60)
    history.record_dead([dead("old", ended_s_ago=120), dead("new", ended_s_ago=10)], NOW)
    assert history.times(NOW) == {"python": [NOW - timedelta(seconds=10)]}
    assert history.times(NOW + timedelta(minutes=2)) == {}


def test_latest_is_newest_first_and_bounded() -> None:
    history = FailureHistory(window_s=600, keep=3)
    history.record_dead([dead(str(i), ended_s_ago=i) for i in range(1, 6)], NOW)
    assert [f.container_id for f in history.latest("python", count=10)] == ["1", "2", "3"]
    assert [f.container_id for f in history.latest("python", count=2)] == ["1", "2"]
    assert history.latest("java") == []
