"""The settings every process of a cluster must agree on: what a worker admits (the API must not accept a
job its workers would dead-letter), how topics are named, and how many partitions they are created with
(whichever process creates a topic first decides, so they must all say the same).

The API, the master and the worker settings all inherit these fields, so each has one default and one
``EXECUTIONER_`` variable; the master reads them as the API does and hands them to every worker it starts
(:meth:`ClusterContract.contract_environment`).
"""

from collections.abc import Iterable
from typing import ClassVar, Literal

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from schemas.topics import Topics

ENV_PREFIX = "EXECUTIONER_"
"""The prefix of every setting's environment variable."""
JOBS_PARTITIONS_DEFAULT = 6
RESULTS_PARTITIONS_DEFAULT = 6
DEAD_LETTER_PARTITIONS = 1
"""One partition: dead letters are few, and one partition keeps them in the order they happened."""


class AdmissionLimits(BaseModel):
    """The sizes a job must respect to be run (:func:`common.admission.first_refusal`)."""

    # Attribute docstrings become field descriptions: docs/configuration.md is generated from them. Typed
    # as the settings' configuration, which the processes' settings classes merge this one with.
    model_config: ClassVar[SettingsConfigDict] = SettingsConfigDict(use_attribute_docstrings=True)

    max_source_bytes: int = Field(default=65_536, ge=1)
    """Largest accepted ``source``, in UTF-8 bytes. Cluster contract: give the API and the master the
    same value (the master hands it to its workers, which dead-letter larger jobs)."""
    max_stdin_bytes: int = Field(default=1_048_576, ge=0)
    """Largest accepted ``stdin``, and each test's ``stdin`` and ``expected_output``, in UTF-8 bytes.
    Cluster contract: give the API and the master the same value (the master hands it to its workers)."""
    max_files_bytes: int = Field(default=524_288, ge=0)
    """Largest accepted total of a job's ``files`` (a multi-file program's other files), in bytes once
    decoded. Cluster contract: give the API and the master the same value (the master hands it to its
    workers)."""
    auth: Literal["off", "keys"] = "off"
    """``off``: anyone who reaches the API may submit and read every submission (``make up``; not for
    production). ``keys``: every submission route needs a submitter key (``Authorization: Bearer``, or
    ``X-Auth-Token`` on the Judge0 API) with the right scope, a key sees only its own submissions, and
    workers dead-letter jobs whose ``key_id`` names no usable key. Cluster contract: give the API and the
    master the same value (the master hands it to its workers)."""


class ClusterContract(AdmissionLimits):
    """Admission limits, topic names and partition counts: what a worker shares with the API."""

    topic_prefix: str = ""
    """Prefix for every topic and consumer group name, so clusters can share one Kafka. Cluster contract:
    give the API and the master the same value (the master hands it to its workers)."""
    jobs_partitions: int = Field(default=JOBS_PARTITIONS_DEFAULT, ge=1)
    """Partitions of each ``jobs.<language>`` topic when it is created (the most workers that can share
    one language's queue). Cluster contract: give the API and the master the same value."""
    results_partitions: int = Field(default=RESULTS_PARTITIONS_DEFAULT, ge=1)
    """Partitions of the ``results`` topic when it is created. Cluster contract: give the API and the
    master the same value."""

    @property
    def topics(self) -> Topics:
        """Topic and group names of this cluster."""
        return Topics(self.topic_prefix)

    def topic_partitions(self, languages: Iterable[str]) -> dict[str, int]:
        """Topic name → partition count of the topics ``languages`` need: ``jobs.<language>`` each,
        ``results`` and ``dead-letter``."""
        topics = self.topics
        wanted = {topics.jobs(language): self.jobs_partitions for language in languages}
        wanted[topics.results] = self.results_partitions
        wanted[topics.dead_letter] = DEAD_LETTER_PARTITIONS
        return wanted

    def contract_environment(self) -> dict[str, str]:
        """The contract as the ``EXECUTIONER_*`` variables a process's settings read it from (for the
        environment of a worker container)."""
        return {
            f"{ENV_PREFIX}{name.upper()}": str(getattr(self, name)) for name in ClusterContract.model_fields
        }
