"""Reading jobs: one job message per line (JSONL), checked before anything is sent.

Each line is a job in the format of docs/kafka-contract.md; ``id`` and ``v`` may be left out (a UUID is
generated, ``v`` is 1). A file with a bad line is refused as a whole, with every bad line named, so a
batch is never half sent.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
from pydantic import ValidationError

from schemas import JobMessage

MAX_LISTED_PROBLEMS = 10


@dataclass(frozen=True, slots=True)
class GradeJob:
    """One job to grade: where it came from, its id and the job message to send (``v`` and ``id`` set)."""

    line: int
    """1-based line of the jobs file (or position in the list of jobs given to :func:`grader.grade`)."""
    id: str
    """Canonical UUID text: the Kafka key, and the ``id`` in the message."""
    language: str
    message: dict[str, Any]
    """The job as given, with ``v`` and the canonical ``id``; fields this client does not know are kept
    (a newer cluster may understand them)."""

    def http_body(self) -> dict[str, Any]:
        """The ``POST /api/v1/submissions`` body: the message without ``v`` and ``id`` (the API picks the
        submission id)."""
        return {k: v for k, v in self.message.items() if k not in ("v", "id")}


class JobsFileError(ValueError):
    """Jobs that cannot be sent; ``problems`` lists ``(line, what is wrong)``, in line order."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        listed = [f"line {line}: {text}" if line else text for line, text in problems[:MAX_LISTED_PROBLEMS]]
        if len(problems) > MAX_LISTED_PROBLEMS:
            listed.append(f"... and {len(problems) - MAX_LISTED_PROBLEMS} more")
        super().__init__("\n".join(listed))


def _dotted(loc: tuple[int | str, ...]) -> str:
    # Pydantic puts union members in locations ("compare", "FloatCompare", "mode"); fields are snake_case
    # identifiers or list indexes.
    return ".".join(str(p) for p in loc if isinstance(p, int) or (p.isidentifier() and p.islower()))


def _explain(exc: ValidationError) -> str:
    """The most specific complaint about the first field pydantic complained about."""
    found = [(_dotted(e["loc"]), e["msg"]) for e in exc.errors()]
    first = found[0][0].split(".")[0]
    field, message = max((f for f in found if f[0].split(".")[0] == first), key=lambda f: len(f[0]))
    return f"field '{field}': {message}" if field else message


def make_job(data: Any, line: int) -> GradeJob:
    """Check one job (a decoded JSON value) and complete its ``v`` and ``id``; raise ``ValueError``
    saying what is wrong."""
    if not isinstance(data, Mapping):
        raise ValueError("a job must be a JSON object")
    version = data.get("v", 1)
    if version != 1:
        raise ValueError(f"unsupported version v={version!r} (this client speaks v=1)")
    raw_id = data.get("id")
    try:
        job_id = UUID(raw_id) if raw_id is not None else uuid4()
    except (TypeError, ValueError, AttributeError):
        raise ValueError(f"field 'id': {raw_id!r} is not a UUID") from None
    message = {**data, "v": 1, "id": str(job_id)}
    try:
        job = JobMessage.model_validate(message)
    except ValidationError as exc:
        raise ValueError(_explain(exc)) from None
    return GradeJob(line=line, id=str(job_id), language=job.language, message=message)


def prepare_jobs(items: Iterable[tuple[int, Any]]) -> list[GradeJob]:
    """Check ``(line, job)`` pairs; raise :class:`JobsFileError` naming every bad or duplicate one."""
    jobs: list[GradeJob] = []
    problems: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    for line, data in items:
        try:
            job = make_job(data, line)
        except ValueError as exc:
            problems.append((line, str(exc)))
            continue
        if job.id in first_line:
            problems.append((line, f"duplicate id {job.id} (first on line {first_line[job.id]})"))
            continue
        first_line[job.id] = line
        jobs.append(job)
    if problems:
        raise JobsFileError(problems)
    if not jobs:
        raise JobsFileError([(0, "there are no jobs")])
    return jobs


def _decoded(lines: Iterable[bytes], problems: list[tuple[int, str]]) -> Iterable[tuple[int, Any]]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue  # blank lines (a trailing newline, spacing) are allowed
        try:
            yield number, orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            problems.append((number, f"not JSON: {exc}"))


def parse_jobs(lines: Iterable[bytes]) -> list[GradeJob]:
    """The jobs of JSONL ``lines``; raise :class:`JobsFileError` naming every bad line."""
    problems: list[tuple[int, str]] = []
    decoded = list(_decoded(lines, problems))
    try:
        jobs = prepare_jobs(decoded) if decoded or not problems else []
    except JobsFileError as exc:
        problems += exc.problems
    if problems:
        raise JobsFileError(sorted(problems)) from None
    return jobs


def read_jobs(path: Path) -> list[GradeJob]:
    """The jobs of the JSONL file at ``path``; raise :class:`JobsFileError` naming every bad line."""
    with path.open("rb") as file:
        return parse_jobs(file)
