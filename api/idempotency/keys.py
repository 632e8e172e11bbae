"""The ``Idempotency-Key`` header: parsing it, and the hashes stored instead of the key and the body.

The draft defines the value as a Structured Field String (``"8e03978e-..."``); clients that send the key
unquoted are common, so a bare value of visible ASCII is accepted too. Either way the key is 1 to
:data:`MAX_KEY_LENGTH` printable ASCII characters; anything else is refused with 400 naming the header.
"""

import hashlib
import string
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from api.lib.errors import ApiError
from schemas import JobMessage

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))
_VISIBLE = _PRINTABLE - frozenset(string.whitespace)


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """What is stored for a key: the key's hash and the request's fingerprint (never the key itself, so
    the table cannot be used to replay someone else's request)."""

    key_hash: bytes
    """SHA-256 of the key."""
    fingerprint: bytes
    """SHA-256 of the submission as validated (see :func:`fingerprint`)."""


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_idempotency_key", message, HEADER)


def _unquote(value: str) -> str:
    """The content of a Structured Field String (RFC 8941 §3.3.3): only ``\\"`` and ``\\\\`` escapes."""
    if len(value) < 2 or not value.endswith('"'):
        raise _invalid(f"{HEADER} starts a quoted string that does not end")
    chars: list[str] = []
    inner = iter(value[1:-1])
    for char in inner:
        if char == "\\":
            escaped = next(inner, "")
            if escaped not in ('"', "\\"):
                raise _invalid(f"{HEADER} has an invalid escape in its quoted string")
            chars.append(escaped)
        elif char == '"':
            raise _invalid(f"{HEADER} has an unescaped quote inside its quoted string")
        else:
            chars.append(char)
    return "".join(chars)


def parse_idempotency_key(values: Sequence[str]) -> str | None:
    """The key of the request's ``Idempotency-Key`` header values (None when there is none); raises a
    400 :class:`ApiError` for a repeated, empty, too long or non-printable key."""
    if not values:
        return None
    if len(values) > 1:
        raise _invalid(f"{HEADER} was sent {len(values)} times; send it once")
    raw = values[0].strip(" \t")
    key = _unquote(raw) if raw.startswith('"') else raw
    allowed = _PRINTABLE if raw.startswith('"') else _VISIBLE
    if not key:
        raise _invalid(f"{HEADER} is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise _invalid(f"{HEADER} is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}")
    if not set(key) <= allowed:
        raise _invalid(f"{HEADER} may hold only printable ASCII characters")
    return key


def fingerprint(job: JobMessage) -> bytes:
    """SHA-256 of the job without its id, fields in a fixed order: two bodies that ask for the same job
    (however their JSON is spaced or ordered, defaults spelled out or not) have the same fingerprint."""
    canonical = orjson.dumps(job.model_dump(mode="json", exclude={"id"}), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).digest()


def claim_for(key: str, job: JobMessage) -> KeyClaim:
    """The hashes stored for ``key`` and the request that asks for ``job``."""
    return KeyClaim(hashlib.sha256(key.encode()).digest(), fingerprint(job))
