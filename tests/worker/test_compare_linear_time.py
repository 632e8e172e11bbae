"""Every compare mode costs time linear in the output: a program cannot turn its own wrong answer into a
comparison that holds a pool process (which runs outside the job's limits) for seconds.

Hypothesis builds outputs from the characters number patterns and line splitting react to (digit runs,
signs, dots, exponents, whitespace, CR) up to the 64 KiB output limit. The bound is a guard against
super-linear blow-ups, not a speed target: a linear compare of 64 KiB takes about a millisecond here, the
quadratic float pattern this replaced took 14 s on 60,000 digits.
"""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.jobs import CompareSpec, FloatCompare
from worker.judge import outputs_match

pytestmark = pytest.mark.unit

OUTPUT_LIMIT = 64 * 1024
BOUND_S = 0.5
MODES: list[CompareSpec] = ["exact", "trim", "tokens", FloatCompare(mode="float", tolerance=1e-6)]

_pieces = st.sampled_from(["1", "9", "0", ".", "+", "-", "e", "E", "x", " ", "\n", "\r\n", "\t", "1.5e"])
# Long runs are what blow up a backtracking pattern; Hypothesis favours small integers, so ask for them.
_lengths = st.one_of(st.integers(min_value=1, max_value=64), st.sampled_from([4096, 20_000, OUTPUT_LIMIT]))
_runs = st.tuples(_pieces, _lengths).map(lambda piece_length: piece_length[0] * piece_length[1])
hostile_outputs = st.lists(_runs, min_size=1, max_size=6).map(lambda runs: "".join(runs)[:OUTPUT_LIMIT])


def _cpu_seconds(actual: str, expected: str, compare: CompareSpec) -> float:
    start = time.process_time()
    outputs_match(actual, expected, compare)
    return time.process_time() - start


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(actual=hostile_outputs, expected=st.sampled_from(["1", "1 2\n", "0.5\n", "1" * 1000]))
def test_every_compare_mode_is_linear_on_hostile_outputs(actual: str, expected: str) -> None:
    for mode in MODES:
        assert _cpu_seconds(actual, expected, mode) < BOUND_S, (mode, len(actual))


def test_the_float_blow_up_from_the_attack_corpus_is_a_quick_wrong_answer() -> None:
    actual = "1" * 60_000 + "x"
    float_mode = FloatCompare(mode="float", tolerance=1e-6)
    assert _cpu_seconds(actual, "1", float_mode) < BOUND_S
    assert outputs_match(actual, "1", float_mode) is False
