"""``GET /metrics``: the API's metrics in the Prometheus text format, and the HTTP middleware's config."""

import logging
import math

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from api.metrics.instruments import outbox_oldest_age, outbox_rows
from api.metrics.outbox import outbox_backlog
from api.services import Services

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"

# HTTP requests by route template (``group_path``), method and status. Litestar runs app middleware only
# around a matched route, so a request for a made-up path is not counted: clients cannot mint labels.
HTTP_METRICS = PrometheusConfig(
    app_name="executioner-api",
    prefix="executioner_http",
    group_path=True,
    exclude=[METRICS_PATH],
)


@get(METRICS_PATH, include_in_schema=False)
async def metrics(services: NamedDependency[Services]) -> Response[bytes]:
    """Every metric of this API process; the outbox gauges are read from MySQL now (NaN while it is
    unreachable, rather than a stale number)."""
    rows: float
    oldest_s: float
    try:
        rows, oldest_s = await outbox_backlog(services.engine)
    except Exception as exc:
        log.debug("metrics: outbox not readable: %s", exc)
        rows, oldest_s = math.nan, math.nan
    outbox_rows.set(rows)
    outbox_oldest_age.set(oldest_s)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
