"""Apache Kafka for one profile: a single KRaft node (broker and controller) run straight from its Maven
Central jars with the installed Java, data in ``<state>/kafka``. Two client listeners: one on 127.0.0.1
for host processes, one on the Docker bridge gateway for worker containers."""

import hashlib
import shutil
import string
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from devstack import processes
from devstack.console import DevstackError, say
from devstack.kafka_probe import serves_clients
from devstack.profile import Profile
from devstack.system import require_command

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
FETCH_TIMEOUT_S = 600.0
JVM_OPTIONS = ("-Xmx512m", "-Xms128m", "-Djava.awt.headless=true")
_POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


class Kafka:
    """The Kafka node of one profile. :meth:`stop` keeps the data, so :meth:`ensure` brings the same
    topics, offsets and messages back."""

    def __init__(self, profile: Profile, *, repo: Path, cache: Path) -> None:
        self.profile = profile
        self.container_host = "127.0.0.1"
        """Where containers reach the host; set by :meth:`ensure`."""
        self.kafka_files = repo / "deploy" / "kafka"
        self.cache = cache
        self.home = profile.path("kafka")
        self.data_dir = self.home / "data"
        self.config_file = self.home / "server.properties"
        self.pid_file = self.home / "server.pid"
        self.log_file = self.home / "server.log"
        self.started = False
        """Whether the last :meth:`ensure` started the broker (False: it was already running)."""

    @property
    def host_bootstrap(self) -> str:
        """Bootstrap address for processes on this machine."""
        return f"127.0.0.1:{self.profile.kafka_port}"

    @property
    def container_bootstrap(self) -> str:
        """Bootstrap address for containers on the default bridge network."""
        return f"{self.container_host}:{self.profile.kafka_container_port}"

    def ensure(self, container_host: str) -> tuple[str, str]:
        """Start the broker unless it already runs with this configuration; wait until both client
        listeners serve metadata. ``container_host`` is the host's address as containers see it (the
        Docker bridge gateway). Returns ``(host_bootstrap, container_bootstrap)``."""
        self.started = False
        self.container_host = container_host
        libs = ensure_libs(self.kafka_files / "pom.xml", self.cache)
        config = self._render_config()
        if processes.running_pid(self.pid_file) is not None and self._read_config() != config:
            say("kafka: configuration changed (Docker bridge address?), restarting the broker")
            self.stop()
        if processes.running_pid(self.pid_file) is None:
            self._check_ports_free()
            self.home.mkdir(parents=True, exist_ok=True)
            self.config_file.write_text(config)
            if not (self.data_dir / "meta.properties").exists():
                self._format(libs)
            argv = [*self._java(libs), "kafka.Kafka", str(self.config_file)]
            processes.start_detached(argv, pid_file=self.pid_file, log_file=self.log_file)
            self.started = True
        processes.wait_until(
            self._serves_clients,
            timeout=START_TIMEOUT_S,
            what=f"Kafka on {self.host_bootstrap} and {self.container_bootstrap}",
            alive=lambda: processes.running_pid(self.pid_file) is not None,
            log_file=self.log_file,
        )
        return self.host_bootstrap, self.container_bootstrap

    def stop(self) -> bool:
        """Shut the broker down (controlled shutdown; data is kept). Returns whether it was running."""
        return processes.stop(self.pid_file, timeout=STOP_TIMEOUT_S)

    def _serves_clients(self) -> bool:
        return serves_clients("127.0.0.1", self.profile.kafka_port) and serves_clients(
            self.container_host, self.profile.kafka_container_port
        )

    def _check_ports_free(self) -> None:
        prefix = f"EXECUTIONER_{self.profile.name.upper()}_KAFKA"
        for host, port, variable in (
            ("127.0.0.1", self.profile.kafka_port, f"{prefix}_PORT"),
            ("127.0.0.1", self.profile.kafka_controller_port, f"{prefix}_CONTROLLER_PORT"),
            (self.container_host, self.profile.kafka_container_port, f"{prefix}_CONTAINER_PORT"),
        ):
            processes.require_free_port(host, port, owner="Kafka", variable=variable)

    def _render_config(self) -> str:
        template = string.Template((self.kafka_files / "server.properties.template").read_text())
        return template.substitute(
            host_port=self.profile.kafka_port,
            controller_port=self.profile.kafka_controller_port,
            container_host=self.container_host,
            container_port=self.profile.kafka_container_port,
            data_dir=self.data_dir,
        )

    def _read_config(self) -> str | None:
        try:
            return self.config_file.read_text()
        except OSError:
            return None

    def _java(self, libs: Path) -> list[str]:
        log4j = (self.kafka_files / "log4j.properties").resolve().as_uri()
        return [require_command("java"), *JVM_OPTIONS, f"-Dlog4j.configuration={log4j}", "-cp", f"{libs}/*"]

    def _format(self, libs: Path) -> None:
        """Give the empty data directory a cluster id (KRaft storage must be formatted once)."""
        storage_tool = [*self._java(libs), "kafka.tools.StorageTool"]
        cluster_id = _run([*storage_tool, "random-uuid"], what="kafka-storage random-uuid").strip()
        _run(
            [*storage_tool, "format", "--cluster-id", cluster_id, "--config", str(self.config_file)],
            what="kafka-storage format",
        )


def kafka_version(pom: Path) -> str:
    """The ``kafka_2.13`` version ``deploy/kafka/pom.xml`` pins."""
    for dependency in ET.parse(pom).getroot().iterfind("m:dependencies/m:dependency", _POM_NS):
        if dependency.findtext("m:artifactId", namespaces=_POM_NS, default="").startswith("kafka_"):
            return dependency.findtext("m:version", namespaces=_POM_NS, default="").strip()
    raise DevstackError(f"{pom} lists no org.apache.kafka:kafka_<scala> dependency")


def ensure_libs(pom: Path, cache: Path) -> Path:
    """Kafka's jars in ``<cache>/kafka-<version>/libs``, fetched with Maven unless already complete for
    this very pom (a marker file holds the pom's hash)."""
    libs = cache / f"kafka-{kafka_version(pom)}" / "libs"
    marker = libs / ".complete"
    pom_hash = hashlib.sha256(pom.read_bytes()).hexdigest()
    if marker.is_file() and marker.read_text() == pom_hash:
        return libs
    say(f"kafka: fetching {libs.parent.name} jars from Maven Central (about 30 s, once per machine)")
    partial = libs.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    argv = [require_command("mvn"), "-q", "-B", "-f", str(pom), "dependency:copy-dependencies"]
    argv += [f"-DoutputDirectory={partial}", "-DincludeScope=runtime"]
    _run(
        argv,
        what="mvn dependency:copy-dependencies",
        hint="Maven needs Maven Central (set a proxy or mirror in ~/.m2/settings.xml if you use one)",
        timeout=FETCH_TIMEOUT_S,
    )
    (partial / ".complete").write_text(pom_hash)
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)
    return libs


def _run(argv: list[str], *, what: str, hint: str = "", timeout: float = 120.0) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise DevstackError(f"{what} did not finish in {timeout:.0f} s. {hint}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise DevstackError(f"{what} failed (exit {done.returncode}). {hint}\n{tail}")
    return done.stdout
