"""The process pool: ``size`` long-lived pool processes (forkserver), one job at a time each.

A pool process that dies, hangs past the job's time budget, reports an internal error, or is abandoned
half-way (cancellation, a failed publish) is killed and replaced by a fresh one, so a retry never runs in
a process in an unknown state.
"""

import asyncio
import logging
import multiprocessing
import pickle
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from common.runtimes import Runtime
from schemas.jobs import JobMessage
from schemas.results import Outcome, TestReport
from worker.errors import InternalError, PoolProcessLost
from worker.execute import ExecConfig
from worker.limits import job_budget_s
from worker.pool_process import HEADER, encode_frame, serve

log = logging.getLogger(__name__)

OnTest = Callable[[TestReport], Awaitable[None]]
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


async def _read_frame(reader: asyncio.StreamReader) -> tuple[object, ...]:
    (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
    message = pickle.loads(await reader.readexactly(size))
    assert isinstance(message, tuple)
    return message


class Pool:
    """Runs jobs in pool processes; at most ``size`` at once (callers wait for a free process)."""

    def __init__(self, size: int, runtime: Runtime, config: ExecConfig) -> None:
        self.size = size
        self._runtime = runtime
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
        member = _Member(index, process, reader, writer)
        self._members[index] = member
        return member

    async def run(self, job: JobMessage, on_test: OnTest) -> Outcome:
        """Run ``job`` in a free pool process, awaiting ``on_test`` for each test report as it arrives.

        Raises :class:`InternalError` (:class:`PoolProcessLost` when the process died or hung)."""
        member = await self._idle.get()
        try:
            async with asyncio.timeout(job_budget_s(job, self._runtime)):
                outcome = await self._exchange(member, job, on_test)
        except TimeoutError as exc:
            self._replace(member)
            raise PoolProcessLost(f"pool process {member.index} exceeded the job's time budget") from exc
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self._replace(member)
            raise PoolProcessLost(f"pool process {member.index} died or closed its socket") from exc
        except BaseException:
            self._replace(member)
            raise
        self._idle.put_nowait(member)
        return outcome

    async def _exchange(self, member: _Member, job: JobMessage, on_test: OnTest) -> Outcome:
        member.writer.write(encode_frame(job))
        await member.writer.drain()
        while True:
            kind, *payload = await _read_frame(member.reader)
            if kind == "test":
                report = payload[0]
                assert isinstance(report, TestReport)
                await on_test(report)
            elif kind == "done":
                outcome = payload[0]
                assert isinstance(outcome, Outcome)
                return outcome
            else:
                summary, detail = payload
                log.error("pool process %d failed on job %s:\n%s", member.index, job.id, detail)
                raise InternalError(str(summary))

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
        while not self._closing:
            try:
                self._idle.put_nowait(await self._spawn(old.index))
                return
            except OSError:
                log.exception("cannot start pool process %d; retrying", old.index)
                await asyncio.sleep(RESPAWN_BACKOFF_S)

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
