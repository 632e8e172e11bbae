"""Run one job in a pool process: a fresh scratch directory with the source, compile once if the runtime
compiles, then run once (no tests) or once per test, judging each run. Returns the job's Outcome.

Everything the user's program does ends up in a verdict. Only failures of ours raise (InternalError).
"""

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


def _report(result: ProcessResult, verdict: Verdict) -> RunReport:
    return RunReport(
        verdict=verdict,
        exit_code=result.exit_code,
        signal=result.signal,
        time_ms=result.cpu_ms,
        wall_ms=result.wall_ms,
        memory_kb=result.peak_rss_kb,
        stdout=result.stdout.decode(errors="replace"),
        stderr=result.stderr.decode(errors="replace"),
        stdout_truncated=result.stdout_truncated,
        stderr_truncated=result.stderr_truncated,
    )


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
        self, argv: list[str], env: dict[str, str], stdin: str, limits: ProcessLimits
    ) -> ProcessResult:
        if self.warm is not None:
            return self.warm.run(argv, env, stdin.encode(), limits)
        with confine(self.config.sandbox, argv, self.workdir, limits) as confined:
            result = run_process(
                confined.argv,
                cwd=confined.cwd,
                env=env,
                stdin=stdin.encode(),
                limits=confined.limits,
                pass_fds=confined.pass_fds,
                dies_with_parent=confined.dies_with_parent,
            )
            return confined.result(result)

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
        argv = command(self.runtime.compile, self.runtime, self.runtime.compile_memory_mb)
        result = self._execute(argv, self.compile_env, "", limits)
        return _report(result, compile_verdict(result, limits))

    def run_once(self, compiled: RunReport | None) -> Outcome:
        """No tests: one run on the job's stdin; exit 0 is accepted."""
        argv = command(self.runtime.run, self.runtime, self.limits.memory_mb)
        result = self._execute(argv, self.run_env, self.job.stdin, self.run_limits)
        report = _report(result, run_verdict(result, self.run_limits))
        return self.outcome(report.verdict, compiled=compiled, run=report)

    def run_tests(self, compiled: RunReport | None, on_test: ReportTest) -> Outcome:
        """One run per test, judged against its expected output, reported as soon as it is judged."""
        assert self.job.tests is not None
        reports: list[TestReport] = []
        argv = command(self.runtime.run, self.runtime, self.limits.memory_mb)
        for index, test in enumerate(self.job.tests):
            result = self._execute(argv, self.run_env, test.stdin, self.run_limits)
            stdout = result.stdout.decode(errors="replace")
            verdict = judge_test(
                run_verdict(result, self.run_limits), stdout, test.expected_output, self.job.compare
            )
            report = TestReport(index=index, **_report(result, verdict).model_dump())
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
    warm: WarmSandbox | None = None,
) -> Outcome:
    """Run ``job`` and judge it, in ``warm`` when given (``EXECUTIONER_SANDBOX=warm``). Raises
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
        try:
            (workdir / runtime.source_file).write_text(job.source)
        except OSError as exc:
            raise InternalError(f"cannot write the source file: {exc}") from exc
        run = _JobRun(job, runtime, config, workdir, warm)
        compiled = run.compile()
        if compiled is not None and compiled.verdict is not Verdict.ACCEPTED:
            return run.outcome(Verdict.COMPILATION_ERROR, compiled=compiled)
        if job.tests is None:
            return run.run_once(compiled)
        return run.run_tests(compiled, on_test)
