"""The Python corpus: resource exhaustion, escapes, snooping and privilege attacks (see corpus.py)."""

from tests.sandbox.corpus import (
    DAEMON_MARK,
    MLE,
    OLE,
    RE,
    SECRET_MARKERS,
    TLE,
    WA,
    Attack,
    attack,
    network_probe,
    probe,
)

FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""

THREAD_BOMB = """
import threading, time
count = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        count += 1
except RuntimeError:
    print("threads:", count, flush=True)
time.sleep(60)
"""

MEMORY_BOMB = """
chunks = []
while True:
    chunks.append(b"x" * (16 << 20))
"""

MEMORY_BOMB_IN_CHILDREN = """
import os, time
for _ in range(8):
    if os.fork() == 0:
        data = b"x" * (40 << 20)
        time.sleep(30)
        os._exit(0)
time.sleep(30)
"""

MEMFD_BOMB = """
import os
files = []
while True:
    fd = os.memfd_create("hog")
    files.append(fd)
    for _ in range(64):
        os.write(fd, b"\\xff" * (1 << 20))
"""

# The job first undoes its oom_score_adj (the kernel lets it go back down to the worker's value), so
# that a container out of memory would kill the worker's main process, the largest one left.
MEMFD_BOMB_UNDER_OUR_OOM_SCORE = (
    """
import os
with open("/proc/self/oom_score_adj", "w") as score:
    score.write("0")
print("oom_score_adj", open("/proc/self/oom_score_adj").read().strip(), flush=True)
"""
    + MEMFD_BOMB
)

# A wrong answer built to make the float compare's number pattern backtrack (it ran in the pool process,
# outside every limit, for 14 s per attempt): it must stay the program's wrong answer, quickly.
FLOAT_COMPARE_BLOW_UP = 'print("1" * 60000 + "x")'

# System V shared memory outlives every process attached to it (until its IPC namespace ends).
SYSV_SHM_BOMB = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
size = 64 << 20
while True:
    segment = libc.shmget(0, size, 0o1000 | 0o600)
    if segment < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    address = libc.shmat(segment, None, 0)
    ctypes.memset(address, 0xFF, size)
    libc.shmdt(ctypes.c_void_p(address))
"""

SYSV_QUEUE_BOMB = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
message = ctypes.create_string_buffer(b"\\1" * 8 + b"x" * 8192)
while True:
    queue = libc.msgget(0, 0o1000 | 0o600)
    if queue < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    while libc.msgsnd(queue, message, 8192, 0o4000) == 0:  # IPC_NOWAIT: until the queue is full
        pass
"""

# inotify instances count per uid on the host, and every job of every worker has the same one there. (On
# gVisor they are the Sentry's own objects, which no limit shared with other jobs counts.)
INOTIFY_HOG = probe(
    """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
held = 0
while libc.inotify_init() >= 0:
    held += 1
print("inotify instances held:", held, "then errno", ctypes.get_errno())
shared_with_others = "gvisor" not in os.uname().release
breach = f"held {held} inotify instances" if held > 16 and shared_with_others else None
"""
)

DISK_FILL_WORKDIR = """
with open("fill", "wb") as out:
    while True:
        out.write(b"\\0" * (1 << 20))
"""

DISK_FILL_TMP = """
n = 0
while True:
    with open(f"/tmp/fill-{n}", "wb") as out:
        out.write(b"\\0" * (1 << 20))
    n += 1
"""

DISK_FILL_SHM = """
n = 0
while True:
    with open(f"/dev/shm/fill-{n}", "wb") as out:
        out.write(b"\\0" * (1 << 20))
    n += 1
"""

INODE_FILL = """
import os
os.mkdir("many")
n = 0
while True:
    open(f"many/{n}", "w").close()
    n += 1
"""

BUSY_LOOP_IGNORING_SIGXCPU = """
import signal
signal.signal(signal.SIGXCPU, signal.SIG_IGN)
while True:
    pass
"""

DNS_PROBE = probe("import socket\nbreach = str(socket.getaddrinfo('example.com', 443))")

KILL_EVERYTHING = """
import os, sys, signal
os.kill(-1, signal.SIGKILL)
print("still here")
sys.exit(3)
"""

KILL_PARENTS = """
import os, sys, signal
for pid in (os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as exc:
        print(pid, exc)
sys.exit(3)
"""

DAEMON = f"""
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{DAEMON_MARK}"])
    os._exit(0)
os.wait()
sys.exit(3)
"""

PROC_SNOOP = probe(
    f"""
import glob
for path in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline") + ["/proc/1/root/proc/1/environ"]:
    try:
        data = open(path, "rb").read().decode(errors="replace")
    except OSError as exc:
        print(path, exc)
        continue
    for marker in {SECRET_MARKERS!r}:
        if marker in data:
            breach = f"{{marker}} in {{path}}"
"""
)

PROCESS_COUNT = probe(
    """
import os
pids = [p for p in os.listdir("/proc") if p.isdigit()]
print("pids:", pids)
if len(pids) > 3:
    breach = f"sees {len(pids)} processes"
"""
)

WRITE_SYSTEM = probe(
    """
targets = ("/usr/bin/evil", "/etc/passwd", "/bin/sh", "/opt/executioner/runtime.toml", "/evil", "/dev/evil")
for path in targets:
    try:
        with open(path, "a") as out:
            out.write("owned")
        breach = f"wrote {path}"
    except OSError as exc:
        print(path, exc)
"""
)

SYMLINK_TRAP = probe(
    """
import os
for name, target in [("root", "/"), ("etc", "/etc"), ("up", ".."), ("self", "/proc/self/root"),
                     ("worker", "/proc/1/root/opt/executioner"), ("loop", "loop")]:
    os.symlink(target, name)
os.mkdir("locked")
open("locked/file", "w").close()
os.chmod("locked", 0)
for path in ("etc/shadow", "root/etc/shadow", "self/etc/shadow", "up/up/etc/shadow"):
    try:
        print(path, len(open(path).read()))
        breach = f"read {path}"
    except OSError as exc:
        print(path, exc)
"""
)

SETUID = probe(
    """
import os, stat, subprocess
for change in (lambda: os.setuid(0), lambda: os.setgid(0), lambda: os.setresuid(0, 0, 0)):
    try:
        change()
        breach = "changed uid or gid to 0"
    except OSError as exc:
        print(exc)
setuid = [f"/usr/bin/{n}" for n in os.listdir("/usr/bin") if os.stat(f"/usr/bin/{n}").st_mode & stat.S_ISUID]
print("setuid programs:", setuid)
for program in setuid:
    if program.endswith("/mount"):
        done = subprocess.run([program, "-t", "tmpfs", "none", "/mnt"], capture_output=True, text=True)
        print(done.returncode, done.stderr)
        if done.returncode == 0:
            breach = "mounted through setuid mount"
if os.geteuid() == 0:
    breach = "euid 0"
"""
)

KERNEL_INTERFACES = probe(
    """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
tmpfs = ctypes.c_char_p(b"tmpfs")
calls = {  # x86-64 numbers
    "ptrace(TRACEME)": (101, 0, 0, 0, 0),
    "bpf": (321, 0, 0, 0, 0),
    "keyctl": (250, 0, 0, 0, 0),
    "add_key": (248, ctypes.c_char_p(b"user"), ctypes.c_char_p(b"k"), ctypes.c_char_p(b"v"), 1),
    "userfaultfd": (323, 0, 0, 0, 0),
    "io_uring_setup": (425, 1, ctypes.create_string_buffer(120), 0, 0),
    "perf_event_open": (298, ctypes.create_string_buffer(128), 0, -1, -1),
    "unshare(user)": (272, 0x10000000, 0, 0, 0),
    "unshare(net)": (272, 0x40000000, 0, 0, 0),
    "unshare(mount)": (272, 0x00020000, 0, 0, 0),
    "mount(tmpfs)": (165, tmpfs, ctypes.c_char_p(b"/mnt"), tmpfs, 0),
    "chroot": (161, ctypes.c_char_p(b"/tmp"), 0, 0, 0),
    "setns": (308, 0, 0, 0, 0),
    "kexec_load": (246, 0, 0, 0, 0),
    "open_by_handle_at": (304, 0, 0, 0, 0),
    "sethostname": (170, ctypes.c_char_p(b"owned"), 5, 0, 0),
    "reboot": (169, 0xfee1dead, 672274793, 0x4321fedc, 0),
}
for name, (number, *args) in calls.items():
    result = libc.syscall(number, *args)
    print(name, result, os.strerror(ctypes.get_errno()))
    if result >= 0 and name != "ptrace(TRACEME)":
        breach = f"{name} succeeded"
    elif result >= 0:
        breach = "ptrace is allowed"
"""
)

MKNOD = probe(
    """
import os, stat
try:
    os.mknod("null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    breach = "created a device node"
except OSError as exc:
    print(exc)
"""
)

OPEN_FILES = probe(
    """
files = []
try:
    while True:
        files.append(open("/dev/null"))
except OSError as exc:
    print(len(files), exc)
if len(files) > 1000:
    breach = f"opened {len(files)} files"
"""
)


def python_attacks(gateway: str, broker_port: int) -> list[Attack]:
    """The Python corpus. ``gateway`` is the host's address on the Docker bridge, where the broker's
    container listener is (``broker_port``)."""
    return [
        # The memory watch adds up the resident memory of every process, so a tree of forked copies of
        # one interpreter may also end over the memory limit.
        attack("fork_bomb", FORK_BOMB, TLE, MLE),
        attack("thread_bomb", THREAD_BOMB, TLE),
        attack("memory_bomb", MEMORY_BOMB, MLE),
        attack("memory_bomb_in_children", MEMORY_BOMB_IN_CHILDREN, MLE),
        # Memory in no process's RSS, which only the container's limit would stop: the jobs' seccomp
        # filter refuses it (ENOMEM), whatever the job did to its oom_score_adj.
        attack("memfd_bomb", MEMFD_BOMB, MLE),
        attack("memfd_bomb_under_our_oom_score", MEMFD_BOMB_UNDER_OUR_OOM_SCORE, MLE),
        attack("sysv_shm_bomb", SYSV_SHM_BOMB, MLE),
        attack("sysv_queue_bomb", SYSV_QUEUE_BOMB, MLE),
        attack(
            "float_compare_blow_up",
            FLOAT_COMPARE_BLOW_UP,
            WA,
            tests=[{"stdin": "", "expected_output": "1"}],
            compare={"mode": "float", "tolerance": 1e-6},
        ),
        attack("inotify_hog", INOTIFY_HOG, RE),
        attack("infinite_output", "while True:\n    print('y' * 1000)", OLE),
        attack("huge_stderr", "import sys\nwhile True:\n    sys.stderr.write('e' * 65536)", OLE),
        attack("disk_fill_workdir", DISK_FILL_WORKDIR, RE, OLE),
        attack("disk_fill_tmp", DISK_FILL_TMP, RE),
        attack("disk_fill_shm", DISK_FILL_SHM, RE),
        attack("inode_fill", INODE_FILL, RE),
        attack("sleep_forever", "import time\ntime.sleep(10 ** 6)", TLE),
        attack("busy_loop", "while True:\n    pass", TLE),
        attack("busy_loop_ignoring_sigxcpu", BUSY_LOOP_IGNORING_SIGXCPU, TLE),
        attack("network_broker", network_probe([(gateway, broker_port)]), RE),
        attack("network_host_gateway", network_probe([(gateway, p) for p in (22, 53, 80, 2375, 13307)]), RE),
        attack("network_public_ip", network_probe([("1.1.1.1", 443), ("8.8.8.8", 53)]), RE),
        attack("network_dns_name", DNS_PROBE, RE),
        attack("proc_snoop", PROC_SNOOP, RE),
        attack("process_count", PROCESS_COUNT, RE),
        attack("kill_everything", KILL_EVERYTHING, RE),
        attack("kill_parents", KILL_PARENTS, RE),
        attack("daemon", DAEMON, RE),
        attack("write_system", WRITE_SYSTEM, RE),
        attack("symlink_trap", SYMLINK_TRAP, RE),
        attack("setuid", SETUID, RE),
        attack("kernel_interfaces", KERNEL_INTERFACES, RE),
        attack("mknod", MKNOD, RE),
        attack("open_files", OPEN_FILES, RE),
        attack(
            "locks_itself_out",
            "import os\nos.chmod('.', 0)\nprint('a')",
            RE,
            tests=[{"stdin": "", "expected_output": "a"}, {"stdin": "", "expected_output": "a"}],
        ),
    ]  # fmt: skip
