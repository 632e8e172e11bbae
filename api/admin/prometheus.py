"""``GET /api/v1/admin/prometheus/targets``: Prometheus HTTP service discovery of the cluster's metrics.

The API does not talk to Docker: it lists what the active master recorded in ``pool_status`` at its
last reconcile pass (every worker's published metrics address, and the master's own), so a worker
appears within a pass of starting and is gone within a pass of stopping. The answer is Prometheus's
``http_sd`` format; the route is an admin route, and Prometheus sends the token itself
(``http_sd_configs`` → ``authorization: {credentials_file: ...}``, deploy/prometheus/prometheus.yml).
"""

from collections.abc import Mapping
from typing import TypedDict

from litestar import Controller, get
from litestar.di import NamedDependency

from api.admin.auth import require_admin
from api.admin.repository import read_statuses
from api.lib.errors import documented_errors
from api.lib.openapi import ADMIN_SECURITY
from api.services import Services
from schemas.pools import PoolStatus


class TargetGroup(TypedDict):
    """One ``http_sd`` target group: ``host:port`` addresses and the labels every series of theirs gets.

    Labels: ``component`` (``worker`` or ``master``), ``cluster``, and for a worker ``worker`` (its
    container name, the ``worker`` of results) and ``host`` (the Docker host's name). A worker's language
    is ``__meta_executioner_language``: its series carry ``language`` already, and a target label of the
    same name would make Prometheus rename theirs to ``exported_language``.
    """

    targets: list[str]
    labels: dict[str, str]


def target_groups(statuses: Mapping[str, PoolStatus]) -> list[TargetGroup]:
    """The master (of the newest report) and every worker with a published metrics port, one group each,
    in a stable order."""
    groups: list[TargetGroup] = []
    reported = [status for status in statuses.values() if status.master is not None]
    if reported:
        newest = max(reported, key=lambda status: status.observed_at)
        assert newest.master is not None
        if newest.master.metrics is not None:
            groups.append(
                {
                    "targets": [newest.master.metrics],
                    "labels": {"component": "master", "cluster": newest.cluster, "master": newest.master.id},
                }
            )
    for language, status in sorted(statuses.items()):
        for container in status.containers:
            if container.metrics is None:
                continue
            labels = {
                "component": "worker",
                "cluster": status.cluster,
                "worker": container.name,
                "__meta_executioner_language": language,
            }
            if container.host:
                labels["host"] = container.host
            groups.append({"targets": [container.metrics], "labels": labels})
    return groups


class PrometheusController(Controller):
    """Service discovery for Prometheus; an admin route like the others."""

    path = "/api/v1/admin/prometheus"
    tags = ["admin"]
    guards = [require_admin]
    security = ADMIN_SECURITY

    @get(
        "/targets",
        summary="Prometheus HTTP service discovery (http_sd) of the master and every worker",
        responses=documented_errors(
            {
                401: "No admin token (Authorization: Bearer <token>).",
                403: "Wrong admin token.",
                503: "The admin API is disabled: no admin token is configured.",
            }
        ),
    )
    async def targets(self, services: NamedDependency[Services]) -> list[TargetGroup]:
        """Target groups in Prometheus's ``http_sd`` format: the active master's metrics address and each
        worker's, as the master last reported them; ``[]`` when it reported none."""
        async with services.engine.connect() as conn:
            statuses = await read_statuses(conn)
        return target_groups(statuses)
