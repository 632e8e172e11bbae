"""Job scratch space for sandboxed jobs: a size- and inode-limited tmpfs per job, mounted in the pool
process's own mount namespace and unmounted as a whole when the job ends.

A pool process that sandboxes jobs first enters a user and mount namespace of its own
(:func:`enter_private_mounts`), where it may mount tmpfs file systems that nobody else sees: one over the
scratch root, and one per job below it. Removing a job's scratch space is one ``umount``: the worker
never walks, reads, changes or follows anything the job left in it (no symlink or permission trick can
reach it). If the pool process dies, its mount namespace dies with it, and every scratch file system
with the namespace; nothing is left on the container's own ``/tmp``.
"""

import contextlib
import ctypes
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from worker.errors import InternalError

_LIBC = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_MS_NOSUID = 0x2
_MS_NODEV = 0x4
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_MNT_DETACH = 0x2
ROOT_OPTIONS = "size=1m,nr_inodes=1024,mode=0700"
"""The scratch root holds only the jobs' (empty) mount points."""


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount_tmpfs(target: Path, options: str) -> None:
    # nosuid, nodev; exec stays allowed: compiled programs run from their scratch directory.
    _check(
        _LIBC.mount(b"tmpfs", os.fsencode(target), b"tmpfs", _MS_NOSUID | _MS_NODEV, options.encode()),
        f"mount tmpfs on {target}",
    )


def enter_private_mounts(scratch_root: Path, *, own_network: bool = False) -> None:
    """Move this process into a new user and mount namespace (same uid and gid as before, mapped to
    themselves) and mount a private tmpfs over ``scratch_root``; with ``own_network``, into a new network
    namespace too (worker/gvisor.py: the jobs' sandboxes share it). Must run while the process has a
    single thread (a fresh pool process). Raises OSError when the kernel or seccomp refuses."""
    uid, gid = os.getuid(), os.getgid()
    flags = _CLONE_NEWUSER | _CLONE_NEWNS | (_CLONE_NEWNET if own_network else 0)
    _check(_LIBC.unshare(flags), "unshare(CLONE_NEWUSER | CLONE_NEWNS)")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    # Mounts made here must not propagate anywhere (and none from outside should arrive).
    _check(_LIBC.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make / private")
    _mount_tmpfs(scratch_root, ROOT_OPTIONS)


JOB_KERNEL_OBJECTS = {"max_inotify_instances": 8, "max_inotify_watches": 8192}
"""What the jobs of one pool process may hold of the kernel objects that are counted per user id across
every namespace. Every job of every worker on a host runs as the same uid there (10001), and the host's
limit (``fs.inotify.max_user_instances``, 128 by default) is shared by all of them: without a limit of its
own, one job could take every inotify instance and make its neighbours' programs fail."""


def limit_kernel_objects(limits: dict[str, int] = JOB_KERNEL_OBJECTS) -> None:
    """Set this process's user namespace's limits (``/proc/sys/user/*``, inside :func:`enter_private_mounts`):
    the kernel charges a job's objects to every user namespace above it, so each pool process's jobs get
    at most these, whatever the host allows. Not on gVisor, which keeps such counts per sandbox."""
    for name, value in limits.items():
        Path("/proc/sys/user", name).write_text(f"{value}\n")


@contextlib.contextmanager
def tmpfs_scratch(scratch_root: Path, size_bytes: int, inodes: int) -> Iterator[Path]:
    """A fresh tmpfs for one job under ``scratch_root`` (inside :func:`enter_private_mounts`); it is
    unmounted, contents and all, when the block ends, whatever happened inside it."""
    path = scratch_root / f"job-{secrets.token_hex(8)}"
    try:
        path.mkdir(mode=0o700)
        _mount_tmpfs(path, f"size={size_bytes},nr_inodes={inodes},mode=0700")
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.rmdir()
        raise InternalError(f"cannot create the job's scratch file system: {exc}") from exc
    try:
        yield path
    finally:
        # Lazy: a process of the job that is still dying cannot keep it mounted here. The mount point
        # is ours and empty once the tmpfs is gone.
        try:
            _check(_LIBC.umount2(os.fsencode(path), _MNT_DETACH), f"umount {path}")
            path.rmdir()
        except OSError as exc:  # the pool process is replaced, and its namespace with it
            raise InternalError(f"cannot remove the job's scratch file system: {exc}") from exc
