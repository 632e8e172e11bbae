"""The bare-execution floor, run inside a worker image (standard library only: it runs on the image's
``python3``). Reads a spec (JSON, made by :mod:`bench.floor`), runs each phase's jobs with a pool of
``parallel`` subprocesses at a time, and prints one JSON document with the timings.

A job is what a worker does for it, minus the worker: a fresh scratch directory with the source, the
compiler once (when the runtime compiles), then the program once per test (or once), each output checked.
In ``sandbox`` phases every command runs under the worker's own bubblewrap command line; on gVisor's
kernel, under the one the worker uses there (worker/gvisor.py): the runner then enters a network
namespace of its own first, as a worker's pool process does.
"""

import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # floor_warm.py, mounted next to us
import floor_warm  # type: ignore[import-not-found]

SCRATCH = "@SCRATCH@"
"""Stands for the job's scratch directory in the spec's command lines and environments."""
SECCOMP_FD = "@SECCOMP_FD@"
"""Stands for a descriptor of the spec's seccomp filter (gVisor sandboxes)."""
CLONE_NEWNET, CLONE_NEWUSER = 0x40000000, 0x10000000
COMMAND_TIMEOUT_S = 120


def _same(actual: str, expected: str) -> bool:
    """The worker's default comparison (``trim``): trailing whitespace per line and trailing blank lines
    do not count."""

    def lines(text: str) -> list[str]:
        stripped = [line.rstrip() for line in text.split("\n")]
        while stripped and not stripped[-1]:
            stripped.pop()
        return stripped

    return lines(actual) == lines(expected)


def _fill(value: str, scratch: str) -> str:
    return value.replace(SCRATCH, scratch)


def _enter_own_network() -> None:
    """A user and network namespace of our own (ids mapped to themselves), as a worker's pool process
    enters on gVisor: the sandboxes share it."""
    uid, gid = os.getuid(), os.getgid()
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER | CLONE_NEWNET)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


class Runner:
    """Runs jobs of one spec."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.status_fd: int = spec["status_fd"]
        # bubblewrap writes its status lines to this descriptor; the floor only needs the exit codes.
        os.dup2(os.open(os.devnull, os.O_WRONLY), self.status_fd)
        # The worker's own test: gVisor has no user-namespace sysctls (worker/gvisor.py).
        self.gvisor = not os.path.exists("/proc/sys/user/max_user_namespaces")
        self.warm: Any = None
        """floor_warm.WarmSandbox, for warm phases."""
        if any(phase.get("warm") for phase in spec["phases"]):
            # As a warm worker's pool process: its own namespaces, then the sandbox (still one thread).
            floor_warm.enter_private_mounts(self.gvisor)
            seccomp_fd = self._seccomp_fd(self.warm_mode())
            self.warm = floor_warm.WarmSandbox(spec["warm_sandboxes"][self.warm_mode()], seccomp_fd)
            os.close(seccomp_fd)
        elif self.gvisor:
            _enter_own_network()  # still single-threaded here

    def warm_mode(self) -> str:
        """The spec's warm sandbox for this kernel."""
        return "warm_gvisor" if self.gvisor else "warm"

    def sandbox_mode(self) -> str:
        """The spec's sandboxed commands for this kernel."""
        return "sandbox_gvisor" if self.gvisor else "sandbox"

    def _seccomp_fd(self, mode: str) -> int:
        fd = os.memfd_create("bwrap-seccomp", os.MFD_CLOEXEC)
        os.write(fd, bytes.fromhex(self.spec["seccomp_filters"][mode]))
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    def _command(self, mode: str, step: str, scratch: str, stdin: str) -> subprocess.CompletedProcess[str]:
        command = self.spec["modes"][mode][step]
        sandboxed = mode != "bare"
        seccomp_fd = self._seccomp_fd(mode) if SECCOMP_FD in command["argv"] else None
        try:
            argv = [_fill(part, scratch).replace(SECCOMP_FD, str(seccomp_fd)) for part in command["argv"]]
            return subprocess.run(
                argv,
                input=stdin,
                capture_output=True,
                text=True,
                cwd="/" if sandboxed else scratch,
                env={name: _fill(value, scratch) for name, value in command["env"].items()},
                pass_fds=(self.status_fd,) + ((seccomp_fd,) if seccomp_fd is not None else ()),
                timeout=COMMAND_TIMEOUT_S,
                check=False,
            )
        finally:
            if seccomp_fd is not None:
                os.close(seccomp_fd)

    def warm_job(self, mode: str) -> str | None:
        """:meth:`job` in the warm sandbox."""
        assert self.warm is not None
        with self.warm.job(64 << 20, 16384) as scratch:
            with open(os.path.join(scratch, self.spec["source_file"]), "w") as source:
                source.write(self.spec["source"])
            steps = self.spec["modes"][mode]
            if steps.get("compile"):
                code, _, stderr = self.warm.run(steps["compile"]["request"], "")
                if code != 0:
                    return f"compile exited {code}: {stderr[-300:]}"
            for test in self.spec["tests"]:
                code, stdout, stderr = self.warm.run(steps["run"]["request"], test["stdin"])
                if code != 0 or not _same(stdout, test["expected"]):
                    return f"run exited {code}, stdout {stdout[:80]!r}: {stderr[-300:]}"
        return None

    def job(self, mode: str) -> str | None:
        """Run one job; None when every step did what it should, else what went wrong."""
        if mode.startswith("warm"):
            return self.warm_job(mode)
        scratch = tempfile.mkdtemp(prefix="floor-")
        try:
            with open(os.path.join(scratch, self.spec["source_file"]), "w") as source:
                source.write(self.spec["source"])
            if self.spec["modes"][mode].get("compile"):
                done = self._command(mode, "compile", scratch, "")
                if done.returncode != 0:
                    return f"compile exited {done.returncode}: {done.stderr[-300:]}"
            for test in self.spec["tests"]:
                done = self._command(mode, "run", scratch, test["stdin"])
                if done.returncode != 0 or not _same(done.stdout, test["expected"]):
                    return f"run exited {done.returncode}, stdout {done.stdout[:80]!r}: {done.stderr[-300:]}"
            return None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _mode(self, phase: dict[str, Any]) -> str:
        if phase.get("warm"):
            return self.warm_mode()
        return self.sandbox_mode() if phase["sandbox"] else "bare"

    def phase(self, phase: dict[str, Any]) -> dict[str, Any]:
        """Run one phase; its wall time, each job's time and the failures."""
        mode = self._mode(phase)

        def timed(_: int) -> tuple[float, str | None]:
            started = time.perf_counter()
            failure = self.job(mode)
            return (time.perf_counter() - started) * 1000, failure

        cpu_before = _cpu_s()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=phase["parallel"]) as pool:
            results = list(pool.map(timed, range(phase["jobs"])))
        elapsed = time.perf_counter() - started
        failures = [f for _, f in results if f is not None]
        # Only without a sandbox: a sandbox's processes do not all reach this runner's children's count
        # (a warm init is reaped at its end; through bubblewrap a first run counted a quarter of the
        # bare figure), so a sandboxed figure would understate.
        cpu_ms = None if phase["sandbox"] else (_cpu_s() - cpu_before) * 1000 / phase["jobs"]
        return {
            **phase,
            "elapsed_s": elapsed,
            "cpu_ms_per_job": cpu_ms,
            "job_ms": [ms for ms, _ in results],
            "failures": len(failures),
            "first_failure": failures[0] if failures else None,
        }


def _cpu_s() -> float:
    """CPU seconds of this runner and of every child it has waited for (with theirs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    """``python3 floor_runner.py SPEC.json``: run every phase, print the results as JSON."""
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    runner = Runner(spec)
    for mode in {runner._mode(phase) for phase in spec["phases"]}:
        runner.job(mode)  # warm the page cache (interpreter, compiler, libraries) before timing
    results = [runner.phase(phase) for phase in spec["phases"]]
    print(json.dumps({"phases": results}))


if __name__ == "__main__":
    main()
