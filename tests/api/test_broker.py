"""The in-process fan-out: routing by submission id, the recent-results memory, closing."""

from uuid import uuid4

import pytest

from api.events.broker import Broker
from tests.api.support import running, single_run_result

pytestmark = pytest.mark.unit


async def test_events_reach_only_their_submissions_subscribers() -> None:
    broker = Broker()
    mine, other = uuid4(), uuid4()
    subscription = broker.subscribe(mine)
    broker.publish(running(other))
    broker.publish(running(mine))

    assert await subscription.next(1) == running(mine)
    assert await subscription.next(0.01) is None  # nothing else arrived
    assert not subscription.closed


async def test_closed_subscription_is_forgotten() -> None:
    broker = Broker()
    sid = uuid4()
    first, second = broker.subscribe(sid), broker.subscribe(sid)
    assert broker.subscriber_count == 2
    first.close()
    first.close()  # idempotent
    assert broker.subscriber_count == 1
    second.close()
    assert broker.subscriber_count == 0


async def test_recent_results_are_remembered_up_to_the_capacity() -> None:
    broker = Broker(recent_results=2)
    ids = [uuid4() for _ in range(3)]
    for sid in ids:
        broker.publish(single_run_result(sid))
        broker.publish(running(sid))  # only final results are remembered

    assert broker.recent_result(ids[0]) is None
    assert broker.recent_result(ids[2]) == single_run_result(ids[2])


async def test_closing_the_broker_ends_waiting_streams() -> None:
    broker = Broker()
    subscription = broker.subscribe(uuid4())
    broker.close()

    assert await subscription.next(5) is None
    assert subscription.closed
    assert broker.subscribe(uuid4()).closed, "no new subscriptions after close"
