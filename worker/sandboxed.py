"""One command of a job in a sandbox of its own (bubblewrap per command, or none), in a scratch space of
its own: what :mod:`worker.execute` does for each command outside warm mode, and what the judge programs
(worker/judge_programs.py) and interactive tests (worker/interact.py) do in every mode."""

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from worker.commands import scratch_directory
from worker.limits import ProcessLimits
from worker.process import ProcessResult, run_command
from worker.sandbox import Confined, SandboxConfig, confine
from worker.scratch import tmpfs_scratch
from worker.spawn import SpawnedCommand, spawn


def per_command(config: SandboxConfig) -> SandboxConfig:
    """``config`` for commands that need a sandbox each: a warm sandbox runs one command at a time and
    shares its scratch space with the submission, so judge programs and interactive tests get
    bubblewrap per command instead, with the same isolation."""
    return dataclasses.replace(config, kind="bwrap") if config.kind == "warm" else config


def scratch_space(
    config: SandboxConfig, root: Path, extra_bytes: int = 0
) -> contextlib.AbstractContextManager[Path]:
    """A fresh scratch directory under ``root``: a tmpfs of the sandbox's size plus ``extra_bytes``
    (for files we put there) when commands are sandboxed, else a plain directory."""
    if config.isolates:
        return tmpfs_scratch(root, config.disk_bytes + extra_bytes, config.inodes)
    return scratch_directory(root)


@contextlib.contextmanager
def started(
    config: SandboxConfig,
    argv: Sequence[str],
    workdir: Path,
    env: Mapping[str, str],
    limits: ProcessLimits,
    *,
    stderr_to_stdout: bool = False,
) -> Iterator[tuple[SpawnedCommand, Confined]]:
    """``argv`` started in its sandbox (per command) on ``workdir``; the caller drives and collects it,
    and reads its result through the :class:`Confined` (whose ``limits`` are the ones to watch)."""
    with confine(config, argv, workdir, limits) as confined:
        yield (
            spawn(
                confined.argv,
                confined.cwd,
                env,
                confined.limits,
                pass_fds=confined.pass_fds,
                dies_with_parent=confined.dies_with_parent,
                stderr_to_stdout=stderr_to_stdout,
            ),
            confined,
        )


def run_sandboxed(
    config: SandboxConfig,
    argv: Sequence[str],
    workdir: Path,
    *,
    env: Mapping[str, str],
    stdin: bytes,
    limits: ProcessLimits,
    stderr_to_stdout: bool = False,
) -> ProcessResult:
    """Run ``argv`` in its own sandbox on ``workdir`` until it ends or a limit ends it."""
    with started(config, argv, workdir, env, limits, stderr_to_stdout=stderr_to_stdout) as (
        command,
        confined,
    ):
        return confined.result(run_command(command, stdin, confined.limits))
