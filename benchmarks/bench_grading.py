"""Grading benchmark: evaluations per second of the full smartphone questionnaire on one core.

Run: ``.venv/bin/python benchmarks/bench_grading.py [--seconds 2]``. The answer sets are the bundled
smartphone examples (flawless, worn, cracked display, activation-locked, dead device, store-inspected),
evaluated in turn; each figure is the best of several rounds. Baselines measured in the same run on the
same machine:

- ``json.loads`` of each answer set's JSON text (what a web handler does before evaluating);
- a plain walk over each answer set that looks every key up in a dict of question ids.

Also printed: the first evaluation in a fresh process (loading, checking and compiling the definition) and
a rendering of the questionnaire in one locale.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import grading_questionnaire as gq

if TYPE_CHECKING:
    from collections.abc import Callable

TARGET_PER_SECOND = 20_000
ROUNDS = 5


def per_second(work: Callable[[], object], items: int, seconds: float) -> float:
    """Best rate of ``work`` (which handles ``items`` things per call) over several timed rounds."""
    best = 0.0
    for _ in range(ROUNDS):
        calls, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds / ROUNDS:
            work()
            calls += 1
        best = max(best, calls * items / elapsed)
    return best


def first_evaluation_seconds() -> float:
    """Wall time of import, load and first evaluation in a fresh interpreter."""
    code = (
        "import time; t = time.perf_counter(); import grading_questionnaire as gq\n"
        "q = gq.load_questionnaire('smartphone')\n"
        "q.evaluate(gq.example_answers('smartphone', 'worn').answers)\n"
        "print(time.perf_counter() - t)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout)


def main() -> int:  # noqa: C901 - a script: measure, then print
    """Measure and print the figures; exit 1 when evaluation is below the target rate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent per measurement")
    seconds = parser.parse_args().seconds

    questionnaire = gq.load_questionnaire("smartphone")
    cases: list[tuple[dict[str, Any], gq.VerificationDepth]] = []
    for name in gq.example_answer_names("smartphone"):
        answers = gq.example_answers("smartphone", name).answers
        staff = any(questionnaire.question(key).staff_only for key in answers)
        cases.append(
            (answers, gq.VerificationDepth.STAFF_VERIFIED if staff else gq.VerificationDepth.SELF_DECLARED)
        )
    texts = [json.dumps(answers) for answers, _ in cases]
    question_ids = {question.id: question for question in questionnaire.questions}

    def evaluate_all() -> None:
        for answers, verification in cases:
            questionnaire.evaluate(answers, verification=verification)

    def decode_all() -> None:
        for text in texts:
            json.loads(text)

    def walk_all() -> None:
        for answers, _ in cases:
            for key, value in answers.items():
                if key in question_ids and value is None:
                    break

    evaluate_all()  # compile before timing
    evaluations = per_second(evaluate_all, len(cases), seconds)
    decodes = per_second(decode_all, len(cases), seconds)
    walks = per_second(walk_all, len(cases), seconds)
    build_started = time.perf_counter()
    fresh = gq.build_questionnaire(questionnaire.to_json())
    render_started = time.perf_counter()
    fresh.render("de")
    build_ms, render_ms = (
        (render_started - build_started) * 1000,
        (time.perf_counter() - render_started) * 1000,
    )

    questions, rules = len(questionnaire.questions), len(questionnaire.rules)
    print(f"smartphone questionnaire: {questions} questions, {rules} rules, {len(cases)} answer sets")
    print(f"evaluate     {evaluations:>12,.0f} /s {1e6 / evaluations:7.1f} µs each")
    for label, rate in (("json.loads", decodes), ("dict walk", walks)):
        print(
            f"{label:<12} {rate:>12,.0f} /s {1e6 / rate:7.1f} µs each   "
            f"evaluate is {rate / evaluations:.1f}× slower"
        )
    first_ms = first_evaluation_seconds() * 1000
    print(f"first evaluation in a fresh process (import, load, check, compile): {first_ms:.0f} ms")
    print(f"check and build the definition again: {build_ms:.1f} ms; render it in German: {render_ms:.1f} ms")
    verdict = "meets" if evaluations >= TARGET_PER_SECOND else "MISSES"
    print(f"target ≥ {TARGET_PER_SECOND:,}/s on one core: {verdict}")
    return 0 if evaluations >= TARGET_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main())
