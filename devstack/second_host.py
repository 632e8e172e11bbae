"""A second Docker host on this machine, shaped like another machine (``EXECUTIONER_DEV_HOSTS=2``).

Its ``dockerd`` runs in a network namespace of its own, joined to this machine by a veth pair (a /30
link), with its own bridge (inside the namespace), data root, exec root and socket. Worker containers on
it reach Kafka and MariaDB over that link and NAT, as from another machine; the master reaches the
engine through its socket. It starts empty; ``make up`` loads the worker images it built into it
(:func:`load_images`) before the master starts, so the first workers already spread over both hosts. (The
tests' second host stays empty until the master copies the images, which is what they test.)

Every name and address is derived from ``slot`` (the profile's MySQL port), so two checkouts on one
machine never share one, and :func:`stop` removes all of it: processes, namespace, link, state.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException

from devstack import processes
from devstack.console import DevstackError, step

START_TIMEOUT_S = 60.0
LOAD_TIMEOUT_S = 600.0
"""Per image: a ``docker load`` of a gigabyte toolchain on a busy machine takes minutes, not hours."""
MAIN_DAEMON_CONFIG = Path("/etc/docker/daemon.json")
"""Copied when present, so the second engine knows the same runtimes (gVisor's ``runsc``)."""


@dataclass(frozen=True, slots=True)
class SecondHost:
    """The names and addresses of one second host."""

    slot: int
    state_dir: Path

    @property
    def name(self) -> str:
        """Its name in ``EXECUTIONER_DOCKER_HOSTS``."""
        return f"host2-{self.slot}"

    @property
    def netns(self) -> str:
        return f"exe-host2-{self.slot}"

    @property
    def veth_host(self) -> str:
        return f"exh2h{self.slot}"[:15]

    @property
    def veth_inner(self) -> str:
        return f"exh2n{self.slot}"[:15]

    @property
    def octet(self) -> int:
        return 16 + self.slot % 224

    @property
    def link_host_ip(self) -> str:
        return f"10.77.{self.octet}.1"

    @property
    def link_inner_ip(self) -> str:
        return f"10.77.{self.octet}.2"

    @property
    def bridge_cidr(self) -> str:
        """The engine's own bridge, inside the namespace."""
        return f"10.78.{self.octet}.1/24"

    @property
    def root(self) -> Path:
        """Data root: outside the checkout, since overlay2 cannot stack on an overlay file system."""
        return Path("/var/lib") / f"executioner-host2-{self.slot}"

    @property
    def exec_root(self) -> Path:
        return Path("/run") / f"executioner-host2-{self.slot}"

    @property
    def socket(self) -> Path:
        return Path("/run") / f"executioner-host2-{self.slot}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "host2-dockerd.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "host2-dockerd.log"


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True)


def _answers(url: str) -> bool:
    try:
        engine = docker.DockerClient(base_url=url, timeout=5)
        try:
            engine.ping()
        finally:
            engine.close()
    except DockerException:
        return False
    return True


def start(host: SecondHost) -> str:
    """Start the second host unless it runs; returns its Docker URL."""
    if os.geteuid() != 0:
        raise DevstackError("a second Docker host needs root (network namespaces, dockerd)")
    if processes.running_pid(host.pid_file) is not None and _answers(host.url):
        return host.url
    stop(host)  # whatever a crashed run left
    _ip("netns", "add", host.netns)
    _ip("link", "add", host.veth_host, "type", "veth", "peer", "name", host.veth_inner)
    _ip("link", "set", host.veth_inner, "netns", host.netns)
    _ip("addr", "add", f"{host.link_host_ip}/30", "dev", host.veth_host)
    _ip("link", "set", host.veth_host, "up")
    inside = ("netns", "exec", host.netns, "ip")
    _ip(*inside, "addr", "add", f"{host.link_inner_ip}/30", "dev", host.veth_inner)
    _ip(*inside, "link", "set", host.veth_inner, "up")
    _ip(*inside, "link", "set", "lo", "up")
    _ip(*inside, "route", "add", "default", "via", host.link_host_ip)
    config = host.state_dir / "host2-daemon.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(MAIN_DAEMON_CONFIG.read_text() if MAIN_DAEMON_CONFIG.exists() else json.dumps({}))
    argv = [
        # nsenter, not `ip netns exec`: that one mounts a fresh /sys, which hides the cgroup file systems.
        *("nsenter", f"--net=/run/netns/{host.netns}", "dockerd"),
        *("--data-root", str(host.root), "--exec-root", str(host.exec_root)),
        *("--pidfile", str(host.exec_root / "dockerd.pid"), "-H", host.url),
        *("--bip", host.bridge_cidr, "--config-file", str(config)),
    ]
    processes.start_detached(argv, pid_file=host.pid_file, log_file=host.log_file)
    processes.wait_until(
        lambda: _answers(host.url),
        timeout=START_TIMEOUT_S,
        what="second dockerd",
        alive=lambda: processes.running_pid(host.pid_file) is not None,
        log_file=host.log_file,
    )
    return host.url


def kill_dockerd(host: SecondHost) -> int:
    """SIGKILL the second host's dockerd (a crashed engine); returns its pid. Its containers live on."""
    pid = processes.running_pid(host.pid_file)
    if pid is None:
        raise DevstackError("the second dockerd is not running")
    os.kill(pid, signal.SIGKILL)
    # Reap it when it is our child: a zombie keeps its pid alive, and a new dockerd that finds that pid
    # in its pid file refuses to start.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    return pid


def restart_dockerd(host: SecondHost) -> None:
    """Start the second host's dockerd again in its existing namespace (after :func:`kill_dockerd`)."""
    record = json.loads(host.pid_file.read_text())
    (host.exec_root / "dockerd.pid").unlink(missing_ok=True)  # the killed engine's; it cannot remove it
    processes.start_detached(record["argv"], pid_file=host.pid_file, log_file=host.log_file)
    processes.wait_until(lambda: _answers(host.url), timeout=START_TIMEOUT_S, what="second dockerd")


def load_images(host: SecondHost, source: docker.DockerClient, images: Iterable[str]) -> list[str]:
    """Copy ``images`` from ``source`` into the second host's engine (``docker save | docker load``,
    streamed), skipping those it already holds with the same id; returns the ones it loaded.

    The master would copy them too, but only after its first placement: without this, ``make up`` would
    start every worker on the first host and leave them there."""
    target = docker.DockerClient(base_url=host.url, timeout=LOAD_TIMEOUT_S)
    loaded = []
    try:
        for image in images:
            with step("host2", f"loading {image} into {host.name}") as current:
                wanted = str(source.images.get(image).id)
                with contextlib.suppress(docker.errors.ImageNotFound):
                    if str(target.images.get(image).id) == wanted:
                        current.result = "already there"
                        continue
                stream = source.api.get_image(image)
                try:
                    for line in target.api.load_image(stream):
                        if isinstance(line, dict) and line.get("error"):
                            raise DevstackError(f"loading {image} into {host.name}: {line['error']}")
                finally:
                    stream.close()
                current.result = "loaded"
                loaded.append(image)
    finally:
        target.close()
    return loaded


def stop(host: SecondHost) -> None:
    """Stop everything of the second host and remove it: every process in its namespace (dockerd,
    containerd, containers), the namespace and link, its socket, data and exec roots."""
    with contextlib.suppress(DevstackError):
        processes.stop(host.pid_file, timeout=20)
    if Path("/run/netns", host.netns).exists():
        for _ in range(50):
            pids = subprocess.run(
                ["ip", "netns", "pids", host.netns], check=False, capture_output=True, text=True
            ).stdout
            if not pids.split():
                break
            for pid in pids.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            time.sleep(0.1)
        _ip("netns", "del", host.netns, check=False)
    _ip("link", "del", host.veth_host, check=False)
    _unmount_under(host.exec_root)
    _unmount_under(host.root)
    for path in (host.exec_root, host.root):
        shutil.rmtree(path, ignore_errors=True)
    host.socket.unlink(missing_ok=True)
    host.pid_file.unlink(missing_ok=True)


def _unmount_under(path: Path) -> None:
    """Lazily unmount what a killed engine left mounted below ``path`` (overlays, shm), deepest first."""
    prefix = f"{path}/"
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(prefix) or m == str(path)), reverse=True):
        subprocess.run(["umount", "-l", mount], check=False, capture_output=True)
