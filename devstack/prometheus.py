"""Debian's Prometheus for a stack (``EXECUTIONER_DEV_PROMETHEUS=1 make up``), and the configuration both
it and the metrics tests use: ``deploy/prometheus/prometheus.yml`` pointed at one stack's API, with its
alert rules, so what the tests check is the configuration operators deploy."""

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from devstack import processes
from devstack.profile import Profile, repo_root
from devstack.system import require_command

DEPLOY = repo_root() / "deploy" / "prometheus"
WORKER_METRICS_PORT = 9400
"""The workers' metrics port inside their containers (Docker publishes it on a port of its choice)."""
DEFAULT_PORT = 9090


def enabled() -> bool:
    """Whether ``make up`` runs Prometheus too."""
    return os.environ.get("EXECUTIONER_DEV_PROMETHEUS", "") not in ("", "0")


def app_settings() -> dict[str, str]:
    """What the API and master get so that Prometheus finds the master and the workers (through the
    API's discovery route): metrics ports, unless set already; nothing when Prometheus is not wanted."""
    if not enabled():
        return {}
    wanted = {
        "EXECUTIONER_MASTER_METRICS_PORT": str(processes.free_port()),
        "EXECUTIONER_WORKER_METRICS_PORT": str(WORKER_METRICS_PORT),
    }
    return {name: value for name, value in wanted.items() if not os.environ.get(name)}


def stack_config(api: str, token_file: Path, *, interval: str = "15s") -> dict[str, Any]:
    """The deployed configuration with this stack's API (``host:port``) as the scraped API and the
    discovery endpoint, ``token_file`` as the admin token, the alert rules by absolute path, and every
    interval (scrape, evaluation, discovery refresh) set to ``interval``."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"].update(scrape_interval=interval, scrape_timeout=interval, evaluation_interval=interval)
    config["rule_files"] = [str(DEPLOY / name) for name in config["rule_files"]]
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            static["targets"] = [api]
        for discovery in job.get("http_sd_configs", []):
            discovery["url"] = f"http://{api}{urlsplit(discovery['url']).path}"
            discovery["refresh_interval"] = interval
            discovery["authorization"]["credentials_file"] = str(token_file)
    return config


def write_config(home: Path, api: str, token: str, *, interval: str = "15s") -> Path:
    """Write the token (readable by us only) and the configuration under ``home``; the config's path."""
    home.mkdir(parents=True, exist_ok=True)
    token_file = home / "admin-token"
    token_file.touch(mode=0o600)
    token_file.write_text(token)
    config = home / "prometheus.yml"
    config.write_text(yaml.safe_dump(stack_config(api, token_file, interval=interval), sort_keys=False))
    return config


def command(config: Path, data: Path, port: int) -> list[str]:
    """The ``prometheus`` command line serving on ``127.0.0.1:port``."""
    return [
        require_command("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]


def pid_file(profile: Profile) -> Path:
    """Where the stack's Prometheus is recorded."""
    return profile.path("run", "prometheus.pid")


def port() -> int:
    """Prometheus's port: ``EXECUTIONER_DEV_PROMETHEUS_PORT``, default 9090."""
    return int(os.environ.get("EXECUTIONER_DEV_PROMETHEUS_PORT") or DEFAULT_PORT)


def running_url(profile: Profile) -> str | None:
    """The URL of ``profile``'s Prometheus while it runs."""
    if processes.running_pid(pid_file(profile)) is None:
        return None
    return f"http://127.0.0.1:{port()}"


def start(profile: Profile, api: str, token: str) -> str:
    """Start Prometheus for ``profile`` on :func:`port` and wait until it is ready; its URL."""
    port_ = port()
    processes.require_free_port(
        "127.0.0.1", port_, owner="Prometheus", variable="EXECUTIONER_DEV_PROMETHEUS_PORT"
    )
    home = profile.path("prometheus")
    config = write_config(home, api, token)
    log_file = profile.path("logs", "prometheus.log")
    processes.start_detached(
        command(config, home / "data", port_), pid_file=pid_file(profile), log_file=log_file
    )
    url = f"http://127.0.0.1:{port_}"
    processes.wait_http_ok(
        f"{url}/-/ready",
        60,
        alive=lambda: processes.running_pid(pid_file(profile)) is not None,
        log_file=log_file,
    )
    return url
