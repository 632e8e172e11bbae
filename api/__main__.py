"""``executioner-api``: serve the API with uvicorn; SIGTERM drains (open requests and SSE streams get
``EXECUTIONER_SHUTDOWN_GRACE_S``, then the lifespan stops the background tasks)."""

import uvicorn

from api.app import create_app
from api.settings import ApiSettings
from common.lifecycle import configure_logging
from common.tracing import configure_tracing


def main() -> None:
    """Load the settings once and serve until SIGTERM or SIGINT."""
    settings = ApiSettings()
    configure_logging(settings)
    configure_tracing("executioner-api", settings.otel_exporter_otlp_endpoint)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,  # keep configure_logging's format
        proxy_headers=True,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s),
    )


if __name__ == "__main__":
    main()
