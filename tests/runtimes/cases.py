"""The table of the runtime suite: for every language, the same kinds of programs (``programs/<language>/``)
and the verdict each must get. A case says only what to submit and what must come back; how it is run
(a burst worker container, or the whole HTTP pipeline) is the runner's business (:mod:`.harness`).
"""

import base64
import functools
import os
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common.runtimes import load_runtime, load_runtimes
from devstack.images import chosen_languages
from schemas.jobs import CompareSpec, FloatCompare, JobMessage, Limits, TestCase
from schemas.results import Outcome, RunReport
from schemas.verdicts import Verdict

PROGRAMS = Path(__file__).parent / "programs"
RUNTIMES = Path(__file__).resolve().parents[2] / "runtimes"
ALL_RUNTIMES = load_runtimes(RUNTIMES)
LANGUAGES = tuple(chosen_languages(RUNTIMES.parent, os.environ.get("EXECUTIONER_LANGUAGES")))
"""The languages of this run: those ``EXECUTIONER_LANGUAGES`` names, as for the images (the core
languages unless it says otherwise; ``make test-languages`` runs the others)."""
PREBUILT = frozenset(rt.id for rt in ALL_RUNTIMES.values() if rt.source_encoding == "base64")
"""Languages whose submission is a built program (Executable): their programs are C's, compiled by the
host's gcc when the table is made and submitted as Base64."""
EXTENSIONS = {rt.id: Path(rt.source_file).suffix.lstrip(".") for rt in ALL_RUNTIMES.values()}
"""Each language's program files are ``programs/<language>/<kind>.<the source file's extension>``."""
COMPILED = tuple(rt.id for rt in ALL_RUNTIMES.values() if rt.compiled)
CRASH_SIGNALS = {
    "c": "SIGSEGV",  # a write to address 0
    "cpp": "SIGABRT",  # an uncaught exception: std::terminate
    "java": "SIGABRT",  # the JVM's fatal-error handler after a write to address 0
    "javascript": "SIGABRT",  # process.abort()
    "go": "SIGABRT",  # a panic under GOTRACEBACK=crash
    "rust": "SIGABRT",  # std::process::abort()
    "python": "SIGSEGV",  # a read of address 0
    "c-clang": "SIGSEGV",  # as c
    "cpp-clang": "SIGABRT",  # as cpp
    "pypy": "SIGABRT",  # os.kill(getpid(), SIGABRT)
    "ruby": "SIGABRT",  # Process.kill(:ABRT, pid)
    "php": "SIGABRT",  # posix_kill
    "perl": "SIGABRT",  # kill 'ABRT', $$
    "lua": "SIGABRT",  # the shell's kill on the interpreter
    "bash": "SIGABRT",  # kill -ABRT $$
    "ocaml": "SIGABRT",  # Unix.kill
    "pascal": "SIGABRT",  # fpKill
    "fortran": "SIGABRT",  # call abort()
    "d": "SIGABRT",  # abort()
    "nim": "SIGABRT",  # abort() from C
    "haskell": "SIGABRT",  # raiseSignal sigABRT
    "erlang": "SIGABRT",  # the shell's kill on the VM
    "elixir": "SIGABRT",  # the shell's kill on the VM
    "clojure": "SIGABRT",  # the JVM's fatal-error handler after a write to address 0
    "r": "SIGABRT",  # tools::pskill(pid, 6)
    "racket": "SIGABRT",  # abort() through the FFI
    "sbcl": "SIGKILL",  # sb-posix:kill: SBCL catches SIGABRT itself
    "prolog": "SIGABRT",  # the shell's kill on the interpreter
    "csharp": "SIGABRT",  # Environment.FailFast
    "typescript": "SIGABRT",  # process.abort()
    "kotlin": "SIGABRT",  # as java
    "scala": "SIGABRT",  # as java
    "plaintext": "",  # it cannot crash
    "executable": "SIGSEGV",  # as c
}
ECHO_ONLY = ("plaintext",)
"""Languages whose program is its output: only the cases about output apply."""
NATIVE_MEMORY = ("java", "javascript")
"""Languages with a heap limit of their own, where memory outside the heap is a case of its own."""

Check = Callable[[Outcome], None]
"""An extra assertion about a case's outcome (beyond its verdict)."""


@dataclass(frozen=True)
class Case:
    """One job of the suite and what must come of it."""

    language: str
    kind: str
    source: str
    verdict: Verdict
    stdin: str = ""
    tests: tuple[TestCase, ...] | None = None
    limits: Limits = field(default_factory=Limits)
    compare: CompareSpec = "trim"
    test_verdicts: tuple[Verdict, ...] | None = None
    """Each test's verdict, in order, when the job has tests."""
    checks: tuple[Check, ...] = ()

    @property
    def name(self) -> str:
        """``<language>/<kind>``: the test id."""
        return f"{self.language}/{self.kind}"

    def submission(self) -> dict[str, object]:
        """The job as the HTTP API takes it (``POST /api/v1/submissions``)."""
        body: dict[str, object] = {"language": self.language, "source": self.source, "stdin": self.stdin}
        if self.tests is not None:
            body["tests"] = [test.model_dump() for test in self.tests]
        body["limits"] = self.limits.model_dump(exclude_none=True)
        body["compare"] = self.compare if isinstance(self.compare, str) else self.compare.model_dump()
        return body

    def job(self) -> JobMessage:
        """The job as a worker takes it from Kafka, with a fresh id."""
        return JobMessage.model_validate({"id": uuid.uuid4(), **self.submission()})


def program(language: str, kind: str) -> str:
    """The source of ``programs/<language>/<kind>.<ext>`` (for a prebuilt language, the ELF binary the
    host's gcc makes of it, in Base64)."""
    if language in PREBUILT:
        return elf_base64(PROGRAMS / "c" / f"{kind}.c")
    return (PROGRAMS / language / f"{kind}.{EXTENSIONS[language]}").read_text()


@functools.cache
def elf_base64(source: Path) -> str:
    """``source`` (C) compiled and stripped by the host's gcc, linked dynamically: the image has the same
    Debian C library, and a static binary (about 0.8 MB) would be over the default source limit."""
    with tempfile.TemporaryDirectory(prefix="executioner-elf-") as tmp:
        binary = Path(tmp) / "a.out"
        subprocess.run(["gcc", "-O2", "-s", "-o", str(binary), str(source)], check=True, timeout=60)
        return base64.b64encode(binary.read_bytes()).decode()


def only_run(outcome: Outcome) -> RunReport:
    """The report of a job without tests."""
    assert outcome.run is not None, outcome
    return outcome.run


def signal_is(name: str) -> Check:
    def check(outcome: Outcome) -> None:
        run = only_run(outcome)
        assert (run.signal, run.exit_code) == (name, None), run

    return check


def exit_code_is(code: int) -> Check:
    def check(outcome: Outcome) -> None:
        run = only_run(outcome)
        assert (run.exit_code, run.signal) == (code, None), run
        assert run.stdout == "partial\n", run  # what it printed before it failed is kept

    return check


def stdout_is(text: str) -> Check:
    def check(outcome: Outcome) -> None:
        assert only_run(outcome).stdout == text, outcome.run

    return check


def memory_measured(language: str) -> Check:
    """Peak memory was measured, and it is within the limit the run had (runtime overhead included)."""
    overhead_mb = load_runtime(RUNTIMES / language / "runtime.toml").memory_overhead_mb

    def check(outcome: Outcome) -> None:
        run = only_run(outcome)
        assert 0 < run.memory_kb <= (outcome.limits.memory_mb + overhead_mb) * 1024, run

    return check


def cpu_time_measured(outcome: Outcome) -> None:
    """When the CPU limit stopped it, its CPU time was measured (the sandbox's own rusage does not
    include it; the worker sums it over the process tree). Not "at least the limit": RLIMIT_CPU fires on
    the scheduler's clock, and on a virtual machine the kernel's rusage of the killed process can say up
    to ~10% less. On a busy machine the wall-clock limit (3x) may stop it first: then it had less CPU."""
    run = only_run(outcome)
    assert outcome.limits.wall_ms is not None
    if run.wall_ms < outcome.limits.wall_ms:
        assert run.time_ms >= outcome.limits.time_ms * 0.8, run


def stderr_has(text: str) -> Check:
    def check(outcome: Outcome) -> None:
        assert text in only_run(outcome).stderr, outcome.run

    return check


def stdout_truncated(outcome: Outcome) -> None:
    run = only_run(outcome)
    assert run.stdout_truncated, run
    assert run.stdout.startswith("y\ny\n"), run
    assert len(run.stdout) == outcome.limits.output_kb * 1024, run


def compiler_complained(language: str) -> Check:
    """The compiler failed, nothing ran, and its diagnostics (which name the source file) are reported."""
    source_file = load_runtime(RUNTIMES / language / "runtime.toml").source_file

    def check(outcome: Outcome) -> None:
        report = outcome.compile
        assert report is not None and outcome.run is None and not outcome.tests, outcome
        assert report.verdict is Verdict.COMPILATION_ERROR, report
        assert report.exit_code not in (0, None), report
        assert source_file in report.stderr + report.stdout, report

    return check


def compiled_once(outcome: Outcome) -> None:
    assert outcome.compile is not None and outcome.compile.verdict is Verdict.ACCEPTED, outcome.compile


def compiled_within(cpu_ms: int) -> Check:
    def check(outcome: Outcome) -> None:
        assert outcome.compile is not None and outcome.compile.time_ms < cpu_ms, outcome.compile

    return check


def sum_tests(*pairs: tuple[str, str]) -> tuple[TestCase, ...]:
    return tuple(TestCase(stdin=stdin, expected_output=expected) for stdin, expected in pairs)


def language_cases(language: str) -> list[Case]:
    """Every case of one language."""
    compiled: tuple[Check, ...] = (compiled_once,) if language in COMPILED else ()
    sum_program = program(language, "sum")
    cases = [
        Case(language, "accepted", sum_program, Verdict.ACCEPTED,
             tests=sum_tests(("1 2\n", "3\n"), ("40 2\n", "42   \n\n")),  # trim: trailing blanks ignored
             test_verdicts=(Verdict.ACCEPTED, Verdict.ACCEPTED), checks=compiled),
        Case(language, "wrong_answer", sum_program, Verdict.WRONG_ANSWER,
             tests=sum_tests(("2 2\n", "4\n"), ("2 2\n", "5\n")),
             test_verdicts=(Verdict.ACCEPTED, Verdict.WRONG_ANSWER)),
        Case(language, "compare_exact", sum_program, Verdict.WRONG_ANSWER, compare="exact",
             tests=sum_tests(("1 1\n", "2\n"), ("1 1\n", "2")),  # the newline is part of the output
             test_verdicts=(Verdict.ACCEPTED, Verdict.WRONG_ANSWER)),
        Case(language, "compare_tokens", sum_program, Verdict.ACCEPTED, compare="tokens",
             tests=sum_tests(("7 8\n", "  15 \n\n")), test_verdicts=(Verdict.ACCEPTED,)),
        Case(language, "compare_float", sum_program, Verdict.WRONG_ANSWER,
             compare=FloatCompare(mode="float", tolerance=1e-6),
             tests=sum_tests(("1 2\n", "3.0000001\n"), ("1 2\n", "3.01\n")),
             test_verdicts=(Verdict.ACCEPTED, Verdict.WRONG_ANSWER)),
        Case(language, "hello_in_64_mib", program(language, "hello"), Verdict.ACCEPTED,
             limits=Limits(memory_mb=64), checks=(stdout_is("Hello, World!\n"), memory_measured(language))),
    ]  # fmt: skip
    if language in ECHO_ONLY:  # its "sum" program is the answer 3, whatever the input
        return [
            Case(language, "accepted", sum_program, Verdict.ACCEPTED,
                 tests=sum_tests(("1 2\n", "3\n"), ("", "3   \n\n")),
                 test_verdicts=(Verdict.ACCEPTED, Verdict.ACCEPTED)),
            Case(language, "wrong_answer", sum_program, Verdict.WRONG_ANSWER,
                 tests=sum_tests(("", "3\n"), ("", "4\n")),
                 test_verdicts=(Verdict.ACCEPTED, Verdict.WRONG_ANSWER)),
            cases[-1],  # hello
        ]  # fmt: skip
    cases += [
        Case(language, "time_limit", program(language, "busy"), Verdict.TIME_LIMIT_EXCEEDED,
             limits=Limits(time_ms=1000), checks=(cpu_time_measured,)),
        # CPU time to spare: the verdict must be the memory's even where the runtime's start is slow (Elixir
        # compiles the script first; under load it once went past 2 s before reaching the limit).
        Case(language, "memory_limit", program(language, "memory"), Verdict.MEMORY_LIMIT_EXCEEDED,
             limits=Limits(memory_mb=256, time_ms=5000)),
        Case(language, "exit_code", program(language, "exit"), Verdict.RUNTIME_ERROR,
             checks=(exit_code_is(3),)),
        Case(language, "signal", program(language, "crash"), Verdict.RUNTIME_ERROR,
             checks=(signal_is(CRASH_SIGNALS[language]),)),
        Case(language, "output_limit", program(language, "flood"), Verdict.OUTPUT_LIMIT_EXCEEDED,
             limits=Limits(output_kb=16), checks=(stdout_truncated,)),
    ]  # fmt: skip
    if language in NATIVE_MEMORY:
        cases.append(
            Case(language, "memory_limit_native", program(language, "memory_native"),
                 Verdict.MEMORY_LIMIT_EXCEEDED, limits=Limits(memory_mb=256))
        )  # fmt: skip
    if language in COMPILED:
        cases.append(
            Case(language, "compilation_error", program(language, "compile_error"), Verdict.COMPILATION_ERROR,
                 checks=(compiler_complained(language),))
        )  # fmt: skip
    if language in PREBUILT:
        # Bytes that are no program: the kernel refuses to run them, which is the program's failure.
        cases.append(
            Case(language, "exec_format_error", base64.b64encode(b"\x7fELF but not really").decode(),
                 Verdict.RUNTIME_ERROR, checks=(stderr_has("Exec format error"),))
        )  # fmt: skip
    if language == "python":
        # The libraries the image has (runtime.toml `libraries`) import and work, within the default limits.
        cases.append(
            Case(language, "numpy", program(language, "numpy"), Verdict.ACCEPTED,
                 checks=(stdout_is("5050 5.0\n"),))
        )  # fmt: skip
    if language == "rust":
        # A current rustc: std::hint::black_box (stable since 1.66) compiles.
        cases.append(
            Case(language, "black_box", program(language, "black_box"), Verdict.ACCEPTED,
                 checks=(stdout_is("5050\n"),))
        )  # fmt: skip
    if language == "go":
        # The standard library comes from the image's warm build cache: only the program is compiled.
        cases.append(
            Case(language, "warm_build_cache", program(language, "many_packages"), Verdict.ACCEPTED,
                 checks=(stdout_is("200\n"), compiled_within(3000)))
        )  # fmt: skip
    return cases


CASES = [case for language in LANGUAGES for case in language_cases(language)]
