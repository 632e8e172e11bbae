"""Judge0's fixed tables: its language ids (from each runtime's ``[compat] judge0_ids``), its statuses,
and the defaults and maximums ``/config_info`` reports and submissions are checked against."""

from collections.abc import Mapping
from dataclasses import dataclass

from common.runtimes import Runtime
from schemas.jobs import MAX_MEMORY_MB, MAX_OUTPUT_KB, MAX_TIME_MS

VERSION = "1.13.1"
"""The Judge0 CE version this API follows; the judge0 SDK picks its language table by it."""

STATUSES: dict[int, str] = {
    1: "In Queue",
    2: "Processing",
    3: "Accepted",
    4: "Wrong Answer",
    5: "Time Limit Exceeded",
    6: "Compilation Error",
    7: "Runtime Error (SIGSEGV)",
    8: "Runtime Error (SIGXFSZ)",
    9: "Runtime Error (SIGFPE)",
    10: "Runtime Error (SIGABRT)",
    11: "Runtime Error (NZEC)",
    12: "Runtime Error (Other)",
    13: "Internal Error",
    14: "Exec Format Error",
}
"""Judge0's status ids and descriptions."""


@dataclass(frozen=True, slots=True)
class Defaults:
    """A Judge0 CE install's defaults and maximums (its ``judge0.conf``), capped by the cluster's
    limits. Times in seconds, sizes in KB, as Judge0 has them."""

    cpu_time_limit: float = 5.0
    max_cpu_time_limit: float = MAX_TIME_MS / 1000
    wall_time_limit: float = 10.0
    max_wall_time_limit: float = 3 * MAX_TIME_MS / 1000
    memory_limit: int = 128_000
    max_memory_limit: int = MAX_MEMORY_MB * 1024
    max_file_size: int = MAX_OUTPUT_KB
    cpu_extra_time: float = 1.0
    stack_limit: int = 64_000
    max_stack_limit: int = 128_000
    max_processes_and_or_threads: int = 60
    max_max_processes_and_or_threads: int = 120
    number_of_runs: int = 1
    max_number_of_runs: int = 20
    max_submission_batch_size: int = 20


DEFAULTS = Defaults()

UNSUPPORTED_DEFAULTS: dict[str, object] = {
    "cpu_extra_time": DEFAULTS.cpu_extra_time,
    "enable_per_process_and_thread_time_limit": False,
    "enable_per_process_and_thread_memory_limit": False,
}
"""Judge0 fields the workers cannot honour yet, with the one value (besides null) accepted for each:
Judge0's default, which is what the cluster does anyway."""


MULTI_FILE_ID = 89
MULTI_FILE_NAME = "Multi-file program"
MULTI_FILE_RUNTIME = "cpp"
"""The runtime whose image runs Judge0's multi-file programs (their ``compile`` and ``run`` scripts):
C++'s, a core language, so always built, with GCC for C and C++, bash and make's usual companions
(coreutils, sed, grep). Its sandbox and limits are every job's."""


def judge0_languages(runtimes: Mapping[str, Runtime]) -> dict[int, Runtime]:
    """Every Judge0 language id this cluster answers to, with the runtime that runs it (the
    multi-file program's: :data:`MULTI_FILE_RUNTIME`'s)."""
    catalog = {
        language_id: runtime for runtime in runtimes.values() for language_id in runtime.compat.judge0_ids
    }
    if MULTI_FILE_RUNTIME in runtimes:
        catalog[MULTI_FILE_ID] = runtimes[MULTI_FILE_RUNTIME]
    return catalog


def judge0_id(runtime: Runtime) -> int | None:
    """The id Judge0 clients see for ``runtime`` (its first), or None when it has none."""
    return runtime.compat.judge0_ids[0] if runtime.compat.judge0_ids else None
