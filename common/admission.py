"""Whether a decoded job is within the cluster's admission limits: one check for the API's request path,
the API's Kafka intake and the workers, so the API never accepts or records a job its workers would
dead-letter. Each caller reports a refusal its own way (HTTP 413 naming the field, a dead letter with the
reason)."""

from dataclasses import dataclass

from common.contract import AdmissionLimits
from common.runtimes import Runtime
from schemas.jobs import JobMessage


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a job is not admitted: one of its texts is larger than its limit."""

    field: str
    """Where the text is, as the API names request fields: ``source``, ``stdin``, ``tests.<i>.stdin``,
    ``tests.<i>.expected_output``."""
    size: int
    """Its size, in UTF-8 bytes."""
    limit: int
    """The most bytes it may have."""

    @property
    def reason(self) -> str:
        """The refusal in words, as a dead letter gives it."""
        return f"{self.field} is larger than {self.limit} bytes ({self.size} bytes)"


def first_refusal(job: JobMessage, limits: AdmissionLimits) -> Refusal | None:
    """The first text of ``job`` (in the order of :attr:`Refusal.field`'s examples) over its limit in
    ``limits``, or None when the job is admitted."""
    texts = [("source", job.source, limits.max_source_bytes), ("stdin", job.stdin, limits.max_stdin_bytes)]
    for index, test in enumerate(job.tests or ()):
        texts.append((f"tests.{index}.stdin", test.stdin, limits.max_stdin_bytes))
        texts.append((f"tests.{index}.expected_output", test.expected_output, limits.max_stdin_bytes))
    for field, text, limit in texts:
        size = len(text.encode())
        if size > limit:
            return Refusal(field, size, limit)
    files_size = sum(len(file.data()) for file in job.files)
    if files_size > limits.max_files_bytes:
        return Refusal("files", files_size, limits.max_files_bytes)
    return None


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


def runtime_mismatch(job: JobMessage, runtime: Runtime) -> Mismatch | None:
    """The first part of ``job`` its runtime does not allow: a compiler option outside the runtime's
    allow-list (the submitter chooses them: docs/security.md), a file where the source goes, or a source
    that is not Base64 where the runtime takes its program as Base64 bytes."""
    if runtime.source_encoding == "base64" and runtime.program_bytes(job.source) is None:
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
    for index, file in enumerate(job.files):
        if file.path == runtime.source_file or file.path.startswith(f"{runtime.source_file}/"):
            return Mismatch(f"files.{index}.path", f"{file.path!r} is the program's own source file")
    return None
