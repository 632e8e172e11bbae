"""docs/operations.md explains every metric the API, the master and the workers define, every alert of
deploy/prometheus/alerts.yml and every panel of the Grafana dashboard."""

import json
from pathlib import Path

import pytest
import yaml
from prometheus_client import Counter, Histogram
from prometheus_client.metrics import MetricWrapperBase

import api.metrics.instruments
import master.metrics
import worker.metrics
from master.metrics import PoolCollector

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()


def exposed_name(collector: MetricWrapperBase) -> str:
    """The name a metric is queried by: a counter's with ``_total``."""
    (family,) = collector.describe()
    return f"{family.name}_total" if isinstance(collector, Counter) else family.name


def defined_metrics() -> list[str]:
    modules = (api.metrics.instruments, master.metrics, worker.metrics)
    instruments = [
        value for module in modules for value in vars(module).values() if isinstance(value, MetricWrapperBase)
    ]
    names = [exposed_name(instrument) for instrument in instruments]
    names += [family.name for family in PoolCollector(dict, lambda: True).collect()]
    return names


def test_every_metric_is_documented() -> None:
    names = defined_metrics()
    assert "executioner_worker_sandbox_setup_seconds" in names  # the modules were found
    assert "executioner_master_workers_desired" in names  # and the collector's gauges
    assert any(isinstance(v, Histogram) for v in vars(worker.metrics).values())
    missing = [name for name in names if f"`{name}`" not in OPERATIONS]
    assert not missing, f"docs/operations.md does not explain {missing}"


def test_every_alert_and_panel_is_documented() -> None:
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    alerts = [rule["alert"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "executioner.json").read_text())
    panels = [panel["title"] for panel in dashboard["panels"]]
    assert alerts and panels
    missing = [f"`{a}`" for a in alerts if f"`{a}`" not in OPERATIONS]
    missing += [p for p in panels if f"\n| {p} |" not in OPERATIONS]
    assert not missing, f"docs/operations.md does not explain {missing}"
