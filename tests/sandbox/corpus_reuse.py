"""One program, two roles, for the tests that a sandbox keeps nothing from one job (or one command) to
the next: ``litter`` leaves something behind in every place it can, ``inventory`` describes every place
where something could have been left. Its stdin says which.

``litter``, as the sandbox's user:

* files of every kind (plain, hidden, nested, a ``chmod 000`` directory, a FIFO, a symlink to a host
  path, a hard link) in every writable directory of the whole file system;
* a System V semaphore set (the other System V objects are refused by the jobs' filter);
* a ``setsid`` double-forked daemon holding an open file, a TCP socket listening on loopback and an
  abstract Unix socket, plus an ordinary child process, both sleeping long past the job's wall limit.

``inventory`` prints, as JSON: its environment, its open descriptors, every other process it can see,
the mounts, every entry under every writable directory, the System V IPC objects, the sockets of its
network namespace, and whether the daemon's sockets still answer. Two inventories of the same slot, one
before a litterer and one after, must be equal.
"""

LITTER_PORT = 47211
LITTER_SOCKET = "executioner-litter"
"""The abstract Unix socket name the daemon listens on."""
SEMAPHORE_KEY = 0x5EED
LITTER_MARK = "638.25"
"""The argument of the leftover processes' ``sleep``: how a test recognises them in a process list."""

REUSE_PROGRAM = f"""
import ctypes, errno, json, os, re, socket, sys

SKIPPED = ("/proc", "/sys")
LITTER = "litter-from-an-earlier-job"


def writable_dirs():
    found = []
    for root, dirs, _ in os.walk("/", onerror=lambda exc: None):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in SKIPPED]
        if os.access(root, os.W_OK):
            found.append(root)
    return sorted(found)


def entries(top):
    listed = []
    for root, dirs, files in os.walk(top, onerror=lambda exc: listed.append("unreadable " + exc.filename)):
        listed.extend(os.path.join(root, name) for name in dirs + files)
    return sorted(listed)


def mounts():
    described = []
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        separator = fields.index("-")
        # mount point, its options, file system type, source, super block options: no ids, no devices
        point = re.sub("job-[0-9a-f]+", "job-*", fields[4])  # where the worker mounts a job's scratch
        described.append([point, fields[5], *fields[separator + 1 : separator + 4]])
    return sorted(described)


def processes():
    me = os.getpid()
    seen = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me:
            try:
                argv = open(f"/proc/{{name}}/cmdline", "rb").read().split(b"\\0")
                seen.append(" ".join([os.path.basename(argv[0].decode())] + [a.decode() for a in argv[1:2]]))
            except OSError:
                pass
    return sorted(seen)


def descriptors():
    described = {{}}
    for fd in sorted(os.listdir("/proc/self/fd"), key=int):
        try:
            target = os.readlink(f"/proc/self/fd/{{fd}}")
        except OSError:
            continue
        described[fd] = target.split(":")[0] if ":[" in target else target
    return described


def table(path):
    try:
        return [line.split() for line in open(path).read().splitlines()[1:]]
    except OSError as exc:
        return errno.errorcode[exc.errno]


def sockets():
    # Listening TCP sockets and named Unix ones: what a process left behind would hold. (gVisor lists
    # the whole container's connections here, the worker's own included, whose ports change.)
    tcp = {{kind: table(f"/proc/net/{{kind}}") for kind in ("tcp", "tcp6")}}
    unix = table("/proc/net/unix")
    listening = {{
        kind: [row for row in rows if row[3] == "0A"] if isinstance(rows, list) else rows
        for kind, rows in tcp.items()
    }}
    return {{
        **listening,
        "udp": table("/proc/net/udp"),
        "unix": [row[7:] for row in unix if len(row) > 7] if isinstance(unix, list) else unix,
    }}


def answers():
    reached = []
    try:
        socket.create_connection(("127.0.0.1", {LITTER_PORT}), timeout=1).close()
        reached.append("tcp")
    except OSError:
        pass
    try:
        unix = socket.socket(socket.AF_UNIX)
        unix.connect("\\0{LITTER_SOCKET}")
        reached.append("unix")
    except OSError:
        pass
    return reached


def semaphores():
    libc = ctypes.CDLL(None, use_errno=True)
    found = libc.semget({SEMAPHORE_KEY}, 0, 0)
    return "absent" if found < 0 else "present"


def inventory():
    print(json.dumps({{
        "environment": dict(os.environ),
        "descriptors": descriptors(),
        "processes": processes(),
        "mounts": mounts(),
        "writable": {{place: entries(place) for place in writable_dirs()}},
        "ipc": {{kind: table(f"/proc/sysvipc/{{kind}}") for kind in ("shm", "sem", "msg")}},
        "semaphore": semaphores(),
        "sockets": sockets(),
        "daemon_answers": answers(),
    }}, sort_keys=True))


def litter_files(place):
    base = os.path.join(place, LITTER + place.replace("/", "_"))  # /tmp and /dev/shm may be one
    hidden = os.path.join(place, "." + os.path.basename(base))
    made = 0
    for what in ("plain", "hidden", "nested", "locked", "fifo", "symlink", "hardlink"):
        try:
            if what == "plain":
                open(base, "w").write("left behind")
            elif what == "hidden":
                open(hidden, "w").write("left behind")
            elif what == "nested":
                os.makedirs(os.path.join(base + ".d", "deeper"))
                open(os.path.join(base + ".d", "deeper", "file"), "w").write("x")
            elif what == "locked":
                os.mkdir(base + ".locked")
                open(os.path.join(base + ".locked", "file"), "w").write("x")
                os.chmod(base + ".locked", 0)
            elif what == "fifo":
                os.mkfifo(base + ".fifo")
            elif what == "symlink":
                os.symlink("/etc/passwd", base + ".link")
            elif what == "hardlink":
                os.link(base, base + ".hard")
            made += 1
        except OSError:
            pass
    return made


def daemon(ready):
    if os.fork():
        os._exit(0)
    held = open(os.path.join(os.environ["TMPDIR"], LITTER + ".held"), "w")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", {LITTER_PORT}))
    listener.listen()
    unix = socket.socket(socket.AF_UNIX)
    unix.bind("\\0{LITTER_SOCKET}")
    unix.listen()
    for held_open in (held, listener, unix):
        os.set_inheritable(held_open.fileno(), True)
    os.write(ready, b"up")
    os.close(ready)
    os.execvp("sleep", ["sleep", "{LITTER_MARK}"])


def litter():
    places = {{place: litter_files(place) for place in writable_dirs()}}
    libc = ctypes.CDLL(None, use_errno=True)
    semaphore = libc.semget({SEMAPHORE_KEY}, 1, 0o1000 | 0o666)  # IPC_CREAT
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        os.close(read_end)
        os.setsid()
        daemon(write_end)
        os._exit(0)
    os.close(write_end)
    daemon_up = os.read(read_end, 2) == b"up"
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{LITTER_MARK}"])
    print(json.dumps({{"places": places, "semaphore": semaphore >= 0, "daemon": daemon_up}}))


litter() if sys.stdin.read().strip() == "litter" else inventory()
"""
"""The program; stdin ``litter`` or ``inventory``."""
