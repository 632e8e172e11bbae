"""Code stubs: the job's source is the problem's driver with the submitter's code in its one marked
place, by one pure function; a driver without exactly one marker is refused when the problem is stored."""

import pytest
from pydantic import ValidationError

from api.problems.model import USER_CODE, Stub
from api.problems.stubs import compose

pytestmark = pytest.mark.unit

DRIVER = f"import sys\n{USER_CODE}\nprint(add(*map(int, sys.stdin.read().split())))\n"


def test_the_user_code_goes_where_the_driver_marks() -> None:
    source = compose("def add(a, b):\n    return a + b", Stub(template="def add(a, b):\n", driver=DRIVER))
    assert (
        source
        == "import sys\ndef add(a, b):\n    return a + b\nprint(add(*map(int, sys.stdin.read().split())))\n"
    )


def test_a_marker_inside_the_user_code_stays_text() -> None:
    code = f"# {USER_CODE} {USER_CODE}"
    source = compose(code, Stub(template="", driver=f"<{USER_CODE}>"))
    assert source == f"<{code}>"


def test_without_a_stub_the_source_is_the_user_code() -> None:
    assert compose("print(1)", None) == "print(1)"


@pytest.mark.parametrize("driver", ["print(1)", f"{USER_CODE}{USER_CODE}"])
def test_a_driver_needs_exactly_one_marker(driver: str) -> None:
    with pytest.raises(ValidationError, match="exactly once"):
        Stub(template="", driver=driver)
