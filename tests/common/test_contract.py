"""The cluster contract (common/contract.py): every process reads it from the same variables, with the
same defaults, and creates topics with the same partition counts (pure)."""

import os

import pytest
from pydantic_settings import BaseSettings

from api.settings import ApiSettings
from common.contract import ClusterContract
from master.settings import MasterSettings
from worker.settings import WorkerSettings

pytestmark = pytest.mark.unit

PROCESSES: list[type[BaseSettings]] = [ApiSettings, MasterSettings, WorkerSettings]
# A value of each field that is no default, as an operator would set it.
CHANGED = {
    "EXECUTIONER_MAX_SOURCE_BYTES": "200000",
    "EXECUTIONER_MAX_STDIN_BYTES": "3",
    "EXECUTIONER_MAX_FILES_BYTES": "77",
    "EXECUTIONER_AUTH": "keys",
    "EXECUTIONER_TOPIC_PREFIX": "blue.",
    "EXECUTIONER_JOBS_PARTITIONS": "12",
    "EXECUTIONER_RESULTS_PARTITIONS": "4",
}


def contract_of(settings: BaseSettings) -> ClusterContract:
    """The contract fields of a process's settings, on their own."""
    return ClusterContract.model_validate(
        {name: getattr(settings, name) for name in ClusterContract.model_fields}
    )


@pytest.fixture(autouse=True)
def no_settings_from_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in os.environ:
        if variable.startswith("EXECUTIONER_"):
            monkeypatch.delenv(variable)


def test_the_changed_values_cover_the_whole_contract() -> None:
    assert set(CHANGED) == set(ClusterContract().contract_environment())


@pytest.mark.parametrize("process", PROCESSES)
def test_every_process_has_the_contracts_defaults(process: type[BaseSettings]) -> None:
    assert contract_of(process()) == ClusterContract()


@pytest.mark.parametrize("process", PROCESSES)
def test_every_process_reads_the_contract_from_the_same_variables(
    process: type[BaseSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in CHANGED.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("EXECUTIONER_AUTH_SECRET", "s" * 32)  # the API's, required with keys
    assert contract_of(process()).contract_environment() == CHANGED


def test_topics_are_created_with_the_contracts_partition_counts() -> None:
    contract = ClusterContract(topic_prefix="p.", jobs_partitions=3, results_partitions=5)
    assert contract.topic_partitions(["python", "cpp"]) == {
        "p.jobs.python": 3,
        "p.jobs.cpp": 3,
        "p.results": 5,
        "p.dead-letter": 1,
    }


@pytest.mark.parametrize("field", ["jobs_partitions", "results_partitions", "max_source_bytes"])
def test_a_contract_value_below_one_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ClusterContract.model_validate({field: 0})
