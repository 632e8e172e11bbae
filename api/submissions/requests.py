"""Turn a ``POST /api/v1/submissions`` body into a :class:`~schemas.JobMessage`, or refuse it with an
:class:`~api.lib.errors.ApiError` naming the offending field."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from pydantic import ValidationError

from api.lib.errors import ApiError
from api.settings import ApiSettings
from common.admission import first_refusal, runtime_mismatch
from common.contract import AdmissionLimits
from common.runtimes import Runtime
from schemas import JobMessage, encode

ALLOWED_FIELDS = frozenset(
    {
        "language", "source", "stdin", "tests", "limits", "compare", "stop_on_first_failure", "args",
        "compiler_options", "files", "redirect_stderr_to_stdout", "runs", "callback_url", "compile_limits",
        "source_b64", "stdin_b64", "run_scripts", "checker", "interactor",
    }
)  # fmt: skip


REFERENCE_FIELDS = ("input_sha256", "input_size", "output_sha256", "output_size")


@dataclass(frozen=True, slots=True)
class SubmissionRules:
    """What a submission must respect (from the settings): the cluster's admission limits, which the
    workers check too, the API's own limits, and the languages on offer."""

    languages: Mapping[str, str]
    """Every name a submission may give (each runtime's id and aliases) → the runtime id."""
    limits: AdmissionLimits
    max_tests: int
    max_job_bytes: int
    runtimes: Mapping[str, Runtime] = field(default_factory=dict)
    """The runtimes of ``languages`` whose allow-lists a job must keep to (one missing: not checked
    here; its workers still do)."""

    @classmethod
    def from_settings(cls, settings: ApiSettings, runtimes: Mapping[str, Runtime]) -> "SubmissionRules":
        """The rules ``settings`` configure, for ``runtimes`` (by id)."""
        names = {alias: rt.id for rt in runtimes.values() for alias in rt.aliases}
        return cls(
            languages={**names, **{language: language for language in runtimes}},
            limits=settings,
            max_tests=settings.max_tests,
            max_job_bytes=settings.max_job_bytes,
            runtimes=runtimes,
        )


def _invalid(field: str | None, message: str) -> ApiError:
    return ApiError(422, "validation_error", message, field)


def _too_large(field: str | None, size: int, limit: int) -> ApiError:
    return ApiError(413, "too_large", f"{field or 'the job'} is {size} bytes; the limit is {limit}", field)


def _dotted(loc: tuple[int | str, ...]) -> str:
    # Pydantic puts union members in locations ("compare", "FloatCompare", "tolerance"); request fields
    # are snake_case identifiers or list indexes, so member tags are the other parts.
    return ".".join(str(p) for p in loc if isinstance(p, int) or (p.isidentifier() and p.islower()))


def _explain(exc: ValidationError) -> ApiError:
    """The most specific error about the first field pydantic complained about."""
    found = [(_dotted(e["loc"]), e["msg"]) for e in exc.errors()]
    first_field = found[0][0].split(".")[0]
    field, message = max((f for f in found if f[0].split(".")[0] == first_field), key=lambda f: len(f[0]))
    return _invalid(field or None, f"{field}: {message}" if field else message)


def _load_object(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _invalid(None, "the body must be a JSON object")
    return data


def _check_fields(data: dict[str, Any], rules: SubmissionRules) -> None:
    """The checks that must run before pydantic: cheap, and with the messages clients need most."""
    for name in data:
        if name not in ALLOWED_FIELDS:
            raise _invalid(name, f"unknown field {name!r}")
    data["language"] = language_of(data, rules)
    source = data.get("source")
    if (
        (not isinstance(source, str) or not source)
        and "source_b64" not in data
        and not data.get("run_scripts")
    ):
        raise _invalid("source", "source is required (a non-empty string), or source_b64")
    if not isinstance(data.get("stdin", ""), str):
        raise _invalid("stdin", "stdin must be a string")
    for name in ("checker", "interactor"):
        program = data.get(name)
        if isinstance(program, dict) and program.get("language") in rules.languages:
            program["language"] = rules.languages[program["language"]]  # an alias names its runtime
    tests = data.get("tests")
    for index, test in enumerate(tests if isinstance(tests, list) else ()):
        # The store holds hidden tests: a request naming one by hash could print it. (A null is no
        # reference: clients that dump a whole test model send every field.)
        named = [name for name in REFERENCE_FIELDS if isinstance(test, dict) and test.get(name) is not None]
        if named:
            message = f"{named[0]}: tests by reference come only from a problem"
            raise _invalid(f"tests.{index}.{named[0]}", message)
    if isinstance(tests, list) and len(tests) > rules.max_tests:
        raise _invalid("tests", f"{len(tests)} tests; the limit is {rules.max_tests}")


@dataclass(frozen=True, slots=True)
class AcceptedJob:
    """A valid submission: the job message and its encoded bytes (the outbox payload)."""

    job: JobMessage
    payload: bytes
    callback_url: object = None
    """The request's ``callback_url`` as sent (checked by :mod:`api.webhooks.accept`)."""
    user_source: str | None = None
    """What the submitter wrote, when the job's source was composed from it (a problem's stub)."""


def load_request(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object (400 when it is not JSON, 422 when not an object)."""
    return _load_object(raw)


def language_of(data: dict[str, Any], rules: SubmissionRules) -> str:
    """The runtime id the request's ``language`` names (an alias names its runtime); 422 naming it."""
    language = data.get("language")
    if not isinstance(language, str) or not language:
        raise _invalid("language", "language is required (a string)")
    if language not in rules.languages:
        raise ApiError(
            422, "unknown_language", f"unknown language {language!r}; see GET /api/v1/languages", "language"
        )
    return rules.languages[language]


def parse_submission(raw: bytes, rules: SubmissionRules, submission_id: UUID) -> AcceptedJob:
    """Validate a request body and build the job it asks for, with id ``submission_id``."""
    return accept_submission(_load_object(raw), rules, submission_id)


def accept_submission(data: dict[str, Any], rules: SubmissionRules, submission_id: UUID) -> AcceptedJob:
    """:func:`parse_submission` of a body already loaded."""
    _check_fields(data, rules)
    callback_url = data.pop("callback_url", None)
    try:
        job = JobMessage.model_validate({**data, "v": 1, "id": submission_id})
    except ValidationError as exc:
        raise _explain(exc) from None
    return checked_job(job, rules, callback_url)


def checked_job(
    job: JobMessage, rules: SubmissionRules, callback_url: object = None, user_source: str | None = None
) -> AcceptedJob:
    """``job`` once it is within the admission limits, its runtime's allow-lists and the job size."""
    if (refusal := first_refusal(job, rules.limits)) is not None:
        raise _too_large(refusal.field, refusal.size, refusal.limit)
    runtime = rules.runtimes.get(job.language)
    if runtime is not None and (mismatch := runtime_mismatch(job, runtime, rules.runtimes)) is not None:
        raise _invalid(mismatch.field, mismatch.message)
    payload = encode(job)
    if len(payload) > rules.max_job_bytes:
        raise _too_large(None, len(payload), rules.max_job_bytes)
    return AcceptedJob(job, payload, callback_url, user_source)


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def parse_submission_id(text: str) -> UUID:
    """The submission id in a URL, in the form the API hands out; anything else names no submission
    (404). ``UUID()`` alone would also take braces, ``urn:uuid:``, no hyphens, underscores and non-ASCII
    digits: many spellings of one id."""
    if not _CANONICAL_UUID.fullmatch(text):
        raise ApiError(404, "not_found", "submission not found (malformed id)")
    return UUID(text)


def parse_wait(value: str | None) -> bool:
    """``POST /api/v1/submissions``'s ``wait`` query parameter: ``true`` or ``false`` (absent: false)."""
    if value is None or value.lower() == "false":
        return False
    if value.lower() == "true":
        return True
    raise ApiError(400, "invalid_request", "wait must be true or false", "wait")
