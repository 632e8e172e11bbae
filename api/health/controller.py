"""``/healthz`` (the process is alive) and ``/readyz`` (MySQL and Kafka answer, results are read live)."""

import asyncio
from typing import Literal, TypedDict

from litestar import Response, get
from litestar.di import NamedDependency

from api.db.engine import database_ok
from api.lib.responses import json_response
from api.services import Services


@get("/healthz", tags=["health"], summary="Liveness")
async def healthz() -> dict[str, str]:
    """200 as long as the process serves requests."""
    return {"status": "ok"}


class Readiness(TypedDict):
    """``/readyz``'s body: ``ok`` (200) or ``unavailable`` (503), and each dependency's state."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, Literal["ok", "down"]]


@get("/readyz", tags=["health"], summary="Readiness: MySQL and Kafka reachable, results read live")
async def readyz(services: NamedDependency[Services]) -> Response[Readiness]:
    """200 when MySQL answers ``SELECT 1``, a Kafka broker answers a metadata request (each within about
    2 s) and this replica reads the results topic live (its SSE streams see each event as it comes),
    else 503 naming what is down. Submissions are still accepted while Kafka is down."""
    mysql, kafka = await asyncio.gather(database_ok(services.engine), services.kafka_probe.ok())
    results = services.fanout.live.is_set()
    checks = {
        "mysql": "ok" if mysql else "down",
        "kafka": "ok" if kafka else "down",
        "results": "ok" if results else "down",
    }
    ready = mysql and kafka and results
    return json_response(
        {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
    )
