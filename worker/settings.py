"""The worker's settings: ``EXECUTIONER_*`` environment variables, loaded once at start-up."""

import socket
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from common.settings import KafkaSettings
from worker.cpus import available_cpus
from worker.sandbox import MIB, SandboxConfig


class WorkerSettings(KafkaSettings):
    """Configuration of one worker process (one language, one pool)."""

    language: str | None = None
    """Language id this worker serves; defaults to the runtime file's folder name."""
    runtime_file: Path = Path("/opt/executioner/runtime.toml")
    worker_id: str = Field(default_factory=socket.gethostname)
    """Published in ``running`` events and outcomes; a container's hostname by default."""
    pool_size: Annotated[int, Field(ge=1)] = Field(default_factory=available_cpus)
    """Jobs run at once; defaults to the CPUs this container may use."""
    prefetch: Annotated[int, Field(ge=0)] | None = None
    """Jobs fetched ahead of free pool slots (default: the pool size). They wait in the worker with their
    checks done, so a pool process that finishes a job gets the next one without a round trip to Kafka;
    they are not counted as started (poison detection) until a slot takes them."""
    scratch_dir: Path = Field(default_factory=lambda: Path(tempfile.gettempdir()))
    """Each job gets a fresh directory under it, removed afterwards. With the sandbox, each pool process
    mounts a private tmpfs over it (invisible to the rest of the container), so it must be a directory of
    its own such as ``/tmp``."""
    burst: bool = False
    """Run until the queue is empty, then drain and exit (tests, batch runs)."""
    drain_timeout_s: Annotated[float, Field(gt=0)] = 60.0
    """How long a drain (SIGTERM, lost partitions) waits for running jobs."""
    max_attempts: Annotated[int, Field(ge=1)] = 3
    """Attempts for a job that fails on our side before it is given up as ``internal_error``."""
    max_deliveries: Annotated[int, Field(ge=1)] = 3
    """Times a job may be started without finishing (its worker died, or was stopped and could not wait
    for it) before its next delivery dead-letters it as poison, with an ``internal_error`` result, instead
    of running it again. The count lives in the metadata of the worker group's committed offsets."""
    metrics_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """Port of this worker's Prometheus metrics (``/metrics``); unset: not served. The master sets it
    when ``EXECUTIONER_WORKER_METRICS_PORT`` is set."""
    metrics_host: str = "0.0.0.0"
    """Address the metrics port listens on (inside the container; the master publishes the port on the
    Docker host's loopback only)."""
    database_url: str | None = None
    """MySQL (``mysql+asyncmy://user:password@host:port/database``; a read-only account with ``SELECT`` on
    ``submissions`` suffices). Before running a job the worker looks it up there: when its id already
    finished (a grader retrying), the stored result is published again instead of running it twice. Unset:
    no check. Unreachable or slow: the job runs anyway."""
    database_timeout_s: Annotated[float, Field(gt=0)] = 2.0
    """Longest wait for that look-up (connecting included) before the job runs unchecked."""
    max_event_bytes: Annotated[int, Field(ge=16_384)] = 1_000_000
    """Largest result event we publish; outputs are cut down to fit (Kafka's default limit is ~1 MB)."""
    sandbox: Literal["bwrap", "warm", "none"] = "none"
    """``warm`` (the worker images set it; docs/security.md): each pool process keeps one bubblewrap
    sandbox and runs every command in it, reset between jobs (worker/warm.py; same isolation, less cost
    per command). ``bwrap``: every command of a job runs in its own bubblewrap sandbox. ``none``: plain
    processes under rlimits, no isolation (tests and development on a host only)."""
    sandbox_disk_mb: Annotated[int, Field(ge=1)] = 64
    """Size of each sandboxed job's scratch file system (its ``/tmp``, working directory and
    ``/dev/shm``); it counts towards the container's memory."""
    sandbox_files: Annotated[int, Field(ge=16)] = 16_384
    """Files and directories a sandboxed job may create."""
    test_cache_dir: Path = Field(default_factory=lambda: Path(tempfile.gettempdir()) / "executioner-tests")
    """Where stored problems' test files are cached (fetched from the test store in MySQL, by SHA-256;
    docs/problems.md). Pool processes open it before they mount their scratch space, so it may lie
    under ``scratch_dir``."""
    test_cache_mb: Annotated[int, Field(ge=1)] = 128
    """The most MiB of test files kept once the jobs using them ended, least recently used out first.
    In a worker container the cache is on its ``/tmp`` tmpfs, which counts as its memory."""

    check_timeout_s: Annotated[float, Field(gt=0)] = 120.0
    """How long a test waits for the workers of its checker's language to judge it, when that language
    is not in this image (docs/checkers.md): compiling the checker the first time included. Past it,
    the submission is ``internal_error``."""
    serve_checks: bool = True
    """Answer other workers' check requests for checkers in this worker's language (in one pool process
    of their own, started with the first request)."""

    @property
    def prefetch_jobs(self) -> int:
        """:attr:`prefetch`, its default applied."""
        return self.pool_size if self.prefetch is None else self.prefetch

    def sandbox_config(self, *, gvisor: bool) -> SandboxConfig:
        """The sandbox settings the pool processes need. ``gvisor``: whether the kernel is gVisor's, as the
        worker probed it once at start-up (worker/service.py)."""
        return SandboxConfig(self.sandbox, self.sandbox_disk_mb * MIB, self.sandbox_files, gvisor)

    def language_for(self, runtime_id: str) -> str:
        """The language served, given the loaded runtime's id."""
        return self.language or runtime_id
