"""The bench's arithmetic: medians per row, each read scenario against its own paired ceiling runs,
the targets' verdicts, and Locust's CSV read into the same rows."""

from dataclasses import replace

from bench.loadgen import WrkResult, parse_locust_csv
from bench.report import Measurement, WorkerSample, cpu_table, markdown_table, pooled_ceilings, summarize

# Written by Locust 2.47 (`--csv run`, FastHttpUser, with bench/locustfile.py's failure names) against
# a local server answering 200 on one path and 404 on the other, marked failed as "status 404".
LOCUST_STATS_CSV = """\
Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,missing,73,73,6,7.278510068485895,2.761988000202109,34.66595400004735,335.0,29.925877534680186,\
29.925877534680186,6,8,9,11,13,14,16,35,35,35,35
GET,ok,53,0,6,7.425994754689696,2.8244079999240057,22.25600099973235,575.0,21.727006977233557,0.0,\
6,7,8,11,14,17,20,22,22,22,22
,Aggregated,126,73,6,7.340547277762097,2.761988000202109,34.66595400004735,435.95238095238096,\
51.65288451191374,29.925877534680186,6,8,9,11,13,16,20,22,35,35,35
"""
LOCUST_FAILURES_CSV = """\
Method,Name,Error,Occurrences,First Seen,Last Seen
GET,missing,CatchResponseError('status 404'),73,2026-12-02T19:49:41Z,2026-12-02T19:49:44Z
"""


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


def test_an_open_loop_target_judges_the_median_and_the_tail_at_whatever_users_carried_the_rate():
    fast = measured("order_steady", 50)
    fast.connections, fast.rate = 100, 50.0
    slow = measured("order_steady", 50)
    slow.connections, slow.rate = 100, 50.0
    slow.runs = [replace(run, p50_ms=42.0, p99_ms=180.0, statuses={202: 490, 500: 10}) for run in slow.runs]

    [(_row, [met])] = [summarize([fast])]
    rows, [missed] = summarize([slow])

    assert (met["goal"], met["met"]) == ("p50 <= 30 ms, p99 <= 100 ms, no 5xx", True)
    assert missed["misses"] == ["p50 42 ms > 30 ms", "p99 180 ms > 100 ms", "10 5xx"]
    assert rows[0]["set_rate"] == 50.0
    assert "| place order, card, at a steady rate (Locust, worker on) | 50/s | 50 |" in markdown_table(rows, [missed])


def test_locust_csv_becomes_a_run_with_statuses_and_percentiles():
    run = parse_locust_csv("order_steady", 100, LOCUST_STATS_CSV, LOCUST_FAILURES_CSV, expected=200)

    assert (run.connections, run.requests, run.rps) == (100, 126, 51.65288451191374)
    assert run.seconds == 126 / 51.65288451191374
    assert (run.p50_ms, run.p90_ms, run.p99_ms, run.max_ms) == (6.0, 13.0, 22.0, 34.66595400004735)
    # 126 requests, 73 failed as "status 404": the other 53 had the expected status.
    assert run.statuses == {404: 73, 200: 53}
    assert (run.non_2xx, run.server_errors, run.errors) == (73, 0, 0)


def test_locust_failures_without_an_answer_are_socket_errors_by_kind():
    timeouts = LOCUST_FAILURES_CSV.replace("status 404", "socket timeout: ConnectionTimeout")

    run = parse_locust_csv("order_steady", 100, LOCUST_STATS_CSV, timeouts, expected=200)

    assert run.statuses == {200: 53}
    assert run.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 73}


def test_the_cpu_table_shows_an_open_loop_row_at_its_rate():
    steady = measured("order_steady", 50)
    steady.rate = 50.0
    for run in steady.runs:
        run.extra["cpu_ms_per_request"] = {"app": 20.0, "machine_busy_share": 0.6}

    assert "| place order, card, at a steady rate (Locust, worker on) | 50/s | 20.00 |" in cpu_table([steady])
