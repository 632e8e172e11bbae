"""Settings fragments shared by the processes. Each process composes its own single ``Settings`` class
from these (environment variables with the ``EXECUTIONER_`` prefix) and loads it once at start-up."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.contract import ENV_PREFIX, ClusterContract
from common.log_context import LogFormat
from common.log_repeats import DEFAULT_WINDOW_S


class BaseProcessSettings(BaseSettings):
    """Common configuration: read from ``EXECUTIONER_*`` environment variables."""

    # Attribute docstrings become field descriptions: docs/configuration.md is generated from them.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", use_attribute_docstrings=True)

    log_level: str = "INFO"
    """Python logging level of the process."""
    log_format: LogFormat = LogFormat.TEXT
    """``text``: one readable line per record; ``json``: one JSON object per line, with
    ``submission_id``, ``trace_id``, ``language`` and ``worker`` where they apply (a master hands its value
    to the workers it starts). Never a job's source, stdin or expected output."""
    log_repeat_window_s: float = Field(default=DEFAULT_WINDOW_S, gt=0)
    """A warning or error that repeats (same logger and template, as a client library's every failed
    attempt during an outage) is logged once, then once per this many seconds with the count of repeats
    held back."""
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    """OpenTelemetry's own variable (no ``EXECUTIONER_`` prefix): base URL of an OTLP/HTTP collector
    (``http://collector:4318``) to export traces to; unset, nothing is traced. One trace per submission,
    across the Kafka hops (docs/operations.md, Traces)."""


class KafkaSettings(BaseProcessSettings, ClusterContract):
    """Where Kafka is, and the cluster contract (admission limits, topic names, partition counts), which
    every process reads from the same variables."""

    kafka_bootstrap: str = "127.0.0.1:9092"
    """Comma-separated ``host:port`` list."""


class DatabaseSettings(BaseProcessSettings):
    """Where MySQL is."""

    database_url: str = "mysql+asyncmy://executioner:executioner@127.0.0.1:3306/executioner"
    """SQLAlchemy URL; the driver must be asyncmy."""
