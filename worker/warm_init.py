"""The init of a warm sandbox (worker/warm.py): pid 1 of the slot's bubblewrap sandbox. It runs inside
the sandbox, as the job's user, under the jobs' seccomp filter; standard library only, started as
``python3 -I -S -c <this file> <descriptor>`` and re-executed as ``sandbox-init`` (its name in process lists).

Requests come from the pool process over a ``SOCK_SEQPACKET`` socket (descriptor ``argv[1]``), one JSON
message each, and get one JSON answer:

* ``{"op": "run", "argv", "env", "cwd", "rlimits", "oom_score_adj"}`` with three descriptors (stdin,
  stdout, stderr): fork; the child takes those descriptors and nothing else, default signal
  dispositions, the rlimits (RLIMIT_NPROC among them, inside the sandbox's user namespace),
  ``oom_score_adj``, the working directory and exactly ``env``, then ``exec``s the spawner
  (:data:`SPAWNER`), which forks the command in a session of its own and exits. First answer, once the
  command is forked: ``{"started": true}``. When the command ends, every other process of the pid
  namespace is killed (pid 1's ``kill(-1)`` reaches all of them, and no further) and reaped, and the
  System V semaphore sets it made (the IPC namespace outlives the command) removed. Second answer:
  ``{"status": wait status, "cpu_s", "peak_kb"}`` (CPU time and peak resident size of the command and
  everything else of it reaped; the spawner's are ours, not counted).
* ``{"op": "reset", "paths": [...]}``: kill and reap anything left, remove the System V semaphore sets
  of the sandbox's IPC namespace. Answer: ``{"devices": {path: st_dev}, "entries": {path: [names]},
  "semaphores": sets left}``, for the pool process to check that the reset took.

Pid 1 of a pid namespace gets no signal from inside it that it has no handler for, SIGKILL included;
the init installs no handler and ignores what it can (gVisor delivers such signals anyway), and is
non-dumpable, so a command (same uid, no
capabilities) can neither read its memory or descriptors nor trace it.
"""

import contextlib
import ctypes
import json
import os
import resource
import signal
import socket
import sys
from typing import Any

NAME = "sandbox-init"
_PR_SET_DUMPABLE = 4
_IPC_RMID = 0
_SEM_INFO = 19
_SEM_STAT = 18
_EXEC_FAILED = 127
_MESSAGE_BYTES = 1 << 20
_NAMED = "--named"
SPAWNER = ("/usr/bin/setsid", "--fork", "--")
"""util-linux's ``setsid --fork``: forks the command from its own small process image, gives it a session
of its own and exits. Why not fork the command from here: ``ru_maxrss`` is a process's peak resident
size over its whole life, ``exec`` included, and a child forked (or vforked) from this interpreter starts
with the interpreter's pages, several MiB, so a smaller program would report the interpreter's size.
A child of the spawner starts from the spawner's few hundred KiB, as a command under bubblewrap starts
from its ``sh`` prelude's: its ``ru_maxrss`` is the program's own."""
_PID_SPACE = 1 << 22
"""Above every pid a kernel hands out (Linux's PID_MAX_LIMIT): distances modulo it keep allocation order
across a wrap."""
_CATCHABLE = sorted(signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD})
"""SIGCHLD stays default: ignoring it would make the kernel reap children before ``wait4``."""


def _dispose_all(disposition: signal.Handlers) -> None:
    """Set every catchable signal's disposition (the C library's own, 32 and 33, refuse)."""
    for number in _CATCHABLE:
        with contextlib.suppress(OSError, ValueError):
            signal.signal(number, disposition)


def _semaphore_ids(libc: ctypes.CDLL) -> list[int]:
    """Every System V semaphore set of this IPC namespace."""
    try:
        with open("/proc/sysvipc/sem") as table:
            return [int(line.split()[1]) for line in table.read().splitlines()[1:] if line.strip()]
    except OSError:  # no such table (gVisor): walk the kernel's index instead
        buffer = ctypes.create_string_buffer(256)
        highest = libc.semctl(0, 0, _SEM_INFO, buffer)
        ids = [libc.semctl(index, 0, _SEM_STAT, buffer) for index in range(max(highest, -1) + 1)]
        return [semid for semid in ids if semid >= 0]


def _close_all_but(*kept: int) -> None:
    """Close every descriptor but ``kept``. (Not ``closerange``: without ``close_range``, which the
    worker container's seccomp profile does not list, it closes a million descriptors one by one.)"""
    for name in os.listdir("/proc/self/fd"):
        if int(name) not in kept:
            with contextlib.suppress(OSError):
                os.close(int(name))


def _kill_the_rest() -> tuple[float, int]:
    """Kill every other process of the namespace and reap them all; their CPU seconds and peak RSS."""
    cpu_s, peak_kb = 0.0, 0
    while True:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
        try:
            _, _, usage = os.wait4(-1, 0)
        except ChildProcessError:
            return cpu_s, peak_kb
        cpu_s += usage.ru_utime + usage.ru_stime
        peak_kb = max(peak_kb, usage.ru_maxrss)


def _lower_of(first: int, second: int) -> int:
    if first == resource.RLIM_INFINITY:
        return second
    return first if second == resource.RLIM_INFINITY else min(first, second)


def _lowered(which: int, soft: int, hard: int) -> tuple[int, int]:
    """``(soft, hard)`` never above our own hard limit, which no process here may raise."""
    hard = _lower_of(hard, resource.getrlimit(which)[1])
    return _lower_of(soft, hard), hard


def _child(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: set up the command, become the spawner. Never returns."""
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target, inheritable=True)
        _close_all_but(0, 1, 2)
        # Ours was taken away (see main); its own /proc files must be the command's to write.
        libc_prctl(_PR_SET_DUMPABLE, 1)
        _dispose_all(signal.SIG_DFL)  # ours (and Python's) are not the command's
        for which, soft, hard in request["rlimits"]:
            resource.setrlimit(which, _lowered(which, soft, hard))
        with open("/proc/self/oom_score_adj", "w") as score:
            score.write(str(request["oom_score_adj"]))
    except BaseException as exc:  # the command's set-up failed: say so, exit
        os.write(2, f"{NAME}: {exc}\n".encode())
        os._exit(_EXEC_FAILED + 1)
    argv: list[str] = request["argv"]
    try:
        os.chdir(str(request["cwd"]))  # the job may have locked itself out: its error, not ours
        # The spawner looks the command up in the job's PATH, as exec would here.
        os.execve(SPAWNER[0], [*SPAWNER, *argv], request["env"])
    except BaseException as exc:
        os.write(2, f"{NAME}: cannot run {argv[0]}: {exc}\n".encode())
    os._exit(_EXEC_FAILED)


def _remove_semaphores(libc: ctypes.CDLL) -> int:
    """Remove every semaphore set (they outlive processes); how many are left."""
    for semid in _semaphore_ids(libc):
        libc.semctl(semid, 0, _IPC_RMID)
    return len(_semaphore_ids(libc))


def _children() -> list[int]:
    """Our children, zombies included."""
    pids = []
    for name in os.listdir("/proc"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{name}/stat", "rb") as stat:
                data = stat.read()
            if int(data[data.rindex(b")") + 2 :].split()[1]) == os.getpid():
                pids.append(int(name))
    return pids


def _forked_by(spawner: int) -> int | None:
    """The command the (reaped) spawner forked, now ours: the first pid handed out after the spawner's.
    Nothing else of the namespace runs while the spawner forks (the last command's processes are all
    gone, we wait), so the command's is the next pid; anything it forked and orphaned since came later."""
    children = _children()
    return min(children, key=lambda pid: (pid - spawner) % _PID_SPACE) if children else None


def _run(request: dict[str, Any], fds: list[int], control: socket.socket, libc: ctypes.CDLL) -> dict[str, Any]:
    spawner = os.fork()
    if spawner == 0:
        _child(request, fds)
    for fd in fds:
        os.close(fd)
    _, status, usage = os.wait4(spawner, 0)
    command = _forked_by(spawner) if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else None
    control.send(json.dumps({"started": True}).encode())
    cpu_s, peak_kb = 0.0, 0
    if command is not None:  # else the set-up or the fork failed, as the spawner's status says
        _, status, usage = os.wait4(command, 0)
        cpu_s, peak_kb = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
    rest_cpu_s, rest_peak_kb = _kill_the_rest()
    if _remove_semaphores(libc):  # as a fresh IPC namespace per command would
        raise OSError("a semaphore set of the command cannot be removed")
    return {"status": status, "cpu_s": cpu_s + rest_cpu_s, "peak_kb": max(peak_kb, rest_peak_kb)}


def _reset(request: dict[str, Any], libc: ctypes.CDLL) -> dict[str, Any]:
    _kill_the_rest()
    paths: list[str] = request["paths"]
    return {
        "devices": {path: os.stat(path).st_dev for path in paths},
        "entries": {path: sorted(os.listdir(path)) for path in paths},
        "semaphores": _remove_semaphores(libc),
    }


def serve(control: socket.socket) -> None:
    """Answer the pool process's requests until it closes the socket."""
    libc = ctypes.CDLL(None, use_errno=True)
    control.send(json.dumps({"ready": os.getpid()}).encode())
    while True:
        message, fds, _, _ = socket.recv_fds(control, _MESSAGE_BYTES, 3)
        if not message:
            return
        request = json.loads(message)
        try:
            answer = _run(request, fds, control, libc) if request["op"] == "run" else _reset(request, libc)
        except Exception as exc:  # the pool process replaces the sandbox
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        control.send(json.dumps(answer).encode())


def main() -> None:
    """Become ``sandbox-init`` if not yet, then serve."""
    if os.getpid() != 1:  # kill(-1) outside a pid namespace of its own would reach far too much
        raise SystemExit(f"{NAME}: not pid 1 of a sandbox; refusing to start")
    if sys.argv[1] != _NAMED:  # first start: take the name a process list shows
        with open("/proc/self/cmdline", "rb") as cmdline:
            source = cmdline.read().split(b"\0")[4]
        os.execv(
            sys.executable,
            [NAME.encode(), b"-I", b"-S", b"-c", source, _NAMED.encode(), *map(os.fsencode, sys.argv[1:])],
        )
    # No handler: on Linux, pid 1 then gets no signal from inside its namespace. gVisor delivers them
    # anyway, so ignore what can be ignored (SIGKILL and SIGSTOP cannot: the pool process copes).
    _dispose_all(signal.SIG_IGN)
    if libc_prctl(_PR_SET_DUMPABLE, 0) != 0:
        raise SystemExit(f"{NAME}: cannot become non-dumpable")
    control = socket.socket(fileno=int(sys.argv[-1]))
    _close_all_but(control.fileno())
    serve(control)


def libc_prctl(option: int, value: int) -> int:
    """``prctl(option, value)``."""
    return int(ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0))


if __name__ == "__main__":
    main()
