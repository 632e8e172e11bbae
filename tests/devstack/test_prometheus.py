"""``EXECUTIONER_DEV_PROMETHEUS=1 make up``'s Prometheus (devstack/prometheus.py) against a stand-in API:
it starts from the deployed configuration, sends the admin token from its file, scrapes the API and
what the discovery route lists, and stops with the stack."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack import processes, prometheus
from devstack.profile import Profile

pytestmark = pytest.mark.unit

TOKEN = "dev-token"


class StandInApi(BaseHTTPRequestHandler):
    """``/metrics`` and the discovery route (which lists this server as the master), token checked."""

    seen_tokens: list[str] = []

    def do_GET(self) -> None:
        address = self.server.server_address
        assert isinstance(address, tuple)
        host, port = address[0], address[1]
        if self.path == "/metrics":
            self._reply(200, "text/plain; version=0.0.4", b"executioner_stand_in 1\n")
        elif self.path == "/api/v1/admin/prometheus/targets":
            self.seen_tokens.append(self.headers.get("Authorization", ""))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._reply(401, "application/json", b"{}")
                return
            groups = [{"targets": [f"{host}:{port}"], "labels": {"component": "master"}}]
            self._reply(200, "application/json", json.dumps(groups).encode())
        else:
            self._reply(404, "text/plain", b"")

    def _reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        """Quiet."""


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_make_up_prometheus_discovers_through_the_api(
    api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = Profile("scratch", tmp_path, 1, 2, 3, 4, api_port=None)
    monkeypatch.setenv("EXECUTIONER_DEV_PROMETHEUS", "1")
    monkeypatch.setenv("EXECUTIONER_DEV_PROMETHEUS_PORT", str(processes.free_port()))
    monkeypatch.delenv("EXECUTIONER_MASTER_METRICS_PORT", raising=False)
    settings = prometheus.app_settings()
    assert settings["EXECUTIONER_WORKER_METRICS_PORT"] == str(prometheus.WORKER_METRICS_PORT)
    assert int(settings["EXECUTIONER_MASTER_METRICS_PORT"]) > 0
    url = prometheus.start(profile, api, TOKEN)
    try:
        assert prometheus.running_url(profile) == url
        deadline = time.monotonic() + 60
        while True:  # the deployed config refreshes discovery and scrapes every 15 s
            active = httpx.get(f"{url}/api/v1/targets").json()["data"]["activeTargets"]
            health = {t["labels"]["job"]: t["health"] for t in active}
            if health == {"executioner-api": "up", "executioner-cluster": "up"}:
                break
            assert time.monotonic() < deadline, f"targets never came up: {active}"
            time.sleep(0.5)
        assert set(StandInApi.seen_tokens) == {f"Bearer {TOKEN}"}
    finally:
        assert processes.stop(prometheus.pid_file(profile))
    assert prometheus.running_url(profile) is None


def test_without_the_variable_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXECUTIONER_DEV_PROMETHEUS", raising=False)
    assert not prometheus.enabled()
    assert prometheus.app_settings() == {}
