"""In-process fan-out of result events to the SSE streams waiting for them, by submission id."""

import asyncio
import logging
from collections import OrderedDict, deque
from uuid import UUID

from opentelemetry.context import Context

from schemas import ResultEvent, StatusEvent, TestEvent

log = logging.getLogger(__name__)

ResultMessage = StatusEvent | TestEvent | ResultEvent
RESULT_TRACES_KEPT = 1024
"""How many recent results' trace contexts the broker remembers (for the streams' delivery spans)."""


class Subscription:
    """One stream's view of one submission's events. Iterate with :meth:`next`; close when done.

    Kept small: thousands of idle streams each hold one. Waiting is a future and a timer handle, not a
    task (``asyncio.wait_for`` over a queue would start one per wait)."""

    __slots__ = ("_broker", "_events", "_waiter", "closed", "submission_id")

    def __init__(self, broker: "Broker", submission_id: UUID, capacity: int) -> None:
        self.submission_id = submission_id
        self._broker = broker
        self._events: deque[ResultMessage] = deque(maxlen=capacity)
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False

    def result_trace(self) -> Context | None:
        """The trace context of the submission's result as it went by (None: not seen, or not traced)."""
        return self._broker.result_trace(self.submission_id)

    def _offer(self, event: ResultMessage) -> None:
        if len(self._events) == self._events.maxlen:
            # A stream this far behind is stuck; its periodic MySQL re-read still delivers the result.
            log.warning("dropping an event for a stalled stream of %s", self.submission_id)
            return
        self._events.append(event)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self, wait_s: float) -> ResultMessage | None:
        """The next event, or None after ``wait_s`` seconds or once closed (then :attr:`closed` is set)."""
        if not self._events and not self.closed:
            loop = asyncio.get_running_loop()
            self._waiter = loop.create_future()
            timer = loop.call_later(wait_s, self._wake)
            try:
                await self._waiter
            finally:
                timer.cancel()
                self._waiter = None
        if self.closed:
            return None
        return self._events.popleft() if self._events else None

    def _end(self) -> None:
        self.closed = True
        self._wake()  # a stream waiting in next() wakes up

    def close(self) -> None:
        """Stop receiving events; a stream waiting in :meth:`next` wakes up (idempotent)."""
        self._end()
        self._broker.unsubscribe(self)


class Broker:
    """Routes each result event to the subscriptions of its submission and remembers recent finals."""

    def __init__(self, recent_results: int = 1024, queue_capacity: int = 512) -> None:
        self._subscriptions: dict[UUID, set[Subscription]] = {}
        self._recent: OrderedDict[UUID, ResultEvent] = OrderedDict()
        self._result_traces: OrderedDict[UUID, Context] = OrderedDict()
        self._recent_capacity = recent_results
        self._queue_capacity = queue_capacity
        self._closed = False

    def subscribe(self, submission_id: UUID) -> Subscription:
        """Start receiving ``submission_id``'s events."""
        subscription = Subscription(self, submission_id, self._queue_capacity)
        if self._closed:
            subscription.closed = True
        else:
            self._subscriptions.setdefault(submission_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget ``subscription`` (idempotent)."""
        subscribers = self._subscriptions.get(subscription.submission_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscriptions[subscription.submission_id]

    def publish(self, event: ResultMessage, trace: Context | None = None) -> None:
        """Hand ``event`` to every subscription of its submission; never blocks. ``trace``: the trace
        context its record carried, remembered for a ``result``."""
        if isinstance(event, ResultEvent) and trace is not None:
            self._result_traces[event.id] = trace
            self._result_traces.move_to_end(event.id)
            while len(self._result_traces) > RESULT_TRACES_KEPT:
                self._result_traces.popitem(last=False)
        if isinstance(event, ResultEvent) and self._recent_capacity:
            self._recent[event.id] = event
            self._recent.move_to_end(event.id)
            while len(self._recent) > self._recent_capacity:
                self._recent.popitem(last=False)
        for subscription in self._subscriptions.get(event.id, ()):
            subscription._offer(event)

    def recent_result(self, submission_id: UUID) -> ResultEvent | None:
        """The final result of ``submission_id`` if it went by recently."""
        return self._recent.get(submission_id)

    def result_trace(self, submission_id: UUID) -> Context | None:
        """The trace context of ``submission_id``'s result if it went by recently, traced."""
        return self._result_traces.get(submission_id)

    @property
    def subscriber_count(self) -> int:
        """Open subscriptions, over all submissions."""
        return sum(len(s) for s in self._subscriptions.values())

    def close(self) -> None:
        """End every subscription (shutdown): their streams finish instead of waiting for events."""
        self._closed = True
        for subscribers in list(self._subscriptions.values()):
            for subscription in list(subscribers):
                subscription._end()
        self._subscriptions.clear()
