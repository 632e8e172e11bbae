"""The command line's settings: the API (``EXECUTIONER_API_URL``, ``EXECUTIONER_ADMIN_TOKEN``) and, for
``executioner grade --via kafka``, Kafka (``EXECUTIONER_KAFKA_BOOTSTRAP``, ``EXECUTIONER_TOPIC_PREFIX``)."""

from pydantic import SecretStr

from common.settings import KafkaSettings


class CliSettings(KafkaSettings):
    """Where the API and Kafka are and how to prove we are the API's admin."""

    api_url: str = "http://127.0.0.1:8000"
    """Base URL of an Executioner API."""
    admin_token: SecretStr | None = None
    """The API's admin token (``make up`` prints it)."""
    timeout_s: float = 10.0
    """How long one admin request may take."""
