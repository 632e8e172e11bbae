"""The floor runner's warm sandbox (standard library only, next to ``floor_runner.py``): what a worker's
pool process does with ``EXECUTIONER_SANDBOX=warm`` (worker/warm.py), minus the worker. One sandbox per
runner: its own user and mount namespace (and network namespace on gVisor), a shared slot directory,
one ``bwrap`` whose pid 1 is the worker's own init (worker/warm_init.py, its source in the spec), and per
job a fresh tmpfs on the slot, which the sandbox sees by mount propagation.
"""

import contextlib
import ctypes
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

_LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWUSER = 0x20000, 0x40000000, 0x10000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE, MS_SHARED = 0x2, 0x4, 0x1000, 0x4000, 0x40000, 1 << 20
ROOT = "/tmp/floor-warm"
SLOT = ROOT + "/slot"
CONTROL_FD = "@CONTROL_FD@"
"""Stands for the init's end of the control socket in the spec's sandbox command line."""


def _check(result: int, what: str) -> None:
    if result != 0:
        raise OSError(ctypes.get_errno(), what)


def _mount(source: bytes | None, target: str, kind: bytes | None, flags: int, data: bytes | None) -> None:
    _check(_LIBC.mount(source, target.encode(), kind, flags, data), f"mount {target}")


def enter_private_mounts(gvisor: bool) -> None:
    """As a pool process does (worker/scratch.py): a user and mount namespace of our own, ids mapped
    to themselves, a private tmpfs root and the shared slot below it."""
    uid, gid = os.getuid(), os.getgid()
    _check(_LIBC.unshare(CLONE_NEWUSER | CLONE_NEWNS | (CLONE_NEWNET if gvisor else 0)), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    _mount(b"none", "/", None, MS_REC | MS_PRIVATE, None)
    os.makedirs(ROOT, exist_ok=True)
    _mount(b"tmpfs", ROOT, b"tmpfs", MS_NOSUID | MS_NODEV, b"size=1m,mode=0700")
    os.mkdir(SLOT, 0o700)
    _mount(SLOT.encode(), SLOT, None, MS_BIND, None)
    _mount(None, SLOT, None, MS_SHARED, None)


class WarmSandbox:
    """One warm sandbox, started from the spec's command line (``@SCRATCH@`` is the slot)."""

    def __init__(self, argv: list[str], seccomp_fd: int) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [part.replace("@SCRATCH@", SLOT).replace(CONTROL_FD, str(theirs.fileno())) for part in argv]
        command[command.index("--seccomp") + 1] = str(seccomp_fd)
        self.bwrap = subprocess.Popen(
            command,
            env={"PATH": "/usr/bin:/bin"},
            stdin=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(), seccomp_fd),
        )
        theirs.close()
        self.control = ours
        self.answer()

    def answer(self) -> dict[str, Any]:
        """The init's next answer."""
        message = self.control.recv(1 << 20)
        if not message:
            raise RuntimeError("the warm sandbox's init has ended")
        answer: dict[str, Any] = json.loads(message)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    @contextlib.contextmanager
    def job(self, disk_bytes: int, inodes: int) -> Iterator[str]:
        """A fresh tmpfs on the slot for one job, checked from inside; unmounted afterwards."""
        _mount(
            b"tmpfs", SLOT, b"tmpfs", MS_NOSUID | MS_NODEV, f"size={disk_bytes},nr_inodes={inodes}".encode()
        )
        try:
            self.control.send(json.dumps({"op": "reset", "paths": ["/tmp", "/dev/shm"]}).encode())
            seen = self.answer()
            if set(seen["devices"].values()) != {os.stat(SLOT).st_dev}:
                raise RuntimeError(f"the sandbox does not see the job's tmpfs: {seen}")
            yield SLOT
        finally:
            _check(_LIBC.umount2(SLOT.encode(), 2), "umount")  # MNT_DETACH

    def run(self, request: dict[str, Any], stdin: str) -> tuple[int, str, str]:
        """One command: its exit status (or 128 + signal), stdout and stderr."""
        pipes = [os.pipe() for _ in range(3)]
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1]]
        socket.send_fds(self.control, [json.dumps(request).encode()], theirs)
        for fd in theirs:
            os.close(fd)
        with os.fdopen(pipes[0][1], "w") as feed, contextlib.suppress(BrokenPipeError):
            feed.write(stdin)
        with os.fdopen(pipes[1][0]) as out, os.fdopen(pipes[2][0]) as err:
            stdout, stderr = out.read(), err.read()
        answer = self.answer()
        if "started" in answer:  # the init says so once the command is forked, then how it ended
            answer = self.answer()
        status = int(answer["status"])
        code = os.waitstatus_to_exitcode(status)
        return (128 - code if code < 0 else code), stdout, stderr
