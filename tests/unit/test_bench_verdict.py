"""The end-to-end benchmark ends with one verdict line that says whether the run passed and why."""

from benchmarks.e2e.run import FLOORS, Report


def report(ratio: float | None, errors: list[str] | None = None) -> Report:
    ratios: dict[str, dict[str, float | None]] = {}
    for metric, kind in FLOORS:
        ratios.setdefault(metric, {})[kind] = ratio
    return Report(1.0, 1, 0, {}, ratios, [], errors or [], {})


def test_a_clean_run_passes_and_says_what_was_checked() -> None:
    assert report(1.5).verdict(floors=True) == "verdict: PASS: no workload errored, no ratio below its gross-regression floor (0 of 0 targets met)"
    assert report(1.5).verdict(floors=False) == "verdict: PASS: no workload errored (0 of 0 targets met)"


def test_a_ratio_below_its_floor_or_an_error_fails_naming_it() -> None:
    failed = report(0.5, ["wrk: connection refused"]).verdict(floors=True)
    assert failed.startswith("verdict: FAIL: wrk: connection refused; small_get_rps_per_cpu_s gateway/asgi = 0.5 is below the floor 1.0")
