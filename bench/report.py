"""Turn wrk runs into the bench's table: medians per scenario and concurrency, the ceiling
share, the targets, the workers' restarts and memory; and the machine it ran on."""

import os
import platform
import re
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.loadgen import WrkResult
from bench.scenarios import CEILING, SCENARIOS, TARGETS, Target

RSS_FLAT_MIB = 10.0  # a worker's RSS "flat" over a scenario: grew by at most this much


@dataclass
class WorkerSample:
    """Worker pids and their RSS (MiB) at one moment."""

    rss: dict[int, float | None]

    @property
    def pids(self) -> set[int]:
        return set(self.rss)


@dataclass
class Measurement:
    """All runs of one scenario at one concurrency, with worker samples around each run."""

    scenario: str
    connections: int
    runs: list[WrkResult] = field(default_factory=list)
    workers: list[tuple[WorkerSample, WorkerSample]] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    # For a read scenario: the ceiling's runs, each made just before one of this scenario's.
    ceiling: "Measurement | None" = None
    # For an open-loop scenario: the rate it was sent at (requests/s); `connections` is then its users.
    rate: float | None = None

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in self.runs)

    @property
    def rps(self) -> float:
        return self.median("rps")

    @property
    def ok_per_second(self) -> float:
        """Median successful (2xx) answers per second: orders per second for the order scenarios."""
        return statistics.median(
            sum(n for status, n in run.statuses.items() if 200 <= status < 300) / run.seconds for run in self.runs
        )

    def total(self, attribute: str) -> int:
        return sum(getattr(run, attribute) for run in self.runs)

    @property
    def cache_hit_share(self) -> float | None:
        hits = sum(run.cache.get("HIT", 0) for run in self.runs)
        seen = sum(sum(run.cache.values()) for run in self.runs)
        return hits / seen if seen else None

    @property
    def restarts(self) -> int:
        """Workers that were not there at the start of a run or vanished by its end."""
        return sum(len(before.pids ^ after.pids) for before, after in self.workers)

    @property
    def rss_growth(self) -> float:
        """The largest growth of any worker's RSS (MiB) over one run."""
        growth = [
            after.rss[pid] - before.rss[pid]
            for before, after in self.workers
            for pid in before.pids & after.pids
            if before.rss[pid] is not None and after.rss[pid] is not None
        ]
        return max(growth, default=0.0)

    def summary(self) -> dict:
        share = self.rps / self.ceiling.rps if self.ceiling is not None else None
        return {
            "scenario": self.scenario,
            "connections": self.connections,
            "runs": len(self.runs),
            "set_rate": self.rate,
            "rps": round(self.rps, 1),
            "ok_per_second": round(self.ok_per_second, 1),
            "p50_ms": round(self.median("p50_ms"), 2),
            "p90_ms": round(self.median("p90_ms"), 2),
            "p99_ms": round(self.median("p99_ms"), 2),
            "non_2xx": self.total("non_2xx"),
            "server_errors": self.total("server_errors"),
            "socket_errors": self.total("errors"),
            "cache_hit_share": None if self.cache_hit_share is None else round(self.cache_hit_share, 4),
            "ceiling_share": None if share is None else round(share, 3),
            "paired_ceiling_rps": None if self.ceiling is None else round(self.ceiling.rps, 1),
            "worker_restarts": self.restarts,
            "rss_max_growth_mib": round(self.rss_growth, 1),
        }


def evaluate(target: Target, row: dict, checks: list[dict]) -> dict:
    """Return the target, the measured figures it looks at, and whether each criterion was met."""
    misses = []
    if target.min_ceiling_share is not None and (row["ceiling_share"] or 0) < target.min_ceiling_share:
        misses.append(f"{row['ceiling_share'] or 0:.0%} of ceiling < {target.min_ceiling_share:.0%}")
    if target.min_rps is not None and row["ok_per_second"] < target.min_rps:
        misses.append(f"{row['ok_per_second']:.0f}/s < {target.min_rps:.0f}/s")
    if target.max_p50_ms is not None and row["p50_ms"] > target.max_p50_ms:
        misses.append(f"p50 {row['p50_ms']:.0f} ms > {target.max_p50_ms:.0f} ms")
    if target.max_p99_ms is not None and row["p99_ms"] > target.max_p99_ms:
        misses.append(f"p99 {row['p99_ms']:.0f} ms > {target.max_p99_ms:.0f} ms")
    if target.no_5xx and row["server_errors"]:
        misses.append(f"{row['server_errors']} 5xx")
    if target.no_socket_errors and row["socket_errors"]:
        misses.append(f"{row['socket_errors']} socket errors")
    if target.no_oversell and not all(check["ok"] for check in checks):
        misses.append("stock check failed")
    if row["worker_restarts"]:
        misses.append(f"{row['worker_restarts']} worker restarts")
    return {"scenario": target.scenario, "connections": row["connections"], "goal": describe(target),
            "met": not misses, "misses": misses}  # fmt: skip


def describe(target: Target) -> str:
    parts = []
    if target.min_ceiling_share is not None:
        parts.append(f">= {target.min_ceiling_share:.0%} of ceiling")
    if target.min_rps is not None:
        unit = "orders/s" if target.scenario.startswith("order") else "rps"
        parts.append(f">= {target.min_rps:.0f} {unit}")
    if target.max_p50_ms is not None:
        parts.append(f"p50 <= {target.max_p50_ms:.0f} ms")
    if target.max_p99_ms is not None:
        parts.append(f"p99 <= {target.max_p99_ms:.0f} ms")
    if target.no_5xx:
        parts.append("no 5xx")
    if target.no_socket_errors:
        parts.append("no socket errors")
    if target.no_oversell:
        parts.append("no oversell")
    return ", ".join(parts)


def summarize(measurements: list[Measurement]) -> tuple[list[dict], list[dict]]:
    """Return the table rows (scenario order, then concurrency) and the target verdicts."""
    rows, by_key = [], {}
    for m in measurements:
        row = m.summary()
        rows.append(row)
        by_key[(m.scenario, m.connections)] = (row, m.checks)
    verdicts = [
        evaluate(target, row, checks)
        for target in TARGETS
        for (scenario, connections), (row, checks) in by_key.items()
        if scenario == target.scenario and target.connections in (None, connections)
    ]
    return rows, verdicts


def pooled_ceilings(measurements: list[Measurement]) -> list[Measurement]:
    """The ceiling's rows of the table: all its runs at each concurrency, whichever scenario they were paired with."""
    pooled: dict[int, Measurement] = {}
    for m in measurements:
        if m.ceiling is not None:
            row = pooled.setdefault(m.connections, Measurement(CEILING.name, m.connections))
            row.runs += m.ceiling.runs
            row.workers += m.ceiling.workers
    return [pooled[connections] for connections in sorted(pooled)]


def markdown_table(rows: list[dict], verdicts: list[dict]) -> str:
    """The one table: a row per scenario and concurrency, with its target verdict where it has one."""
    titles = {scenario.name: scenario.title for scenario in [CEILING, *SCENARIOS]}
    marks = {(v["scenario"], v["connections"]): v for v in verdicts}
    lines = [
        "| scenario | conn | rps | 2xx/s | p50 ms | p90 ms | p99 ms | non-2xx | 5xx | sock err | cache hit "
        "| of ceiling | restarts | RSS Δ MiB | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        verdict = marks.get((row["scenario"], row["connections"]))
        target = ""
        if verdict:
            target = f"{verdict['goal']}: **{'met' if verdict['met'] else 'missed'}**"
            if verdict["misses"]:
                target += f" ({'; '.join(verdict['misses'])})"
        hit = row["cache_hit_share"]
        share = row["ceiling_share"]
        of_ceiling = "" if share is None else f"{share:.2f} of {row['paired_ceiling_rps']:,.0f}"
        lines.append(
            f"| {titles.get(row['scenario'], row['scenario'])} | {load(row)} | {row['rps']:,.0f} "
            f"| {row['ok_per_second']:,.0f} | {row['p50_ms']:.1f} | {row['p90_ms']:.1f} | {row['p99_ms']:.1f} "
            f"| {row['non_2xx']:,} | {row['server_errors']:,} | {row['socket_errors']:,} "
            f"| {'' if hit is None else f'{hit:.0%}'} "
            f"| {of_ceiling} "
            f"| {row['worker_restarts']} | {row['rss_max_growth_mib']:+.1f} | {target} |"
        )
    return "\n".join(lines)


def load(row: dict) -> str:
    """The load a row was measured under: connections (wrk), or the rate set (Locust, open loop)."""
    return f"{row['connections']}" if row.get("set_rate") is None else f"{row['set_rate']:g}/s"


CPU_GROUPS = ["app", "postgres (bench db)", "redis", "celery", "wrk", "postgres (other)", "other"]


def cpu_table(measurements: list[Measurement]) -> str:
    """Where the CPU went: milliseconds of CPU per request by process group (medians over runs)."""
    titles = {scenario.name: scenario.title for scenario in [CEILING, *SCENARIOS]}
    lines = [
        "| scenario | conn | " + " | ".join(CPU_GROUPS) + " | total | machine busy |",
        "| --- | ---: | " + " | ".join("---:" for _ in CPU_GROUPS) + " | ---: | ---: |",
    ]
    for m in measurements:
        per_run = [run.extra["cpu_ms_per_request"] for run in m.runs]
        median = {
            key: statistics.median(run.get(key) or 0 for run in per_run) for key in [*CPU_GROUPS, "machine_busy_share"]
        }
        total = sum(median[group] for group in CPU_GROUPS)
        cells = " | ".join(f"{median[group]:.2f}" for group in CPU_GROUPS)
        conn = load({"connections": m.connections, "set_rate": m.rate})
        lines.append(
            f"| {titles.get(m.scenario, m.scenario)} | {conn} | {cells} | {total:.2f} "
            f"| {median['machine_busy_share']:.0%} |"
        )
    return "\n".join(lines)


def machine() -> dict:
    """Describe the machine: cores, CPU model, RAM, kernel, and the versions of the moving parts."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    memory = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
    return {
        "nproc": os.cpu_count(),
        "cpu": model.group(1).strip() if model else platform.processor(),
        "ram_gib": round(int(memory.group(1)) / 1024 / 1024, 1) if memory else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "wrk": first_line(["wrk", "-v"]),
    }


def first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else "?"
