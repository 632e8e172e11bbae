"""The CPU budget's arithmetic (bench/cpu_budget.py) and the API's split by task from py-spy's samples
(bench/api_profile.py): pure logic, on made-up samples."""

from collections import Counter

import pytest

from bench.api_profile import EVENT_LOOP, OTHER, parse_raw, part_of, shares
from bench.cpu_budget import CpuSample, WorkerCpu, budget, grown
from bench.report import table

pytestmark = pytest.mark.unit


def _sample(
    at_s: float, processes: dict[str, float], workers: dict[str, WorkerCpu], machine_s: float
) -> CpuSample:
    return CpuSample(at_s=at_s, processes=processes, workers=workers, machine_s=machine_s)


BEFORE = _sample(
    100.0,
    {"api": 10.0, "master": 5.0, "kafka": 50.0, "mariadb": 20.0, "dockerd": 3.0, "bench": 1.0},
    {"w1": WorkerCpu(container_s=30.0, main_s=4.0, pool_s={101: 2.0, 102: 2.5})},
    machine_s=1000.0,
)
AFTER = _sample(
    110.0,  # 10 s later, 100 jobs
    {"api": 12.0, "master": 5.1, "kafka": 51.0, "mariadb": 20.5, "dockerd": 3.2, "bench": 2.0},
    {
        # w1: 6 s in the container, 1 s of it the main process, 0.5 + 0.5 s the two pool processes.
        "w1": WorkerCpu(container_s=36.0, main_s=5.0, pool_s={101: 2.5, 102: 3.0}),
        # w2 started during the phase: everything it has counts.
        "w2": WorkerCpu(container_s=1.0, main_s=0.4, pool_s={201: 0.1}),
    },
    machine_s=1016.0,
)


def test_each_process_costs_its_cpu_growth_per_job_and_in_cores() -> None:
    found = budget(BEFORE, AFTER, jobs=100)
    rows = found["processes"]
    assert found["elapsed_s"] == 10.0 and found["missing"] == []
    assert rows["api"] == {"ms_per_job": 20.0, "cores": 0.2}
    assert rows["kafka"]["ms_per_job"] == 10.0 and rows["mariadb"]["ms_per_job"] == 5.0
    assert rows["master"]["ms_per_job"] == pytest.approx(1.0)
    assert rows["dockerd"]["ms_per_job"] == pytest.approx(2.0)


def test_a_worker_container_splits_into_main_pool_processes_and_jobs() -> None:
    rows = budget(BEFORE, AFTER, jobs=100)["processes"]
    # containers 6 + 1 s; main 1 + 0.4 s; pool processes themselves 0.5 + 0.5 + 0.1 s.
    assert rows["worker containers"]["ms_per_job"] == pytest.approx(70.0)
    assert rows["worker main"]["ms_per_job"] == pytest.approx(14.0)
    assert rows["pool processes"]["ms_per_job"] == pytest.approx(56.0)  # the container minus main
    assert rows["pool processes themselves"]["ms_per_job"] == pytest.approx(11.0)
    assert rows["jobs"]["ms_per_job"] == pytest.approx(45.0)


def test_the_totals_set_the_stack_against_the_jobs_and_keep_the_bench_apart() -> None:
    totals = budget(BEFORE, AFTER, jobs=100)["totals"]
    # stack: api 2 + master 0.1 + kafka 1 + mariadb 0.5 + dockerd 0.2 + main 1.4 + pool 1.1 = 6.3 s
    assert totals["stack"]["ms_per_job"] == pytest.approx(63.0)
    assert totals["jobs"]["ms_per_job"] == pytest.approx(45.0)
    assert totals["bench"]["ms_per_job"] == pytest.approx(10.0)
    assert totals["machine"] == {"ms_per_job": 160.0, "cores": 1.6}


def test_the_api_row_is_split_by_the_profile_shares() -> None:
    rows = budget(BEFORE, AFTER, jobs=100, api_shares={"HTTP requests": 0.75, "outbox relay": 0.25})[
        "processes"
    ]
    assert rows["api: HTTP requests"]["ms_per_job"] == 15.0
    assert rows["api: outbox relay"]["ms_per_job"] == 5.0
    assert list(rows)[:3] == ["api", "api: HTTP requests", "api: outbox relay"]


def test_processes_not_found_are_listed_and_gvisor_workers_are_one_row() -> None:
    before = _sample(0.0, {"api": 1.0}, {"w": WorkerCpu(10.0, None)}, 0.0)
    after = _sample(2.0, {"api": 2.0}, {"w": WorkerCpu(12.0, None)}, 3.0)
    found = budget(before, after, jobs=10)
    assert found["missing"] == ["master", "kafka", "mariadb", "dockerd"]
    assert found["processes"]["worker containers"]["ms_per_job"] == 200.0
    assert "jobs" not in found["totals"] and "worker main" not in found["processes"]
    with pytest.raises(ValueError, match="needs jobs"):
        budget(before, after, jobs=0)


def test_growth_counts_newcomers_from_zero_and_leaves_the_departed_out() -> None:
    assert grown({"a": 1.0, "gone": 5.0}, {"a": 3.0, "new": 0.5}) == pytest.approx(2.5)


LOOP = [  # uvicorn runs the event loop: every task's stack starts with its frames
    "<module> (api/__main__.py:28)",
    "run (uvicorn/main.py:643)",
    "asyncio_run (uvicorn/_compat.py:30)",
    "Runner.run (asyncio/runners.py:118)",
    "BaseEventLoop.run_forever (asyncio/base_events.py:607)",
    "Handle._run (asyncio/events.py:80)",
]


def test_a_sample_goes_to_the_first_part_its_task_frames_match() -> None:
    request = [
        *LOOP,
        "RequestResponseCycle.run_asgi (uvicorn/protocols/http/httptools_impl.py:420)",
        "insert_outbox (api/outbox/leases.py:12)",
    ]
    assert part_of(request) == "HTTP requests"  # a POST writing its outbox row is the request's
    recorder = [
        *LOOP,
        "run (api/lib/consumer.py:120)",
        "write (api/results/apply.py:40)",
        "x (sqlalchemy/x.py:1)",
    ]
    assert part_of(recorder) == "results recorder"  # not uvicorn's, though uvicorn runs the loop
    shared = [*LOOP, "run (api/lib/consumer.py:120)", "getmany (aiokafka/consumer/consumer.py:1)"]
    assert part_of(shared) == "consumers' shared loop"
    fetcher = [
        *LOOP,
        "Fetcher._proc_fetch_request (aiokafka/consumer/fetcher.py:747)",
        "w (asyncio/streams.py:1)",
    ]
    assert part_of(fetcher) == "Kafka clients' own tasks"
    greenlet = [*LOOP, "Connection.execute (sqlalchemy/engine/base.py:1494)"]
    assert part_of(greenlet) == "MySQL calls, any task's"
    assert part_of(LOOP) == EVENT_LOOP  # no task running: the loop's own callbacks
    assert part_of([*LOOP, "sleep (asyncio/tasks.py:640)"]) == OTHER
    assert part_of(["Thread.run (threading.py:982)", "work (litestar/x.py:1)"]) == "HTTP requests"  # no loop


def test_py_spy_raw_output_becomes_shares_of_the_samples() -> None:
    raw = (
        "run (asyncio/runners.py:118);run (api/outbox/relay.py:120);publish (aiokafka/producer.py:9) 30\n"
        "run (asyncio/runners.py:118);run_asgi (uvicorn/protocols/http/h11_impl.py:1) 60\n"
        "run (asyncio/runners.py:118);_run_once (asyncio/base_events.py:1922) 6\n"
        " 4\n"  # no Python frame at all: native code
        "garbage line\n"
    )
    samples = parse_raw(raw)
    assert samples == Counter({"HTTP requests": 60, "outbox relay": 30, EVENT_LOOP: 6, OTHER: 4})
    assert shares(samples) == {"HTTP requests": 0.6, "outbox relay": 0.3, EVENT_LOOP: 0.06, OTHER: 0.04}
    assert shares(Counter()) == {}


def test_the_table_shows_both_phases_budget_side_by_side() -> None:
    http = budget(BEFORE, AFTER, jobs=100)
    kafka = budget(BEFORE, AFTER, jobs=50)
    throughput = {
        "http": {"jobs_per_s": 10.0, "cpu": http},
        "kafka": {"jobs_per_s": 12.0, "cpu": kafka},
        "floor": {"bare": {"jobs_per_s": 20.0}, "sandboxed": {"jobs_per_s": 15.0}},
        "fraction_of_bare_floor": {"http": 0.5, "kafka": 0.6},
        "fraction_of_sandboxed_floor": {"http": 0.667, "kafka": 0.8},
        "targets": [],
    }
    lines = table({"throughput": throughput}).splitlines()
    api = next(line for line in lines if line.startswith("cpu") and line.split()[1] == "api")
    assert "20.0 / 40.0" in api and "0.20 / 0.20" in api
    assert any("total: stack" in line and "63.0 / 126.0" in line for line in lines)


def test_the_fanout_rows_show_the_delay_over_the_phase_and_the_cpu_per_result() -> None:
    fanout = {
        "clients": 1000,
        "received": 1000,
        "results_per_s": 1000.0,
        "kib_per_connection": 38.0,
        "delay_ms": {"p50": 8.0, "p99": 90.0},
        "delay_ms_by_tenth": [{"p99": 10.0 * n} for n in range(1, 11)],
        "publish_s": 1.2,
        "cpu": budget(BEFORE, AFTER, jobs=100, api_shares={"SSE fan-out": 1.0}),
        "targets": [],
    }
    lines = table({"fanout": fanout}).splitlines()
    assert any("by tenth" in line and "10 20 30 40 50 60 70 80 90 100" in line for line in lines)
    assert any("CPU ms per result: api: SSE fan-out" in line and "20.00" in line for line in lines)
    assert not any("CPU ms per result: master" in line for line in lines)
