"""The autoscaler's cap follows the hosts that take workers: added, drained and down hosts change it."""

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from master.docker_adapter import DockerAdapter
from master.fleet import fleet_budget
from master.hosts import Engine, Hosts
from master.settings import MasterSettings

pytestmark = pytest.mark.unit

CONNECTED = cast(DockerAdapter, object())  # state() only asks whether a client exists


def engine(name: str, *, wanted: str = "up", cpus: float | None = 2.0, down: bool = False) -> Engine:
    return Engine(
        name, f"unix:///run/{name}.sock", wanted, adapter=CONNECTED, cpus=cpus, memory_mb=64_000, down=down
    )


def hosts_of(*engines: Engine) -> Hosts:
    hosts = Hosts(settings(), asyncio.Queue())
    hosts.engines = {e.name: e for e in engines}
    return hosts


def settings(**overrides: Any) -> MasterSettings:
    # 1 CPU per worker and no overcommit: a host of 2 CPUs holds 2 workers.
    return MasterSettings(worker_cpus=1.0, host_cpu_overcommit=1.0, **overrides)


def test_the_cap_is_the_room_on_every_host_that_takes_workers() -> None:
    budget = fleet_budget(hosts_of(engine("a"), engine("b", cpus=4.0)), settings())
    assert budget.workers == 6
    assert budget.reason.startswith("2 host(s)")


def test_a_host_added_later_raises_the_cap() -> None:
    hosts = hosts_of(engine("a"))
    assert fleet_budget(hosts, settings()).workers == 2
    hosts.engines["b"] = engine("b")
    assert fleet_budget(hosts, settings()).workers == 4


def test_drained_down_unreachable_and_unsized_hosts_add_nothing() -> None:
    unreachable = engine("u")
    unreachable.failing_since = datetime.now(UTC)
    hosts = hosts_of(
        engine("a"),
        engine("d", wanted="draining"),
        engine("x", down=True),
        unreachable,
        engine("n", cpus=None),
    )
    assert fleet_budget(hosts, settings()).workers == 2


def test_no_host_that_takes_workers_means_no_room_rather_than_no_limit() -> None:
    hosts = hosts_of(engine("x", down=True))
    assert fleet_budget(hosts, settings()).workers == 0
