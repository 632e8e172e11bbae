"""What one fetched job is on its way through the worker, as types: the record itself (never unpacked
into keyword arguments and packed again) and the gate it passes to start. Their own module, so that the
handler (one job) does not depend on the consumer (Kafka) that drives it."""

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class JobRecord(Protocol):
    """One record of a jobs topic as fetched (aiokafka's ``ConsumerRecord`` is one): the handler decodes
    its value, and a dead letter republishes its key and value with where it came from."""

    @property
    def topic(self) -> str:
        """The jobs topic it was fetched from."""

    @property
    def partition(self) -> int:
        """Its partition."""

    @property
    def offset(self) -> int:
        """Its offset in that partition."""

    @property
    def key(self) -> bytes | None:
        """The key as produced (the job's id by convention)."""

    @property
    def value(self) -> bytes | None:
        """The job message as produced, undecoded."""

    @property
    def headers(self) -> Sequence[tuple[str, bytes]]:
        """Its headers: the job's trace context (``traceparent``) among them, when it has one."""


StartJob = Callable[[], AbstractAsyncContextManager[int]]
"""Entered once a pool process is reserved for the job, right before it runs
(:meth:`worker.consumer.JobConsumer.starting`): records the start durably and yields how many times the
job was started before without finishing. Raises :class:`worker.errors.JobAbandoned` when the job must
not start here any more."""
