"""Load generation: wrk with bench/lua/shop.lua, and a small bounded warm-up client."""

import http.client
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

LUA_SCRIPT = Path(__file__).resolve().parent / "lua" / "shop.lua"
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


def ensure_wrk() -> str:
    """Return the path of wrk, installing the Debian package first when we may (root, apt-get)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install -y wrk", flush=True)
        install = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
        if subprocess.run(install, check=False).returncode != 0:
            subprocess.run(["apt-get", "update"], check=True)
            subprocess.run(install, check=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: run `sudo apt-get install -y wrk` (Debian/Ubuntu) and retry.")
    return found


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
