"""The worker's error tree: it decides what happens to a job when something goes wrong.

Anything about the *user's program* is a verdict, never an exception. Exceptions are for messages we refuse
and for failures of our own:

* :class:`JobRejected`: the message itself is bad (not a job, wrong language, too big). It goes to the
  dead-letter topic once, is never retried and produces no result.
* :class:`InternalError`: we failed while running a valid job (scratch dir, pool process died, a bug).
  The job is retried in a fresh pool process; after the last attempt it gets an ``internal_error`` result.
* :class:`JobAbandoned`: a fetched job never started here (its partition moved to another worker, or this
  worker is draining); its offset stays uncommitted, so the partition's next owner runs it.
* :class:`StartupError`: the worker cannot serve at all (bad runtime file, failed self-test); it exits
  non-zero before consuming anything.
"""


class WorkerError(Exception):
    """Base of every error the worker raises on purpose."""


class JobRejected(WorkerError):
    """A message this worker will never run; ``reason`` goes into the dead-letter headers."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InternalError(WorkerError):
    """Executioner failed while running a job; the job itself may be fine, so it is retried."""


class PoolProcessLost(InternalError):
    """The pool process running a job died, hung or broke its pipe."""


class JobAbandoned(WorkerError):
    """A fetched job that must not start on this worker any more (revoked partition, drain)."""


class StartupError(WorkerError):
    """The worker cannot start serving (its runtime is unusable)."""
