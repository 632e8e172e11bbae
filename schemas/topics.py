"""Kafka topic names. Every name takes the same optional prefix (``EXECUTIONER_TOPIC_PREFIX``)."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic names of one Executioner cluster.

    * ``jobs.<language>``: job messages (:class:`schemas.jobs.JobMessage`), key = submission id.
    * ``results``: result messages (:data:`schemas.results.ResultMessage`), key = submission id.
    * ``dead-letter``: messages a worker could not accept, original key and bytes, reason in headers
      (:class:`schemas.deadletter.DeadLetterHeaders`).
    * ``checks.<language>`` and ``check-replies``: internal, between workers (:mod:`schemas.checks`).
    """

    prefix: str = ""

    def jobs(self, language: str) -> str:
        """The topic one language's workers consume."""
        return f"{self.prefix}jobs.{language}"

    @property
    def results(self) -> str:
        """The topic every worker publishes results to."""
        return f"{self.prefix}results"

    @property
    def dead_letter(self) -> str:
        """The topic rejected messages go to, with the reason."""
        return f"{self.prefix}dead-letter"

    def checks(self, language: str) -> str:
        """The topic of check requests for checkers in ``language`` (internal)."""
        return f"{self.prefix}checks.{language}"

    @property
    def check_replies(self) -> str:
        """The topic check replies come back on (internal)."""
        return f"{self.prefix}check-replies"

    def checker_group(self, language: str) -> str:
        """The consumer group of one language's workers serving check requests."""
        return f"{self.prefix}executioner-checkers-{language}"

    def worker_group(self, language: str) -> str:
        """The consumer group shared by all workers of one language."""
        return f"{self.prefix}executioner-workers-{language}"

    @property
    def recorder_group(self) -> str:
        """The consumer group shared by all API replicas that record results in MySQL."""
        return f"{self.prefix}executioner-api-recorder"

    @property
    def intake_group(self) -> str:
        """The consumer group shared by all API replicas that record jobs produced straight to
        ``jobs.<language>`` (by batch graders) in MySQL."""
        return f"{self.prefix}executioner-api-intake"

    @property
    def dead_letter_group(self) -> str:
        """The consumer group shared by all API replicas that record dead letters in MySQL."""
        return f"{self.prefix}executioner-api-dead-letters"
