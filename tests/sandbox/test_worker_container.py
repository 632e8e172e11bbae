"""A worker container as the master configures it, examined from inside by a probe that runs in place of
the worker: unprivileged, read-only, our seccomp profile enforced, and still able to build sandboxes."""

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from master.containers import create_container
from master.seccomp import worker_profile_json
from master.settings import MasterSettings
from master.spec import LABEL_CLUSTER, worker_run_args

PROBE = r"""
import ctypes, json, os, subprocess
libc = ctypes.CDLL(None, use_errno=True)
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)

def call(number, *args):
    result = libc.syscall(number, *args)
    return "ok" if result >= 0 else os.strerror(ctypes.get_errno())

def writable(path):
    try:
        open(path, "w").close()
        return True
    except OSError:
        return False

sandbox = subprocess.run(
    ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
     "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "sh", "-c", "echo $$"],
    capture_output=True, text=True,
)
print(json.dumps({
    "uid": os.getuid(),
    "cap_eff": status["CapEff"].strip(),
    "no_new_privs": status["NoNewPrivs"].strip(),
    "seccomp": status["Seccomp"].strip(),
    "root_writable": writable("/opt/probe"),
    "tmp_writable": writable("/tmp/probe"),
    "tmp_options": [l.split()[3] for l in open("/proc/self/mounts") if l.split()[1] == "/tmp"],
    "mounts": [l.split()[1] for l in open("/proc/self/mounts")],
    "ptrace": call(101, 0, 0, 0, 0),
    "bpf": call(321, 0, 0, 0),
    "io_uring_setup": call(425, 1, 0),
    "unknown": call(1000),
    "kcore_readable": os.access("/proc/kcore", os.R_OK),
    "sandbox": [sandbox.returncode, sandbox.stdout.strip(), sandbox.stderr.strip()],
}))
"""


@pytest.fixture
def run_probe(docker_client: Any, container_bootstrap: str) -> Iterator[Any]:
    """Runs :data:`PROBE` in a worker container (its security options possibly replaced); returns what
    it found."""
    cluster = f"probe-{secrets.token_hex(4)}"
    settings = MasterSettings(cluster=cluster, worker_kafka_bootstrap=container_bootstrap)

    def run(security_opt: list[str] | None = None) -> dict[str, Any]:
        args = worker_run_args(settings, "python", f"executioner-{cluster}")
        args["entrypoint"] = ["python3", "-c", PROBE]
        if security_opt is not None:
            args["security_opt"] = security_opt
        container = create_container(docker_client, args)
        try:
            container.start()
            assert container.wait(timeout=60)["StatusCode"] == 0, container.logs().decode()
            found: dict[str, Any] = json.loads(container.logs(stderr=False))
            found["host_config"] = container.attrs["HostConfig"]
            return found
        finally:
            container.remove(force=True)

    yield run
    for container in docker_client.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{LABEL_CLUSTER}={cluster}"}
    ):
        container.remove(force=True)


def test_the_worker_runs_unprivileged_on_a_read_only_root(run_probe: Any) -> None:
    found = run_probe()
    assert found["uid"] == 10001
    assert (found["cap_eff"], found["no_new_privs"], found["seccomp"]) == ("0000000000000000", "1", "2")
    assert (found["root_writable"], found["tmp_writable"]) == (False, True)
    assert "noexec" in found["tmp_options"][0].split(",")
    assert not [m for m in found["mounts"] if "docker.sock" in m]
    host = found["host_config"]
    assert host["Memory"] == host["MemorySwap"] > 0, "no swap"
    assert host["PidsLimit"] > 0 and host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"]
    assert host["MaskedPaths"] == [] and host["ReadonlyPaths"] == [], "systempaths=unconfined"
    assert not host.get("Binds") and not host.get("Mounts") and not host["Privileged"]


def test_our_seccomp_profile_refuses_dangerous_calls_and_unknown_ones(run_probe: Any) -> None:
    found = run_probe()
    assert found["ptrace"] == found["bpf"] == found["io_uring_setup"] == "Operation not permitted"
    assert found["unknown"] == "Function not implemented"
    assert found["kcore_readable"] is False, "unmasked /proc stays unreadable to an unprivileged user"


def test_the_worker_can_build_a_sandbox(run_probe: Any) -> None:
    code, pid, error = run_probe()["sandbox"]
    assert (code, pid, error) == (0, "2", ""), "pid 2 in a pid namespace of its own"


def test_dockers_default_seccomp_profile_would_refuse_the_sandbox(run_probe: Any) -> None:
    """Why the workers need a profile of their own (docs/security.md)."""
    code, _, error = run_probe(["no-new-privileges", "systempaths=unconfined"])["sandbox"]
    assert code != 0 and "namespace" in error
    code, _, error = run_probe(["no-new-privileges", f"seccomp={worker_profile_json()}"])["sandbox"]
    assert code != 0 and "proc" in error, "a masked /proc forbids the sandbox's own"
