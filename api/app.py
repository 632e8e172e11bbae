"""The Litestar application factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from api.admin.controller import AdminController
from api.admin.hosts_controller import HostsController
from api.admin.prometheus import PrometheusController
from api.compat.judge0.controller import Judge0SubmissionController
from api.compat.judge0.info_controller import Judge0InfoController
from api.compat.piston.controller import PistonController
from api.events.controller import stream_submission_events
from api.health.controller import healthz, readyz
from api.keys.controller import KeysController
from api.keys.guard import require_key
from api.languages.controller import list_languages
from api.lib.errors import exception_handlers
from api.lib.json_bodies import require_json_body
from api.lib.openapi import SECURITY_SCHEMES
from api.lib.responses import OrjsonResponse
from api.metrics.controller import HTTP_METRICS, metrics
from api.problems.controller import ProblemsController
from api.services import Services
from api.settings import ApiSettings
from api.submissions.controller import SubmissionController
from api.web.controller import web_routes


def _provide_services(state: State) -> Services:
    services: Services = state.services
    return services


def cors_config(settings: ApiSettings) -> CORSConfig | None:
    """CORS for the origins ``EXECUTIONER_CORS_ORIGINS`` lists, or None (no CORS headers) when it is
    empty. Other origins' pages may read and submit (GET, POST with JSON, resume a stream), without
    credentials; the admin API's PUT and ``authorization`` header are not allowed, so its routes stay
    closed to them (docs/security.md)."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["content-type", "last-event-id"],
        allow_credentials=False,
        max_age=600,
    )


def create_app(settings: ApiSettings) -> Litestar:
    """The API as an ASGI app. Its lifespan starts the services (migrations, relay, recorder, intake,
    dead letters, fan-out)
    and stops them on shutdown."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        services = await Services.start(settings)
        app.state.services = services
        try:
            yield
        finally:
            await services.stop()

    return Litestar(
        route_handlers=[
            SubmissionController,
            AdminController,
            Judge0SubmissionController,
            Judge0InfoController,
            PistonController,
            HostsController,
            PrometheusController,
            KeysController,
            ProblemsController,
            stream_submission_events,
            list_languages,
            healthz,
            readyz,
            metrics,
            *web_routes(),
        ],
        dependencies={"services": Provide(_provide_services, sync_to_thread=False)},
        guards=[require_key],
        lifespan=[lifespan],
        exception_handlers=exception_handlers(),
        before_request=require_json_body,
        middleware=[HTTP_METRICS.middleware],
        cors_config=cors_config(settings),
        response_class=OrjsonResponse,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Executioner", version="1", path="/schema", components=SECURITY_SCHEMES
        ),
        # The process configures logging once (common.lifecycle.configure_logging); Litestar must not.
        logging_config=None,
    )
