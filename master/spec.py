"""How a worker container is labelled, named and confined: the arguments of Docker's ``containers.run``."""

import re
import secrets
from typing import Any

from master.seccomp import worker_profile_json
from master.settings import MasterSettings

LABEL_CLUSTER = "org.executioner.cluster"
LABEL_LANGUAGE = "org.executioner.language"
LABEL_ROLE = "org.executioner.role"
LABEL_METRICS_PORT = "org.executioner.metrics-port"
"""The worker's metrics port inside its container, so the master finds where Docker published it."""
ROLE_WORKER = "worker"
ROLE_VERSION_PROBE = "version-probe"
WORKER_UID = "10001"


def cluster_filter(cluster: str, role: str = ROLE_WORKER) -> dict[str, list[str]]:
    """Docker ``filters`` that match exactly this cluster's containers of ``role``."""
    return {"label": [f"{LABEL_CLUSTER}={cluster}", f"{LABEL_ROLE}={role}"]}


def worker_name(cluster: str, language: str) -> str:
    """``executioner-<cluster>-<language>-<random>``; characters Docker rejects in names become ``-``."""
    safe_language = re.sub(r"[^a-zA-Z0-9_.-]", "-", language)
    return f"executioner-{cluster}-{safe_language}-{secrets.token_hex(3)}"


def worker_run_args(settings: MasterSettings, language: str, name: str) -> dict[str, Any]:
    """Keyword arguments of ``DockerClient.containers.run`` for one worker of ``language``.

    The worker runs unprivileged (no capability, no new privileges) on a read-only root file system with
    only ``/tmp`` writable, under memory (no swap), CPU and pids limits, without the Docker socket or any
    other mount. Each job runs in a bubblewrap sandbox inside it, which needs two things Docker's defaults
    refuse: our own seccomp profile (master/seccomp.py: namespaces and mounts allowed, a list of dangerous
    calls refused) and ``systempaths=unconfined``, because the kernel only lets a sandbox mount a fresh
    ``/proc`` for its pid namespace when no part of the container's ``/proc`` is masked
    (docs/security.md weighs what that costs). Docker never restarts a worker: the master replaces dead
    workers itself, with back-off. ``worker_runtime`` picks another OCI runtime, such as gVisor's. The
    worker's environment carries the cluster contract (common/contract.py) as the master read it.
    """
    environment = {
        "EXECUTIONER_KAFKA_BOOTSTRAP": settings.worker_bootstrap,
        # Admission limits, topic prefix, partition counts: as the API has them, or the workers would
        # dead-letter jobs the API accepted (or create topics with other partition counts).
        **settings.contract_environment(),
        "EXECUTIONER_LANGUAGE": language,
        "EXECUTIONER_WORKER_ID": name,
        "EXECUTIONER_POOL_SIZE": str(settings.worker_pool_size),
        "EXECUTIONER_LOG_LEVEL": settings.log_level,
        "EXECUTIONER_LOG_FORMAT": settings.log_format.value,
        "EXECUTIONER_LOG_REPEAT_WINDOW_S": str(settings.log_repeat_window_s),
        "EXECUTIONER_SANDBOX": settings.worker_sandbox,
        "EXECUTIONER_TEST_CACHE_MB": str(settings.worker_test_cache_mb),
    }
    if settings.worker_traces_endpoint:
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = settings.worker_traces_endpoint
    if settings.worker_database_url:
        environment["EXECUTIONER_DATABASE_URL"] = settings.worker_database_url
    ports: dict[str, tuple[str, None]] = {}
    labels = {LABEL_CLUSTER: settings.cluster, LABEL_LANGUAGE: language, LABEL_ROLE: ROLE_WORKER}
    if settings.worker_metrics_port is not None:
        labels[LABEL_METRICS_PORT] = str(settings.worker_metrics_port)
        environment["EXECUTIONER_METRICS_PORT"] = str(settings.worker_metrics_port)
        # The host's loopback only, on a port Docker picks (many workers share the host).
        ports[f"{settings.worker_metrics_port}/tcp"] = ("127.0.0.1", None)
    args: dict[str, Any] = {
        "image": settings.image_for(language),
        "command": settings.worker_command,
        "name": name,
        "labels": labels,
        "environment": environment,
        "ports": ports,
        "mem_limit": f"{settings.worker_memory_mb}m",
        "memswap_limit": f"{settings.worker_memory_mb}m",
        "nano_cpus": round(settings.worker_cpus * 1e9),
        "pids_limit": settings.worker_pids_limit,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges", f"seccomp={worker_profile_json()}", "systempaths=unconfined"],
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,noexec,nosuid,nodev,size={settings.worker_tmp_mb}m"},
        "user": WORKER_UID,
        "network": settings.worker_network,
        "restart_policy": {"Name": "no"},
        # docker-init as PID 1: the kernel drops signals to a PID 1 without a handler, so a SIGTERM that
        # reaches a worker still starting up would be lost and a scale-down would wait out the grace.
        "init": True,
        "detach": True,
    }
    if settings.worker_runtime:  # absent, not None: the daemon's default runtime
        args["runtime"] = settings.worker_runtime
    return args
