"""Run one job in a pool process: a fresh scratch directory with the source (and the job's other files),
compile once if the runtime compiles (with the job's allow-listed options), then run once (no tests) or
once per test, with the job's arguments and ``runs`` times each, judging each run. Returns the job's Outcome.

Everything the user's program does ends up in a verdict. Only failures of ours raise (InternalError).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common.runtimes import Runtime
from schemas.jobs import COMPILE_SCRIPT, RUN_SCRIPT, JobMessage, Limits, TestCase
from schemas.results import Outcome, RunReport, TestReport
from schemas.verdicts import Verdict
from worker.checks import CheckRemotely, RemoteChecker, runs_here
from worker.commands import command, compile_command, job_env
from worker.errors import InternalError
from worker.interact import ProgramCommand, interact
from worker.judge import compile_verdict, judge_test, overall_verdict, run_verdict
from worker.judge_programs import JudgeProgramBroken, JudgePrograms, PreparedProgram
from worker.limits import ProcessLimits, compile_limits, compile_memory_mb, run_limits
from worker.process import ProcessResult
from worker.reports import averaged, comparable, run_report
from worker.sandbox import NO_SANDBOX, SandboxConfig
from worker.sandboxed import run_sandboxed, scratch_space
from worker.test_data import TestFiles
from worker.warm import WarmSandbox

BASH = "/bin/bash"
"""What runs a multi-file program's scripts (``run_scripts``), as in Judge0; in every Debian image."""

INLINE_TESTS = TestFiles()
"""Test data of jobs whose tests are all inline."""

ReportTest = Callable[[TestReport], None]
"""Called with each test's report as soon as it is judged (the pool streams it to the parent)."""


@dataclass(frozen=True, slots=True)
class ExecConfig:
    """What a pool process needs besides the runtime (picklable)."""

    scratch_dir: Path
    worker_id: str
    sandbox: SandboxConfig = NO_SANDBOX
    test_cache_dir: Path | None = None
    """The test cache (worker/test_cache.py) stored problems' tests are read from; None: inline only."""


def write_program(job: JobMessage, runtime: Runtime, workdir: Path) -> None:
    """The job's ``files``, then its source (which wins over a file of the same name). Their paths were
    checked when the job was decoded (schemas.jobs.checked_path): relative, no ``..``, no dot files. A
    Base64 source (runtime.toml ``source_encoding``) is written as the bytes it decodes to, executable;
    its decoding was checked when the job was admitted (common.admission.runtime_mismatch)."""
    program = runtime.program_bytes(job.source_bytes())
    if program is None:
        raise InternalError(f"the source of a {runtime.id} job is not Base64, and was admitted")
    try:
        for file in job.files:
            target = workdir / file.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.data())
        entry = workdir / (RUN_SCRIPT if job.run_scripts else runtime.source_file)
        entry.write_bytes(program)
        if runtime.source_encoding == "base64":
            entry.chmod(0o755)
    except OSError as exc:
        raise InternalError(f"cannot write the program's files: {exc}") from exc


class _JobRun:
    """One job's execution inside its scratch directory."""

    def __init__(
        self,
        job: JobMessage,
        runtime: Runtime,
        config: ExecConfig,
        workdir: Path,
        warm: WarmSandbox | None,
        *,
        judges: JudgePrograms,
        test_files: TestFiles,
        check_remotely: CheckRemotely | None = None,
    ) -> None:
        self.job = job
        self.check_remotely = check_remotely
        self.judges = judges
        self.test_files = test_files
        self.warm = warm
        self.runtime = runtime
        self.config = config
        self.workdir = workdir
        self.limits: Limits = job.limits.effective()
        self.run_limits = run_limits(job.limits, runtime)
        home = config.sandbox.workdir_for(workdir)
        self.run_env = job_env(runtime, home, self.limits.memory_mb)
        self.compile_memory_mb = compile_memory_mb(job.compile_limits, runtime)
        self.compile_env = job_env(runtime, home, self.compile_memory_mb)

    def _execute(
        self,
        argv: list[str],
        env: dict[str, str],
        stdin: bytes,
        limits: ProcessLimits,
        *,
        stderr_to_stdout: bool = False,
    ) -> ProcessResult:
        if self.warm is not None:
            return self.warm.run(argv, env, stdin, limits, stderr_to_stdout=stderr_to_stdout)
        return run_sandboxed(
            self.config.sandbox,
            argv,
            self.workdir,
            env=env,
            stdin=stdin,
            limits=limits,
            stderr_to_stdout=stderr_to_stdout,
        )

    def _argv(self) -> list[str]:
        program = command(self.runtime.run, self.runtime, self.limits.memory_mb)
        return [*([BASH, RUN_SCRIPT] if self.job.run_scripts else program), *self.job.args]

    def _run_program(self, stdin: bytes) -> tuple[RunReport, bytes]:
        """Run the program ``job.runs`` times on ``stdin`` (stopping at a run that fails): the last
        run's report with averaged figures, and its stdout."""
        argv = self._argv()
        reports: list[RunReport] = []
        results: list[ProcessResult] = []
        for _ in range(self.job.runs):
            result = self._execute(
                argv,
                self.run_env,
                stdin,
                self.run_limits,
                stderr_to_stdout=self.job.redirect_stderr_to_stdout,
            )
            results.append(result)
            reports.append(run_report(result, run_verdict(result, self.run_limits)))
            if reports[-1].verdict is not Verdict.ACCEPTED:
                break
        return averaged(reports[-1], reports), results[-1].stdout

    def outcome(
        self,
        verdict: Verdict,
        *,
        compiled: RunReport | None,
        run: RunReport | None = None,
        tests: list[TestReport] | None = None,
        message: str | None = None,
    ) -> Outcome:
        """The job's outcome, with the effective limits and this worker's id."""
        return Outcome(
            verdict=verdict,
            run=run,
            compile=compiled,
            tests=tests or [],
            limits=self.limits,
            message=message,
            worker=self.config.worker_id,
        )

    def compile(self) -> RunReport | None:
        """Compile the source once (or run the ``compile`` script), or None for interpreted runtimes."""
        if self.job.run_scripts:
            if not any(file.path == COMPILE_SCRIPT for file in self.job.files):
                return None
            argv = [BASH, COMPILE_SCRIPT, *self.job.compiler_options]
        elif self.runtime.compile is None:
            return None
        else:
            argv = compile_command(self.runtime, self.job.compiler_options, self.compile_memory_mb)
        limits = compile_limits(self.limits, self.runtime, self.job.compile_limits)
        result = self._execute(argv, self.compile_env, b"", limits)
        return run_report(result, compile_verdict(result, limits))

    def run_once(self, compiled: RunReport | None) -> Outcome:
        """No tests: one run on the job's stdin; exit 0 is accepted."""
        report, _ = self._run_program(self.job.stdin_bytes())
        return self.outcome(report.verdict, compiled=compiled, run=report)

    def run_tests(self, compiled: RunReport | None, on_test: ReportTest) -> Outcome:
        """One run per test, judged against its expected output (or by the job's checker or interactor),
        reported as soon as it is judged."""
        assert self.job.tests is not None
        try:
            judge = self._prepare_judge()
        except JudgeProgramBroken as exc:
            return self.outcome(Verdict.INTERNAL_ERROR, compiled=compiled, message=str(exc))
        reports: list[TestReport] = []
        for index, test in enumerate(self.job.tests):
            try:
                report = self._judge_test(index, test, judge)
            except JudgeProgramBroken as exc:  # a checker elsewhere that cannot be used at all
                return self.outcome(
                    Verdict.INTERNAL_ERROR, compiled=compiled, tests=reports, message=str(exc)
                )
            on_test(report)
            reports.append(report)
            if self.job.stop_on_first_failure and report.verdict is not Verdict.ACCEPTED:
                break
        failed = next((r for r in reports if r.verdict is Verdict.INTERNAL_ERROR), None)
        message = None if failed is None else f"test {failed.index}: {failed.checker_message}"
        verdict = overall_verdict(r.verdict for r in reports)
        return self.outcome(verdict, compiled=compiled, tests=reports, message=message)

    def _prepare_judge(self) -> PreparedProgram | RemoteChecker | None:
        spec, role = (
            (self.job.interactor, "interactor") if self.job.interactor else (self.job.checker, "checker")
        )
        if spec is None:
            return None
        if role == "checker" and not runs_here(spec.language, self.runtime) and self.check_remotely:
            return RemoteChecker(spec, self.config.worker_id, self.check_remotely)
        return self.judges.prepare(spec, role, self.runtime)

    def _judge_test(
        self, index: int, test: TestCase, judge: PreparedProgram | RemoteChecker | None
    ) -> TestReport:
        data = self.test_files.data(test)
        if isinstance(judge, PreparedProgram) and judge.role == "interactor":
            program = ProgramCommand(self._argv(), self.workdir, self.run_env, self.run_limits)
            done = interact(self.judges, judge, program, data)
            report = run_report(done.program, done.verdict)
            return TestReport(index=index, **report.model_dump(), checker_message=done.message)
        run, stdout = self._run_program(data.input)
        if judge is None:
            verdict = judge_test(run.verdict, comparable(stdout), comparable(data.answer), self.job.compare)
            return TestReport(index=index, **{**run.model_dump(), "verdict": verdict})
        if run.verdict is not Verdict.ACCEPTED:
            return TestReport(index=index, **run.model_dump())
        if isinstance(judge, RemoteChecker):
            verdict, message = judge.check(self.job, index, test, stdout)
        else:
            verdict, message = self.judges.check(judge, data.input, stdout, data.answer)
        return TestReport(index=index, **{**run.model_dump(), "verdict": verdict}, checker_message=message)


def execute_job(
    job: JobMessage,
    runtime: Runtime,
    config: ExecConfig,
    on_test: ReportTest = lambda _: None,
    *,
    warm: WarmSandbox | None = None,
    on_ready: Callable[[], None] = lambda: None,
    judges: JudgePrograms | None = None,
    test_files: TestFiles = INLINE_TESTS,
    check_remotely: CheckRemotely | None = None,
) -> Outcome:
    """Run ``job`` and judge it, in ``warm`` when given (``EXECUTIONER_SANDBOX=warm``); ``on_ready`` is
    called once its scratch directory holds the program (the sandbox is set up); ``judges`` keeps the
    pool process's compiled checkers and interactors (else they are compiled for this job only);
    ``test_files`` reads the tests' data (:mod:`worker.test_data`); ``check_remotely`` has a checker in a
    language this image lacks run by that language's workers (:mod:`worker.checks`). Raises
    :class:`InternalError` when *we* could not run it."""
    scratch = warm.job() if warm is not None else scratch_space(config.sandbox, config.scratch_dir)
    with scratch as workdir:
        write_program(job, runtime, workdir)
        on_ready()
        judges = judges or JudgePrograms(config.sandbox, config.scratch_dir)
        run = _JobRun(
            job,
            runtime,
            config,
            workdir,
            warm,
            judges=judges,
            test_files=test_files,
            check_remotely=check_remotely,
        )
        compiled = run.compile()
        if compiled is not None and compiled.verdict is not Verdict.ACCEPTED:
            return run.outcome(Verdict.COMPILATION_ERROR, compiled=compiled)
        if job.tests is None:
            return run.run_once(compiled)
        return run.run_tests(compiled, on_test)
