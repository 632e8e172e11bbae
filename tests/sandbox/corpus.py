"""The hostile corpus's common parts: how an attack is described, probe skeletons, and the programs
that check the sandbox rather than attack it. The attacks are in corpus_python.py and corpus_c.py.

Each probe exits 0 only when its attack worked (it connected, wrote, read a secret, gained a privilege),
so ``accepted`` always means a breach. Attacks that cannot see their own success (killing everything in
sight, leaving a daemon behind) exit non-zero, and the tests check their effect from outside: the
worker survives, later jobs run normally, no process outlives its job.
"""

from dataclasses import dataclass

from schemas.verdicts import Verdict
from tests.sandbox.harness import Job

TLE = Verdict.TIME_LIMIT_EXCEEDED
MLE = Verdict.MEMORY_LIMIT_EXCEEDED
OLE = Verdict.OUTPUT_LIMIT_EXCEEDED
RE = Verdict.RUNTIME_ERROR
CE = Verdict.COMPILATION_ERROR
WA = Verdict.WRONG_ANSWER
DAEMON_MARK = "637.25"
"""The argument of the daemon's ``sleep``: how the tests recognise it in the container's process list."""
SECRET_MARKERS = ("EXECUTIONER_", "KAFKA", "executioner-worker", "/opt/executioner/venv")


@dataclass(frozen=True)
class Attack:
    """A hostile job and the verdicts that mean the sandbox held."""

    job: Job
    verdicts: frozenset[Verdict]


def attack(name: str, source: str, *verdicts: Verdict, **job: object) -> Attack:
    """An attack named ``name`` (the job's name too)."""
    return Attack(Job(name=name, source=source.strip() + "\n", **job), frozenset(verdicts))  # type: ignore[arg-type]


def probe(body: str) -> str:
    """A probe: ``body`` sets ``breach`` to a description when the attack worked."""
    return (
        f"import sys\nbreach = None\n{body.strip()}\nprint('breach:', breach)\nsys.exit(0 if breach else 1)"
    )


def network_probe(targets: list[tuple[str, int]]) -> str:
    """Connects to each TCP target and sends UDP to each; a breach when anything gets through."""
    return probe(
        f"""
import socket
for host, port in {targets!r}:
    try:
        socket.create_connection((host, port), timeout=2).close()
        breach = f"connected to {{host}}:{{port}}"
    except OSError as exc:
        print(host, port, exc)
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (host, port))
        breach = breach or f"sent UDP to {{host}}:{{port}}"
    except OSError as exc:
        print("udp", host, port, exc)
"""
    )


FRESH_SCRATCH = """
import os
assert sorted(os.listdir(".")) == ["main.py"], os.listdir(".")
assert sorted(os.listdir("/dev/shm")) == ["main.py"], os.listdir("/dev/shm")
free = os.statvfs(".").f_bavail * os.statvfs(".").f_frsize
assert free > 60 << 20, free
print("clean")
"""

WITNESS = """
import time
time.sleep(2)
print("witnessed")
"""

SANDBOX_FACTS = """
import errno, json, os, socket
def readable(path):
    try:
        return open(path).read()
    except OSError as exc:
        return errno.errorcode[exc.errno]
print(json.dumps({
    "env": sorted(os.environ),
    "home": os.environ["HOME"],
    "cwd": os.getcwd(),
    "uid": os.getuid(),
    "hostname": socket.gethostname(),
    "pid": os.getpid(),
    "interfaces": [name for _, name in socket.if_nameindex()],
    "writable": [p for p in ("/", "/usr", "/etc", "/dev", "/tmp", "/dev/shm") if os.access(p, os.W_OK)],
    "limits": open("/proc/self/limits").read(),
    "oom_score_adj": open("/proc/self/oom_score_adj").read().strip(),
    "hidden": [p for p in ("/proc/acpi", "/sys/firmware") if os.path.isdir(p) and not os.listdir(p)],
    "keys": readable("/proc/keys"),
}))
"""

SHELL_FORK_BOMB = """
import os
os.execvp("sh", ["sh", "-c", "f() { f | f & }; f; sleep 30"])
"""
"""A fork bomb of small shells: it reaches the per-job process limit long before any memory limit."""
