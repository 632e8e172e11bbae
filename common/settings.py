"""Settings fragments shared by the processes. Each process composes its own single ``Settings`` class
from these (environment variables with the ``EXECUTIONER_`` prefix) and loads it once at start-up."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.contract import ENV_PREFIX, ClusterContract
from common.log_repeats import DEFAULT_WINDOW_S


class BaseProcessSettings(BaseSettings):
    """Common configuration: read from ``EXECUTIONER_*`` environment variables."""

    # Attribute docstrings become field descriptions: docs/configuration.md is generated from them.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", use_attribute_docstrings=True)

    log_level: str = "INFO"
    """Python logging level of the process."""
    log_repeat_window_s: float = Field(default=DEFAULT_WINDOW_S, gt=0)
    """A warning or error that repeats (same logger and template, as a client library's every failed
    attempt during an outage) is logged once, then once per this many seconds with the count of repeats
    held back."""


class KafkaSettings(BaseProcessSettings, ClusterContract):
    """Where Kafka is, and the cluster contract (admission limits, topic names, partition counts), which
    every process reads from the same variables."""

    kafka_bootstrap: str = "127.0.0.1:9092"
    """Comma-separated ``host:port`` list."""


class DatabaseSettings(BaseProcessSettings):
    """Where MySQL is."""

    database_url: str = "mysql+asyncmy://executioner:executioner@127.0.0.1:3306/executioner"
    """SQLAlchemy URL; the driver must be asyncmy."""
