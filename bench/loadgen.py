"""Load generation: wrk with bench/lua/shop.lua, Locust with bench/locustfile.py for the open-loop
scenario, and a small bounded warm-up client."""

import contextlib
import csv
import http.client
import json
import math
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

LUA_SCRIPT = Path(__file__).resolve().parent / "lua" / "shop.lua"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
LOCUST_SPAWN_RATE = 100  # users started per second (Locust warns above 100)
LOCUST_STOP_GRACE_SECONDS = 15
RESULT_PREFIX = "BENCH_RESULT "
WRK_TIMEOUT_SECONDS = 5  # a request slower than this counts as a timeout error


@dataclass
class WrkResult:
    """One wrk run: throughput, latency percentiles (ms), statuses and socket errors."""

    scenario: str
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]
    cache: dict[str, int]
    socket_errors: dict[str, int]
    extra: dict = field(default_factory=dict)

    @property
    def non_2xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def errors(self) -> int:
        """Socket-level errors: connect, read, write and timeouts (HTTP statuses are counted apart)."""
        return sum(self.socket_errors.values())

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)


# What production renders invoice PDFs with (the Dockerfile's packages): without HarfBuzz's
# subsetter WeasyPrint subsets fonts in Python, at four times the Celery worker's CPU per PDF.
PDF_PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core")


def ensure_packages() -> str:
    """Install wrk and the PDF packages when missing and we may (root, apt-get); return wrk's path."""
    missing = [] if shutil.which("wrk") else ["wrk"]
    if shutil.which("dpkg"):
        missing += [name for name in PDF_PACKAGES if not _installed(name)]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"missing: apt-get install -y {' '.join(missing)}", flush=True)
        install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        if subprocess.run(install, check=False).returncode != 0:
            subprocess.run(["apt-get", "update"], check=True)
            subprocess.run(install, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: run `sudo apt-get install -y wrk` (Debian/Ubuntu) and retry.")
    return found


def _installed(package: str) -> bool:
    return subprocess.run(["dpkg", "-s", package], capture_output=True, check=False).returncode == 0


def run_wrk(
    wrk: str, url: str, scenario: str, connections: int, seconds: int, data_file: Path, seed: int, threads: int = 2
) -> WrkResult:
    """Run wrk for `seconds` against `url` with this scenario's requests; parse its one result line."""
    argv = [
        wrk, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s",
        f"--timeout={WRK_TIMEOUT_SECONDS}s", "-s", str(LUA_SCRIPT), url,
    ]  # fmt: skip
    env = {
        **os.environ,
        "BENCH_DATA": str(data_file),
        "BENCH_SCENARIO": scenario,
        "BENCH_SEED": str(seed),
        "BENCH_NONCE": uuid.uuid4().hex[:12],
    }
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=seconds + 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    line = next((line for line in out.splitlines() if line.startswith(RESULT_PREFIX)), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}) for {scenario}:\n{out}\n{err}")
    raw = json.loads(line[len(RESULT_PREFIX) :])
    duration = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    errors = raw["errors"]
    return WrkResult(
        scenario=scenario,
        connections=connections,
        seconds=duration,
        requests=raw["requests"],
        rps=raw["requests"] / duration,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        statuses={int(status): count for status, count in raw["statuses"].items()},
        cache=raw["cache"],
        socket_errors={kind: errors[kind] for kind in ("connect", "read", "write", "timeout")},
    )


def run_locust(
    locust: Path,
    url: str,
    scenario: str,
    users: int,
    rate: float,
    seconds: int,
    data_file: Path,
    seed: int,
    csv_prefix: Path,
    log_path: Path,
) -> WrkResult:
    """Run bench/locustfile.py's SteadyCardOrders headless: `users` users sending `rate` orders/s in total.

    Locust runs in its own process group, bounded by a timeout; on any way out (timeout,
    Ctrl-C, SIGTERM turned into SystemExit) the group gets SIGTERM, then SIGKILL. The stats
    are reset once every user has started, so the `seconds` measured are all at the full rate.
    """
    spawn_rate = min(users, LOCUST_SPAWN_RATE)
    ramp = math.ceil(users / spawn_rate)
    argv = [
        str(locust), "-f", str(LOCUSTFILE), "--headless", "--host", url, "-u", str(users), "-r", str(spawn_rate),
        "-t", f"{seconds + ramp}s", "--reset-stats", "--csv", str(csv_prefix), "--only-summary",
        "--exit-code-on-error", "0",  # failed requests are figures in the table, not a failed run
        "--steady-rate", str(rate), "--steady-users", str(users), "SteadyCardOrders",
    ]  # fmt: skip
    env = {**os.environ, "BENCH_DATA_FILE": str(data_file), "BENCH_SEED": str(seed)}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
        try:
            process.wait(timeout=seconds + ramp + 60)
        finally:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=LOCUST_STOP_GRACE_SECONDS)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # anything it left behind in its group
            process.wait()
    stats, failures = Path(f"{csv_prefix}_stats.csv"), Path(f"{csv_prefix}_failures.csv")
    exceptions = Path(f"{csv_prefix}_exceptions.csv")
    if process.returncode != 0 or not stats.exists():
        raise RuntimeError(f"locust failed ({process.returncode}) for {scenario}; see {log_path}")
    if exceptions.exists() and len(exceptions.read_text().strip().splitlines()) > 1:
        raise RuntimeError(f"locustfile raised during {scenario}: {exceptions.read_text()[:2000]}")
    result = parse_locust_csv(scenario, users, stats.read_text(), failures.read_text() if failures.exists() else "")
    if not result.requests:
        raise RuntimeError(f"locust sent no requests for {scenario}; see {log_path}")
    return result


FAILURE_STATUS = re.compile(r"status (\d+)")
FAILURE_SOCKET = re.compile(r"socket (connect|read|write|timeout):")


def parse_locust_csv(scenario: str, users: int, stats_csv: str, failures_csv: str, expected: int = 202) -> WrkResult:
    """Read Locust's `_stats.csv` (its Aggregated row) and `_failures.csv` into a WrkResult.

    Locust counts requests and failures, not statuses: bench/locustfile.py names each failure
    `status N` or `socket <kind>: <error>`, and every other request had the `expected` status
    (202 for a card order). Percentiles are Locust's, in whole milliseconds (and rounded to 2
    significant digits above 100 ms).
    """
    total = next(row for row in csv.DictReader(stats_csv.splitlines()) if row["Name"] == "Aggregated")
    requests, failed = int(total["Request Count"]), int(total["Failure Count"])
    rps = float(total["Requests/s"])
    statuses: dict[int, int] = {}
    socket_errors = dict.fromkeys(("connect", "read", "write", "timeout"), 0)
    for row in csv.DictReader(failures_csv.splitlines()):
        occurrences = int(row["Occurrences"])
        if status := FAILURE_STATUS.search(row["Error"]):
            statuses[int(status[1])] = statuses.get(int(status[1]), 0) + occurrences
        elif socket := FAILURE_SOCKET.search(row["Error"]):
            socket_errors[socket[1]] += occurrences
        else:
            socket_errors["read"] += occurrences  # an error the locustfile did not name: count it, never drop it
    answered_as_expected = requests - failed
    if answered_as_expected:
        statuses[expected] = statuses.get(expected, 0) + answered_as_expected
    return WrkResult(
        scenario=scenario,
        connections=users,
        seconds=requests / rps if rps else 0.0,
        requests=requests,
        rps=rps,
        p50_ms=milliseconds(total["50%"]),
        p90_ms=milliseconds(total["90%"]),
        p99_ms=milliseconds(total["99%"]),
        max_ms=milliseconds(total["Max Response Time"]),
        statuses=statuses,
        cache={},
        socket_errors=socket_errors,
        extra={"tool": "locust"},
    )


def milliseconds(cell: str) -> float:
    """Return a Locust CSV time cell as a number: "N/A" (no requests) is 0."""
    return 0.0 if cell == "N/A" else float(cell)


def fetch(host: str, port: int, path: str) -> tuple[int, bytes]:
    """GET one path on loopback; return the status and body."""
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def touch_all(host: str, port: int, paths: list[str], threads: int = 8, deadline_seconds: float = 90) -> dict:
    """GET every path once over a few keep-alive connections (bounded by count and time); count statuses."""
    pending = list(reversed(paths))
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    stop_at = time.monotonic() + deadline_seconds

    def work() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            while time.monotonic() < stop_at:
                with lock:
                    if not pending:
                        return
                    path = pending.pop()
                try:
                    connection.request("GET", path)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                    if response.getheader("Connection", "").lower() == "close":
                        connection.close()
                except (OSError, http.client.HTTPException):
                    connection.close()
                    status = 0
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            connection.close()

    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=max(0.0, stop_at - time.monotonic()) + 15)
    return {"requested": sum(statuses.values()), "of": len(paths), "statuses": statuses}
