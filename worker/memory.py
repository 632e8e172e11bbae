"""The resident memory of one job's whole process tree, watched from ``/proc``.

An address-space limit (RLIMIT_AS) cannot bound a JVM, Go or V8 program: they reserve gigabytes of
address space they never touch. What a program really uses is resident memory, so the worker samples the
RSS of every process of the job every few milliseconds, kills the whole tree at once when the sum is over
the limit, and reports the peak. There are no writable cgroups inside a worker container to do it for us.

A process belongs to the job when it is in the job's session, when its parent belongs to the job, or,
when this process is a child subreaper (a pool process, see :func:`become_subreaper`), when it is an
orphan this process adopted: so ``setsid`` plus a double fork does not escape either.
"""

import contextlib
import ctypes
import os
import signal
import time
from dataclasses import dataclass

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
KILL_ROUNDS = 200
"""Rounds of "find every live process of the job, SIGKILL it" before giving up on a tree that forks
faster than it dies (RLIMIT_NPROC keeps that finite)."""
KILL_PAUSE_S = 0.001


def become_subreaper() -> None:
    """Make orphans of our descendants ours (PR_SET_CHILD_SUBREAPER) instead of PID 1's, so a job's
    double-forked processes stay visible, killable and reaped by us."""
    if _LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def is_subreaper() -> bool:
    """Whether orphans of our descendants are re-parented to us."""
    flag = ctypes.c_int(0)
    _LIBC.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
    return flag.value != 0


def reap_adopted() -> None:
    """Collect the exit status of adopted orphans that have died (a subreaper must, or they stay zombies).
    Call it only when no child of ours is waited for elsewhere."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


@dataclass(frozen=True, slots=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` the tree needs."""

    pid: int
    ppid: int
    session: int
    zombie: bool
    rss_kb: int


def read_stat(pid: int) -> ProcStat | None:
    """One process's stat, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            data = file.read()
    except OSError:
        return None
    # The command name is in parentheses and may contain anything, spaces and ')' included.
    fields = data[data.rindex(b")") + 2 :].split()
    return ProcStat(
        pid=pid,
        ppid=int(fields[1]),
        session=int(fields[3]),
        zombie=fields[0] in (b"Z", b"X"),
        rss_kb=int(fields[21]) * PAGE_KB,
    )


def _running_pids() -> set[int]:
    return {int(name) for name in os.listdir("/proc") if name.isdigit()}


class ProcessTree:
    """The processes of one job, whose session ``leader`` leads (the command we started)."""

    def __init__(self, leader: int) -> None:
        self.leader = leader
        self.adopts_orphans = is_subreaper()
        self.members: set[int] = {leader}
        self._strangers: set[int] = set()
        """Processes already seen not to belong to the job (their pids are not read again)."""
        self._me = os.getpid()

    def _belongs(self, stat: ProcStat) -> bool:
        return (
            stat.session == self.leader
            or stat.ppid in self.members
            or (self.adopts_orphans and stat.ppid == self._me)
        )

    def live_members(self) -> list[ProcStat]:
        """Every live process of the job now, with its RSS. Only pids not seen before are classified; a
        process stays a member for its whole life (a later ``setsid`` does not take it out)."""
        running = _running_pids()
        self.members &= running
        self._strangers &= running  # a pid that vanished and came back is a new process
        fresh = [s for s in map(read_stat, sorted(running - self.members - self._strangers)) if s]
        stats = [s for s in map(read_stat, sorted(self.members)) if s]
        # Children can be listed before their parent; repeat until no new member turns up.
        while True:
            joined = [s for s in fresh if self._belongs(s)]
            if not joined:
                break
            self.members.update(s.pid for s in joined)
            stats.extend(joined)
            fresh = [s for s in fresh if s.pid not in self.members]
        self._strangers.update(s.pid for s in fresh)
        return [s for s in stats if not s.zombie]

    def kill(self) -> None:
        """SIGKILL every process of the job, again and again until none is left alive."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # The leader is not reaped yet, so its process group id cannot belong to anyone else.
            os.killpg(self.leader, signal.SIGKILL)
        for _ in range(KILL_ROUNDS):
            alive = self.live_members()
            if not alive:
                return
            for stat in alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(stat.pid, signal.SIGKILL)
            time.sleep(KILL_PAUSE_S)  # dying takes the kernel a moment; there is no event to wait for


class MemoryWatch:
    """Samples the tree's total RSS against ``limit_kb`` and remembers the peak."""

    def __init__(self, tree: ProcessTree, limit_kb: int) -> None:
        self.tree = tree
        self.limit_kb = limit_kb
        self.peak_kb = 0
        self.exceeded = False

    def sample(self) -> bool:
        """Take one sample; True when the tree is over the limit (the caller kills it)."""
        total = sum(stat.rss_kb for stat in self.tree.live_members())
        self.peak_kb = max(self.peak_kb, total)
        if total > self.limit_kb:
            self.exceeded = True
        return self.exceeded
