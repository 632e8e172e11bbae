"""An outage is logged when it starts, summarised every ``summary_every_s`` while it lasts and logged
when it ends, on a fake clock: not once per failed attempt."""

import logging

import pytest

from api.lib.kafka import Outage

pytestmark = pytest.mark.unit


def test_an_outage_is_logged_at_start_every_window_and_at_the_end(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    outage = Outage(
        logging.getLogger("test.outage"), "Kafka (relay)", summary_every_s=30, clock=lambda: now[0]
    )
    with caplog.at_level(logging.INFO, logger="test.outage"):
        for second in range(0, 65):  # one failed attempt a second for 65 s
            now[0] = float(second)
            outage.failed(ConnectionError("refused"))
        now[0] = 70.0
        outage.recovered()
        outage.recovered()  # nothing more to say while healthy
    assert [record.getMessage() for record in caplog.records] == [
        "Kafka (relay) unavailable (ConnectionError: refused); retrying with back-off",
        "Kafka (relay) still unavailable after 30 s, 31 failed attempts (last: ConnectionError: refused)",
        "Kafka (relay) still unavailable after 60 s, 61 failed attempts (last: ConnectionError: refused)",
        "Kafka (relay) available again after 70 s, 65 failed attempts",
    ]
