"""The job message: what a worker runs. Produced by the API's outbox relay or by a batch grader.

Topic ``jobs.<language>``, key = the submission id (UTF-8), value = the JSON below (orjson).
Example::

    {"v": 1, "id": "0b6f...", "language": "python", "source": "print(input())", "stdin": "hi\\n"}
"""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

MAX_TIME_MS = 10_000
MAX_MEMORY_MB = 1024
MAX_OUTPUT_KB = 1024


class _Wire(BaseModel):
    # Unknown fields are ignored, not rejected: a newer producer may add optional fields within v1.
    model_config = ConfigDict(extra="ignore", frozen=True)


class TestCase(_Wire):
    """One test: the program's stdin and the output it must print."""

    __test__ = False  # not a pytest class

    stdin: str = ""
    expected_output: str


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

    def effective(self) -> "Limits":
        """These limits with every default filled in."""
        return self.model_copy(update={"wall_ms": self.wall_ms or 3 * self.time_ms})


CompareMode = Literal["exact", "trim", "tokens"]


class FloatCompare(_Wire):
    """Token-wise comparison where numbers match within an absolute or relative tolerance."""

    mode: Literal["float"]
    tolerance: Annotated[float, Field(gt=0, le=1)] = 1e-6


CompareSpec = CompareMode | FloatCompare
"""``exact``; ``trim`` (default: trailing whitespace per line and trailing blank lines ignored);
``tokens`` (whitespace-separated tokens); or ``{"mode": "float", "tolerance": 1e-6}``."""


class JobMessage(_Wire):
    """A program to run, version 1.

    Without ``tests`` the job is one run of ``source`` on ``stdin``: exit 0 is ``accepted``, a non-zero
    exit or a signal ``runtime_error``. With ``tests`` the program is compiled once and run once per test.
    """

    v: Literal[1] = 1
    id: UUID
    """Submission id, chosen by the producer. Also the Kafka key."""
    language: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_+-]+$")]
    """Runtime id (a folder of ``runtimes/``); must match the topic it was sent to."""
    source: Annotated[str, Field(min_length=1)]
    stdin: str = ""
    tests: Annotated[list[TestCase], Field(min_length=1)] | None = None
    limits: Limits = Field(default_factory=Limits)
    compare: CompareSpec = "trim"
    stop_on_first_failure: bool = False
    key_id: Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[A-Za-z0-9_]+$")] | None = None
    """The submitter key a batch grader produces the job for (its id, ``key_…``, never its token): the
    submission is recorded as that key's. With ``EXECUTIONER_AUTH=keys``, a job naming an unknown,
    revoked or expired key is not recorded. Jobs the API publishes carry none (their owner is stored)."""
