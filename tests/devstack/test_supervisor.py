"""The restart policy of ``make up`` (a pure function): back-off per crash in a row, reset by a stable run."""

import pytest

from devstack.supervisor import STABLE_UPTIME_S, Restart, describe_exit, plan_restart

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("previous", "uptime_s", "expected"),
    [
        (0, 0.5, Restart(crashes=1, delay_s=1.0)),  # the first crash: back after a second
        (1, 2.0, Restart(crashes=2, delay_s=2.0)),
        (2, 2.0, Restart(crashes=3, delay_s=4.0)),
        (4, 10.0, Restart(crashes=5, delay_s=16.0)),
        (5, 10.0, Restart(crashes=6, delay_s=30.0)),  # capped
        (40, 0.0, Restart(crashes=41, delay_s=30.0)),
        (7, STABLE_UPTIME_S, Restart(crashes=1, delay_s=1.0)),  # it ran long enough: start afresh
        (7, STABLE_UPTIME_S - 1, Restart(crashes=8, delay_s=30.0)),
    ],
)
def test_the_back_off_grows_per_crash_in_a_row_and_resets_after_a_stable_run(
    previous: int, uptime_s: float, expected: Restart
) -> None:
    assert plan_restart(previous, uptime_s) == expected


def test_exits_are_described_with_their_code_or_signal() -> None:
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-9) == "killed by SIGKILL (exit code -9)"
