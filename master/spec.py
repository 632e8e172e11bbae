"""How a worker container is labelled, named and confined: the arguments of Docker's ``containers.run``."""

import re
import secrets
from typing import Any

from master.settings import MasterSettings

LABEL_CLUSTER = "org.executioner.cluster"
LABEL_LANGUAGE = "org.executioner.language"
LABEL_ROLE = "org.executioner.role"
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

    The worker runs unprivileged on a read-only root file system with only ``/tmp`` writable (exec is
    allowed there: compiled programs run from their scratch directory). Docker never restarts it: the
    master replaces dead workers itself, with back-off.
    """
    return {
        "image": settings.image_for(language),
        "command": settings.worker_command,
        "name": name,
        "labels": {LABEL_CLUSTER: settings.cluster, LABEL_LANGUAGE: language, LABEL_ROLE: ROLE_WORKER},
        "environment": {
            "EXECUTIONER_KAFKA_BOOTSTRAP": settings.worker_bootstrap,
            "EXECUTIONER_TOPIC_PREFIX": settings.topic_prefix,
            "EXECUTIONER_LANGUAGE": language,
            "EXECUTIONER_WORKER_ID": name,
            "EXECUTIONER_POOL_SIZE": str(settings.worker_pool_size),
            "EXECUTIONER_LOG_LEVEL": settings.log_level,
        },
        "mem_limit": f"{settings.worker_memory_mb}m",
        "nano_cpus": round(settings.worker_cpus * 1e9),
        "pids_limit": settings.worker_pids_limit,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "read_only": True,
        "tmpfs": {"/tmp": f"rw,exec,nosuid,nodev,size={settings.worker_tmp_mb}m"},
        "user": WORKER_UID,
        "network": settings.worker_network,
        "restart_policy": {"Name": "no"},
        "detach": True,
    }
