"""Time as MySQL stores it (naive UTC, microseconds) and as the API shows it (ISO 8601, ``Z``)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (what ``DATETIME(6)`` columns hold)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_db_time(moment: datetime) -> datetime:
    """``moment`` as naive UTC; a naive input is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    """A naive-UTC datetime from MySQL as ISO 8601 with a ``Z`` suffix."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
