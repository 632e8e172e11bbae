"""gVisor (``runsc``) as an optional Docker runtime (``EXECUTIONER_WORKER_RUNTIME=runsc``): devstack builds
a pinned upstream runsc into the machine's cache and registers it with the local ``dockerd`` through its
``daemon.json``, which ``dockerd`` re-reads on SIGHUP, so containers that are running (other stacks'
workers) are not disturbed.

Why not a distribution's runsc: Debian 12's (2022-12-19) cannot host a worker. It has no ``pidfd_open``, no
``PR_SET_CHILD_SUBREAPER`` under the worker's confinement, no writable ``setgroups`` in a user namespace and
no ``/proc/sys/kernel/overflowuid`` (which bubblewrap reads), and its network stack fails on kernels from
6.11 on.

The build: ``go install gvisor.dev/gvisor/runsc@<version>``, unmodified upstream source from the Go module
proxy, into ``<cache>/gvisor/<version>/runsc``, shared by every checkout on the machine. Notes:

* Pinned version: every machine runs the same gVisor, and a build is made once per version. It is the newest
  version the proxy served (``@latest``) when pinned. Raise it on purpose, then run the gVisor e2e tests.
* Static (``CGO_ENABLED=0``): with cgo, the default when a C compiler is installed, Go links runsc
  dynamically. runsc's gofer and sandbox then re-execute ``/proc/self/exe`` inside an empty chroot that
  lacks the ELF interpreter, and fail with "fork/exec /proc/self/exe: no such file or directory".
  Upstream's own release builds are static too.
* ``-X ...version.version=<version>`` only stamps ``runsc --version`` (otherwise ``VERSION_MISSING``), which
  the build's check reads. ``-trimpath`` keeps local paths out of the binary.

The runtime's arguments:

* ``--platform=systrap``: gVisor's default platform. It needs no KVM and traps system calls with seccomp,
  which costs less per call than ``ptrace``.
* ``--oci-seccomp``: without it, runsc ignores the container's seccomp profile (the worker's, from
  master/seccomp.py) and only logs that it did. With it, gVisor enforces the profile, although every call
  the profile refuses gets EPERM (gVisor ignores ``errnoRet``).
* The network is gVisor's own stack (netstack, the default), which works on current kernels in this
  version. ``--network=host`` would leave nested network namespaces, such as a job sandbox's, with no
  network stack at all.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import docker

from devstack import processes
from devstack.console import DevstackError
from devstack.docker_engine import dockerd_pids
from devstack.system import find_command

GVISOR_VERSION = "v0.0.0-20260905035102-160fafc42237"
"""The ``gvisor.dev/gvisor`` module version runsc is built from."""
PACKAGE = "gvisor.dev/gvisor/runsc"
GO_FALLBACK = Path("/usr/local/go/bin/go")  # where Go's own installation instructions put it, off PATH
NO_GO = "gVisor not available: no Go toolchain to build runsc"
RUNTIME = "runsc"
RUNTIME_ARGS = ("--platform=systrap", "--oci-seccomp")
EARLIER_ENTRY = {"path": "/usr/bin/runsc", "runtimeArgs": ["--platform=ptrace", "--network=host"]}
"""What earlier devstacks registered (Debian's runsc): replaced like our own entries."""
DEFAULT_DAEMON_JSON = Path("/etc/docker/daemon.json")
RELOAD_TIMEOUT_S = 30.0


def short_version(version: str = GVISOR_VERSION) -> str:
    """``v0.0.0-20260905035102-160fafc42237`` as ``2026-09-05 160fafc``: its commit's date and hash."""
    _, stamp, commit = version.split("-")
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {commit[:7]}"


def gvisor_dir(cache: Path) -> Path:
    """Where runsc builds live in the machine's cache, one folder per version."""
    return cache / "gvisor"


def runsc_path(cache: Path) -> Path:
    """Where the pinned runsc is (once built)."""
    return gvisor_dir(cache) / GVISOR_VERSION / "runsc"


def find_go() -> str | None:
    """The Go toolchain's ``go``, or None."""
    return find_command("go") or (str(GO_FALLBACK) if os.access(GO_FALLBACK, os.X_OK) else None)


def ensure_runsc(cache: Path) -> Path | None:
    """The pinned runsc, built when it is not in ``cache`` yet (2-3 minutes on 2 cores, seconds with a warm
    Go build cache); None when there is no Go toolchain (:data:`NO_GO`). One build at a time per machine.
    A binary is moved to its path only after it passed :func:`check_runsc`, so one that is there is good."""
    target = runsc_path(cache)
    if target.is_file():
        return target
    go = find_go()
    if go is None:
        return None
    with processes.locked(gvisor_dir(cache) / "build.lock"):
        if not target.is_file():  # another devstack may have built it while we waited
            _build(go, target)
    return target


def _build(go: str, target: Path) -> None:
    workdir = target.parent.parent
    for leftover in workdir.glob(".build-*"):  # of a build that was killed
        shutil.rmtree(leftover, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=workdir))
    try:
        stamp = f"-X {PACKAGE}/version.version={GVISOR_VERSION}"
        _run(
            [go, "install", "-trimpath", "-ldflags", stamp, f"{PACKAGE}@{GVISOR_VERSION}"],
            what=f"building runsc {GVISOR_VERSION} with {go}",
            env={**os.environ, "CGO_ENABLED": "0", "GOBIN": str(tmp)},
        )
        built = tmp / "runsc"
        check_runsc(go, built)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(built, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_runsc(go: str, runsc: Path) -> None:
    """Fail unless ``runsc`` is a static build (see above) that reports the pinned version."""
    info = _run([go, "version", "-m", str(runsc)], what=f"reading the build information of {runsc}")
    if ["build", "CGO_ENABLED=0"] not in [line.split() for line in info.splitlines()]:
        raise DevstackError(f"{runsc} is not a static build: `go version -m` shows no CGO_ENABLED=0")
    version = _run([str(runsc), "--version"], what=f"{runsc} --version")
    if f"runsc version {GVISOR_VERSION}" not in version.splitlines():
        raise DevstackError(f"{runsc} does not report version {GVISOR_VERSION}: {version.strip()!r}")


def _run(argv: Sequence[str], *, what: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(list(argv), env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise DevstackError(f"{what} failed (exit status {done.returncode}):\n{tail}")
    return done.stdout


def runtime_entry(runsc: str) -> dict[str, Any]:
    """The ``daemon.json`` entry of the runtime, for the ``runsc`` binary at ``runsc``."""
    return {"path": runsc, "runtimeArgs": list(RUNTIME_ARGS)}


def written_by_devstack(entry: object, cache: Path) -> bool:
    """Whether ``entry``, a runtime of ``daemon.json``, is one a devstack wrote: a runsc in ``cache`` (any
    version) or :data:`EARLIER_ENTRY`. Only those are ever replaced."""
    if entry == EARLIER_ENTRY:
        return True
    path = entry.get("path") if isinstance(entry, dict) else None
    ours = os.path.normpath(gvisor_dir(cache))
    return isinstance(path, str) and os.path.normpath(path).startswith(ours + os.sep)


def merged_config(
    config: dict[str, Any], name: str, entry: dict[str, Any], replaceable: Callable[[object], bool]
) -> dict[str, Any] | None:
    """``config`` (a ``daemon.json`` document) with runtime ``name`` set to ``entry``: added, or replacing
    a ``replaceable`` one (equal to ``config`` when it is there already). None when ``config`` has another
    runtime of that name, which is left alone (an administrator's). Other keys stay as they are."""
    runtimes = config.get("runtimes", {})
    if not isinstance(runtimes, dict):
        raise DevstackError(f"daemon.json: 'runtimes' is not an object: {runtimes!r}")
    if name in runtimes and runtimes[name] != entry and not replaceable(runtimes[name]):
        return None
    return {**config, "runtimes": {**runtimes, name: entry}}


def config_file(dockerd_argv: Sequence[str]) -> Path:
    """The ``daemon.json`` a ``dockerd`` started with ``dockerd_argv`` reads."""
    for index, arg in enumerate(dockerd_argv):
        if arg.startswith("--config-file="):
            return Path(arg.partition("=")[2])
        if arg == "--config-file" and index + 1 < len(dockerd_argv):
            return Path(dockerd_argv[index + 1])
    return DEFAULT_DAEMON_JSON


def _loaded(engine: docker.DockerClient, entry: dict[str, Any]) -> bool:
    """Whether ``engine`` runs with ``entry`` as its runtime (it reports the path and arguments it uses)."""
    loaded = (engine.info().get("Runtimes") or {}).get(RUNTIME)
    return (
        isinstance(loaded, dict)
        and loaded.get("path") == entry["path"]
        and list(loaded.get("runtimeArgs") or []) == entry["runtimeArgs"]
    )


def _argv(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return [part.decode() for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if part]
    return []


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Replace ``path`` at once (a reload never reads half a file), keeping its permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.executioner")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    if path.exists():
        os.chmod(temporary, path.stat().st_mode & 0o777)
    os.replace(temporary, path)


def register(engine: docker.DockerClient, runsc: Path, cache: Path) -> str:
    """Make ``runsc`` (built in ``cache``) the runtime :data:`RUNTIME` of ``engine``, replacing an entry
    only when a devstack wrote it, and have ``dockerd`` reload when what it runs differs. Returns what was
    done, for the console. Only a local ``dockerd`` we may signal (we are root) is changed."""
    entry = runtime_entry(str(runsc))
    pids = dockerd_pids()
    if os.environ.get("DOCKER_HOST") or os.geteuid() != 0 or len(pids) != 1:
        if _loaded(engine, entry):
            return "registered already"
        document = json.dumps({"runtimes": {RUNTIME: entry}})
        return f"gVisor not registered: add {document} to dockerd's daemon.json and send dockerd SIGHUP"
    path = config_file(_argv(pids[0]))
    try:
        config = json.loads(path.read_text()) if path.exists() else {}
    except ValueError as exc:
        raise DevstackError(f"{path} is not valid JSON: {exc}") from exc
    merged = merged_config(config, RUNTIME, entry, lambda found: written_by_devstack(found, cache))
    if merged is None:
        theirs = json.dumps(config["runtimes"][RUNTIME])
        return f"gVisor not registered: {path} has another runtime {RUNTIME!r}, left alone: {theirs}"
    if merged != config:
        _write_json(path, merged)
    elif _loaded(engine, entry):
        return f"registered already in {path}"
    os.kill(pids[0], signal.SIGHUP)
    processes.wait_until(
        lambda: _loaded(engine, entry),
        timeout=RELOAD_TIMEOUT_S,
        what=f"dockerd reloading {path} (its log says why not)",
    )
    return f"registered in {path}"
