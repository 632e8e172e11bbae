"""The seccomp profile of worker containers: an allowlist written for Executioner (docs/security.md).

Why an allowlist. A denylist lets through every system call it does not name, including the ones a newer
kernel adds; an allowlist fails closed. Unlisted calls return ``ENOSYS`` ("this kernel has no such call"),
so a C library that tries a call we do not know yet falls back to an older one instead of failing. The
calls we refuse on purpose return ``EPERM``, each with its reason in :data:`DENIED`.

Why not Docker's default profile. It refuses what bubblewrap needs to build each job's sandbox: new user,
mount, pid and network namespaces (``clone``/``unshare`` with namespace flags), ``mount``, ``pivot_root``.
Those are allowed here (:data:`SANDBOX_SETUP`). They are harmless in the container itself, which has no
capability at all: a process holds capabilities only inside a user namespace it created, over what that
namespace owns, and bubblewrap drops them before the user's program starts (which also cannot create
further user namespaces: ``bwrap --disable-userns``).

Only 64-bit system calls are allowed (no 32-bit compatibility tables, whose kernel code is a classic source
of bugs); the architectures are x86-64 and arm64.
"""

import json
from typing import Any

ENOSYS = 38
EPERM = 1

_FILES = (
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "dup", "dup2", "dup3",
    "pipe", "pipe2", "fcntl", "ioctl", "flock", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
    "truncate", "ftruncate", "fallocate", "fadvise64", "readahead",
    "sendfile", "splice", "tee", "vmsplice", "copy_file_range",
    "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs",
    "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents", "getdents64",
    "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat",
    "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "umask",
    "utime", "utimes", "utimensat", "futimesat", "mknod", "mknodat",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "name_to_handle_at",
    "memfd_create",
)  # fmt: skip

_MEMORY = (
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore",
    "mlock", "mlock2", "munlock", "mlockall", "munlockall", "membarrier",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "get_mempolicy",
)  # fmt: skip

_PROCESSES = (
    "clone", "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
    "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal",
    "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
    "setgroups", "capget", "capset", "prctl", "arch_prctl", "personality", "seccomp",
    "set_tid_address", "set_robust_list", "get_robust_list", "futex", "futex_waitv", "rseq",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
    "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min",
    "sched_rr_get_interval", "sched_getattr", "sched_setattr", "getpriority", "setpriority",
    "ioprio_get", "ioprio_set", "getrlimit", "setrlimit", "prlimit64", "getrusage", "times",
    "getcpu", "uname", "sysinfo", "getrandom", "restart_syscall",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
)  # fmt: skip

_SIGNALS_AND_TIME = (
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
    "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigsuspend", "sigaltstack", "signalfd", "signalfd4",
    "pause", "alarm", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday",
    "time", "getitimer", "setitimer", "timer_create", "timer_settime", "timer_gettime",
    "timer_getoverrun", "timer_delete", "timerfd_create", "timerfd_settime", "timerfd_gettime",
)  # fmt: skip

_EVENTS_SOCKETS_IPC = (
    "select", "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
    "socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
    "getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
    "setsockopt", "getsockopt",
    "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
    "msgget", "msgsnd", "msgrcv", "msgctl",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "io_setup", "io_destroy", "io_getevents", "io_pgetevents", "io_submit", "io_cancel",
)  # fmt: skip

SANDBOX_SETUP = ("unshare", "clone3", "mount", "umount2", "pivot_root", "chroot", "sethostname")
"""What bubblewrap needs on top of ordinary programs: namespaces (``clone`` is allowed with any flags
above; ``clone3`` too, its flags cannot be inspected by seccomp), private mounts, its own root and the
sandbox's host name. The worker's pool processes use ``unshare`` and ``mount`` for their job scratch space."""

ALLOWED: tuple[str, ...] = (
    *_FILES,
    *_MEMORY,
    *_PROCESSES,
    *_SIGNALS_AND_TIME,
    *_EVENTS_SOCKETS_IPC,
    *SANDBOX_SETUP,
)

DENIED: dict[str, str] = {
    # Kernel and machine state: never a program's business (most also need capabilities we dropped;
    # refusing them at the seccomp layer keeps their code paths out of reach).
    "kexec_load": "loads a new kernel",
    "kexec_file_load": "loads a new kernel",
    "init_module": "loads kernel code",
    "finit_module": "loads kernel code",
    "delete_module": "unloads kernel code",
    "reboot": "reboots the machine",
    "swapon": "changes the host's swap",
    "swapoff": "changes the host's swap",
    "acct": "process accounting of the host",
    "quotactl": "file system quotas of the host",
    "quotactl_fd": "file system quotas of the host",
    "settimeofday": "sets the host clock (the clock is not namespaced)",
    "clock_settime": "sets the host clock",
    "clock_adjtime": "adjusts the host clock",
    "adjtimex": "adjusts the host clock",
    "syslog": "reads the kernel log",
    "iopl": "raw I/O port access",
    "ioperm": "raw I/O port access",
    "lookup_dcookie": "kernel profiling",
    "nfsservctl": "kernel NFS server",
    "vhangup": "hangs up terminals",
    "pciconfig_read": "PCI configuration space",
    "pciconfig_write": "PCI configuration space",
    "pciconfig_iobase": "PCI configuration space",
    # Large kernel attack surface with a long CVE record, and not needed by programs we run.
    "bpf": "eBPF programs and maps",
    "perf_event_open": "performance counters; also a side channel on other processes",
    "userfaultfd": "makes kernel races easy to win (a classic exploitation aid)",
    "io_uring_setup": "io_uring: a second system call interface that bypasses this filter's checks",
    "io_uring_enter": "io_uring",
    "io_uring_register": "io_uring",
    "keyctl": "kernel keyrings are not namespaced",
    "add_key": "kernel keyrings are not namespaced",
    "request_key": "kernel keyrings are not namespaced",
    "open_by_handle_at": "opens files by handle, bypassing the mount namespace (the 'shocker' escape)",
    "fanotify_init": "watches whole file systems",
    "mbind": "NUMA placement affects other tenants of the host",
    "set_mempolicy": "NUMA placement affects other tenants of the host",
    "migrate_pages": "moves other processes' memory",
    "move_pages": "moves other processes' memory",
    # Looking into other processes: a job has no business debugging anything, and these are the usual
    # first step of an escape from a compromised sandbox.
    "ptrace": "debugging other processes",
    "process_vm_readv": "reads another process's memory",
    "process_vm_writev": "writes another process's memory",
    "pidfd_getfd": "steals another process's file descriptors",
    "kcmp": "compares kernel objects of other processes (an information leak)",
    # Namespace and mount changes bubblewrap does not use.
    "setns": "joins another process's namespaces",
    "setdomainname": "not used by the sandbox",
    "fsopen": "new mount API, not used by the sandbox",
    "fsconfig": "new mount API, not used by the sandbox",
    "fsmount": "new mount API, not used by the sandbox",
    "fspick": "new mount API, not used by the sandbox",
    "move_mount": "new mount API, not used by the sandbox",
    "open_tree": "new mount API, not used by the sandbox",
    "mount_setattr": "new mount API, not used by the sandbox",
    # Obsolete interfaces kept only for old binaries.
    "modify_ldt": "16-bit segments (old Wine); kernel bugs",
    "uselib": "a.out shared libraries",
    "ustat": "obsolete",
    "sysfs": "obsolete",
    "_sysctl": "obsolete",
    "vm86": "32-bit only",
    "vm86old": "32-bit only",
    "create_module": "obsolete",
    "get_kernel_syms": "obsolete",
    "query_module": "obsolete",
}
"""System calls refused with ``EPERM`` on purpose (anything else not in :data:`ALLOWED` gets ``ENOSYS``)."""

ARCHITECTURES = ("SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64")


def worker_profile() -> dict[str, Any]:
    """The profile as Docker's ``--security-opt seccomp=<json>`` expects it."""
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": ENOSYS,
        # No sub-architectures: the 32-bit system call tables stay closed.
        "archMap": [{"architecture": arch, "subArchitectures": []} for arch in ARCHITECTURES],
        "syscalls": [
            {"names": sorted(ALLOWED), "action": "SCMP_ACT_ALLOW"},
            {"names": sorted(DENIED), "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM},
        ],
    }


def worker_profile_json() -> str:
    """The profile, compact, for ``security_opt``."""
    return json.dumps(worker_profile(), separators=(",", ":"))
