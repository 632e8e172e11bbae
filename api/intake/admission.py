"""Which records of ``jobs.<language>`` the intake records: the ones a worker would run. The others are
left to the workers, which dead-letter them with the reason."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from api.lib.consumer import Record, record_position
from common.admission import first_refusal, runtime_mismatch
from common.contract import AdmissionLimits
from common.runtimes import Runtime
from schemas import DecodeError, JobMessage, decode_job

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobAdmission:
    """The worker's checks: a valid job message, of the topic's language, within the cluster's admission
    limits and its runtime's allow-lists (the same checks the workers make)."""

    languages: dict[str, str]
    """Topic name → the language whose jobs it carries."""
    limits: AdmissionLimits
    runtimes: Mapping[str, Runtime] = field(default_factory=dict)
    """Language → its runtime, whose compiler-option allow-list the workers enforce too."""

    def admit(self, record: Record) -> JobMessage | None:
        """The job ``record`` carries, or None when a worker would reject it."""
        try:
            job = decode_job(record.value or b"")
        except DecodeError as exc:
            return self._reject(record, exc.reason)
        if job.language != self.languages.get(record.topic):
            return self._reject(record, f"language {job.language!r} on {record.topic}")
        if (refusal := first_refusal(job, self.limits)) is not None:
            return self._reject(record, refusal.reason)
        runtime = self.runtimes.get(job.language)
        if runtime is not None and (mismatch := runtime_mismatch(job, runtime, self.runtimes)) is not None:
            return self._reject(record, mismatch.reason)
        return job

    @staticmethod
    def _reject(record: Record, reason: str) -> None:
        # Debug only: the workers dead-letter it, and the dead letter is what operators look at.
        log.debug("intake: not recording %s (%s)", record_position(record), reason)


def key_id(key: bytes | None) -> str | None:
    """The submission id a record's key names (the contract: key = id), as stored; None if it names none."""
    if not key:
        return None
    try:
        return str(UUID(key.decode()))
    except (UnicodeDecodeError, ValueError):
        return None
