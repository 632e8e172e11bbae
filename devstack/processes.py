"""Long-running child processes that outlive the command that started them: each runs in its own process
group, logs to a file and is known by a pid file, so a later ``devstack down`` (another process) can stop
it. Linux only (``/proc``)."""

import fcntl
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from devstack.console import DevstackError

POLL_INTERVAL_S = 0.2
KILL_WAIT_S = 10.0

_children: dict[int, subprocess.Popen[bytes]] = {}
"""The processes this process started, by pid. Holding on to their ``Popen`` keeps Python's subprocess
module from reaping them behind our back (it reaps dropped ``Popen`` objects' children on the next
``Popen``), so :func:`exit_code` can still read how one ended."""


def start_detached(
    argv: Sequence[str],
    *,
    pid_file: Path,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start ``argv`` in a new session (Ctrl-C in our terminal does not reach it), appending its output to
    ``log_file``, and record it in ``pid_file``. Returns its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    _write_record(pid_file, child.pid, list(argv))
    _children[child.pid] = child
    return child.pid


def is_child(pid: int) -> bool:
    """Whether ``pid`` is a process :func:`start_detached` started in this process (and not reaped)."""
    return pid in _children


def age_s(pid: int) -> float:
    """How long process ``pid`` has been running, in seconds (0 when it is gone)."""
    started = _start_time(pid)
    if started is None:
        return 0.0
    since_boot = float(Path("/proc/uptime").read_text().split()[0])
    return max(0.0, since_boot - started / os.sysconf("SC_CLK_TCK"))


def exit_code(pid: int) -> int | None:
    """Reap our child ``pid`` if it has ended: its exit code (``-N`` when signal N killed it), or None
    while it runs or when it is not our child."""
    child = _children.get(pid)
    if child is None:
        return None
    code = child.poll()
    if code is not None:
        del _children[pid]
    return code


def record_current_process(pid_file: Path) -> None:
    """Record this very process in ``pid_file`` (so another command can find and stop it)."""
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    _write_record(pid_file, os.getpid(), [])


def running_pid(pid_file: Path) -> int | None:
    """The pid recorded in ``pid_file`` if that very process is still running, else None."""
    try:
        record = json.loads(pid_file.read_text())
        pid = int(record["pid"])
        start_time = record["start_time"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid) or _start_time(pid) != start_time:
        return None
    return pid


def stop(pid_file: Path, *, timeout: float = 30.0, group: bool = True) -> bool:
    """Stop the process recorded in ``pid_file`` (with its whole process group unless ``group`` is
    false): SIGTERM, wait up to ``timeout``, then SIGKILL. Removes the pid file. Returns whether a running
    process was stopped."""
    pid = running_pid(pid_file)
    if pid is not None:
        for sig, wait_s in ((signal.SIGTERM, timeout), (signal.SIGKILL, KILL_WAIT_S)):
            _send(pid, sig, group=group)
            deadline = time.monotonic() + wait_s
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(POLL_INTERVAL_S)
            if not _alive(pid):
                break
        else:
            raise DevstackError(f"process {pid} ({pid_file}) survived SIGKILL")
    pid_file.unlink(missing_ok=True)
    return pid is not None


def wait_until(
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    alive: Callable[[], bool] = lambda: True,
    log_file: Path | None = None,
) -> None:
    """Poll ``ready`` until it is true. Fails when ``alive`` turns false (the process died) or after
    ``timeout`` seconds, quoting the end of ``log_file``."""
    deadline = time.monotonic() + timeout
    while not ready():
        if not alive():
            raise DevstackError(f"{what}: the process exited{_quote_log(log_file)}")
        if time.monotonic() > deadline:
            raise DevstackError(f"{what}: not ready after {timeout:.0f} s{_quote_log(log_file)}")
        time.sleep(POLL_INTERVAL_S)


def http_ok(url: str, *, timeout: float = 2.0) -> bool:
    """Whether ``GET url`` answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


def wait_http_ok(
    url: str, timeout: float, *, alive: Callable[[], bool] = lambda: True, log_file: Path | None = None
) -> None:
    """Wait until ``GET url`` answers 2xx."""
    wait_until(lambda: http_ok(url), timeout=timeout, what=f"GET {url}", alive=alive, log_file=log_file)


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now (the kernel's pick of an ephemeral one)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def require_free_port(host: str, port: int, *, owner: str, variable: str) -> None:
    """Fail with a useful message when another program already listens where ``owner`` wants to."""
    if port_open(host, port):
        raise DevstackError(
            f"{owner}: {host}:{port} is already in use by another program; stop it, or choose another port "
            f"with {variable}=<port>"
        )


def log_tail(log_file: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of ``log_file`` (empty when there is none)."""
    try:
        text = log_file.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (two commands bringing up one stack must not race)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _quote_log(log_file: Path | None) -> str:
    if log_file is None:
        return ""
    tail = log_tail(log_file)
    return f"; end of {log_file}:\n{tail}" if tail else f" (see {log_file})"


def _write_record(pid_file: Path, pid: int, argv: list[str]) -> None:
    # The start time tells our process apart from an unrelated one that later got the same pid.
    record = {"pid": pid, "start_time": _start_time(pid), "argv": argv}
    pid_file.write_text(json.dumps(record) + "\n")


def _send(pid: int, sig: signal.Signals, *, group: bool) -> None:
    with suppress(ProcessLookupError):
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _alive(pid: int) -> bool:
    """Running and not a zombie (a zombie child of ours is reaped here)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z":
        if pid not in _children:  # ours are reaped by exit_code(), which keeps their exit code
            with suppress(ChildProcessError):  # not our child: its parent reaps it
                os.waitpid(pid, os.WNOHANG)
        return False
    return True


def _start_time(pid: int) -> int | None:
    """Field 22 of ``/proc/<pid>/stat``: when the process started, in clock ticks since boot."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19])
