"""The API's one parser of numbers from headers, paths and query strings: ASCII digits only, bounded."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.lib.numbers import INT32_MAX, parse_whole_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text",
    ["", "\u00b2", "\uff15", "\u0665", "1_0", "+5", "-5", " 5", "5 ", "5.0", "0x5", "1e3", "2147483648"],
)
def test_anything_but_plain_ascii_digits_within_the_bound_is_refused(text: str) -> None:
    assert parse_whole_number(text, INT32_MAX) is None
    assert parse_whole_number(text.encode(), INT32_MAX) is None


def test_plain_digits_are_read() -> None:
    assert parse_whole_number("0", 10) == 0
    assert parse_whole_number("07", 10) == 7
    assert parse_whole_number("007", 10) is None, "more digits than the bound has"
    assert parse_whole_number(b"2147483647", INT32_MAX) == INT32_MAX


def test_a_huge_number_is_refused_without_being_parsed() -> None:
    # int() of 5000 digits raises ValueError (and would be slow without Python's limit).
    assert parse_whole_number("9" * 5000, INT32_MAX) is None


@given(st.text(max_size=12), st.integers(min_value=0, max_value=INT32_MAX))
def test_the_number_is_exactly_what_ascii_digits_spell(text: str, most: int) -> None:
    parsed = parse_whole_number(text, most)
    plain = re.fullmatch(r"[0-9]+", text, re.ASCII) is not None and len(text) <= len(str(most))
    if plain and int(text) <= most:
        assert parsed == int(text)
    else:
        assert parsed is None
