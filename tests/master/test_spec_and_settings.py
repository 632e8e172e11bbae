"""Worker container arguments, names and the master's settings."""

import os
import re

import pytest

from common.contract import ClusterContract
from master.seccomp import worker_profile_json
from master.settings import MasterSettings
from master.spec import worker_name, worker_run_args
from worker.settings import WorkerSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> MasterSettings:
    for variable in (
        "CLUSTER",
        "LANGUAGES",
        "WORKER_KAFKA_BOOTSTRAP",
        "WORKER_DATABASE_URL",
        "WORKER_RUNTIME",
        "KAFKA_BOOTSTRAP",
        "TOPIC_PREFIX",
    ):
        monkeypatch.delenv(f"EXECUTIONER_{variable}", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.setenv("EXECUTIONER_CLUSTER", "prod")
    monkeypatch.setenv("EXECUTIONER_LANGUAGES", '["python", "cpp"]')
    monkeypatch.setenv("EXECUTIONER_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    monkeypatch.setenv("EXECUTIONER_TOPIC_PREFIX", "t.")
    monkeypatch.setenv("EXECUTIONER_WORKER_CPUS", "1.5")
    return MasterSettings()


def test_settings_come_from_the_environment(settings: MasterSettings) -> None:
    assert settings.cluster == "prod"
    assert settings.languages == ["python", "cpp"]
    assert settings.worker_bootstrap == "127.0.0.1:9092"  # defaults to the master's own
    assert settings.image_for("cpp") == "executioner/worker-cpp:latest"
    assert settings.stop_workers_on_exit is False
    assert settings.runtimes_dir.name == "runtimes"


def test_a_cluster_name_docker_would_reject_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXECUTIONER_CLUSTER", "my cluster")
    with pytest.raises(ValueError, match="cluster"):
        MasterSettings()


def test_worker_names_are_unique_and_docker_safe() -> None:
    names = {worker_name("dev", "c++") for _ in range(50)}
    assert len(names) == 50
    assert all(re.fullmatch(r"executioner-dev-c---[0-9a-f]{6}", n) for n in names)


def test_worker_run_args(settings: MasterSettings) -> None:
    args = worker_run_args(
        settings.model_copy(update={"worker_kafka_bootstrap": "172.17.0.1:9094"}), "cpp", "w-1"
    )
    assert args["image"] == "executioner/worker-cpp:latest"
    assert args["labels"] == {
        "org.executioner.cluster": "prod",
        "org.executioner.language": "cpp",
        "org.executioner.role": "worker",
    }
    assert args["environment"] == {
        "EXECUTIONER_KAFKA_BOOTSTRAP": "172.17.0.1:9094",
        "EXECUTIONER_MAX_SOURCE_BYTES": "65536",
        "EXECUTIONER_MAX_FILES_BYTES": "524288",
        "EXECUTIONER_MAX_STDIN_BYTES": "1048576",
        "EXECUTIONER_AUTH": "off",
        "EXECUTIONER_TOPIC_PREFIX": "t.",
        "EXECUTIONER_JOBS_PARTITIONS": "6",
        "EXECUTIONER_RESULTS_PARTITIONS": "6",
        "EXECUTIONER_LANGUAGE": "cpp",
        "EXECUTIONER_WORKER_ID": "w-1",
        "EXECUTIONER_POOL_SIZE": "1",
        "EXECUTIONER_LOG_LEVEL": settings.log_level,
        "EXECUTIONER_LOG_FORMAT": "text",
        "EXECUTIONER_LOG_REPEAT_WINDOW_S": str(settings.log_repeat_window_s),
        "EXECUTIONER_SANDBOX": "warm",  # the master's default (bwrap is one setting away)
        "EXECUTIONER_TEST_CACHE_MB": "128",
    }
    assert (args["mem_limit"], args["nano_cpus"], args["pids_limit"]) == ("1024m", 1_500_000_000, 512)
    assert (args["cap_drop"], args["user"]) == (["ALL"], "10001")
    assert args["security_opt"] == [
        "no-new-privileges",
        f"seccomp={worker_profile_json()}",
        "systempaths=unconfined",
    ]
    assert args["read_only"] is True
    assert args["tmpfs"] == {"/tmp": "rw,noexec,nosuid,nodev,size=256m"}
    assert (args["network"], args["restart_policy"], args["command"]) == ("bridge", {"Name": "no"}, None)


def test_workers_read_the_whole_cluster_contract_as_the_master_read_it(
    settings: MasterSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A value other than the default for every field of the contract, each distinct from the others.
    changed = {
        name: (f"p{index}." if name == "topic_prefix" else "keys" if name == "auth" else 1000 + index)
        for index, name in enumerate(ClusterContract.model_fields)
    }
    master = settings.model_copy(update=changed)
    environment = worker_run_args(master, "cpp", "w-1")["environment"]

    # The worker process starts with exactly that environment: what its settings read from it.
    for variable in os.environ:
        if variable.startswith("EXECUTIONER_"):
            monkeypatch.delenv(variable)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    worker = WorkerSettings()
    for name, value in changed.items():
        assert getattr(worker, name) == value, name


def test_workers_log_as_the_master_does_and_trace_only_when_it_is_given_a_collector(
    settings: MasterSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in worker_run_args(settings, "cpp", "w-1")["environment"]
    monkeypatch.setenv("EXECUTIONER_LOG_FORMAT", "json")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    master = MasterSettings()
    assert master.otel_exporter_otlp_endpoint == "http://127.0.0.1:4318"
    environment = worker_run_args(master, "cpp", "w-1")["environment"]
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"  # as the master has it

    # The worker reads what the master handed it (only that: the master's own variables are gone).
    for variable in ("EXECUTIONER_LOG_FORMAT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(variable)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    worker = WorkerSettings()
    assert (worker.log_format.value, worker.otel_exporter_otlp_endpoint) == ("json", "http://127.0.0.1:4318")

    # Containers that reach the collector elsewhere are told where.
    elsewhere = master.model_copy(update={"worker_otlp_endpoint": "http://10.0.0.1:4318"})
    assert worker_run_args(elsewhere, "cpp", "w-1")["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == (
        "http://10.0.0.1:4318"
    )


def test_workers_get_the_read_only_database_url_only_when_one_is_set(settings: MasterSettings) -> None:
    assert "EXECUTIONER_DATABASE_URL" not in worker_run_args(settings, "cpp", "w-1")["environment"]
    url = "mysql+asyncmy://executioner_worker:pw@172.17.0.1:3307/executioner"
    with_url = settings.model_copy(update={"worker_database_url": url})
    assert worker_run_args(with_url, "cpp", "w-1")["environment"]["EXECUTIONER_DATABASE_URL"] == url
    assert with_url.database_url != url  # the master's own account is never handed to workers


def test_workers_run_under_dockers_default_runtime_unless_one_is_named(
    settings: MasterSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "runtime" not in worker_run_args(settings, "python", "w-1")  # absent: the daemon's default
    monkeypatch.setenv("EXECUTIONER_WORKER_RUNTIME", "runsc")
    gvisor = worker_run_args(MasterSettings(), "python", "w-1")
    assert gvisor["runtime"] == "runsc"
    # Nothing else changes: the container is confined the same way under any runtime.
    without = {k: v for k, v in gvisor.items() if k != "runtime"}
    assert without == worker_run_args(settings, "python", "w-1")
