"""Resource limits of one user process, and the wrapper command that applies them before ``exec``."""

import math
import resource
import shutil
from dataclasses import dataclass

from common.runtimes import Runtime
from schemas.checks import CheckRequest
from schemas.jobs import MAX_PROCESSES, CompileLimits, JobMessage, Limits

MIB = 1024 * 1024
# util-linux (essential in Debian, so in every worker image): set rlimits, or the parent-death signal,
# then exec the rest of the command line.
PRLIMIT = shutil.which("prlimit") or "/usr/bin/prlimit"
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"

# RLIMIT_NPROC counts every process of the user id, the worker and its pool included, so it is a
# fork-bomb brake, not an exact per-job count (the sandbox sets it again inside its user namespace,
# where it counts the job's own processes: a job's ``limits.processes`` is that count).
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
    stack_bytes: int | None = None
    """RLIMIT_STACK of each process; None leaves the inherited one."""
    watch_sandbox_memory: bool = False
    """Also end it when the whole container runs low on memory (gVisor: worker/gvisor.py)."""

    @property
    def memory_limit_kb(self) -> int:
        """The memory limit in KiB, the unit of ``ru_maxrss``."""
        return self.memory_bytes // 1024

    def exec_prefix(self, *, dies_with_parent: bool) -> list[str]:
        """The command line that sets these rlimits and then ``exec``s the command appended to it.

        Why a wrapper and not a ``preexec_fn``: Python must ``fork`` (not ``vfork``) the whole pool process
        to run one, which costs several milliseconds per command; two small ``exec``s cost about one. A
        command whose sandbox does not already die with its parent (bubblewrap's ``--die-with-parent``)
        also gets PR_SET_PDEATHSIG: if the pool process dies, it dies too instead of lingering."""
        options = [
            f"--{_PRLIMIT_OPTIONS[which]}={_spelled(soft)}:{_spelled(hard)}"
            for which, soft, hard in self.rlimits()
        ]
        prefix = [] if dies_with_parent else [SETPRIV, "--pdeathsig", "KILL", "--"]
        return [*prefix, PRLIMIT, *options, "--"]

    def rlimits(self) -> list[tuple[int, int, int]]:
        """``(resource, soft, hard)`` for every rlimit these limits set, each never above this process's
        own hard limit (an unprivileged process may not raise it; the child inherits it from us)."""
        cpu_s = max(1, math.ceil(self.cpu_ms / 1000))
        # Soft limit: SIGXCPU (a time-limit verdict); the hard limit a second later is SIGKILL.
        wanted = [(resource.RLIMIT_CPU, cpu_s, cpu_s + 1)]
        if self.address_space_bytes is not None:
            wanted.append((resource.RLIMIT_AS, self.address_space_bytes, self.address_space_bytes))
        if self.stack_bytes is not None:
            wanted.append((resource.RLIMIT_STACK, self.stack_bytes, self.stack_bytes))
        wanted += [
            (resource.RLIMIT_FSIZE, self.file_bytes, self.file_bytes),
            (resource.RLIMIT_NOFILE, self.open_files, self.open_files),
            (resource.RLIMIT_NPROC, self.processes, self.processes),
        ]
        return [(which, *_lowered(which, soft, hard)) for which, soft, hard in wanted] + [
            (resource.RLIMIT_CORE, 0, 0)
        ]


_PRLIMIT_OPTIONS = {
    resource.RLIMIT_CPU: "cpu",
    resource.RLIMIT_AS: "as",
    resource.RLIMIT_STACK: "stack",
    resource.RLIMIT_FSIZE: "fsize",
    resource.RLIMIT_NOFILE: "nofile",
    resource.RLIMIT_NPROC: "nproc",
    resource.RLIMIT_CORE: "core",
}


def _lowered(which: int, soft: int, hard: int) -> tuple[int, int]:
    """``(soft, hard)`` for a limit, never above the current hard limit (an unprivileged process may not
    raise it), which the child inherits from us."""
    _, current_hard = resource.getrlimit(which)
    hard = _lower_of(hard, current_hard)
    return _lower_of(soft, hard), hard


def _spelled(limit: int) -> str:
    return "unlimited" if limit == resource.RLIM_INFINITY else str(limit)


def _lower_of(first: int, second: int) -> int:
    """The lower of two limits, where RLIM_INFINITY is above every number."""
    if first == resource.RLIM_INFINITY:
        return second
    if second == resource.RLIM_INFINITY:
        return first
    return min(first, second)


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
        processes=effective.processes or MAX_PROCESSES,
        stack_bytes=None if effective.stack_kb is None else effective.stack_kb * 1024,
        file_bytes=RUN_FILE_BYTES if effective.file_size_kb is None else effective.file_size_kb * 1024,
    )


def compile_memory_mb(asked: CompileLimits | None, runtime: Runtime) -> int:
    """The compiler's memory limit, MiB: the job's when it asked for one (never above the runtime's own:
    common.admission refuses such a job), else the runtime's."""
    wanted = asked.memory_mb if asked is not None else None
    return min(wanted or runtime.compile_memory_mb, runtime.compile_memory_mb)


def compile_limits(limits: Limits, runtime: Runtime, asked: CompileLimits | None = None) -> ProcessLimits:
    """Limits of the compiler: the runtime's own budget, or the job's tighter ``compile_limits``, output
    capped like the program's. Compilers get no address-space limit: javac is a JVM, and go and rustc
    reserve far more than they touch."""
    asked = asked or CompileLimits()
    cpu_ms = min(asked.time_ms or runtime.compile_time_ms, runtime.compile_time_ms)
    wall_ms = min(asked.wall_ms or 3 * cpu_ms, 3 * runtime.compile_time_ms)
    return ProcessLimits(
        cpu_ms=cpu_ms,
        wall_ms=wall_ms,
        memory_bytes=(compile_memory_mb(asked, runtime) + runtime.memory_overhead_mb) * MIB,
        output_bytes=limits.output_kb * 1024,
        kill_on_output_limit=False,  # a chatty compiler is not an error; its output is cut, that is all
        file_bytes=COMPILE_FILE_BYTES,
    )


def job_budget_s(job: JobMessage, runtime: Runtime) -> float:
    """The most a whole job can take when every run uses its full wall time, plus slack. A pool process
    still busy after this is hung (our fault), not slow."""
    wall_ms = run_limits(job.limits, runtime).wall_ms
    runs = (len(job.tests) if job.tests else 1) * job.runs
    compile_ms = 3 * runtime.compile_time_ms if runtime.compiled else 0
    judge = job.checker or job.interactor
    if judge is not None:  # compiled once (by this runtime, or it is Python), then run on each test
        judge_wall_ms = (judge.limits or Limits()).effective().wall_ms or 0
        compile_ms *= 2 if judge.language == runtime.id else 1
        wall_ms += max(judge_wall_ms, wall_ms) + 1000
    return (compile_ms + runs * (wall_ms + 1000)) / 1000 + 10.0


def check_budget_s(request: CheckRequest, runtime: Runtime) -> float:
    """The most one check asked by another worker can take: compiling the checker (the first time) and
    one run of it, plus slack."""
    compile_ms = 3 * runtime.compile_time_ms if runtime.compiled else 0
    wall_ms = (request.checker.limits or Limits()).effective().wall_ms or 0
    return (compile_ms + wall_ms + 1000) / 1000 + 10.0
