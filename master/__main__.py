"""``executioner-master``: keep this cluster's worker containers at their desired counts."""

import asyncio
import logging

from common.lifecycle import configure_logging, install_stop_signals
from common.tracing import configure_tracing
from master.app import ConfigurationError, serve
from master.settings import MasterSettings

log = logging.getLogger("master")


async def _main(settings: MasterSettings) -> None:
    stop = asyncio.Event()
    install_stop_signals(stop)
    await serve(settings, stop)


def main() -> None:
    """Entry point of the console script."""
    settings = MasterSettings()
    configure_logging(settings)
    configure_tracing("executioner-master", settings.otel_exporter_otlp_endpoint)
    try:
        asyncio.run(_main(settings))
    except ConfigurationError as exc:
        log.error("configuration error: %s", exc)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
