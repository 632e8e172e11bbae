"""``executioner-worker``: run one worker (settings from ``EXECUTIONER_*`` environment variables)."""

import asyncio

from common.lifecycle import configure_logging
from common.log_context import bind_process
from common.tracing import configure_tracing
from worker.service import serve
from worker.settings import WorkerSettings


def main() -> None:
    """Console-script entry point; exits with the worker's exit code."""
    settings = WorkerSettings()
    configure_logging(settings)
    bind_process(language=settings.language, worker=settings.worker_id)
    configure_tracing("executioner-worker", settings.otel_exporter_otlp_endpoint)
    raise SystemExit(asyncio.run(serve(settings)))


if __name__ == "__main__":
    main()
