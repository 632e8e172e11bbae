"""The process pool: ``size`` long-lived pool processes (forkserver), one job at a time each.

The pool is the worker's one capacity gate: :meth:`Pool.slot` returns only once a pool process is idle
and reserves it for one job, retries included. So a job holding a slot never waits for a process to be
started for it (except for a retry, whose process is a fresh one by design).

A pool process that dies, hangs past the job's time budget, reports an internal error, or is abandoned
half-way (cancellation, a failed publish) is killed and replaced by a fresh one, so a retry never runs in
a process in an unknown state.
"""

import asyncio
import contextlib
import logging
import multiprocessing
import pickle
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from tenacity import AsyncRetrying, retry_if_exception_type, wait_fixed

from common.runtimes import Runtime
from schemas.checks import CheckReply, CheckRequest
from schemas.jobs import JobMessage
from schemas.results import Outcome, TestReport
from worker.errors import InternalError, PoolProcessLost
from worker.execute import ExecConfig
from worker.limits import check_budget_s, job_budget_s
from worker.metrics import sandbox_setup
from worker.pool_process import HEADER, encode_frame, serve

log = logging.getLogger(__name__)

OnTest = Callable[[TestReport], Awaitable[None]]
CheckElsewhere = Callable[[CheckRequest], Awaitable[CheckReply]]
"""Has a check request answered by the workers of the checker's language (:mod:`worker.check_client`)."""
RESPAWN_BACKOFF_S = 1.0
STOP_TIMEOUT_S = 5.0


@dataclass
class _Member:
    """One pool process and our end of its socket."""

    index: int
    process: BaseProcess
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def kill(self) -> None:
        """Kill it now (its running program dies with it: PR_SET_PDEATHSIG) and drop the socket."""
        if self.process.is_alive():
            self.process.kill()
        self.writer.close()


READY_TIMEOUT_S = 120.0
"""How long a new pool process may take to say it is ready (a warm sandbox on a loaded machine)."""


async def _read_frame(reader: asyncio.StreamReader) -> tuple[object, ...]:
    (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
    message = pickle.loads(await reader.readexactly(size))
    assert isinstance(message, tuple)
    return message


async def _no_tests(report: TestReport) -> None:
    """A check reports no tests."""


class Slot:
    """A pool process reserved for one job (:meth:`Pool.slot`); a retry after a failure runs in the next
    idle process, which the slot then holds instead."""

    def __init__(self, pool: "Pool", member: "_Member") -> None:
        self._pool = pool
        self._member: _Member | None = member

    async def run(self, job: JobMessage, on_test: OnTest) -> Outcome:
        """Run ``job`` in the slot's process, awaiting ``on_test`` for each test report as it arrives.

        Raises :class:`InternalError` (:class:`PoolProcessLost` when the process died or hung); the
        process is then replaced, and the slot waits for an idle one when run again."""
        outcome = await self._call(job, job_budget_s(job, self._pool._runtime), on_test)
        assert isinstance(outcome, Outcome)
        return outcome

    async def check(self, request: CheckRequest) -> CheckReply:
        """Answer a check request asked by another worker (as :meth:`run` runs a job)."""
        reply = await self._call(request, check_budget_s(request, self._pool._runtime), _no_tests)
        assert isinstance(reply, CheckReply)
        return reply

    async def _call(self, message: JobMessage | CheckRequest, budget_s: float, on_test: OnTest) -> object:
        member = self._member if self._member is not None else await self._pool._idle.get()
        self._member = None
        done = await self._pool._run_on(member, message, budget_s, on_test)
        self._member = member
        return done

    def release(self) -> None:
        """Give the process back to the pool (the one that ran the job last, unless it was replaced)."""
        if self._member is not None:
            self._pool._idle.put_nowait(self._member)
            self._member = None


class Pool:
    """Runs jobs in pool processes; at most ``size`` at once (callers wait for a free process)."""

    def __init__(
        self,
        size: int,
        runtime: Runtime,
        config: ExecConfig,
        *,
        language: str | None = None,
        check_elsewhere: CheckElsewhere | None = None,
    ) -> None:
        self.size = size
        self._check_elsewhere = check_elsewhere
        self._runtime = runtime
        self._language = language or runtime.id
        """The language served (the label of this pool's metrics); the runtime's id unless it is named."""
        self._config = config
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["worker.pool_process"])
        self._idle: asyncio.Queue[_Member] = asyncio.Queue()
        self._members: dict[int, _Member] = {}
        self._respawns: set[asyncio.Task[None]] = set()
        self._closing = False

    async def start(self) -> None:
        """Start every pool process."""
        for index in range(self.size):
            self._idle.put_nowait(await self._spawn(index))

    async def _spawn(self, index: int) -> _Member:
        parent_sock, child_sock = socket.socketpair()
        process = self._ctx.Process(
            target=serve,
            args=(child_sock, self._runtime, self._config),
            name=f"executioner-pool-{index}",
            daemon=True,
        )
        try:
            # Blocking: the first start also launches the fork server.
            await asyncio.get_running_loop().run_in_executor(None, process.start)
        finally:
            child_sock.close()
        reader, writer = await asyncio.open_connection(sock=parent_sock)
        # Ready when its sandbox is (a warm one starts first): starting it is not a job's time. One that
        # never says so is still used, and replaced when its first job fails.
        with contextlib.suppress(TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            async with asyncio.timeout(READY_TIMEOUT_S):
                await _read_frame(reader)
        member = _Member(index, process, reader, writer)
        self._members[index] = member
        return member

    @property
    def up(self) -> int:
        """Pool processes started and not (yet) replaced, idle or busy."""
        return len(self._members)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Wait for an idle pool process and reserve it until the block is left."""
        slot = Slot(self, await self._idle.get())
        try:
            yield slot
        finally:
            slot.release()

    async def run(self, job: JobMessage, on_test: OnTest) -> Outcome:
        """Run ``job`` in the next idle pool process (see :meth:`Slot.run`)."""
        async with self.slot() as slot:
            return await slot.run(job, on_test)

    async def check(self, request: CheckRequest) -> CheckReply:
        """Answer ``request`` in the next idle pool process (see :meth:`Slot.check`)."""
        async with self.slot() as slot:
            return await slot.check(request)

    async def _run_on(
        self, member: _Member, job: JobMessage | CheckRequest, budget_s: float, on_test: OnTest
    ) -> object:
        """Run ``job`` on ``member`` within ``budget_s`` (not counting the waits for checks answered
        elsewhere); a member that fails is replaced."""
        try:
            async with asyncio.timeout(budget_s) as budget:
                return await self._exchange(member, job, on_test, budget)
        except TimeoutError as exc:
            self._replace(member)
            raise PoolProcessLost(f"pool process {member.index} exceeded the job's time budget") from exc
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self._replace(member)
            raise PoolProcessLost(f"pool process {member.index} died or closed its socket") from exc
        except BaseException:
            self._replace(member)
            raise

    async def _exchange(
        self, member: _Member, job: JobMessage | CheckRequest, on_test: OnTest, budget: asyncio.Timeout
    ) -> object:
        member.writer.write(encode_frame(job))
        await member.writer.drain()
        while True:
            kind, *payload = await _read_frame(member.reader)
            if kind == "ready":  # late: it was not awaited
                continue
            if kind == "setup":
                sandbox_setup.labels(self._language).observe(float(payload[0]))  # type: ignore[arg-type]
            elif kind == "test":
                report = payload[0]
                assert isinstance(report, TestReport)
                await on_test(report)
            elif kind == "check":
                request = payload[0]
                assert isinstance(request, CheckRequest)
                await self._answer_check(member, request, budget)
            elif kind == "done":
                return payload[0]
            else:
                summary, detail = payload
                log.error("pool process %d failed on job %s:\n%s", member.index, job.id, detail)
                raise InternalError(str(summary))

    async def _answer_check(self, member: _Member, request: CheckRequest, budget: asyncio.Timeout) -> None:
        """Have ``request`` answered elsewhere and give the reply to ``member``; the wait does not count
        against the job's budget (the process is not hung, it waits for another worker)."""
        loop = asyncio.get_running_loop()
        started, deadline = loop.time(), budget.when()
        budget.reschedule(None)  # the wait has a timeout of its own (the check client's)
        if self._check_elsewhere is None:
            language = request.checker.language
            reply = request.failed(f"this worker cannot ask the {language} workers for checks", unusable=True)
        else:
            reply = await self._check_elsewhere(request)
        if deadline is not None:
            budget.reschedule(deadline + loop.time() - started)
        member.writer.write(encode_frame(reply))
        await member.writer.drain()

    def _replace(self, member: _Member) -> None:
        """Kill ``member`` and start a fresh process in its slot, in the background."""
        member.kill()
        self._members.pop(member.index, None)
        if self._closing:
            return
        task = asyncio.create_task(self._respawn(member), name=f"pool-respawn-{member.index}")
        self._respawns.add(task)
        task.add_done_callback(self._respawns.discard)

    async def _respawn(self, old: _Member) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, old.process.join)
        # Until it starts or the pool closes (close() cancels this task).
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(OSError),
            wait=wait_fixed(RESPAWN_BACKOFF_S),
            before_sleep=lambda state: log.error(
                "cannot start pool process %d; retrying",
                old.index,
                exc_info=state.outcome.exception() if state.outcome else None,
            ),
        )
        member: _Member = await retrying(self._spawn, old.index)
        self._idle.put_nowait(member)

    async def close(self) -> None:
        """Stop every pool process: idle ones exit cleanly, busy ones (a drain that timed out) are killed."""
        self._closing = True
        for task in list(self._respawns):
            task.cancel()
        await asyncio.gather(*self._respawns, return_exceptions=True)
        idle = set()
        while not self._idle.empty():
            idle.add(self._idle.get_nowait().index)
        loop = asyncio.get_running_loop()
        for member in list(self._members.values()):
            if member.index in idle:
                member.writer.write(encode_frame(None))
                member.writer.close()
                await loop.run_in_executor(None, member.process.join, STOP_TIMEOUT_S)
            member.kill()
            await loop.run_in_executor(None, member.process.join)
        self._members.clear()
