"""The pieces every command of a job is made of: its argv and environment from the runtime's templates,
and a private scratch directory."""

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from common.runtimes import Runtime, fill_placeholders
from worker.errors import InternalError

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


def placeholder_values(runtime: Runtime, memory_mb: int) -> dict[str, str]:
    """What the placeholders of a runtime's commands and ``env`` stand for (common/runtimes.py)."""
    return {"source": runtime.source_file, "memory_mb": str(memory_mb)}


def job_env(runtime: Runtime, workdir: Path, memory_mb: int) -> dict[str, str]:
    """The whole environment of a command of the job: minimal basics plus the runtime's own ``env``.
    Nothing of the worker's environment (``EXECUTIONER_*`` settings, credentials) is passed on."""
    env = {"PATH": DEFAULT_PATH, "HOME": str(workdir), "TMPDIR": str(workdir), "LANG": "C.UTF-8"}
    values = placeholder_values(runtime, memory_mb)
    env.update({name: fill_placeholders(value, values) for name, value in runtime.env.items()})
    return env


def command(template: list[str], runtime: Runtime, memory_mb: int) -> list[str]:
    """A runtime command with its placeholders filled in."""
    values = placeholder_values(runtime, memory_mb)
    return [fill_placeholders(part, values) for part in template]


@contextlib.contextmanager
def scratch_directory(parent: Path) -> Iterator[Path]:
    """A fresh private directory under ``parent``, removed afterwards whatever happened."""
    try:
        path = Path(tempfile.mkdtemp(prefix="job-", dir=parent))
    except OSError as exc:
        raise InternalError(f"cannot create a scratch directory in {parent}: {exc}") from exc
    try:
        yield path
    finally:
        remove_tree(path)


def remove_tree(path: Path) -> None:
    """Remove ``path`` even if the program took the permissions off its own files."""
    for root, dirs, _ in os.walk(path):
        for name in dirs:  # before os.walk descends into them
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(root, name), 0o700)
    shutil.rmtree(path, ignore_errors=True)


def compile_command(runtime: Runtime, options: list[str], memory_mb: int) -> list[str]:
    """The runtime's compile command with the job's (allow-listed) ``options`` right before the source
    file's argument, after the runtime's own flags, so that for compilers where the last flag wins
    (``-O0`` after ``-O2``) the job's win; appended when the command does not name the source file."""
    assert runtime.compile is not None
    argv = command(runtime.compile, runtime, memory_mb)
    at = argv.index(runtime.source_file) if runtime.source_file in argv else len(argv)
    return [*argv[:at], *options, *argv[at:]]
