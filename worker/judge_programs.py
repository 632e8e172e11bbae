"""A job's judge programs (its checker or interactor, :class:`schemas.jobs.ProgramSpec`): compiled once
per pool process and kept (least recently used first out, bounded in bytes), then run for each test in a
sandbox and a fresh scratch space of their own, apart from the submission's, which can neither read nor
replace them. The author helper library of the program's language is added beside its source."""

import contextlib
import dataclasses
import functools
import hashlib
import os
import stat
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson

from common.admission import JUDGE_LANGUAGES_EVERYWHERE
from common.runtimes import Runtime, default_runtimes_dir, load_runtime_as
from schemas.jobs import Limits, ProgramSpec
from schemas.verdicts import Verdict
from worker.commands import command, job_env
from worker.judge import CHECKER_VERDICTS, checker_verdict
from worker.limits import compile_limits, run_limits
from worker.process import ProcessResult
from worker.sandbox import SandboxConfig
from worker.sandboxed import per_command, run_sandboxed, scratch_space

MIB = 1024 * 1024
CACHE_BYTES = 64 * MIB
"""The compiled judge programs one pool process keeps."""
PROGRAM_BYTES = 32 * MIB
"""The most a judge program's directory may hold after compiling."""
MESSAGE_CHARS = 4096
"""How much of a checker's stderr a test report shows."""
CHECKLIB = Path(__file__).with_name("checklib")
HELPERS = {"python": "executioner_checker.py", "cpp": "executioner_checker.h", "c": "executioner_checker.h"}
"""The author helper library of each language that has one: added beside the source unless the program
brings a file of that name itself (docs/checkers.md)."""
CHECKER_FILES = ("input.txt", "output.txt", "answer.txt")
PYTHON_LAUNCHER = (
    "import runpy, sys, traceback\n"
    "sys.argv = sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
    "except Exception:\n"
    "    traceback.print_exc()\n"
    "    sys.exit(3)\n"
)
"""How a Python judge program runs: an uncaught exception is exit 3, the program failing, and not
Python's own crash status 1, which would read as "wrong answer"."""
"""Where a checker finds the test's input, the program's output and the expected answer (its arguments)."""


class JudgeProgramBroken(Exception):
    """A judge program that cannot be used at all (it does not compile, or its language is not here)."""


@dataclass(frozen=True, slots=True)
class PreparedProgram:
    """A judge program ready to run: its runtime, its files after compiling, its limits."""

    role: str
    """``checker`` or ``interactor``, for messages."""
    runtime: Runtime
    files: tuple[tuple[str, int, bytes], ...]
    """Relative path, mode and content of every file of its directory."""
    limits: Limits

    @property
    def size(self) -> int:
        """Bytes of its files."""
        return sum(len(data) for _, _, data in self.files)

    def argv(self, args: list[str]) -> list[str]:
        """Its run command with ``args`` after it."""
        argv = command(self.runtime.run, self.runtime, self.limits.memory_mb)
        if self.runtime.id == "python" and argv[-1] == self.runtime.source_file:
            argv[-1:] = ["-c", PYTHON_LAUNCHER, self.runtime.source_file]
        return [*argv, *args]


def program_key(spec: ProgramSpec) -> str:
    """What a compiled program depends on (its limits do not change the build)."""
    return hashlib.sha256(orjson.dumps(spec.model_dump(mode="json", exclude={"limits"}))).hexdigest()


@functools.cache
def _runtime_everywhere(language: str) -> Runtime:
    packaged = CHECKLIB / f"{language}.runtime.toml"  # in the wheel (pyproject.toml's force-include)
    source = default_runtimes_dir() / language / "runtime.toml"
    return load_runtime_as(packaged if packaged.exists() else source, language)


def runtime_for(language: str, own: Runtime) -> Runtime:
    """The runtime of a judge program in ``language``: this worker's own, or one every worker image has
    (common/admission.py refuses other languages before a job gets here)."""
    if language == own.id:
        return own
    if language in JUDGE_LANGUAGES_EVERYWHERE:
        return _runtime_everywhere(language)
    raise JudgeProgramBroken(f"language {language!r} is not installed on the {own.id} workers")


def source_files(spec: ProgramSpec, runtime: Runtime) -> dict[str, bytes]:
    """Its files, the helper library (unless it has its own) and its source (which wins)."""
    files = {file.path: file.data() for file in spec.files}
    helper = HELPERS.get(runtime.id)
    if helper is not None and helper not in files:
        files[helper] = (CHECKLIB / helper).read_bytes()
    files[runtime.source_file] = spec.source.encode()
    return files


def write_files(workdir: Path, files: Mapping[str, bytes], modes: Mapping[str, int] | None = None) -> None:
    """Write ``files`` (paths checked by the schema: relative, no ``..``) under ``workdir``."""
    for path, data in files.items():
        target = workdir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if modes is not None:
            target.chmod(modes[path])


def snapshot(workdir: Path) -> tuple[tuple[str, int, bytes], ...]:
    """Every regular file under ``workdir`` (never following a link the compiler made), at most
    :data:`PROGRAM_BYTES` in all."""
    found: list[tuple[str, int, bytes]] = []
    total = 0
    for root, _, names in os.walk(workdir):
        for name in names:
            path = Path(root, name)
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                continue
            total += info.st_size
            if total > PROGRAM_BYTES:
                raise JudgeProgramBroken(f"its compiled files are larger than {PROGRAM_BYTES} bytes")
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError as exc:  # the compiler left it unreadable: the program cannot be kept
                raise JudgeProgramBroken(f"cannot keep its compiled file {name!r}: {exc.strerror}") from exc
            with os.fdopen(fd, "rb") as file:
                found.append(
                    (str(path.relative_to(workdir)), stat.S_IMODE(info.st_mode) | 0o600, file.read())
                )
    return tuple(found)


class JudgePrograms:
    """The judge programs of one pool process."""

    def __init__(self, sandbox: SandboxConfig, scratch_root: Path) -> None:
        self.sandbox = per_command(sandbox)
        self.scratch_root = scratch_root
        self._cache: OrderedDict[str, PreparedProgram] = OrderedDict()

    def prepare(self, spec: ProgramSpec, role: str, own: Runtime) -> PreparedProgram:
        """``spec`` compiled (once; afterwards from the cache). Raises :class:`JudgeProgramBroken`."""
        key = f"{role}:{program_key(spec)}"
        cached = self._cache.get(key)
        if cached is None:
            cached = self._build(spec, role, runtime_for(spec.language, own))
            self._cache[key] = cached
            while sum(p.size for p in self._cache.values()) > CACHE_BYTES and len(self._cache) > 1:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return dataclasses.replace(cached, role=role, limits=spec.limits or Limits())

    def _build(self, spec: ProgramSpec, role: str, runtime: Runtime) -> PreparedProgram:
        files = source_files(spec, runtime)
        if runtime.compile is None:
            return PreparedProgram(role, runtime, tuple((p, 0o644, d) for p, d in files.items()), Limits())
        limits = compile_limits(Limits(), runtime)
        with scratch_space(self.sandbox, self.scratch_root) as workdir:
            write_files(workdir, files)
            env = job_env(runtime, self.sandbox.workdir_for(workdir), runtime.compile_memory_mb)
            argv = command(runtime.compile, runtime, runtime.compile_memory_mb)
            result = run_sandboxed(self.sandbox, argv, workdir, env=env, stdin=b"", limits=limits)
            if not result.ended_normally or result.wall_exceeded or result.memory_exceeded:
                said = result.stderr[-MESSAGE_CHARS:].decode(errors="replace")
                raise JudgeProgramBroken(f"the {role} does not compile: {said}".strip())
            return PreparedProgram(role, runtime, snapshot(workdir), Limits())

    @contextlib.contextmanager
    def workspace(self, program: PreparedProgram, extra: Mapping[str, bytes]) -> Iterator[Path]:
        """A fresh scratch space holding ``program``'s files and ``extra`` (ours win)."""
        size = program.size + sum(len(data) for data in extra.values())
        with scratch_space(self.sandbox, self.scratch_root, size) as workdir:
            write_files(workdir, {p: d for p, _, d in program.files}, {p: m for p, m, _ in program.files})
            write_files(workdir, extra)
            yield workdir

    def env(self, program: PreparedProgram, workdir: Path) -> dict[str, str]:
        """The environment of ``program`` running on ``workdir``."""
        return job_env(program.runtime, self.sandbox.workdir_for(workdir), program.limits.memory_mb)

    def check(
        self, checker: PreparedProgram, test_input: bytes, output: bytes, answer: bytes
    ) -> tuple[Verdict, str]:
        """Run ``checker input output answer`` on one test: its verdict and its message."""
        limits = dataclasses.replace(run_limits(checker.limits, checker.runtime), kill_on_output_limit=False)
        extra = dict(zip(CHECKER_FILES, (test_input, output, answer), strict=True))
        with self.workspace(checker, extra) as workdir:
            argv = checker.argv(list(CHECKER_FILES))
            env = self.env(checker, workdir)
            result = run_sandboxed(self.sandbox, argv, workdir, env=env, stdin=b"", limits=limits)
        return checker_verdict(result, limits), judge_message(checker.role, result, limits.cpu_ms)


def judge_message(role: str, result: ProcessResult, cpu_ms: int) -> str:
    """What a checker or interactor said (its stderr, cut), after how it failed when it did."""
    said = result.stderr[:MESSAGE_CHARS].decode(errors="replace").strip()
    how = None
    if result.memory_exceeded:
        how = "over its memory limit"
    elif result.wall_exceeded or result.cpu_ms > cpu_ms or result.signal == "SIGXCPU":
        how = f"over its time limit: {result.cpu_ms} ms CPU, {result.wall_ms} ms wall"
    elif result.signal is not None:
        how = f"killed by {result.signal}"
    elif result.exit_code not in CHECKER_VERDICTS:
        how = f"exit code {result.exit_code}"
    return said if how is None else f"the {role} failed ({how}) {said}".strip()
