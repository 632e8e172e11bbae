"""The gate a job passes to start, as a type: the consumer makes one per job, the handler enters it. Its
own module so that the handler (one job) does not depend on the consumer (Kafka) that drives it."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

StartJob = Callable[[], AbstractAsyncContextManager[int]]
"""Entered right before a job runs (:meth:`worker.consumer.JobConsumer.starting`): waits for a free pool
slot and records the start durably; yields how many times the job was started before without finishing.
Raises :class:`worker.errors.JobAbandoned` when the job must not start here any more. The slot is
released on exit."""
