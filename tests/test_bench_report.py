"""The bench's arithmetic: medians per row, each read scenario against its own paired ceiling runs."""

from bench.loadgen import WrkResult
from bench.report import Measurement, WorkerSample, markdown_table, pooled_ceilings, summarize


def wrk(scenario: str, rps: float, connections: int = 64) -> WrkResult:
    return WrkResult(
        scenario=scenario,
        connections=connections,
        seconds=10.0,
        requests=int(rps * 10),
        rps=rps,
        p50_ms=10.0,
        p90_ms=20.0,
        p99_ms=30.0,
        max_ms=40.0,
        statuses={200: int(rps * 10)},
        cache={"HIT": int(rps * 10)},
        socket_errors={},
    )


def measured(scenario: str, *rps: float, ceiling: tuple[float, ...] = ()) -> Measurement:
    steady = WorkerSample({1: 80.0})
    measurement = Measurement(scenario, 64, runs=[wrk(scenario, r) for r in rps], workers=[(steady, steady)] * len(rps))
    if ceiling:
        measurement.ceiling = measured("ceiling", *ceiling)
    return measurement


def test_a_read_scenario_is_a_share_of_the_ceiling_runs_paired_with_it():
    # The machine slowed down between the two scenarios: each is judged against its own pairs.
    product_list = measured("product_list", 900, 1100, 1000, ceiling=(1200, 1400, 1300))
    category_list = measured("category_list", 500, 600, ceiling=(800, 800))

    rows, verdicts = summarize([product_list, category_list])

    assert [(row["rps"], row["paired_ceiling_rps"], row["ceiling_share"]) for row in rows] == [
        (1000.0, 1300.0, 0.769),
        (550.0, 800.0, 0.688),
    ]
    misses = {verdict["scenario"]: verdict["misses"] for verdict in verdicts}
    assert misses == {"product_list": [], "category_list": ["69% of ceiling < 75%"]}
    assert "0.77 of 1,300" in markdown_table(rows, verdicts)


def test_the_ceiling_row_pools_every_paired_run_at_its_concurrency():
    measurements = [
        measured("product_list", 900, ceiling=(1000, 1200)),
        measured("order_cash", 80),
        measured("category_list", 700, ceiling=(1100,)),
    ]

    [ceiling] = pooled_ceilings(measurements)

    assert (ceiling.scenario, ceiling.connections, len(ceiling.runs), ceiling.rps) == ("ceiling", 64, 3, 1100)
    assert summarize([measurements[1]])[0][0]["ceiling_share"] is None  # a write has no ceiling
