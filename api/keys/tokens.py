"""Submitter key tokens and share-link tokens: making them, hashing them, checking them. No I/O.

A key token is 32 random bytes (``exk_<key id>_<secret>``): guessing one is hopeless, so the stored hash
need not be slow. It is HMAC-SHA256 under the server's ``EXECUTIONER_AUTH_SECRET``: a copy of the
database alone does not even let anyone test a guess. A share token signs a submission id and an
expiry time under the same secret (another message prefix, so neither token can stand for the other).
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

SCOPES = ("submit", "read", "problems:write")
"""What a key may do: ``submit`` programs (and delete its own), ``read`` its submissions, and
``problems:write`` (reserved for the problem store)."""
TOKEN_PREFIX = "exk_"
SECRET_BYTES = 32
JUDGE0_HEADER = "x-auth-token"


def new_key_id() -> str:
    """A key's public id (``key_`` and 12 hex digits): names it in the admin API and in job messages."""
    return f"key_{secrets.token_hex(6)}"


def new_token(key_id: str) -> str:
    """A fresh token for key ``key_id``, shown once to whoever created the key."""
    return f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"


def token_hash(secret: str, token: str) -> bytes:
    """What is stored of a token: HMAC-SHA256 under the server secret."""
    return hmac.new(secret.encode(), b"key:" + token.encode(), hashlib.sha256).digest()


def parse_scopes(values: Iterable[str]) -> frozenset[str]:
    """The scopes named in ``values`` (each may list several, comma-separated); ValueError on an
    unknown one."""
    scopes = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(scopes - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}: the scopes are {', '.join(SCOPES)}")
    return frozenset(scopes)


def presented_token(headers: Mapping[str, str]) -> str | None:
    """The token a request presents: ``Authorization: Bearer <token>`` or (Judge0's header)
    ``X-Auth-Token: <token>``; None when it presents none."""
    scheme, _space, given = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        return given.strip()
    judge0 = headers.get(JUDGE0_HEADER, "").strip()
    return judge0 or None


def _share_signature(secret: str, submission_id: UUID, expires: int) -> str:
    message = f"share:{submission_id}:{expires}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def share_token(secret: str, submission_id: UUID, expires_at: datetime) -> str:
    """A token letting whoever holds it read ``submission_id`` until ``expires_at`` (aware UTC)."""
    expires = int(expires_at.timestamp())
    return f"{expires}.{_share_signature(secret, submission_id, expires)}"


def share_token_valid(secret: str, submission_id: UUID, token: str, now: datetime) -> bool:
    """Whether ``token`` was made by :func:`share_token` for ``submission_id`` and has not expired."""
    expires_text, _dot, signature = token.partition(".")
    if not expires_text.isdigit() or len(expires_text) > 12:
        return False
    expires = int(expires_text)
    expected = _share_signature(secret, submission_id, expires)
    return hmac.compare_digest(signature.encode(), expected.encode()) and now.timestamp() < expires
