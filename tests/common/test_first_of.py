"""``first_of``: which of several awaitables finished first, with every other one cancelled and ended
before it returns (also when the caller is cancelled)."""

import asyncio

import pytest

from common.lifecycle import first_of, sleep_or_stop, wait_or_stop

pytestmark = pytest.mark.unit


async def test_the_first_to_finish_wins_and_the_others_are_cancelled_and_ended() -> None:
    go = asyncio.Event()
    never = asyncio.ensure_future(asyncio.Event().wait())
    winner = asyncio.ensure_future(go.wait())
    go.set()
    assert await first_of(never, winner) == 1
    assert never.cancelled()


async def test_a_finished_value_is_read_from_the_callers_own_task() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    got = asyncio.ensure_future(queue.get())
    queue.put_nowait("wake-up")
    assert await first_of(got, asyncio.Event().wait()) == 0
    assert got.result() == "wake-up"


async def test_when_several_finished_together_the_lowest_position_wins() -> None:
    done = asyncio.get_running_loop().create_future()
    done.set_result(None)
    also_done = asyncio.get_running_loop().create_future()
    also_done.set_result(None)
    assert await first_of(also_done, done) == 0


async def test_none_within_the_time_means_none_and_all_are_cancelled() -> None:
    waiting = asyncio.ensure_future(asyncio.Event().wait())
    assert await first_of(waiting, within_s=0.01) is None
    assert waiting.cancelled()


async def test_the_winners_exception_is_raised() -> None:
    async def broken() -> None:
        raise ValueError("broken")

    other = asyncio.ensure_future(asyncio.Event().wait())
    with pytest.raises(ValueError, match="broken"):
        await first_of(broken(), other)
    assert other.cancelled()


async def test_a_shielded_task_keeps_running() -> None:
    release = asyncio.Event()
    kept = asyncio.ensure_future(release.wait())
    stop = asyncio.Event()
    stop.set()
    assert await first_of(asyncio.shield(kept), stop.wait()) == 1
    assert not kept.done()
    release.set()
    await kept


async def test_cancelling_the_caller_cancels_every_awaitable() -> None:
    started = asyncio.Event()
    one = asyncio.ensure_future(asyncio.Event().wait())

    async def two() -> None:
        started.set()
        await asyncio.Event().wait()

    waiter = asyncio.ensure_future(first_of(one, two()))
    await started.wait()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert one.cancelled()


async def test_wait_or_stop_and_sleep_or_stop_say_whether_stop_came_first() -> None:
    stop = asyncio.Event()
    assert await wait_or_stop(asyncio.sleep(0), stop) is True
    assert await sleep_or_stop(0.001, stop) is True
    stop.set()
    assert await wait_or_stop(asyncio.Event().wait(), stop) is False
    assert await sleep_or_stop(3600, stop) is False  # returns at once: stop is set
