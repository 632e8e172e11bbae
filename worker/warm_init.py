"""The init of a warm sandbox (worker/warm.py): pid 1 of the slot's bubblewrap sandbox. It runs inside
the sandbox, as the job's user, under the jobs' seccomp filter; standard library only, started as
``python3 -I -S -c <this file> <descriptor> <oom_score_adj>`` and re-executed as ``sandbox-init`` (its
name in process lists).

Requests come from the pool process over a ``SOCK_SEQPACKET`` socket (that descriptor), one JSON message
each, and get a JSON answer (``run``: two):

* ``{"op": "run", "argv", "env", "cwd"}`` with three descriptors (stdin, stdout, stderr): spawn
  ``argv`` (the pool process's ``prlimit`` wrapper with the command's rlimits, then :data:`SPAWNER` and
  the command) without copying ourselves (``posix_spawn``), in ``cwd``, with those descriptors and no
  other, default signal dispositions and exactly ``env``; our ``oom_score_adj`` (set at start) is
  inherited. The spawner forks the command in a session of its own and exits, leaving the command to
  us. First answer, once the command is forked: ``{"started": true}``. When the command ends, every
  other process of the pid namespace is killed (pid 1's ``kill(-1)`` reaches all of them, and no
  further) and reaped, and the System V semaphore sets it made (the IPC namespace outlives the command)
  removed. Second answer: ``{"status": wait status, "cpu_s", "peak_kb"}`` (CPU time and peak resident
  size of the command and everything else of it reaped; the spawner's are ours, not counted).
* ``{"op": "reset", "paths": [...]}``: kill and reap anything left, remove the System V semaphore sets
  of the sandbox's IPC namespace. Answer: ``{"devices": {path: st_dev}, "entries": {path: [names]},
  "semaphores": sets left}``, for the pool process to check that the reset took.

Pid 1 of a pid namespace gets no signal from inside it that it has no handler for, SIGKILL included;
the init installs no handler and ignores what it can (gVisor delivers such signals anyway), and is
non-dumpable, so a command (same uid, no capabilities) can neither read its memory or descriptors nor
trace it.
"""

import contextlib
import ctypes
import json
import os
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
of its own and exits. Why not start the command from here: ``ru_maxrss`` is a process's peak resident
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


def _spawn(request: dict[str, Any], fds: list[int]) -> int | None:
    """Start the request's ``argv`` on ``fds`` (see the module's docstring); None when its working
    directory cannot be entered (the job may have locked itself out: its error, said on its stderr)."""
    actions: list[tuple[int, ...]] = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)]
    actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in fds]
    try:
        os.chdir(str(request["cwd"]))  # inherited: posix_spawn here has no chdir of its own
    except OSError as exc:
        os.write(fds[2], f"{NAME}: cannot enter {request['cwd']}: {exc}\n".encode())
        return None
    try:
        return os.posix_spawn(
            request["argv"][0], request["argv"], request["env"], file_actions=actions, setsigdef=_CATCHABLE
        )
    finally:
        os.chdir("/")


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


def _run(
    request: dict[str, Any], fds: list[int], control: socket.socket, libc: ctypes.CDLL
) -> dict[str, Any]:
    try:
        spawner = _spawn(request, fds)
    finally:
        for fd in fds:
            os.close(fd)
    status, command = _EXEC_FAILED << 8, None
    if spawner is not None:
        _, status, _ = os.wait4(spawner, 0)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            command = _forked_by(spawner)
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
    # Every command inherits it; our own /proc files stop being ours to write once non-dumpable.
    with open("/proc/self/oom_score_adj", "w") as score:
        score.write(sys.argv[-1])
    if libc_prctl(_PR_SET_DUMPABLE, 0) != 0:
        raise SystemExit(f"{NAME}: cannot become non-dumpable")
    control = socket.socket(fileno=int(sys.argv[-2]))
    control.set_inheritable(False)
    _close_all_but(control.fileno())
    for _ in range(3):  # hold 0-2, so that a command's descriptors never arrive there
        os.open(os.devnull, os.O_RDONLY)
    serve(control)


def libc_prctl(option: int, value: int) -> int:
    """``prctl(option, value)``."""
    return int(ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0))


if __name__ == "__main__":
    main()
