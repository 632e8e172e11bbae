"""The shared back-off: the delays double from the first to the cap, a success starts them over, and
``retrying`` gives up after its attempts or time, re-raising the last error as it was."""

import pytest
import tenacity

from common.backoff import Backoff, doubling, failure, retrying

pytestmark = pytest.mark.unit


def test_delays_double_up_to_the_cap_and_start_over_after_a_success() -> None:
    backoff = Backoff(0.5, 10.0)
    assert [backoff.failed() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.failures == 7
    backoff.succeeded()
    assert backoff.failures == 0
    assert backoff.failed() == 0.5


def test_a_long_outage_stays_at_the_cap() -> None:
    backoff = Backoff(0.25, 5.0)
    for _ in range(5000):
        delay = backoff.failed()
    assert delay == 5.0


async def test_retrying_retries_only_the_named_errors_and_reraises_the_last() -> None:
    calls: list[int] = []
    seen: list[str] = []

    async def attempt_once() -> None:
        calls.append(1)
        raise ConnectionError(f"refused {len(calls)}")

    with pytest.raises(ConnectionError, match="refused 3"):
        async for attempt in retrying(
            on=ConnectionError,
            wait=tenacity.wait_none(),
            attempts=3,
            before_sleep=lambda state: seen.append(str(failure(state))),
        ):
            with attempt:
                await attempt_once()
    assert seen == ["refused 1", "refused 2"]  # logged before each retry, not after the last

    with pytest.raises(KeyError):
        async for attempt in retrying(on=ConnectionError, wait=tenacity.wait_none(), attempts=3):
            with attempt:
                calls.append(1)
                raise KeyError("not retried")
    assert len(calls) == 4


async def test_retrying_gives_up_when_the_next_delay_would_pass_the_time_limit() -> None:
    calls = 0
    with pytest.raises(OSError):
        async for attempt in retrying(on=OSError, wait=doubling(10.0, 10.0), give_up_after_s=5.0):
            with attempt:
                calls += 1
                raise OSError("down")
    assert calls == 1  # a 10 s delay would end past 5 s: no sleep, no second attempt


async def test_a_block_that_succeeds_is_run_once() -> None:
    runs = 0
    async for attempt in retrying(on=OSError, wait=doubling(0.5, 1.0)):
        with attempt:
            runs += 1
    assert runs == 1
