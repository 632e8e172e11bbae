"""The job message: what a worker runs. Produced by the API's outbox relay or by a batch grader.

Topic ``jobs.<language>``, key = the submission id (UTF-8), value = the JSON below (orjson).
Example::

    {"v": 1, "id": "0b6f...", "language": "python", "source": "print(input())", "stdin": "hi\\n"}
"""

import base64
import re
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.encoded import Base64Bytes, exact_bytes, valid_base64, with_text_of

MAX_TIME_MS = 10_000
MAX_MEMORY_MB = 1024
MAX_OUTPUT_KB = 1024
MAX_STACK_KB = MAX_MEMORY_MB * 1024
MAX_PROCESSES = 256
"""The most processes and threads a job may ask for (the workers' own default)."""
MAX_RUNS = 20
MAX_FILE_SIZE_KB = 64 * 1024
"""The largest file a program may write (RLIMIT_FSIZE), KiB: its scratch file system's size."""
MAX_COMPILE_TIME_MS = 60_000
"""The most compile CPU time any job may ask for; each runtime's own ``compile_time_ms`` is its
maximum (and default), at most this."""
MAX_COMPILE_MEMORY_MB = 2048
MAX_FILES = 64
MAX_ARGS = 64
MAX_ARG_CHARS = 4096
MAX_COMPILER_OPTIONS = 32
_PATH_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,99}")
MAX_PATH_DEPTH = 8
RUN_SCRIPT = "run"
COMPILE_SCRIPT = "compile"
"""The files bash runs for a job with ``run_scripts`` (as Judge0 names them)."""
MAX_PROGRAM_SOURCE_CHARS = 512 * 1024
"""The longest ``source`` of a checker or interactor (its ``files`` count against the files budget)."""


class _Wire(BaseModel):
    # Unknown fields are ignored, not rejected: a newer producer may add optional fields within v1.
    model_config = ConfigDict(extra="ignore", frozen=True)


SHA256_HEX = r"^[0-9a-f]{64}$"
MAX_TEST_FILE_BYTES = 64 * 1024 * 1024
"""The largest test file (input or expected output) a stored problem may hold."""


class TestCase(_Wire):
    """One test: the program's stdin and the output it must print, inline, or by reference to the
    content-addressed test store (``input_sha256``/``output_sha256`` with their sizes, for tests of a
    stored problem: the worker fetches and caches the bytes, docs/problems.md). A referenced part has no
    inline text."""

    __test__ = False  # not a pytest class

    stdin: str = ""
    expected_output: str
    stdin_b64: Base64Bytes | None = None
    """The exact bytes of ``stdin`` in Base64, when they are not UTF-8 (``stdin`` then holds them as
    text with U+FFFD, and may be left out); the program reads these. Optional since v1 was first
    published."""
    expected_output_b64: Base64Bytes | None = None
    """The exact bytes of ``expected_output``, likewise; the output is compared with these."""

    @model_validator(mode="before")
    @classmethod
    def _texts_of_bytes(cls, data: object) -> object:
        return with_text_of(data, (("stdin", "stdin_b64"), ("expected_output", "expected_output_b64")))

    def stdin_bytes(self) -> bytes:
        """The program's input."""
        return exact_bytes(self.stdin, self.stdin_b64)

    def expected_bytes(self) -> bytes:
        """The output the program must print."""
        return exact_bytes(self.expected_output, self.expected_output_b64)

    input_sha256: Annotated[str, Field(pattern=SHA256_HEX)] | None = None
    """SHA-256 (lowercase hex) of the test's input in the test store; then ``stdin`` is empty."""
    input_size: Annotated[int, Field(ge=0, le=MAX_TEST_FILE_BYTES)] | None = None
    output_sha256: Annotated[str, Field(pattern=SHA256_HEX)] | None = None
    """SHA-256 of the expected output in the test store; then ``expected_output`` is empty."""
    output_size: Annotated[int, Field(ge=0, le=MAX_TEST_FILE_BYTES)] | None = None
    hidden: bool | None = None
    """``true``: the test is hidden; its output, stderr and checker message never appear in a result
    (only its verdict, time and memory)."""
    points: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    """What the test (or, with ``group``, its group) is worth; see :attr:`Outcome.score`."""
    group: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    """Tests of one group score together: only when all of them pass."""

    @model_validator(mode="before")
    @classmethod
    def _inline_or_referenced(cls, data: object) -> object:
        if isinstance(data, dict):
            if data.get("output_sha256") is not None and "expected_output" not in data:
                data = {**data, "expected_output": ""}
            for part, text in (("input", "stdin"), ("output", "expected_output")):
                has_hash = data.get(f"{part}_sha256") is not None
                if has_hash != (data.get(f"{part}_size") is not None):
                    raise ValueError(f"{part}_sha256 and {part}_size come together")
                if has_hash and data.get(text):
                    raise ValueError(f"a test with {part}_sha256 has no inline {text}")
        return data

    @property
    def referenced(self) -> list[tuple[str, int]]:
        """The (sha256, size) of each part of the test kept in the test store."""
        parts = [(self.input_sha256, self.input_size), (self.output_sha256, self.output_size)]
        return [(sha, size) for sha, size in parts if sha is not None and size is not None]


class Limits(_Wire):
    """Per-test limits. Missing fields take the defaults; the effective values are echoed in the result."""

    time_ms: Annotated[int, Field(ge=1, le=MAX_TIME_MS)] = 2000
    """CPU time per test, milliseconds."""
    wall_ms: Annotated[int, Field(ge=1, le=3 * MAX_TIME_MS)] | None = None
    """Wall-clock time per test, milliseconds; defaults to 3 * ``time_ms``."""
    memory_mb: Annotated[int, Field(ge=1, le=MAX_MEMORY_MB)] = 256
    """Peak memory of the program's whole process tree, MiB."""
    output_kb: Annotated[int, Field(ge=1, le=MAX_OUTPUT_KB)] = 64
    """stdout and stderr, each, KiB; output beyond it is cut off while the program runs."""
    stack_kb: Annotated[int, Field(ge=64, le=MAX_STACK_KB)] | None = None
    """Stack size of each process of the program (RLIMIT_STACK), KiB; None: the worker's default
    (8 MiB). Optional since v1 was first published."""
    processes: Annotated[int, Field(ge=1, le=MAX_PROCESSES)] | None = None
    """Processes and threads the program may have at once (RLIMIT_NPROC in its sandbox); None: the
    worker's default (256). Optional since v1 was first published."""
    file_size_kb: Annotated[int, Field(ge=1, le=MAX_FILE_SIZE_KB)] | None = None
    """The largest file the program may write (RLIMIT_FSIZE), KiB: writing past it ends the program
    with SIGXFSZ (``output_limit_exceeded``). None: the worker's default (64 MiB). Optional since v1
    was first published."""

    def effective(self) -> "Limits":
        """These limits with every default filled in."""
        return self.model_copy(update={"wall_ms": self.wall_ms or 3 * self.time_ms})


class CompileLimits(_Wire):
    """Limits of the compile step, each at most the runtime's own (``compile_time_ms``,
    ``compile_memory_mb`` in its ``runtime.toml``; a job asking for more, or naming compile limits for a
    language that is not compiled, is refused). A missing field is the runtime's own. Optional since v1
    was first published."""

    time_ms: Annotated[int, Field(ge=1, le=MAX_COMPILE_TIME_MS)] | None = None
    """CPU time of the compiler, milliseconds."""
    wall_ms: Annotated[int, Field(ge=1, le=3 * MAX_COMPILE_TIME_MS)] | None = None
    """Wall-clock time of the compiler, milliseconds; defaults to 3 * its CPU time."""
    memory_mb: Annotated[int, Field(ge=1, le=MAX_COMPILE_MEMORY_MB)] | None = None
    """Peak memory of the compiler's process tree, MiB."""


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


Argument = Annotated[str, Field(max_length=MAX_ARG_CHARS), AfterValidator(_no_nul)]
"""One command-line argument: any text without NUL (an ``exec`` argument cannot hold one)."""


def checked_path(path: str) -> str:
    """``path`` when it is a safe relative file name inside the job's directory: parts of letters,
    digits and ``._+-`` (not starting with a dot or a dash), joined by ``/``, at most
    :data:`MAX_PATH_DEPTH` deep. So no absolute path, no ``..``, no hidden file, nothing a shell or a
    command line could read as an option."""
    parts = path.split("/")
    if len(parts) > MAX_PATH_DEPTH:
        raise ValueError(f"is more than {MAX_PATH_DEPTH} directories deep")
    for part in parts:
        if not _PATH_PART.fullmatch(part):
            raise ValueError(
                "must be a relative path of names made of letters, digits and ._+- (not starting with "
                "a dot or a dash, no empty part, no '..', at most 100 characters each)"
            )
    return path


class SourceFile(_Wire):
    """One more file of a multi-file program, written beside ``source`` before anything runs."""

    path: Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(checked_path)]
    """Where it goes, relative to the program's directory (``lib/util.py``)."""
    encoding: Literal["utf8", "base64"] = "utf8"
    """How ``content`` is written: ``utf8`` text, or ``base64`` for any bytes."""
    content: str = ""
    """The file's content, as ``encoding`` says."""

    @field_validator("content")
    @classmethod
    def _content_decodes(cls, content: str, info: ValidationInfo) -> str:
        if info.data.get("encoding") == "base64":
            valid_base64(content)
        return content

    def data(self) -> bytes:
        """The file's bytes."""
        if self.encoding == "utf8":
            return self.content.encode()
        return base64.b64decode(self.content, validate=True)


def files_fit_together(files: list[SourceFile]) -> list[SourceFile]:
    """``files`` when no two share a path and none lies inside another's path."""
    paths = {file.path for file in files}
    if len(paths) < len(files):
        raise ValueError("two files have the same path")
    for path in paths:
        parts = path.split("/")
        if any("/".join(parts[:depth]) in paths for depth in range(1, len(parts))):
            raise ValueError(f"{path!r} is inside another file's path")
    return files


LanguageId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_+-]+$")]
"""A runtime id: a folder of ``runtimes/``."""


class ProgramSpec(_Wire):
    """A helper program of the judge (a checker or an interactor), carried inline in the job.

    Compiled once per worker (cached by the hash of this spec) and run in the same sandbox as the
    submission, under ``limits`` (None: the job's default limits, not the submission's).
    """

    language: LanguageId
    """Runtime id of the program: an interactor's, a runtime the worker's image has; a checker's, any
    language of the cluster (that language's workers run it when the image lacks it; docs/checkers.md)."""
    source: Annotated[str, Field(min_length=1, max_length=MAX_PROGRAM_SOURCE_CHARS)]
    files: Annotated[list[SourceFile], Field(max_length=MAX_FILES)] = Field(default_factory=list)
    """More files written beside ``source`` (a Polygon package's ``testlib.h`` beside ``check.cpp``)."""
    limits: Limits | None = None
    """Limits of each run of the program; None: the defaults of :class:`Limits`."""

    @field_validator("files")
    @classmethod
    def _files_fit_together(cls, files: list[SourceFile]) -> list[SourceFile]:
        return files_fit_together(files)


CompareMode = Literal["exact", "trim", "tokens"]


class FloatCompare(_Wire):
    """Token-wise comparison where numbers match within an absolute or relative tolerance."""

    mode: Literal["float"]
    tolerance: Annotated[float, Field(gt=0, le=1)] = 1e-6


CompareSpec = CompareMode | FloatCompare
"""``exact``; ``trim`` (default: trailing whitespace per line and trailing blank lines ignored);
``tokens`` (whitespace-separated tokens); or ``{"mode": "float", "tolerance": 1e-6}``."""


class ProblemRef(_Wire):
    """The stored problem version a job's tests come from (``POST /api/v1/problems``)."""

    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    version: Annotated[int, Field(ge=1)]


class JobMessage(_Wire):
    """A program to run, version 1.

    Without ``tests`` the job is one run of ``source`` on ``stdin``: exit 0 is ``accepted``, a non-zero
    exit or a signal ``runtime_error``. With ``tests`` the program is compiled once and run once per test.
    """

    v: Literal[1] = 1
    id: UUID
    """Submission id, chosen by the producer. Also the Kafka key."""
    language: LanguageId
    """Runtime id (a folder of ``runtimes/``); must match the topic it was sent to."""
    source: Annotated[str, Field(min_length=1)]
    stdin: str = ""
    source_b64: Base64Bytes | None = None
    """The exact bytes of ``source`` in Base64, when they are not UTF-8 (``source`` then holds them as
    text with U+FFFD, and may be left out); the program file gets these. Optional since v1 was first
    published."""
    stdin_b64: Base64Bytes | None = None
    """The exact bytes of ``stdin``, likewise; the program reads these."""
    tests: Annotated[list[TestCase], Field(min_length=1)] | None = None
    limits: Limits = Field(default_factory=Limits)
    compile_limits: CompileLimits | None = None
    """The compiler's limits, within the runtime's own; None: the runtime's own."""
    compare: CompareSpec = "trim"
    stop_on_first_failure: bool = False
    args: Annotated[list[Argument], Field(max_length=MAX_ARGS)] = Field(default_factory=list)
    """Command-line arguments of the program (each run; not the compiler's)."""
    compiler_options: Annotated[list[Argument], Field(max_length=MAX_COMPILER_OPTIONS)] = Field(
        default_factory=list
    )
    """Extra compiler flags, each one of the runtime's ``compiler_options`` allow-list (a job with any
    other is dead-lettered: the flags come from the submitter, docs/security.md)."""
    files: Annotated[list[SourceFile], Field(max_length=MAX_FILES)] = Field(default_factory=list)
    """More files of the program, written beside ``source`` (which stays the entry point)."""
    redirect_stderr_to_stdout: bool = False
    """The program's stderr goes into the same pipe as its stdout (the compiler's is unchanged)."""
    run_scripts: bool = False
    """Judge0's multi-file program: ``source`` is a bash script written as ``run``, and instead of the
    runtime's commands bash runs the ``compile`` file of ``files`` (when there is one, with
    ``compiler_options`` as its arguments) and then ``run`` (with ``args``), in the runtime's image and
    sandbox. Optional since v1 was first published."""
    runs: Annotated[int, Field(ge=1, le=MAX_RUNS)] = 1
    """How many times each run (or test) is repeated: times and memory are the averages, the output and
    verdict the last run's (a failing run ends the repetition)."""
    checker: ProgramSpec | None = None
    """A testlib-style checker deciding each test instead of ``compare``: run as ``checker input output
    answer`` (three files); exit 0 accepted, 1 wrong answer, 2 ``presentation_error``, anything
    else (or a crash, a limit) ``internal_error``. Needs ``tests``.
    Optional since v1 was first published."""
    interactor: ProgramSpec | None = None
    """An interactive problem's interactor: run beside the program on each test, its stdout the
    program's stdin and the program's stdout its stdin, as ``interactor input answer`` (the test's
    ``stdin`` and ``expected_output`` as files); its exit code decides as a checker's does, unless the
    program failed first. Needs ``tests``; excludes ``checker``. Optional since v1 was first published."""

    @field_validator("files")
    @classmethod
    def _files_fit_together(cls, files: list[SourceFile]) -> list[SourceFile]:
        return files_fit_together(files)

    @field_validator("checker", "interactor")
    @classmethod
    def _judged_programs_have_tests(
        cls, program: ProgramSpec | None, info: ValidationInfo
    ) -> ProgramSpec | None:
        if program is not None and not info.data.get("tests"):
            raise ValueError(f"a {info.field_name} needs tests")
        if program is not None and info.field_name == "interactor" and info.data.get("checker") is not None:
            raise ValueError("give a checker or an interactor, not both (the interactor decides)")
        return program

    key_id: Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[A-Za-z0-9_]+$")] | None = None
    """The submitter key a batch grader produces the job for (its id, ``key_…``, never its token): the
    submission is recorded as that key's. With ``EXECUTIONER_AUTH=keys``, a job naming an unknown,
    revoked or expired key is not recorded. Jobs the API publishes carry none (their owner is stored)."""

    @model_validator(mode="before")
    @classmethod
    def _texts_of_bytes(cls, data: object) -> object:
        return with_text_of(data, (("source", "source_b64"), ("stdin", "stdin_b64")))

    def source_bytes(self) -> bytes:
        """The program file's content."""
        return exact_bytes(self.source, self.source_b64)

    def stdin_bytes(self) -> bytes:
        """The input of the single run."""
        return exact_bytes(self.stdin, self.stdin_b64)

    problem: ProblemRef | None = None
    """The stored problem (and version) the job is judged against, when its tests come from one; its
    tests then reference the test store by hash (docs/problems.md)."""
