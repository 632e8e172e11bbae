"""Sandboxing jobs on gVisor's kernel (the worker container run by Docker's runtime ``runsc``,
``EXECUTIONER_WORKER_RUNTIME``).

bubblewrap trips over two differences between gVisor and Linux, so the sandbox works around them there:

* gVisor has no user-namespace sysctls (``/proc/sys/user/max_user_namespaces``), on which bubblewrap's
  ``--disable-userns`` relies. Instead, the jobs' seccomp filter (worker/job_filter.py) refuses new user
  namespaces there too.
* A new network namespace comes with its loopback interface already up, and bubblewrap's own loopback
  set-up for ``--unshare-net`` fails on it (google/gvisor#13438). Instead, each pool process enters a
  network namespace of its own (worker/scratch.py) with nothing but loopback, and the sandboxes of its
  jobs, one after the other, share it (``--share-net``).

And one difference matters to the memory limit: on gVisor the whole container is one sandbox on the
host, so when it runs out of memory the host kills all of it, worker included, not just the job that
took the memory. Memory a job holds outside every process's resident set (memfds, files on tmpfs) gets
there past the worker's per-tree watch. gVisor's ``/proc/meminfo`` counts the whole sandbox against the
container's limit, though, so the worker watches that too (:func:`sandbox_memory_low`) and ends a job
before the sandbox runs dry.

Host tasks are the other resource a job can exhaust for everyone: gVisor runs each process and thread
of a job on host tasks of its own, which the container's pids limit counts, and it cannot survive
failing to create one. So a job's process and thread limit (RLIMIT_NPROC) is lower on gVisor
(:data:`JOB_PROCESSES`).

The missing sysctl is also how the worker recognises gVisor: once, at start-up (worker/service.py), and
the answer travels to the pool processes in ``SandboxConfig.gvisor``; nothing else in the worker asks.
"""

from pathlib import Path

MAX_USER_NAMESPACES = Path("/proc/sys/user/max_user_namespaces")
MEMINFO = Path("/proc/meminfo")
JOB_PROCESSES = 64
"""RLIMIT_NPROC of a job on gVisor: with the pool's other jobs and gVisor's own threads it stays well
inside the worker container's pids limit (512 by default)."""
MEMORY_RESERVE_FRACTION = 0.1
"""Below this fraction of the container's memory still available, a running job is ended."""
MEMORY_RESERVE_MIN_KB = 32 * 1024


def on_gvisor() -> bool:
    """Whether this process runs on gVisor's kernel (see the module's docstring). Probes ``/proc``: only
    the worker's start-up calls it."""
    return not MAX_USER_NAMESPACES.exists()


def sandbox_memory_low(meminfo: str | None = None) -> bool:
    """Whether the sandbox is close to its memory limit (gVisor only: elsewhere ``/proc/meminfo`` is
    the host's). ``meminfo``: the file's text, read when not given."""
    fields: dict[str, int] = {}
    for line in (MEMINFO.read_text() if meminfo is None else meminfo).splitlines():
        name, _, value = line.partition(":")
        if name in ("MemTotal", "MemAvailable"):
            fields[name] = int(value.split()[0])
    total, available = fields.get("MemTotal"), fields.get("MemAvailable")
    if total is None or available is None:
        return False
    return available < max(MEMORY_RESERVE_MIN_KB, int(total * MEMORY_RESERVE_FRACTION))
