"""The command line's settings: ``EXECUTIONER_API_URL`` and ``EXECUTIONER_ADMIN_TOKEN``."""

from pydantic import SecretStr

from common.settings import BaseProcessSettings


class CliSettings(BaseProcessSettings):
    """Where the API is and how to prove we are its admin."""

    api_url: str = "http://127.0.0.1:8000"
    """Base URL of an Executioner API."""
    admin_token: SecretStr | None = None
    """The API's admin token (``make up`` prints it)."""
    timeout_s: float = 10.0
    """How long one request may take."""
