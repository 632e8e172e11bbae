"""The webhook signature: ``X-Executioner-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>`` is
HMAC-SHA256, keyed with ``EXECUTIONER_WEBHOOK_SECRET``, of ``<t>.`` followed by the exact body bytes.
The time is inside the signed text so a receiver can refuse old deliveries replayed by someone who saw
one; it compares with :func:`hmac.compare_digest` (docs/webhooks.md has a receiver's check)."""

import hashlib
import hmac

HEADER = "X-Executioner-Signature"


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, body: bytes, header: str) -> int | None:
    """The timestamp of a valid signature ``header`` of ``body``, or None (what a receiver does)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return None
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return timestamp if hmac.compare_digest(expected, fields.get("v1", "")) else None
