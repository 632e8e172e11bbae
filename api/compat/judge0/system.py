"""Judge0's informational routes: ``/about``, ``/config_info``, ``/system_info``, ``/workers``."""

import os
import platform
from collections.abc import Iterable

from api.admin.repository import PoolsSnapshot
from api.compat.judge0.catalog import DEFAULTS, VERSION
from api.compat.judge0.wire import Judge0About, Judge0ConfigInfo, Judge0Worker
from common.runtimes import Runtime

MAX_QUEUE_SIZE = 2**31 - 1
"""Judge0 refuses submissions beyond a queue size; the cluster has no such bound (Kafka holds the queue)."""

ABOUT: Judge0About = {
    "version": VERSION,
    "homepage": None,
    "source_code": None,
    "maintainer": "Executioner, serving the Judge0 CE 1.13.1 API (docs/compat.md)",
}


def config_info(runtimes: Iterable[Runtime], max_files_bytes: int, callbacks: bool) -> Judge0ConfigInfo:
    """Judge0's ``/config_info``: what this API accepts, in Judge0's terms (unsupported features off).
    Compiler options are allowed for the languages whose runtime has an allow-list of them."""
    return {
        "maintenance_mode": False,
        "enable_wait_result": True,
        "enable_compiler_options": True,
        "allowed_languages_for_compile_options": sorted(rt.name for rt in runtimes if rt.compiler_options),
        "enable_command_line_arguments": True,
        "enable_submission_delete": True,
        "enable_callbacks": callbacks,
        "callbacks_max_tries": 0,  # not a count here: retried for EXECUTIONER_WEBHOOK_RETRY_FOR_S
        "callbacks_timeout": 0.0,
        "enable_additional_files": True,
        "max_queue_size": MAX_QUEUE_SIZE,
        "cpu_time_limit": DEFAULTS.cpu_time_limit,
        "max_cpu_time_limit": DEFAULTS.max_cpu_time_limit,
        "cpu_extra_time": DEFAULTS.cpu_extra_time,
        "max_cpu_extra_time": DEFAULTS.cpu_extra_time,
        "wall_time_limit": DEFAULTS.wall_time_limit,
        "max_wall_time_limit": DEFAULTS.max_wall_time_limit,
        "memory_limit": DEFAULTS.memory_limit,
        "max_memory_limit": DEFAULTS.max_memory_limit,
        "stack_limit": DEFAULTS.stack_limit,
        "max_stack_limit": DEFAULTS.max_stack_limit,
        "max_processes_and_or_threads": DEFAULTS.max_processes_and_or_threads,
        "max_max_processes_and_or_threads": DEFAULTS.max_max_processes_and_or_threads,
        "enable_per_process_and_thread_time_limit": False,
        "allow_enable_per_process_and_thread_time_limit": False,
        "enable_per_process_and_thread_memory_limit": False,
        "allow_enable_per_process_and_thread_memory_limit": False,
        "max_file_size": DEFAULTS.max_file_size,
        "max_max_file_size": DEFAULTS.max_file_size,
        "number_of_runs": DEFAULTS.number_of_runs,
        "max_number_of_runs": DEFAULTS.max_number_of_runs,
        "redirect_stderr_to_stdout": False,
        "max_extract_size": max_files_bytes // 1024,
        "enable_batched_submissions": True,
        "max_submission_batch_size": DEFAULTS.max_submission_batch_size,
        "submission_cache_duration": 0.0,
        "use_docs_as_homepage": False,
        "allow_enable_network": False,
        "enable_network": False,
    }


def system_info() -> dict[str, str]:
    """Judge0's ``/system_info`` (an ``lscpu``-like summary) of the host this API replica runs on; the
    workers run on the Docker host, which may be another machine."""
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return {
        "Architecture": platform.machine(),
        "CPU(s)": str(os.cpu_count() or 0),
        "Operating System": platform.system(),
        "Kernel": platform.release(),
        "Mem": f"{pages * page_size // 2**20} MiB",
    }


def workers_view(languages: Iterable[str], snapshot: PoolsSnapshot) -> list[Judge0Worker]:
    """Judge0's ``/workers``, one queue per language from the master's last pool report. Judge0 counts
    single-job workers; ours run several jobs at once and report no busy count, so ``working`` is the
    jobs in flight (queue lag) up to the running workers, and ``size`` the rest of the lag."""
    view: list[Judge0Worker] = []
    for language in sorted(languages):
        status = snapshot.statuses.get(language)
        running = status.running if status else 0
        lag = (status.lag or 0) if status else 0
        working = min(lag, running)
        view.append(
            {
                "queue": language,
                "size": lag - working,
                "available": running,
                "idle": running - working,
                "working": working,
                "paused": 0,
                "failed": len(status.recent_failures) if status else 0,
            }
        )
    return view
