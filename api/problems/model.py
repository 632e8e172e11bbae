"""What a problem is, as the API takes it and as a version stores it (docs/problems.md).

A request's :class:`ProblemBody` carries test data inline; the API puts every test file into the test
store (:mod:`api.problems.blobs`) and keeps a :class:`Judging` per version, whose tests name their files
by SHA-256. Only :class:`Judging` decides a verdict: a change to it is a new version, a change to the
title or statement is not.
"""

from collections.abc import Collection
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.lib.errors import ApiError
from schemas.jobs import CompareSpec, Limits, ProgramSpec

SLUG = r"^[a-z0-9][a-z0-9-]{0,63}$"
USER_CODE = "{{user_code}}"
"""Where a stub's driver takes the submitter's code (exactly once)."""
MAX_PROBLEM_BYTES = 1024 * 1024 * 1024
"""All test files of one problem version together, as stored (1 GiB)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stub(_Strict):
    """A function-signature problem's code for one language."""

    template: Annotated[str, Field(max_length=65_536)]
    """What the editor starts from: the function to fill in."""
    driver: Annotated[str, Field(min_length=1, max_length=65_536)]
    """The program that reads a test's input, calls the submitter's function and prints its answer;
    ``{{user_code}}`` (exactly once) marks where the submitter's code goes."""

    @field_validator("driver")
    @classmethod
    def _one_marker(cls, driver: str) -> str:
        if driver.count(USER_CODE) != 1:
            raise ValueError(f"must contain {USER_CODE} exactly once")
        return driver


class TestBody(_Strict):
    """One test as a request gives it."""

    __test__ = False

    input: Annotated[str, Field(max_length=64 * 1024 * 1024)] = ""
    expected_output: Annotated[str, Field(max_length=64 * 1024 * 1024)]
    sample: bool = False
    """Shown to submitters (statement, results); every other test is hidden."""
    points: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    group: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class ProblemText(_Strict):
    """What a problem says, not how it is judged: editing it keeps the version."""

    title: Annotated[str, Field(min_length=1, max_length=200)]
    statement: Annotated[str, Field(max_length=1_048_576)] = ""
    """Markdown."""


class ProblemBody(ProblemText):
    """``POST /api/v1/problems`` and ``PUT /api/v1/problems/{slug}`` (``slug`` then optional)."""

    slug: Annotated[str, Field(pattern=SLUG)] | None = None
    limits: Limits = Field(default_factory=Limits)
    compare: CompareSpec = "trim"
    checker: ProgramSpec | None = None
    """A testlib-style checker deciding each test instead of ``compare`` (docs/checkers.md)."""
    interactor: ProgramSpec | None = None
    tests: Annotated[list[TestBody], Field(min_length=1, max_length=10_000)]
    stubs: dict[Annotated[str, Field(pattern=r"^[a-z0-9_+-]{1,32}$")], Stub] = Field(default_factory=dict)
    """Per language id."""


def foreign_judge(body: ProblemBody, languages: Collection[str]) -> tuple[str, str] | None:
    """The field and language of a checker or interactor in a language the cluster does not run (no
    submission could be judged with it), or None."""
    for name, program in (("checker", body.checker), ("interactor", body.interactor)):
        if program is not None and program.language not in languages:
            return f"{name}.language", program.language
    return None


class StoredTest(_Strict):
    """One test of a version: its files in the test store, by SHA-256 (lowercase hex) and size."""

    __test__ = False

    input_sha256: str
    input_size: int
    output_sha256: str
    output_size: int
    sample: bool = False
    points: int | None = None
    group: str | None = None


class Judging(_Strict):
    """Everything a verdict depends on, frozen in a version (``problem_versions.judging``)."""

    limits: Limits = Field(default_factory=Limits)
    compare: CompareSpec = "trim"
    checker: ProgramSpec | None = None
    interactor: ProgramSpec | None = None
    stubs: dict[str, Stub] = Field(default_factory=dict)
    tests: list[StoredTest]

    @property
    def total_bytes(self) -> int:
        """The test files' bytes (each distinct file once)."""
        files = {(t.input_sha256, t.input_size) for t in self.tests} | {
            (t.output_sha256, t.output_size) for t in self.tests
        }
        return sum(size for _, size in files)


class RejudgeBody(_Strict):
    """``POST /api/v1/problems/{slug}/rejudge``: which finished submissions (none given: all)."""

    version: Annotated[int, Field(ge=1)] | None = None
    """Only those judged against this version."""
    verdict: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    """Only those with this verdict."""


Body = TypeVar("Body", bound=BaseModel)


def parse_body(raw: bytes, model: type[Body]) -> Body:
    """A request body as a ``model``; 400 when it is not JSON, 422 naming the first bad field
    (``tests.3.expected_output``)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "json_invalid":
            raise ApiError(400, "malformed_json", f"the body is not valid JSON: {error['msg']}") from None
        field = ".".join(str(part) for part in error["loc"] if not _is_union_tag(part)) or None
        raise ApiError(
            422, "validation_error", f"{field}: {error['msg']}" if field else error["msg"], field
        ) from None


def _is_union_tag(part: int | str) -> bool:
    # pydantic names the member of a union it tried ("compare", "FloatCompare", ...); fields are snake_case.
    return isinstance(part, str) and not (part.isidentifier() and part.islower()) and not part.isdigit()
