"""Resource limits of one user process, and how they are applied in the child before ``exec``."""

import ctypes
import math
import resource
import signal
from dataclasses import dataclass

from common.runtimes import Runtime
from schemas.jobs import JobMessage, Limits

MIB = 1024 * 1024
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1

# RLIMIT_NPROC counts every process of the user id, the worker and its pool included, so it is a
# fork-bomb brake, not an exact per-job count (the sandbox adds a pids cgroup for that).
MAX_PROCESSES = 256
MAX_OPEN_FILES = 256
RUN_FILE_BYTES = 64 * MIB
COMPILE_FILE_BYTES = 512 * MIB


@dataclass(frozen=True, slots=True)
class ProcessLimits:
    """Everything that bounds one execution. Times are milliseconds, sizes bytes."""

    cpu_ms: int
    wall_ms: int
    memory_bytes: int
    """Resident memory of the whole process tree (the watchdog's limit), runtime overhead included."""
    output_bytes: int
    """Captured bytes of stdout and of stderr, each."""
    address_space_bytes: int | None = None
    """RLIMIT_AS of each process, for runtimes where it is safe; None leaves the address space alone."""
    kill_on_output_limit: bool = True
    """Output beyond ``output_bytes`` ends the program (an output-limit verdict) or is just dropped."""
    file_bytes: int = RUN_FILE_BYTES
    processes: int = MAX_PROCESSES
    open_files: int = MAX_OPEN_FILES

    @property
    def memory_limit_kb(self) -> int:
        """The memory limit in KiB, the unit of ``ru_maxrss``."""
        return self.memory_bytes // 1024

    def apply_in_child(self) -> None:
        """Set the rlimits and signal dispositions; runs in the forked child right before ``exec``."""
        cpu_s = max(1, math.ceil(self.cpu_ms / 1000))
        # Soft limit: SIGXCPU (a time-limit verdict); the hard limit a second later is SIGKILL.
        _lower(resource.RLIMIT_CPU, cpu_s, cpu_s + 1)
        if self.address_space_bytes is not None:
            _lower(resource.RLIMIT_AS, self.address_space_bytes)
        _lower(resource.RLIMIT_FSIZE, self.file_bytes)
        _lower(resource.RLIMIT_NOFILE, self.open_files)
        _lower(resource.RLIMIT_NPROC, self.processes)
        _lower(resource.RLIMIT_CORE, 0)
        # The pool process ignores these so a terminal's Ctrl-C cannot kill a job half-way;
        # ignored dispositions survive exec, so give the user's program the defaults back.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        # If the pool process dies (or is killed as hung), the program dies with it instead of lingering.
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _lower(which: int, soft: int, hard: int | None = None) -> None:
    """Set a limit, never above the current hard limit (an unprivileged process may not raise it)."""
    _, current_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def run_limits(limits: Limits, runtime: Runtime) -> ProcessLimits:
    """Limits of one run of the user's program under the job's (effective) limits."""
    effective = limits.effective()
    assert effective.wall_ms is not None  # effective() always fills it
    memory_bytes = (effective.memory_mb + runtime.memory_overhead_mb) * MIB
    return ProcessLimits(
        cpu_ms=effective.time_ms,
        wall_ms=effective.wall_ms,
        memory_bytes=memory_bytes,
        address_space_bytes=memory_bytes if runtime.address_space_limit else None,
        output_bytes=effective.output_kb * 1024,
    )


def compile_limits(limits: Limits, runtime: Runtime) -> ProcessLimits:
    """Limits of the compiler: the runtime's own budget, output capped like the program's. Compilers get
    no address-space limit: javac is a JVM, and go and rustc reserve far more than they touch."""
    return ProcessLimits(
        cpu_ms=runtime.compile_time_ms,
        wall_ms=3 * runtime.compile_time_ms,
        memory_bytes=(runtime.compile_memory_mb + runtime.memory_overhead_mb) * MIB,
        output_bytes=limits.output_kb * 1024,
        kill_on_output_limit=False,  # a chatty compiler is not an error; its output is cut, that is all
        file_bytes=COMPILE_FILE_BYTES,
    )


def job_budget_s(job: JobMessage, runtime: Runtime) -> float:
    """The most a whole job can take when every run uses its full wall time, plus slack. A pool process
    still busy after this is hung (our fault), not slow."""
    wall_ms = run_limits(job.limits, runtime).wall_ms
    runs = len(job.tests) if job.tests else 1
    compile_ms = 3 * runtime.compile_time_ms if runtime.compiled else 0
    return (compile_ms + runs * (wall_ms + 1000)) / 1000 + 10.0
