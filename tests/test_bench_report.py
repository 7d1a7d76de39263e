"""How a benchmark's table reads its rounds: the ratio of the medians, and the ratio of each
round alone, whose range says whether one run can settle a goal on a machine that drifts."""

from __future__ import annotations

from bench.harness import Comparison, Goal, Report, Sample


def _samples(label: str, rates: list[int]) -> list[Sample]:
    return [Sample(label, rate * 10, 10.0, 1.0, 2.0, None, None) for rate in rates]


def _comparison(base: list[int], subject: list[int], *, slowdown: bool = False) -> Comparison:
    return Comparison(
        "P1 ingest",
        "ingests",
        _samples("pgbench", base),
        _samples("gateway", subject),
        Goal(minimum=0.6) if not slowdown else Goal(maximum=1.2),
        slowdown=slowdown,
    )


def test_each_round_pairs_the_baseline_and_subject_that_ran_back_to_back() -> None:
    comparison = _comparison([800, 600, 500], [400, 420, 300])

    assert comparison.round_ratios == [0.5, 0.7, 0.6]
    assert comparison.ratio == 400 / 600  # of the medians, which need not share a round


def test_a_slowdown_reads_each_round_the_other_way_up() -> None:
    comparison = _comparison([300, 330], [250, 300], slowdown=True)

    assert comparison.round_ratios == [300 / 250, 330 / 300]


def test_the_table_gives_the_range_of_the_rounds_under_the_verdict() -> None:
    report = Report("P1", [_comparison([800, 600, 500], [400, 420, 300])], "wrk", "on", 8)

    lines = report.table().splitlines()

    verdict = next(i for i, line in enumerate(lines) if line.startswith("ratio"))
    assert lines[verdict].endswith("goal >= 0.6: met")
    assert lines[verdict + 1] == "  rounds: 0.500 to 0.700"
    assert report.to_json()["comparisons"][0]["round_ratios"] == [0.5, 0.7, 0.6]


def test_one_round_has_no_range_to_give() -> None:
    report = Report("P4", [_comparison([800], [500])], "wrk", "on", 8)

    assert "rounds:" not in report.table()
