"""What a warm per-slot sandbox would cost per command: a measured prototype, not the worker's sandbox.

Issue 15 asks for a sandbox that costs at most 2 ms over an unsandboxed command; a fresh bubblewrap per
command costs 4-30 ms here (more under load). A warm sandbox is set up once per pool slot (the *zygote*,
a small process forked by the pool process: a user namespace in which uid 65534 is the worker's uid, its
own mount, IPC, UTS, network and cgroup namespaces, ``no_new_privs`` and the jobs' seccomp filter,
worker/job_filter.py) and pays per command only for what must be fresh. Two ways to get a command's
processes killed at its end are measured:

* ``warm_fresh_namespaces``: the zygote forks a child that enters a new pid, mount and IPC namespace and
  forks that namespace's pid 1, which mounts a fresh ``/proc`` and forks the command; when pid 1 exits,
  the kernel kills everything left in the namespace (what bubblewrap does, minus its ``exec``);
* ``warm_slot_namespace``: the zygote is pid 1 of one pid namespace for the whole slot, with ``/proc``
  mounted once; per command it forks the command, and after it ``kill(-1, SIGKILL)`` from pid 1 reaches
  every other process of the namespace (all of them the command's, daemons included) and reaps them.

Either way the command sets its limits and ``oom_score_adj`` and ``exec``s; its stdin, stdout and stderr
are the pool process's pipes, passed over a socket (``SCM_RIGHTS``). It runs inside a worker container
configured as the master configures one, alternating a plain command, the worker's bubblewrap command
line and the two prototypes, and prints JSON (milliseconds):

    python -m bench.warm_sandbox_prototype [--commands 100] [--runtime runsc]

What a worker mode must add before it runs jobs is listed in docs/benchmarks.md, "Sandbox cost per
command".
"""

import argparse
import json
import secrets
import sys
from typing import Any

import docker

from bench.sandbox_cost import VENV_PYTHON
from master.containers import create_container
from master.settings import MasterSettings
from master.spec import worker_run_args

INSIDE = r"""
import ctypes, json, os, resource, signal, socket, statistics, struct, subprocess, sys, time
from pathlib import Path
from worker import job_filter
from worker.proctree import become_subreaper
from worker.sandbox import SandboxSpec, bwrap_argv, present_masked_paths
from worker.scratch import enter_private_mounts, tmpfs_scratch

LIBC = ctypes.CDLL(None, use_errno=True)
NEWNS, NEWUSER, NEWPID, NEWIPC = 0x20000, 0x10000000, 0x20000000, 0x08000000
NEWUTS, NEWNET, NEWCGROUP = 0x04000000, 0x40000000, 0x02000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8"}


def check(result, what):
    if result != 0:
        raise OSError(ctypes.get_errno(), what)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_filter(program):
    # Once per slot, as bubblewrap does for its sandbox: every command inherits it.
    check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    buffer = ctypes.create_string_buffer(program)
    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    check(LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


def command(argv):
    # The command: its limits, the signal dispositions it would get from a shell, then exec.
    for which, value in ((resource.RLIMIT_NPROC, 256), (resource.RLIMIT_NOFILE, 256),
                         (resource.RLIMIT_CPU, 2), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))
    Path("/proc/self/oom_score_adj").write_text("1000")
    os.chdir("/tmp")
    for number in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):  # Python's choices, not the job's
        signal.signal(number, signal.SIG_DFL)
    os.execve(argv[0] if "/" in argv[0] else "/usr/bin/" + argv[0], argv, ENV)


def enter_slot():
    # Once per slot: uid 65534 is the worker's uid; own mount, IPC, UTS, network and cgroup namespaces.
    uid, gid = os.getuid(), os.getgid()
    # gVisor has no cgroup namespaces; its network namespace is the pool process's (worker/gvisor.py).
    own = NEWUSER | NEWNS | NEWIPC | NEWUTS | (0 if on_gvisor else NEWNET | NEWCGROUP)
    check(LIBC.unshare(own), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"65534 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"65534 {gid} 1")
    check(LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "private")
    check(LIBC.sethostname(b"sandbox", 7), "hostname")


def mount_proc():
    check(LIBC.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "proc")


def start_command(argv, fds):
    leader = os.fork()
    if leader == 0:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        command(argv)
    for fd in fds:
        os.close(fd)
    return leader


def fresh_zygote(sock, program):
    # Per command: a new pid, mount and IPC namespace whose pid 1 mounts /proc and forks the command;
    # when pid 1 exits the kernel kills the rest (what bubblewrap does, minus its exec and set-up).
    enter_slot()
    load_filter(program)
    while True:
        message, fds, _, _ = socket.recv_fds(sock, 65536, 3)
        if not message:
            os._exit(0)
        child = os.fork()
        if child == 0:
            check(LIBC.unshare(NEWPID | NEWNS | NEWIPC), "unshare per command")
            init = os.fork()
            if init == 0:
                mount_proc()
                _, status = os.waitpid(start_command(json.loads(message), fds), 0)
                os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
            _, status = os.waitpid(init, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(child, 0)
        sock.send(struct.pack("!i", os.waitstatus_to_exitcode(status)))


def slot_zygote(sock, program):
    # One pid namespace per slot, whose pid 1 is the zygote: per command only fork and exec; after it,
    # kill(-1) from pid 1 reaches every other process of the namespace, all of them the command's.
    enter_slot()
    check(LIBC.unshare(NEWPID), "unshare pid")
    if os.fork():
        os.wait()
        os._exit(0)
    mount_proc()
    load_filter(program)
    while True:
        message, fds, _, _ = socket.recv_fds(sock, 65536, 3)
        if not message:
            os._exit(0)
        _, status = os.waitpid(start_command(json.loads(message), fds), 0)
        while True:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            except ChildProcessError:
                break
        sock.send(struct.pack("!i", os.waitstatus_to_exitcode(status)))


def start_zygote(body, program):
    ours, zygotes = socket.socketpair()
    if os.fork() == 0:
        ours.close()
        body(zygotes, program)
    zygotes.close()
    return ours


def warm(sock, argv):
    started = time.perf_counter()
    ends = [os.pipe() for _ in range(3)]
    theirs = [ends[0][0], ends[1][1], ends[2][1]]
    socket.send_fds(sock, [json.dumps(argv).encode()], theirs)
    for fd in theirs:
        os.close(fd)
    os.close(ends[0][1])
    (status,) = struct.unpack("!i", sock.recv(4))
    for fd in (ends[1][0], ends[2][0]):
        while os.read(fd, 65536):
            pass
        os.close(fd)
    assert status == 0, status
    return (time.perf_counter() - started) * 1000


def spawn(argv, fds=()):
    started = time.perf_counter()
    result = subprocess.run(argv, pass_fds=fds, input=b"", capture_output=True, start_new_session=True)
    assert result.returncode == 0, result
    return (time.perf_counter() - started) * 1000


count, on_gvisor = int(sys.argv[1]), sys.argv[2] == "runsc"
become_subreaper()
root = Path("/tmp/prototype")
root.mkdir()
program = job_filter.job_filter(refuse_user_namespaces=on_gvisor)
fresh, slot = start_zygote(fresh_zygote, program), start_zygote(slot_zygote, program)
enter_private_mounts(root, own_network=on_gvisor)
dirs, files = present_masked_paths()
report = {"commands": count, "load_average_before": os.getloadavg()}
with tmpfs_scratch(root, 64 << 20, 16384) as scratch:
    status_fd = os.memfd_create("status")
    seccomp_fd = job_filter.filter_fd(program)

    def bwrap(argv):
        os.lseek(seccomp_fd, 0, os.SEEK_SET)
        spec = SandboxSpec(scratch, 256, status_fd, dirs, files, seccomp_fd, not on_gvisor, on_gvisor)
        return spawn(bwrap_argv(spec, argv), (status_fd, seccomp_fd))

    for name, argv in (("true", ["true"]), ("python", ["python3", "-I", "-c", "pass"])):
        modes = {
            "none": lambda: spawn(argv),
            "bwrap": lambda: bwrap(argv),
            "warm_fresh_namespaces": lambda: warm(fresh, argv),
            "warm_slot_namespace": lambda: warm(slot, argv),
        }
        for measure in modes.values():
            for _ in range(3):
                measure()
        samples = {mode: [] for mode in modes}
        for _ in range(count):
            for mode, measure in modes.items():
                samples[mode].append(measure())
        medians = {mode: round(statistics.median(values), 2) for mode, values in samples.items()}
        report[name] = {
            "median": medians,
            "added_median": {m: round(medians[m] - medians["none"], 2) for m in medians},
            "ratio_of_medians_to_none": {m: round(medians[m] / medians["none"], 2) for m in medians},
        }
report["load_average_after"] = os.getloadavg()
print(json.dumps(report))
"""


def measure(commands: int, runtime: str) -> dict[str, Any]:
    """Run the prototype's measurement in a worker container on ``runtime`` and return its report."""
    client = docker.from_env(timeout=300)
    cluster = f"bench-{secrets.token_hex(3)}"
    settings = MasterSettings(cluster=cluster, worker_runtime=None if runtime == "runc" else runtime)
    args = worker_run_args(settings, "python", f"executioner-{cluster}")
    args["entrypoint"] = [VENV_PYTHON, "-c", INSIDE, str(commands), runtime]
    container = create_container(client, args)
    try:
        container.start()
        status = container.wait(timeout=1800)
        if status["StatusCode"] != 0:
            raise SystemExit(f"the measurement failed:\n{container.logs().decode()}")
        report: dict[str, Any] = json.loads(container.logs(stderr=False))
    finally:
        container.remove(force=True)
        client.close()
    return {"runtime": runtime, **report}


def main() -> None:
    """Print the per-command cost of a plain command, bubblewrap and the warm prototype as JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commands", type=int, default=100, help="commands per mode (default 100)")
    parser.add_argument("--runtime", default="runc", help="Docker runtime: runc (default) or runsc")
    arguments = parser.parse_args()
    json.dump(measure(arguments.commands, arguments.runtime), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
