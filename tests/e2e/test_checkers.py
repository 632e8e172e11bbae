"""Custom checkers and interactive tests through the whole cluster (API, Kafka, worker containers, the real
sandbox), sent inline with the submission: a checker accepting any right answer of a multi-answer problem
and rejecting a wrong one with its message, a checker that crashes, a C++ checker with a testlib-style
header beside it judging a Python program, both helper libraries, checkers in JavaScript and Go judging
Python and C++ programs on the workers of their own language, and an interactive guessing game."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_request_features import run

pytestmark = pytest.mark.e2e

JUDGES = Path(__file__).resolve().parents[1] / "worker" / "judges"


def judge_file(name: str) -> str:
    return (JUDGES / name).read_text()


def cases(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"stdin": stdin, "expected_output": answer} for stdin, answer in pairs]


PERMUTATION = {"language": "python", "source": judge_file("permutation_checker.py")}


async def test_checker_accepts_any_right_answer_and_says_why_one_is_wrong(client: httpx.AsyncClient) -> None:
    tests = cases(("3\n", "1 2 3\n"), ("5\n", "1 2 3 4 5\n"))
    backwards, repeated, one_per_line = await asyncio.gather(
        run(
            client,
            language="python",
            source="print(*range(int(input()), 0, -1))",
            tests=tests,
            checker=PERMUTATION,
        ),
        run(client, language="python", source="print(*[1] * int(input()))", tests=tests, checker=PERMUTATION),
        run(
            client,
            language="python",
            source="print(*range(1, int(input()) + 1), sep='\\n')",
            tests=tests,
            checker=PERMUTATION,
        ),
    )
    assert backwards["verdict"] == "accepted", backwards
    assert [t["stdout"] for t in backwards["tests"]] == ["3 2 1\n", "5 4 3 2 1\n"]
    assert repeated["verdict"] == "wrong_answer", repeated
    assert repeated["tests"][0]["checker_message"] == "3 numbers but not all different"
    assert one_per_line["verdict"] == "presentation_error", one_per_line
    assert one_per_line["tests"][1]["checker_message"] == "the right numbers, but not on one line"


async def test_a_python_checker_judges_a_cpp_program(client: httpx.AsyncClient) -> None:
    source = (
        "#include <cstdio>\n"
        'int main() { int n; std::scanf("%d", &n); for (int i = n; i; --i) std::printf("%d ", i); }'
    )
    done = await run(
        client, language="cpp", source=source, tests=cases(("4\n", "1 2 3 4\n")), checker=PERMUTATION
    )
    assert done["verdict"] == "accepted", done
    assert done["tests"][0]["checker_message"] == "a permutation of 4"


async def test_a_crashing_checker_is_an_internal_error(client: httpx.AsyncClient) -> None:
    checker = {"language": "python", "source": "raise RuntimeError('the checker has a bug')"}
    done = await run(client, language="python", source="print(1)", tests=cases(("", "1")), checker=checker)
    assert done["verdict"] == "internal_error", done["tests"]
    assert "RuntimeError: the checker has a bug" in done["tests"][0]["checker_message"]
    assert done["message"].startswith("test 0: the checker failed (exit code 3)")


async def test_cpp_checkers_with_a_header_beside_them_and_with_the_helper(client: httpx.AsyncClient) -> None:
    # The testlib-style checker (a Polygon package's check.cpp) judges a Python program: every worker
    # image compiles C++ judge programs.
    with_header = {
        "language": "cpp",
        "source": judge_file("check_sum.cpp"),
        "files": [{"path": "testlib.h", "content": judge_file("stand_in_testlib.h")}],
    }
    helper = {
        "language": "c++",  # an alias, as for the submission's own language
        "source": '#include "executioner_checker.h"\n'
        "int main(int argc, char* argv[]) { executioner::Checker(argc, argv).close_numbers(1e-3); }",
    }
    summing = "a, b = map(int, input().split())\nprint(a + b - (a == 5))"
    dividing = (
        '#include <cstdio>\nint main() { double x; std::scanf("%lf", &x); std::printf("%.4f\\n", x / 3); }'
    )
    sums, thirds = await asyncio.gather(
        run(
            client,
            language="python",
            source=summing,
            tests=cases(("1 2", "3"), ("5 5", "10")),
            checker=with_header,
        ),
        run(
            client,
            language="cpp",
            source=dividing,
            tests=cases(("1", "0.33333"), ("2", "0.6")),
            checker=helper,
        ),
    )
    assert [(t["verdict"], t["checker_message"]) for t in sums["tests"]] == [
        ("accepted", "right sum"),
        ("wrong_answer", "wrong sum"),
    ], sums
    assert [t["verdict"] for t in thirds["tests"]] == ["accepted", "wrong_answer"], thirds


# Checkers in languages the submission's workers lack: the workers of the checker's language run them.
JAVASCRIPT_PERMUTATION = {
    "language": "javascript",
    "source": """
const fs = require("fs");
const [input, output] = process.argv.slice(2, 4).map((name) => fs.readFileSync(name, "utf8"));
const n = parseInt(input, 10);
const got = output.trim().split(/\\s+/).map(Number);
const ok = got.length === n && new Set(got).size === n && got.every((x) => x >= 1 && x <= n);
process.stderr.write(ok ? `node: a permutation of ${n}` : `node: not a permutation of 1..${n}`);
process.exit(ok ? 0 : 1);
""",
}
GO_SAME_NUMBERS = {
    "language": "go",
    "source": """package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

func words(name string) []string {
	data, _ := os.ReadFile(name)
	fields := strings.Fields(string(data))
	sort.Strings(fields)
	return fields
}

func main() {
	got, want := words(os.Args[2]), words(os.Args[3])
	if strings.Join(got, " ") != strings.Join(want, " ") {
		fmt.Fprintf(os.Stderr, "go: %d numbers, not the %d of the answer", len(got), len(want))
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "go: the %d numbers of the answer", len(want))
}
""",
}


async def test_checkers_in_languages_the_submissions_workers_lack(client: httpx.AsyncClient) -> None:
    tests = cases(("3\n", "1 2 3\n"), ("5\n", "1 2 3 4 5\n"))
    backwards = (
        '#include <cstdio>\nint main() { int n; std::scanf("%d", &n); while (n) std::printf("%d ", n--); }'
    )
    by_node, wrong_by_node, by_go, broken = await asyncio.gather(
        run(
            client,
            language="python",
            source="print(*range(int(input()), 0, -1))",
            tests=tests,
            checker=JAVASCRIPT_PERMUTATION,
        ),
        run(
            client,
            language="python",
            source="print(*[1] * int(input()))",
            tests=tests,
            checker=JAVASCRIPT_PERMUTATION,
        ),
        run(client, language="cpp", source=backwards, tests=tests, checker=GO_SAME_NUMBERS),
        run(
            client,
            language="python",
            source="print(1)",
            tests=tests,
            checker={"language": "rust", "source": "fn main() { this does not compile }"},
        ),
    )
    assert by_node["verdict"] == "accepted", by_node
    assert [t["checker_message"] for t in by_node["tests"]] == [
        "node: a permutation of 3",
        "node: a permutation of 5",
    ]
    assert wrong_by_node["verdict"] == "wrong_answer", wrong_by_node
    assert wrong_by_node["tests"][0]["checker_message"] == "node: not a permutation of 1..3"
    assert by_go["verdict"] == "accepted", by_go
    assert by_go["tests"][1]["checker_message"] == "go: the 5 numbers of the answer"
    assert broken["verdict"] == "internal_error", broken
    assert broken["message"].startswith("the checker does not compile"), broken["message"]


GUESS = {"language": "python", "source": judge_file("guess_interactor.py"), "limits": {"time_ms": 1000}}
HANGING_INTERACTOR = {
    "language": "python",
    "source": "import time\nprint(open('input.txt').read().split()[0], flush=True)\ninput()\ntime.sleep(60)",
}


async def test_interactive_guessing_game(client: httpx.AsyncClient) -> None:
    tests = cases(("100 37 7\n", ""), ("1000 1 10\n", ""))
    short: dict[str, Any] = {"limits": {"time_ms": 500, "wall_ms": 2000}}
    searching, wrong, linear, hanging, stuck = await asyncio.gather(
        run(client, language="python", source=judge_file("binary_search.py"), tests=tests, interactor=GUESS),
        run(
            client,
            language="python",
            source="input()\nprint('! 1', flush=True)",
            tests=tests,
            interactor=GUESS,
        ),
        run(client, language="python", source=judge_file("linear_search.py"), tests=tests, interactor=GUESS),
        run(client, language="python", source="input()\ninput()", tests=tests, interactor=GUESS, **short),
        run(
            client,
            language="python",
            source=judge_file("binary_search.py"),
            tests=tests[:1],
            interactor=HANGING_INTERACTOR,
            **short,
        ),
    )
    assert [t["verdict"] for t in searching["tests"]] == ["accepted", "accepted"], searching
    assert searching["tests"][0]["stdout"].startswith("? 50\n")
    assert [t["verdict"] for t in wrong["tests"]] == ["wrong_answer", "accepted"], wrong
    assert wrong["tests"][0]["checker_message"] == "guessed 1, the number was 37"
    assert linear["tests"][0]["checker_message"] == "more than 7 queries", linear
    assert linear["tests"][1]["verdict"] == "accepted"  # the secret 1 is the first guess
    assert [t["verdict"] for t in hanging["tests"]] == ["time_limit_exceeded"] * 2, hanging
    assert stuck["verdict"] == "internal_error", stuck
    assert "the interactor did not answer" in stuck["tests"][0]["checker_message"]
