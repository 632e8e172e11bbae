"""Text fields of the job message that may carry bytes: a ``_b64`` field beside the text holds the exact
bytes when they are not UTF-8 (JSON strings cannot)."""

import base64
import binascii
import contextlib
from typing import Annotated

from pydantic import AfterValidator


def valid_base64(value: str | None) -> str | None:
    """``value`` when it is None or valid Base64."""
    if value is not None:
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("is not valid Base64") from None
    return value


Base64Bytes = Annotated[str, AfterValidator(valid_base64)]
"""Bytes in Base64: the exact bytes of a text field that are not UTF-8."""


def exact_bytes(text: str, b64: str | None) -> bytes:
    """A field's bytes: its ``_b64`` bytes when present, else its text in UTF-8."""
    return base64.b64decode(b64) if b64 is not None else text.encode()


def with_text_of(data: object, pairs: tuple[tuple[str, str], ...]) -> object:
    """A raw message where each text field missing beside its ``_b64`` field gets the bytes' text (with
    U+FFFD for what is not UTF-8), so a producer may send the bytes alone."""
    if not isinstance(data, dict):
        return data
    filled = dict(data)
    for text, b64 in pairs:
        if not filled.get(text) and isinstance(filled.get(b64), str):
            with contextlib.suppress(binascii.Error, ValueError):
                filled[text] = base64.b64decode(filled[b64], validate=True).decode(errors="replace")
    return filled


def text_and_base64(data: bytes) -> tuple[str, str | None]:
    """``data`` as text, and its exact bytes in Base64 when they are not UTF-8 (the text then has U+FFFD
    in their place): a text field and its ``_b64`` field."""
    try:
        return data.decode(), None
    except UnicodeDecodeError:
        return data.decode(errors="replace"), base64.b64encode(data).decode()
