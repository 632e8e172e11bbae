"""The pure parts of Prometheus service discovery: where Docker published a worker's metrics, the
master's advertised address, and the ``http_sd`` target groups made of the master's pool reports."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.admin.prometheus import target_groups
from master.docker_adapter import published_metrics
from master.metrics import metrics_address
from master.settings import MasterSettings
from master.spec import LABEL_METRICS_PORT
from schemas.pools import ContainerReport, MasterReport, PoolStatus

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)
URL = "mysql+asyncmy://u:p@h/d"


def attrs(labels: dict[str, str], ports: dict[str, Any] | None) -> dict[str, Any]:
    return {"Config": {"Labels": labels}, "NetworkSettings": {"Ports": ports}}


def test_the_published_metrics_port_is_found_by_its_label() -> None:
    published = {"9400/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32771"}], "22/tcp": None}
    assert published_metrics(attrs({LABEL_METRICS_PORT: "9400"}, published)) == "127.0.0.1:32771"
    # Without the label (a master without a metrics port) or before Docker published it: none.
    assert published_metrics(attrs({}, published)) is None
    assert published_metrics(attrs({LABEL_METRICS_PORT: "9400"}, {"9400/tcp": None})) is None
    assert published_metrics(attrs({LABEL_METRICS_PORT: "9400"}, None)) is None


def test_the_master_advertises_its_metrics_address() -> None:
    assert metrics_address(MasterSettings(database_url=URL)) is None
    settings = MasterSettings(database_url=URL, master_metrics_port=9464)
    assert metrics_address(settings) == "127.0.0.1:9464"
    wildcard = MasterSettings(database_url=URL, master_metrics_port=9464, master_metrics_host="0.0.0.0")
    address = metrics_address(wildcard)
    assert address is not None and address.endswith(":9464") and not address.startswith("0.0.0.0")
    ipv6 = MasterSettings(database_url=URL, master_metrics_port=9464, master_metrics_host="::1")
    assert metrics_address(ipv6) == "[::1]:9464"


def master(metrics: str | None, since: datetime = NOW) -> MasterReport:
    return MasterReport(
        id="m:1", lock="executioner-master-dev", connection_id=7, active_since=since, metrics=metrics
    )


def status(containers: list[ContainerReport], *, observed_at: datetime = NOW, **kwargs: Any) -> PoolStatus:
    return PoolStatus(
        cluster="dev",
        image="executioner/worker-python:latest",
        image_id="sha256:0",
        desired=len(containers),
        running=len(containers),
        containers=containers,
        problem=None,
        backoff_until=None,
        recent_failures=[],
        observed_at=observed_at,
        **kwargs,
    )


def worker(name: str, metrics: str | None, host: str | None = "h1") -> ContainerReport:
    return ContainerReport(
        id="0" * 12, name=name, state="running", started_at=NOW, host=host, metrics=metrics
    )


def test_every_worker_with_a_published_port_is_a_target_with_its_labels() -> None:
    statuses = {
        "python": status(
            [worker("w-py-1", "127.0.0.1:32001"), worker("w-py-2", None)],
            observed_at=NOW - timedelta(seconds=1),
            master=master(None),
        ),
        "c": status([worker("w-c-1", "127.0.0.1:32002", host=None)], master=master("m:9464")),
    }
    assert target_groups(statuses) == [
        {"targets": ["m:9464"], "labels": {"component": "master", "cluster": "dev", "master": "m:1"}},
        {
            "targets": ["127.0.0.1:32002"],
            "labels": {
                "component": "worker",
                "cluster": "dev",
                "worker": "w-c-1",
                "__meta_executioner_language": "c",
            },
        },
        {
            "targets": ["127.0.0.1:32001"],
            "labels": {
                "component": "worker",
                "cluster": "dev",
                "worker": "w-py-1",
                "__meta_executioner_language": "python",
                "host": "h1",
            },
        },
    ]


def test_the_newest_report_names_the_master() -> None:
    old = status([], observed_at=NOW - timedelta(minutes=5), master=master("old:9464"))
    new = status([], observed_at=NOW, master=master("new:9464"))
    assert [g["targets"] for g in target_groups({"python": old, "c": new})] == [["new:9464"]]


def test_no_report_no_targets() -> None:
    assert target_groups({}) == []
    assert target_groups({"python": status([])}) == []
