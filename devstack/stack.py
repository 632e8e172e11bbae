"""Bringing a profile's stack up and down: the services (Docker engine, MariaDB, Kafka, images) and, for
``make up``, the API and master processes."""

import json
import os
import re
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import docker

from devstack import docker_engine, gvisor, processes, prometheus, second_host, system
from devstack.console import DevstackError, step
from devstack.images import ImagesReport, build_images, chosen_languages
from devstack.kafka import Kafka
from devstack.mariadb import MariaDB
from devstack.profile import Profile, cache_dir, repo_root

APP_PROCESSES = ("api", "master")
READY_TIMEOUT_S = 120.0
UP_STOP_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Services:
    """Where the running services are, as the processes' settings name them."""

    database_url: str
    kafka_bootstrap: str
    worker_kafka_bootstrap: str
    worker_database_url: str
    """The app's database as worker containers reach it, with the read-only workers' user."""
    images: tuple[str, ...]
    docker_hosts: str | None = None
    """``EXECUTIONER_DOCKER_HOSTS`` when a second Docker host runs (``EXECUTIONER_DEV_HOSTS=2``)."""

    def environment(self) -> dict[str, str]:
        """``EXECUTIONER_*`` settings for the API, the master and the tests."""
        environment = {
            "EXECUTIONER_DATABASE_URL": self.database_url,
            "EXECUTIONER_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "EXECUTIONER_WORKER_KAFKA_BOOTSTRAP": self.worker_kafka_bootstrap,
            "EXECUTIONER_WORKER_DATABASE_URL": self.worker_database_url,
        }
        if self.docker_hosts is not None:
            environment["EXECUTIONER_DOCKER_HOSTS"] = self.docker_hosts
        return environment


def second_host_of(profile: Profile) -> second_host.SecondHost:
    """The second Docker host ``profile`` may run: named and addressed after its MySQL port."""
    return second_host.SecondHost(profile.mysql_port, profile.state_dir)


def dev_hosts() -> int:
    """How many Docker hosts ``make up`` runs (``EXECUTIONER_DEV_HOSTS``, 1 or 2)."""
    value = os.environ.get("EXECUTIONER_DEV_HOSTS", "1")
    if value not in ("1", "2"):
        raise DevstackError(f"EXECUTIONER_DEV_HOSTS={value!r}: 1 or 2")
    return int(value)


def docker_hosts_with(host: second_host.SecondHost) -> str:
    """``EXECUTIONER_DOCKER_HOSTS`` naming this machine's engine and ``host``."""
    local = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"  # the docker CLI's default
    name = re.sub(r"[^a-zA-Z0-9_.-]", "-", socket.gethostname()).lstrip("-_.")[:64] or "local"
    return f"{name}={local},{host.name}={host.url}"


def start_services(profile: Profile, languages: list[str] | None = None) -> Services:
    """Install what is missing, then start (or reuse) the Docker engine, MariaDB and Kafka of ``profile``
    and build the images of ``languages`` (default: :func:`ensure_images`'s)."""
    repo, cache = repo_root(), cache_dir()
    with processes.locked(profile.path("devstack.lock")):
        with step("system", "checking the programs the stack needs") as current:
            engine_up = docker_engine.client(timeout=5) is not None
            installed = system.ensure_installed(skip=("dockerd",) if engine_up else ())
            current.result = f"installed {', '.join(installed)}" if installed else "all present"
        with step("docker", "connecting to the engine") as current:
            engine, started = docker_engine.ensure_engine(cache)
            gateway = docker_engine.bridge_gateway(engine)
            state = "started dockerd" if started else "running"
            current.result = f"{state}; containers reach us at {gateway}"
        # The tests need gVisor; `make up` only when asked for, so that a first start stays quick.
        wanted = profile.name == "test" or os.environ.get("EXECUTIONER_WORKER_RUNTIME") == gvisor.RUNTIME
        ensure_gvisor(engine, cache, build=wanted)
        with step("mysql", f"starting on 127.0.0.1 and {gateway}, port {profile.mysql_port}") as current:
            mysql = MariaDB(profile)
            database_url = mysql.ensure(gateway)
            worker_database_url = mysql.worker_url(host=gateway)
            current.result = "ready" if mysql.started else "already running"
        kafka_ports = f"127.0.0.1:{profile.kafka_port}, containers {gateway}:{profile.kafka_container_port}"
        with step("kafka", f"starting on {kafka_ports}") as current:
            kafka = Kafka(profile, repo=repo, cache=cache)
            host_bootstrap, container_bootstrap = kafka.ensure(gateway)
            current.result = "ready" if kafka.started else "already running"
        host = second_host_of(profile) if profile.name != "test" and dev_hosts() == 2 else None
        if host is not None:
            with step("host2", f"second Docker host {host.name} (network namespace {host.netns})") as current:
                current.result = second_host.start(host)
    report = ensure_images(engine, languages)
    hosts = None
    if host is not None:
        second_host.load_images(host, engine, report.runtime_images)
        hosts = docker_hosts_with(host)
    return Services(
        database_url, host_bootstrap, container_bootstrap, worker_database_url, report.runtime_images, hosts
    )


def ensure_gvisor(engine: docker.DockerClient, cache: Path, *, build: bool) -> None:
    """Build gVisor's runsc once per machine (when Go is installed; only if ``build``) and register it as
    Docker runtime ``runsc`` (whenever it is built)."""
    cached = gvisor.runsc_path(cache).is_file()
    if not cached and not build:
        with step("gvisor", f"runsc {gvisor.short_version()}") as current:
            current.result = f"not built (EXECUTIONER_WORKER_RUNTIME={gvisor.RUNTIME} builds it)"
        return
    building = "" if cached or gvisor.find_go() is None else ", building it (2-3 min, once per machine)"
    with step("gvisor", f"runsc {gvisor.short_version()}{building}") as current:
        runsc = gvisor.ensure_runsc(cache)
        current.result = "cached" if cached else "built" if runsc is not None else gvisor.NO_GO
    if runsc is not None:
        with step("gvisor", f"Docker runtime {gvisor.RUNTIME}") as current:
            current.result = gvisor.register(engine, runsc, cache)


def ensure_images(engine: docker.DockerClient, languages: list[str] | None = None) -> ImagesReport:
    """Build the images of ``languages`` that are out of date (default: those ``EXECUTIONER_LANGUAGES`` names,
    the core languages unless it says otherwise)."""
    repo, cache = repo_root(), cache_dir()
    if languages is None:
        languages = chosen_languages(repo, os.environ.get("EXECUTIONER_LANGUAGES"))
    chosen = languages
    with step("images", f"worker images for {', '.join(chosen) or 'no language'}") as current:
        # An engine's images are shared by every profile and checkout that use it; other engines (a second
        # dockerd on the same machine) build their own at the same time.
        with processes.locked(cache / f"images-{engine.info()['ID']}.lock"):
            report = build_images(engine, repo, cache, chosen)
        current.result = f"built {', '.join(report.built)}" if report.built else "up to date"
    return report


def claim_foreground(profile: Profile) -> None:
    """Record this process as the profile's ``up`` (one at a time): ``down`` hands the stopping to it."""
    pid_file = _pid_file(profile, "up")
    running = processes.running_pid(pid_file)
    if running is not None:
        raise DevstackError(
            f"`up` of profile {profile.name!r} already runs (pid {running}); `make down` stops it"
        )
    processes.record_current_process(pid_file)


def release_foreground(profile: Profile) -> None:
    """Forget this process as the profile's ``up``."""
    _pid_file(profile, "up").unlink(missing_ok=True)


def stop_stack(profile: Profile) -> None:
    """``down``: when an ``up`` runs, ask it to stop everything (SIGTERM; it owns the processes) and wait
    for it; then make sure nothing is left."""
    pid_file = _pid_file(profile, "up")
    running = processes.running_pid(pid_file)
    if running is not None:
        with step("up", f"asking pid {running} to stop the stack"):
            processes.stop(pid_file, timeout=UP_STOP_TIMEOUT_S, group=False)
    stop_services(profile)


def stop_services(profile: Profile) -> None:
    """Stop everything ``profile``'s stack runs: API, master, worker containers, Kafka, MariaDB (data is
    kept in the state directory). The Docker engine keeps running: it is the machine's, not the stack's."""
    for name in APP_PROCESSES:
        with step(name, "stopping") as current:
            current.result = "stopped" if processes.stop(_pid_file(profile, name)) else "was not running"
    if prometheus.pid_file(profile).exists():
        with step("prometheus", "stopping") as current:
            current.result = "stopped" if processes.stop(prometheus.pid_file(profile)) else "was not running"
    engine = docker_engine.client(timeout=30)
    if engine is not None:
        with step("workers", f"removing containers of cluster {profile.cluster!r}") as current:
            current.result = f"removed {docker_engine.remove_cluster_containers(engine, profile.cluster)}"
    host = second_host_of(profile)
    if Path("/run/netns", host.netns).exists() or host.pid_file.exists():
        with step("host2", f"stopping and removing the second Docker host {host.name}"):
            second_host.stop(host)
    with step("kafka", "stopping") as current:
        stopped = Kafka(profile, repo=repo_root(), cache=cache_dir()).stop()
        current.result = "stopped" if stopped else "was not running"
    with step("mysql", "stopping") as current:
        current.result = "stopped" if MariaDB(profile).stop() else "was not running"


def start_app(profile: Profile, services: Services) -> dict[str, int]:
    """Start the API and the master of ``profile`` (console scripts of this virtualenv) and wait until
    the API is ready. Returns their pids by name."""
    if profile.api_port is None:
        raise DevstackError(f"profile {profile.name!r} has no API port; it is for services only")
    pids = {}
    for name in APP_PROCESSES:
        if processes.running_pid(_pid_file(profile, name)) is not None:
            raise DevstackError(f"the {name} of profile {profile.name!r} already runs: `make down` stops it")
        with step(name, f"starting (log: {log_file(profile, name)})") as current:
            pids[name] = start_app_process(profile, services, name)
            current.result = f"pid {pids[name]}"
    ready_url = f"{api_url(profile)}/readyz"
    with step("api", f"waiting for {ready_url}") as current:
        processes.wait_http_ok(
            ready_url,
            READY_TIMEOUT_S,
            alive=lambda: processes.running_pid(_pid_file(profile, "api")) is not None,
            log_file=log_file(profile, "api"),
        )
        current.result = "ready"
    if prometheus.enabled():
        with step("prometheus", f"starting (log: {log_file(profile, 'prometheus')})") as current:
            api = api_url(profile).removeprefix("http://")
            current.result = prometheus.start(profile, api, admin_token(profile))
    return pids


def start_app_process(profile: Profile, services: Services, name: str) -> int:
    """Start ``executioner-<name>`` (``api`` or ``master``) of ``profile`` detached; returns its pid."""
    assert profile.api_port is not None, "start_app checks the profile first"
    env = {
        **os.environ,
        **prometheus.app_settings(),
        **services.environment(),
        "EXECUTIONER_CLUSTER": profile.cluster,
        "EXECUTIONER_API_PORT": str(profile.api_port),
        "EXECUTIONER_ADMIN_TOKEN": admin_token(profile),
    }
    if os.environ.get("EXECUTIONER_LANGUAGES"):  # `all`, `extra`, ...: the master takes a JSON list of ids
        env["EXECUTIONER_LANGUAGES"] = json.dumps(
            chosen_languages(repo_root(), os.environ["EXECUTIONER_LANGUAGES"])
        )
    if name == "api":
        variable = f"EXECUTIONER_{profile.name.upper()}_API_PORT"
        processes.require_free_port("127.0.0.1", profile.api_port, owner="the API", variable=variable)
    script = Path(sys.executable).parent / f"executioner-{name}"
    if not script.is_file():
        raise DevstackError(f"{script} is missing: `make up` installs the project into the virtualenv")
    return processes.start_detached(
        [str(script)],
        pid_file=_pid_file(profile, name),
        log_file=log_file(profile, name),
        env=env,
        cwd=repo_root(),
    )


def restart_service(profile: Profile, name: str) -> int:
    """Start ``profile``'s ``kafka`` or ``mysql`` again (with its data) and wait until it serves; returns
    its pid."""
    engine = docker_engine.client(timeout=30)
    if engine is None:
        raise DevstackError("the Docker engine does not answer (its bridge address is needed)")
    gateway = docker_engine.bridge_gateway(engine)
    if name == "kafka":
        kafka = Kafka(profile, repo=repo_root(), cache=cache_dir())
        kafka.ensure(gateway)
        pid_file = kafka.pid_file
    else:
        mysql = MariaDB(profile)
        mysql.ensure(gateway)
        pid_file = mysql.pid_file
    pid = processes.running_pid(pid_file)
    if pid is None:
        raise DevstackError(f"{name} exited again while starting")
    return pid


def watched_processes(profile: Profile) -> dict[str, tuple[int, Path]]:
    """The stack's running processes (API, master, Kafka, MariaDB): pid and log file, by name."""
    kafka, mysql = Kafka(profile, repo=repo_root(), cache=cache_dir()), MariaDB(profile)
    candidates = {name: (_pid_file(profile, name), log_file(profile, name)) for name in APP_PROCESSES}
    candidates["kafka"] = (kafka.pid_file, kafka.log_file)
    candidates["mysql"] = (mysql.pid_file, mysql.home / "error.log")
    found = {name: (processes.running_pid(pid_file), log) for name, (pid_file, log) in candidates.items()}
    return {name: (pid, log) for name, (pid, log) in found.items() if pid is not None}


def api_url(profile: Profile) -> str:
    """The base URL of ``profile``'s API."""
    return f"http://127.0.0.1:{profile.api_port}"


def admin_token(profile: Profile) -> str:
    """``$EXECUTIONER_ADMIN_TOKEN``, else a random token kept in ``<state>/admin-token``."""
    if os.environ.get("EXECUTIONER_ADMIN_TOKEN"):
        return os.environ["EXECUTIONER_ADMIN_TOKEN"]
    path = profile.path("admin-token")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def log_file(profile: Profile, name: str) -> Path:
    """Where the output of the stack's process ``name`` goes."""
    return profile.path("logs", f"{name}.log")


def _pid_file(profile: Profile, name: str) -> Path:
    return profile.path("run", f"{name}.pid")
