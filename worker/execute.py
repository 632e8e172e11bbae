"""Run one job in a pool process: a fresh scratch directory with the source (and the job's other files),
compile once if the runtime compiles (with the job's allow-listed options), then run once (no tests) or
once per test, with the job's arguments and ``runs`` times each, judging each run. Returns the job's Outcome.

Everything the user's program does ends up in a verdict. Only failures of ours raise (InternalError).
"""

import base64
import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from common.runtimes import Runtime, fill_placeholders
from schemas.jobs import JobMessage, Limits
from schemas.results import Outcome, RunReport, TestReport
from schemas.verdicts import Verdict
from worker.errors import InternalError
from worker.judge import compile_verdict, judge_test, overall_verdict, run_verdict
from worker.limits import ProcessLimits, compile_limits, run_limits
from worker.process import ProcessResult, run_process
from worker.sandbox import NO_SANDBOX, SandboxConfig, confine
from worker.scratch import tmpfs_scratch
from worker.warm import WarmSandbox

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"

ReportTest = Callable[[TestReport], None]
"""Called with each test's report as soon as it is judged (the pool streams it to the parent)."""


@dataclass(frozen=True, slots=True)
class ExecConfig:
    """What a pool process needs besides the runtime (picklable)."""

    scratch_dir: Path
    worker_id: str
    sandbox: SandboxConfig = NO_SANDBOX


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


def _text_and_bytes(data: bytes) -> tuple[str, str | None]:
    """Output as text, and its exact bytes in Base64 when they are not UTF-8 (the text then has U+FFFD
    in their place)."""
    try:
        return data.decode(), None
    except UnicodeDecodeError:
        return data.decode(errors="replace"), base64.b64encode(data).decode()


def _report(result: ProcessResult, verdict: Verdict) -> RunReport:
    stdout, stdout_b64 = _text_and_bytes(result.stdout)
    stderr, stderr_b64 = _text_and_bytes(result.stderr)
    return RunReport(
        verdict=verdict,
        exit_code=result.exit_code,
        signal=result.signal,
        time_ms=result.cpu_ms,
        wall_ms=result.wall_ms,
        memory_kb=result.peak_rss_kb,
        stdout=stdout,
        stderr=stderr,
        stdout_truncated=result.stdout_truncated,
        stderr_truncated=result.stderr_truncated,
        stdout_b64=stdout_b64,
        stderr_b64=stderr_b64,
    )


def _averaged(last: RunReport, runs: list[RunReport]) -> RunReport:
    """The last run's report with time, wall time and memory averaged over ``runs`` (Judge0's
    ``number_of_runs``)."""
    if len(runs) == 1:
        return last
    count = len(runs)
    return last.model_copy(
        update={
            "time_ms": round(sum(r.time_ms for r in runs) / count),
            "wall_ms": round(sum(r.wall_ms for r in runs) / count),
            "memory_kb": round(sum(r.memory_kb for r in runs) / count),
        }
    )


def compile_command(runtime: Runtime, options: list[str]) -> list[str]:
    """The runtime's compile command with the job's (allow-listed) ``options`` right before the source
    file's argument, after the runtime's own flags, so that for compilers where the last flag wins
    (``-O0`` after ``-O2``) the job's win; appended when the command does not name the source file."""
    assert runtime.compile is not None
    argv = command(runtime.compile, runtime, runtime.compile_memory_mb)
    at = argv.index(runtime.source_file) if runtime.source_file in argv else len(argv)
    return [*argv[:at], *options, *argv[at:]]


def write_program(job: JobMessage, runtime: Runtime, workdir: Path) -> None:
    """The job's ``files``, then its source (which wins over a file of the same name). Their paths were
    checked when the job was decoded (schemas.jobs.checked_path): relative, no ``..``, no dot files. A
    Base64 source (runtime.toml ``source_encoding``) is written as the bytes it decodes to, executable;
    its decoding was checked when the job was admitted (common.admission.runtime_mismatch)."""
    program = runtime.program_bytes(job.source)
    if program is None:
        raise InternalError(f"the source of a {runtime.id} job is not Base64, and was admitted")
    try:
        for file in job.files:
            target = workdir / file.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.data())
        (workdir / runtime.source_file).write_bytes(program)
        if runtime.source_encoding == "base64":
            (workdir / runtime.source_file).chmod(0o755)
    except OSError as exc:
        raise InternalError(f"cannot write the program's files: {exc}") from exc


class _JobRun:
    """One job's execution inside its scratch directory."""

    def __init__(
        self, job: JobMessage, runtime: Runtime, config: ExecConfig, workdir: Path, warm: WarmSandbox | None
    ) -> None:
        self.job = job
        self.warm = warm
        self.runtime = runtime
        self.config = config
        self.workdir = workdir
        self.limits: Limits = job.limits.effective()
        self.run_limits = run_limits(job.limits, runtime)
        home = config.sandbox.workdir_for(workdir)
        self.run_env = job_env(runtime, home, self.limits.memory_mb)
        self.compile_env = job_env(runtime, home, runtime.compile_memory_mb)

    def _execute(
        self,
        argv: list[str],
        env: dict[str, str],
        stdin: str,
        limits: ProcessLimits,
        *,
        stderr_to_stdout: bool = False,
    ) -> ProcessResult:
        if self.warm is not None:
            return self.warm.run(argv, env, stdin.encode(), limits, stderr_to_stdout=stderr_to_stdout)
        with confine(self.config.sandbox, argv, self.workdir, limits) as confined:
            result = run_process(
                confined.argv,
                cwd=confined.cwd,
                env=env,
                stdin=stdin.encode(),
                limits=confined.limits,
                pass_fds=confined.pass_fds,
                dies_with_parent=confined.dies_with_parent,
                stderr_to_stdout=stderr_to_stdout,
            )
            return confined.result(result)

    def _run_program(self, stdin: str) -> tuple[RunReport, str]:
        """Run the program ``job.runs`` times on ``stdin`` (stopping at a run that fails): the last
        run's report with averaged figures, and its stdout as text."""
        argv = [*command(self.runtime.run, self.runtime, self.limits.memory_mb), *self.job.args]
        reports: list[RunReport] = []
        for _ in range(self.job.runs):
            result = self._execute(
                argv,
                self.run_env,
                stdin,
                self.run_limits,
                stderr_to_stdout=self.job.redirect_stderr_to_stdout,
            )
            reports.append(_report(result, run_verdict(result, self.run_limits)))
            if reports[-1].verdict is not Verdict.ACCEPTED:
                break
        last = reports[-1]
        return _averaged(last, reports), last.stdout

    def outcome(
        self,
        verdict: Verdict,
        *,
        compiled: RunReport | None,
        run: RunReport | None = None,
        tests: list[TestReport] | None = None,
    ) -> Outcome:
        """The job's outcome, with the effective limits and this worker's id."""
        return Outcome(
            verdict=verdict,
            run=run,
            compile=compiled,
            tests=tests or [],
            limits=self.limits,
            worker=self.config.worker_id,
        )

    def compile(self) -> RunReport | None:
        """Compile the source once, or None for interpreted runtimes."""
        if self.runtime.compile is None:
            return None
        limits = compile_limits(self.limits, self.runtime)
        argv = compile_command(self.runtime, self.job.compiler_options)
        result = self._execute(argv, self.compile_env, "", limits)
        return _report(result, compile_verdict(result, limits))

    def run_once(self, compiled: RunReport | None) -> Outcome:
        """No tests: one run on the job's stdin; exit 0 is accepted."""
        report, _ = self._run_program(self.job.stdin)
        return self.outcome(report.verdict, compiled=compiled, run=report)

    def run_tests(self, compiled: RunReport | None, on_test: ReportTest) -> Outcome:
        """One run per test, judged against its expected output, reported as soon as it is judged."""
        assert self.job.tests is not None
        reports: list[TestReport] = []
        for index, test in enumerate(self.job.tests):
            run, stdout = self._run_program(test.stdin)
            verdict = judge_test(run.verdict, stdout, test.expected_output, self.job.compare)
            report = TestReport(index=index, **{**run.model_dump(), "verdict": verdict})
            on_test(report)
            reports.append(report)
            if self.job.stop_on_first_failure and verdict is not Verdict.ACCEPTED:
                break
        return self.outcome(overall_verdict(r.verdict for r in reports), compiled=compiled, tests=reports)


def execute_job(
    job: JobMessage,
    runtime: Runtime,
    config: ExecConfig,
    on_test: ReportTest = lambda _: None,
    *,
    warm: WarmSandbox | None = None,
    on_ready: Callable[[], None] = lambda: None,
) -> Outcome:
    """Run ``job`` and judge it, in ``warm`` when given (``EXECUTIONER_SANDBOX=warm``); ``on_ready`` is
    called once its scratch directory holds the program (the sandbox is set up). Raises
    :class:`InternalError` when *we* could not run it."""
    sandbox = config.sandbox
    scratch: contextlib.AbstractContextManager[Path]
    if warm is not None:
        scratch = warm.job()
    elif sandbox.isolates:
        scratch = tmpfs_scratch(config.scratch_dir, sandbox.disk_bytes, sandbox.inodes)
    else:
        scratch = scratch_directory(config.scratch_dir)
    with scratch as workdir:
        write_program(job, runtime, workdir)
        on_ready()
        run = _JobRun(job, runtime, config, workdir, warm)
        compiled = run.compile()
        if compiled is not None and compiled.verdict is not Verdict.ACCEPTED:
            return run.outcome(Verdict.COMPILATION_ERROR, compiled=compiled)
        if job.tests is None:
            return run.run_once(compiled)
        return run.run_tests(compiled, on_test)
