"""The one way the API reads a number a client or a producer wrote: ASCII digits, nothing else.

``int()`` is far more lenient than a wire format should be: it takes ``" 5"``, ``"+5"``, ``"5_0"``,
non-ASCII digits (fullwidth, Arabic-Indic, ...; and ``str.isdigit()`` is true for ``"²"``, which
``int()`` then refuses), and thousands of digits (slow, and past what a column holds).
:func:`parse_whole_number` takes none of it.
"""

import re

_DIGITS = re.compile(rb"[0-9]+")
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def parse_whole_number(text: str | bytes, most: int) -> int | None:
    """The number ``text`` spells in ASCII digits 0-9 only, from 0 to ``most``; None for anything else
    (signs, spaces, underscores, other digits, more digits than ``most`` has)."""
    raw = text.encode("utf-8", "replace") if isinstance(text, str) else text
    if len(raw) > len(str(most)) or not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= most else None
