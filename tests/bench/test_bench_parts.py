"""The bench's pure parts: option parsing, statistics, memory flatness, the SSE client's parsing (against a
local socket server), and the results table."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bench.floor import PhaseResult
from bench.monitor import container_memory_mib, flatness
from bench.options import FULL, QUICK, SCENARIOS, parse
from bench.plot import plot
from bench.report import table
from bench.scenarios.isolation import costs
from bench.sse import SseError, SseStream
from bench.stats import percentile, ratio, slices, summary_ms
from bench.targets import at_most

pytestmark = pytest.mark.unit


def test_scenarios_run_in_their_fixed_order_whatever_the_order_asked() -> None:
    assert parse([]).scenarios == SCENARIOS
    assert parse(["--only", "fanout,throughput"]).scenarios == ("throughput", "fanout")
    with pytest.raises(SystemExit):
        parse(["--only", "throughput,nonsense"])


def test_quick_counts_unless_a_count_is_given() -> None:
    assert parse([]).counts == FULL
    quick = parse(["--quick", "--latency-jobs", "20"])
    assert quick.counts.latency_jobs == 20
    assert quick.counts.jobs == QUICK.jobs and quick.counts.clients == QUICK.clients


def test_settings_get_the_executioner_prefix() -> None:
    options = parse(["--set", "sse_recheck_s=30", "--set", "EXECUTIONER_LOG_LEVEL=WARNING"])
    assert options.settings == {"EXECUTIONER_SSE_RECHECK_S": "30", "EXECUTIONER_LOG_LEVEL": "WARNING"}


def test_percentiles_interpolate_between_ranks() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == pytest.approx(50.5)
    assert percentile(samples, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
    summary = summary_ms([3.0, 1.0, 2.0])
    assert summary["count"] == 3 and summary["p50"] == 2.0 and summary["max"] == 3.0
    assert summary_ms([]) == {"count": 0}
    assert ratio(7.0, 10.0) == 0.7 and ratio(1.0, 0.0) is None
    assert slices([1.0, 2.0, 3.0, 4.0, 5.0], 2) == [[1.0, 2.0], [3.0, 4.0, 5.0]]
    assert slices([1.0], 10) == [[1.0]] and slices([], 10) == []


def test_memory_is_flat_unless_it_keeps_growing() -> None:
    steady = [100.0, 180.0, 200.0, 201.0, 199.0, 202.0, 200.0, 203.0]  # start-up, then flat
    assert flatness(steady)["flat"] is True
    growing = [100.0 + 40 * n for n in range(8)]
    view = flatness(growing)
    assert view["flat"] is False and view["growth"] > 100
    assert flatness([1.0]) == {"samples": 1}


def test_container_memory_leaves_out_the_inactive_page_cache() -> None:
    mib = 1024 * 1024
    v1 = {"memory_stats": {"usage": 300 * mib, "stats": {"total_inactive_file": 100 * mib}}}
    v2 = {"memory_stats": {"usage": 300 * mib, "stats": {"inactive_file": 50 * mib}}}
    assert container_memory_mib(v1) == 200.0
    assert container_memory_mib(v2) == 250.0
    assert container_memory_mib({"memory_stats": {}}) is None


def _chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


@contextlib.asynccontextmanager
async def _serve_once(answer: bytes) -> AsyncIterator[str]:
    """A local server answering one request with ``answer``; yields its URL."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/events"


STREAM_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


async def test_sse_events_survive_chunk_boundaries_anywhere() -> None:
    # CRLF line ends split across chunks, a ping comment, a multi-line data field, an event cut by the end.
    body = _chunked(
        b'event: status\r\nid: 0\r\ndata: {"status"',
        b': "queued"}\r',
        b"\n\r\n: ping\r\n\r\n",
        b"event: result\r\nid: 2\r\ndata: line 1\r\ndata: line 2\r\n\r\nevent: cut",
    )
    async with _serve_once(STREAM_HEAD + body) as url:
        stream = await SseStream.open(url)
        try:
            first = await stream.next_event()
            assert first is not None
            assert (first.event, first.id, first.data) == ("status", "0", '{"status": "queued"}')
            result = await stream.until("result")
            assert (result.id, result.data) == ("2", "line 1\nline 2")
            assert await stream.next_event() is None
        finally:
            stream.close()


async def test_a_non_stream_answer_is_an_error() -> None:
    async with _serve_once(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n") as url:
        with pytest.raises(SseError, match="404"):
            await SseStream.open(url)


def test_the_table_shows_numbers_next_to_floor_and_target_and_failures() -> None:
    latency = {
        "latency_ms": {"p50": 30.0, "p95": 40.0, "p99": 60.0},
        "overhead_ms": {"p50": 10.0, "p95": 20.0, "p99": 40.0},
        "floor": {"sequential": {"job_ms": {"p50": 20.0, "p95": 22.0, "p99": 25.0}}},
        "targets": [at_most("idle overhead p50", 10.0, 15.0, "ms")],
    }
    text = table({"latency": latency, "fanout": {"error": "TimeoutError: 3 results still missing"}})
    lines = text.splitlines()
    assert lines[0].split() == ["scenario", "metric", "cluster", "floor", "vs", "floor", "/", "target"]
    p50 = next(line for line in lines if "ms p50" in line)
    assert "30.0" in p50 and "20.0" in p50 and "overhead 10.0 ms" in p50
    assert any(
        line.startswith("targets") and "idle overhead p50" in line and "<= 15 ok" in line for line in lines
    )
    assert any(line.startswith("fanout") and "FAILED" in line and "TimeoutError" in line for line in lines)


def test_isolation_costs_are_added_to_the_plain_runc_median() -> None:
    def phase(name: str, job_ms: list[float]) -> PhaseResult:
        return PhaseResult(name, len(job_ms), 1, name == "runc_bwrap", 1.0, job_ms, 0, None)

    measured = {
        "runc": phase("runc", [20.0, 22.0, 90.0]),
        "runc_bwrap": phase("runc_bwrap", [30.0, 34.0, 35.0]),
        "gvisor": phase("gvisor", [50.0, 60.0, 61.0]),
    }
    assert costs(measured) == {"runc_bwrap": 12.0, "gvisor": 38.0}


def test_the_table_shows_each_isolation_and_says_when_gvisor_was_not_measured() -> None:
    def view(p50: float) -> dict[str, Any]:
        return {"job_ms": {"p50": p50}}

    result = {
        "jobs": 20,
        "gvisor_runtime": "runsc",
        "python": {
            "floor": {"runc": view(25.0), "runc_bwrap": view(54.5), "gvisor": view(54.7)},
            "added_p50_ms": {"runc_bwrap": 29.5, "gvisor": 29.7},
        },
        "c": {
            "floor": {"runc": view(113.0), "runc_bwrap": view(128.1)},
            "added_p50_ms": {"runc_bwrap": 15.1},
        },
        "gvisor_missing": "Docker has no runtime 'runsc'",
    }
    lines = table({"isolation": result}).splitlines()
    python = next(line for line in lines if "python job ms" in line)
    assert "runc / runc_bwrap / gvisor" in python and "25.0 / 54.5 / 54.7" in python
    assert "runc_bwrap +29.5 ms, gvisor +29.7 ms" in python
    c = next(line for line in lines if "c job ms" in line)
    assert "113.0 / 128.1" in c and "gvisor" not in c
    assert any("gVisor not measured" in line and "no runtime 'runsc'" in line for line in lines)


def test_the_plot_draws_every_isolation_bar(tmp_path: Path) -> None:
    def view(p50: float) -> dict[str, Any]:
        return {"job_ms": {"p50": p50}}

    four = {"runc": view(18.0), "runc_bwrap": view(28.0), "gvisor": view(36.0), "gvisor_bwrap": view(93.0)}
    result = {
        "jobs": 20,
        "gvisor_runtime": "runsc",
        "python": {"floor": four, "added_p50_ms": {}},
        "c": {"floor": four, "added_p50_ms": {}},
    }
    path = tmp_path / "isolation.png"
    plot({"isolation": result}, "isolation", path)
    assert path.stat().st_size > 0


def test_the_hosts_scenario_reports_both_rates_and_their_ratio(tmp_path: Path) -> None:
    def phase(rate: float, placed: dict[str, int]) -> dict[str, Any]:
        return {"jobs": 200, "elapsed_s": 200 / rate, "jobs_per_s": rate, "workers_per_host": placed}

    result = {
        "workers": 2,
        "one_host": phase(20.0, {"box": 2}),
        "two_hosts": phase(19.0, {"box": 1, "host2-13342": 1}),
        "ratio_two_to_one": 0.95,
    }
    lines = table({"hosts": result}).splitlines()
    one = next(line for line in lines if "on 1 host" in line)
    two = next(line for line in lines if "split over 2 hosts" in line)
    assert "20.0" in one and "19.0" in two and "ratio 2/1 hosts 0.95" in two
    assert plot({"hosts": result}, "hosts", tmp_path / "hosts.png")
    assert (tmp_path / "hosts.png").stat().st_size > 0
