"""The one admission check (common/admission.py) the API's request path, its Kafka intake and the workers
share: each text of a job against its limit, in UTF-8 bytes, the first one over it named (pure)."""

import uuid
from pathlib import Path
from typing import Any

import pytest

from common.admission import Refusal, first_refusal, runtime_mismatch
from common.contract import AdmissionLimits
from common.runtimes import Runtime, load_runtime
from schemas.jobs import JobMessage

pytestmark = pytest.mark.unit

LIMITS = AdmissionLimits(max_source_bytes=10, max_stdin_bytes=4)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def python_runtime() -> Runtime:
    return load_runtime(REPO / "runtimes" / "python" / "runtime.toml")


def job(**fields: Any) -> JobMessage:
    return JobMessage.model_validate({"id": uuid.uuid4(), "language": "python", "source": "s", **fields})


def job_tests(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"stdin": stdin, "expected_output": expected} for stdin, expected in pairs]


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        pytest.param({}, None, id="small"),
        pytest.param({"source": "x" * 10, "stdin": "x" * 4}, None, id="exactly-at-the-limits"),
        pytest.param({"tests": job_tests(("x" * 4, "y" * 4))}, None, id="tests-at-the-limit"),
        pytest.param({"source": "x" * 11}, Refusal("source", 11, 10), id="source"),
        pytest.param({"source": "é" * 6}, Refusal("source", 12, 10), id="source-bytes-not-characters"),
        pytest.param({"stdin": "x" * 5}, Refusal("stdin", 5, 4), id="stdin"),
        pytest.param({"stdin": "€€"}, Refusal("stdin", 6, 4), id="stdin-bytes-not-characters"),
        pytest.param(
            {"tests": job_tests(("", ""), ("x" * 5, ""))}, Refusal("tests.1.stdin", 5, 4), id="a-test-stdin"
        ),
        pytest.param(
            {"tests": job_tests(("", ""), ("", "y" * 5))},
            Refusal("tests.1.expected_output", 5, 4),
            id="a-test-expected-output",
        ),
        pytest.param(
            {"source": "x" * 11, "stdin": "x" * 5, "tests": job_tests(("x" * 5, "y" * 5))},
            Refusal("source", 11, 10),
            id="source-first",
        ),
        pytest.param(
            {"stdin": "x" * 5, "tests": job_tests(("x" * 5, "y" * 5))},
            Refusal("stdin", 5, 4),
            id="then-stdin",
        ),
        pytest.param(
            {"tests": job_tests(("", "y" * 5), ("x" * 5, ""))},
            Refusal("tests.0.expected_output", 5, 4),
            id="then-tests-in-order",
        ),
    ],
)
def test_the_first_text_over_its_limit_is_named(fields: dict[str, Any], refusal: Refusal | None) -> None:
    assert first_refusal(job(**fields), LIMITS) == refusal


def test_an_empty_stdin_passes_a_zero_limit() -> None:
    zero = AdmissionLimits(max_source_bytes=1, max_stdin_bytes=0)
    assert first_refusal(job(tests=job_tests(("", ""))), zero) is None
    assert first_refusal(job(stdin="\n"), zero) == Refusal("stdin", 1, 0)


def test_the_reason_names_the_field_the_limit_and_the_size() -> None:
    assert Refusal("tests.3.expected_output", 70_000, 65_536).reason == (
        "tests.3.expected_output is larger than 65536 bytes (70000 bytes)"
    )


@pytest.mark.parametrize(
    ("judge", "languages", "field"),
    [
        pytest.param({"checker": {"language": "python", "source": "s"}}, ["python"], None, id="own"),
        pytest.param({"checker": {"language": "cpp", "source": "s"}}, ["python"], None, id="everywhere"),
        pytest.param(
            {"checker": {"language": "go", "source": "s"}}, ["python", "go"], None, id="other-language"
        ),
        pytest.param({"checker": {"language": "go", "source": "s"}}, None, None, id="unknown-languages"),
        pytest.param(
            {"checker": {"language": "cobol", "source": "s"}},
            ["python", "go"],
            "checker.language",
            id="none-of-ours",
        ),
        pytest.param(
            {"interactor": {"language": "go", "source": "s"}},
            ["python", "go"],
            "interactor.language",
            id="interactor-beside-the-program",
        ),
    ],
)
def test_a_checker_may_be_in_any_language_of_the_cluster_an_interactor_not(
    python_runtime: Runtime, judge: dict[str, Any], languages: list[str] | None, field: str | None
) -> None:
    checked = job(tests=job_tests(("1", "1")), **judge)
    mismatch = runtime_mismatch(checked, python_runtime, languages)
    assert (mismatch and mismatch.field) == field, mismatch
