"""deploy/prometheus/ as Debian's promtool (shipped with the prometheus package devstack installs) sees it:
the configuration and the one devstack derives from it are valid, the alert rules are valid, and each
alert fires on the series it is for and on no other (deploy/prometheus/alerts_test.yml)."""

import json
import subprocess
from pathlib import Path

import pytest

from devstack import prometheus
from devstack.system import require_command

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def promtool(*args: str, cwd: Path = DEPLOY / "prometheus") -> str:
    """Run ``promtool``; fail with its output when it disagrees."""
    done = subprocess.run(
        [require_command("promtool"), *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_deployed_configuration_and_rules_are_valid() -> None:
    out = promtool("check", "config", "prometheus.yml")
    assert "1 rule files found" in out
    assert "SUCCESS: 5 rules found" in promtool("check", "rules", "alerts.yml")


def test_the_alerts_fire_when_they_should_and_only_then() -> None:
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


def test_the_devstack_configuration_discovers_through_the_api(tmp_path: Path) -> None:
    config = prometheus.write_config(tmp_path, "127.0.0.1:8123", "s3cret", interval="5s")
    promtool("check", "config", str(config), cwd=tmp_path)
    derived = prometheus.stack_config("127.0.0.1:8123", tmp_path / "admin-token")
    jobs = {job["job_name"]: job for job in derived["scrape_configs"]}
    assert jobs["executioner-api"]["static_configs"] == [{"targets": ["127.0.0.1:8123"]}]
    (discovery,) = jobs["executioner-cluster"]["http_sd_configs"]
    assert discovery["url"] == "http://127.0.0.1:8123/api/v1/admin/prometheus/targets"
    assert discovery["authorization"]["credentials_file"] == str(tmp_path / "admin-token")
    assert (tmp_path / "admin-token").read_text() == "s3cret"
    assert (tmp_path / "admin-token").stat().st_mode & 0o077 == 0  # the token is ours only


def test_the_dashboard_is_grafana_json_with_a_prometheus_input() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "executioner.json").read_text())
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert len(titles) == len(set(titles))
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"
