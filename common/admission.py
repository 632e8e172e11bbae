"""Whether a decoded job is within the cluster's admission limits: one check for the API's request path,
the API's Kafka intake and the workers, so the API never accepts or records a job its workers would
dead-letter. Each caller reports a refusal its own way (HTTP 413 naming the field, a dead letter with the
reason)."""

from collections.abc import Collection
from dataclasses import dataclass

from common.contract import AdmissionLimits
from common.runtimes import Runtime
from schemas.jobs import RUN_SCRIPT, JobMessage, ProgramSpec


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a job is not admitted: one of its texts is larger than its limit."""

    field: str
    """Where the text is, as the API names request fields: ``source``, ``stdin``, ``tests.<i>.stdin``,
    ``tests.<i>.expected_output``."""
    size: int
    """Its size, in bytes."""
    limit: int
    """The most bytes it may have."""

    @property
    def reason(self) -> str:
        """The refusal in words, as a dead letter gives it."""
        return f"{self.field} is larger than {self.limit} bytes ({self.size} bytes)"


def first_refusal(job: JobMessage, limits: AdmissionLimits) -> Refusal | None:
    """The first text of ``job`` (in the order of :attr:`Refusal.field`'s examples) over its limit in
    ``limits``, or None when the job is admitted."""
    texts = [
        ("source", job.source_bytes(), limits.max_source_bytes),
        ("stdin", job.stdin_bytes(), limits.max_stdin_bytes),
    ]
    for index, test in enumerate(job.tests or ()):
        texts.append((f"tests.{index}.stdin", test.stdin_bytes(), limits.max_stdin_bytes))
        texts.append((f"tests.{index}.expected_output", test.expected_bytes(), limits.max_stdin_bytes))
    for field, data, limit in texts:
        size = len(data)
        if size > limit:
            return Refusal(field, size, limit)
    files = [("files", job.files)]
    for name, program in judge_programs(job):
        files.append((f"{name}.files", program.files))
        size = len(program.source.encode())
        if size > limits.max_source_bytes:
            return Refusal(f"{name}.source", size, limits.max_source_bytes)
    for field, given in files:
        files_size = sum(len(file.data()) for file in given)
        if files_size > limits.max_files_bytes:
            return Refusal(field, files_size, limits.max_files_bytes)
    return None


JUDGE_LANGUAGES_EVERYWHERE = ("python", "c", "cpp")
"""The languages every worker image has besides its own: Python (the worker runs on it), and C and C++
for judge programs (worker/base.Dockerfile), since Polygon's and most authors' checkers are C++."""


def judge_programs(job: JobMessage) -> list[tuple[str, ProgramSpec]]:
    """The job's checker and interactor that it has, by field name."""
    named = (("checker", job.checker), ("interactor", job.interactor))
    return [(name, program) for name, program in named if program is not None]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Why a job cannot run on its runtime, whatever its size."""

    field: str
    """The field at fault, as the API names it (``compiler_options.1``, ``files.0.path``)."""
    message: str

    @property
    def reason(self) -> str:
        """The refusal in words, as a dead letter gives it."""
        return f"{self.field}: {self.message}"


def runtime_mismatch(
    job: JobMessage, runtime: Runtime, languages: Collection[str] | None = None
) -> Mismatch | None:
    """The first part of ``job`` its runtime does not allow: a compiler option outside the runtime's
    allow-list (the submitter chooses them: docs/security.md), compile limits above the runtime's own
    (or for a runtime that does not compile), a file where the source goes, a source that is not Base64
    where the runtime takes its program as Base64 bytes, or a judge program in a language it cannot run
    in: an interactor runs beside the program, so only in a language the job's workers have; a checker
    may be in any of the cluster's ``languages`` (None: not known here, as on a worker)."""
    if (mismatch := _compile_limits_mismatch(job, runtime)) is not None:
        return mismatch
    if runtime.source_encoding == "base64" and runtime.program_bytes(job.source_bytes()) is None:
        return Mismatch(
            "source", f"{runtime.id} takes the program as Base64 (an ELF binary); this is not Base64"
        )
    allowed = set(runtime.compiler_options)
    for index, option in enumerate(job.compiler_options):
        if option not in allowed:
            offered = ", ".join(runtime.compiler_options) or "none"
            return Mismatch(
                f"compiler_options.{index}",
                f"{option!r} is not an allowed compiler option for {runtime.id} (allowed: {offered})",
            )
    entry = RUN_SCRIPT if job.run_scripts else runtime.source_file  # where source is written
    for index, file in enumerate(job.files):
        if file.path == entry or file.path.startswith(f"{entry}/"):
            return Mismatch(f"files.{index}.path", f"{file.path!r} is the program's own source file")
    for name, program in judge_programs(job):
        if (
            mismatch := _judge_language_mismatch(name, program.language, job.language, languages)
        ) is not None:
            return mismatch
    return None


def _judge_language_mismatch(
    name: str, language: str, job_language: str, languages: Collection[str] | None
) -> Mismatch | None:
    if language == job_language or language in JUDGE_LANGUAGES_EVERYWHERE:
        return None
    others = ", ".join(JUDGE_LANGUAGES_EVERYWHERE)
    if name != "checker":
        return Mismatch(
            f"{name}.language",
            f"an {name} runs beside the program on the {job_language} workers, which have {job_language} "
            f"and {others} only, not {language!r}",
        )
    if languages is not None and language not in languages:
        return Mismatch(f"{name}.language", f"{language!r} is not a language of this cluster")
    return None


def _compile_limits_mismatch(job: JobMessage, runtime: Runtime) -> Mismatch | None:
    """Compile limits are tightenings of the runtime's own budget, never extensions of it."""
    if job.compile_limits is None:
        return None
    if not runtime.compiled:
        return Mismatch("compile_limits", f"{runtime.id} is not compiled")
    own = {
        "time_ms": runtime.compile_time_ms,
        "wall_ms": 3 * runtime.compile_time_ms,
        "memory_mb": runtime.compile_memory_mb,
    }
    for name, most in own.items():
        value = getattr(job.compile_limits, name)
        if value is not None and value > most:
            return Mismatch(f"compile_limits.{name}", f"{value} is above {runtime.id}'s maximum of {most}")
    return None
