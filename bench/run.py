"""Load benchmark of Shopkeep on this machine's PostgreSQL and Redis: `make bench`.

The flow, every step bounded in time and on loopback only:

1. Find wrk (install the Debian package if missing and we are root).
2. Recreate the database `shopkeep_bench`; FLUSHDB the cache (Redis 12) and broker (13).
3. `migrate`, then `seed_demo` with a fixed seed; give the variants the bench buys a large
   stock, mint customers' access tokens and write them with the ids to a Lua data file;
   VACUUM ANALYZE; FLUSHDB again so the run starts with an empty cache and queue.
4. Start gunicorn with config/gunicorn.conf.py and production settings for the app
   (127.0.0.1:8765) and for the ceiling (bench/ceiling.py, 127.0.0.1:8766). Copy the app's
   cached product-list bytes under the ceiling's key.
5. For each scenario: warm up, then at each concurrency run wrk BENCH_RUNS times (a read
   scenario's each right after a ceiling run at the same concurrency, its pair), sampling
   the workers' pids and RSS before and after each run; the open-loop scenario instead runs
   Locust (bench/locustfile.py) BENCH_RUNS times at a fixed rate. Check
   the stock after the hot-product runs and run the sell-out check. The Celery worker runs
   during the card scenarios only.
6. Stop everything it started (also on error, Ctrl-C or SIGTERM), FLUSHDB the two Redis
   databases, print the tables and write them as JSON (and Markdown) under bench/results/.

Settings (environment): BENCH_DURATION (10 s per run), BENCH_RUNS (2), BENCH_WARMUP (3 s),
BENCH_CONNECTIONS ("64,256"), BENCH_WORKERS (2 x cores + 1) and BENCH_THREADS (1) for gunicorn,
BENCH_STEADY_RATE (50 orders/s) and BENCH_STEADY_USERS (100) for the open-loop scenario,
BENCH_SCENARIOS (comma-separated subset), BENCH_REUSE_DB=1 (keep a seeded database: for
working on the harness, not for results). See bench/README.md.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import cpu, dataset, loadgen, report
from bench.report import Measurement, WorkerSample
from bench.scenarios import CEILING, SCENARIOS, SELLOUT, Scenario
from bench.services import (
    HOST,
    RAISED_RATE,
    Service,
    celery_worker,
    gunicorn,
    process_tree,
    production_env,
    wait_until_up,
    worker_memory,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = Path(sys.executable)
DRAIN_SECONDS = 30  # longest wait for the server to serve what wrk left queued
IDLE_CPU_SECONDS = 0.02  # CPU the workers may use in half a second and still count as idle


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    """The run's knobs, read once from the environment."""

    def __init__(self) -> None:
        self.duration = env_int("BENCH_DURATION", 10)
        self.runs = env_int("BENCH_RUNS", 2)
        self.warmup = env_int("BENCH_WARMUP", 3)
        self.connections = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "64,256").split(",")]
        # gunicorn's own rule for sync workers, 2 x cores + 1; on 2 cores it beat 3x4, 4x2 and 2x4 gthread.
        self.workers = env_int("BENCH_WORKERS", 2 * (os.cpu_count() or 1) + 1)
        self.threads = env_int("BENCH_THREADS", 1)
        self.sellout_seconds = env_int("BENCH_SELLOUT_SECONDS", 5)
        # The open-loop scenario: orders per second in total, shared by this many Locust users.
        self.steady_rate = float(os.environ.get("BENCH_STEADY_RATE", 50))
        self.steady_users = env_int("BENCH_STEADY_USERS", 100)
        self.seed = env_int("BENCH_SEED", 20260607)
        self.products = env_int("BENCH_PRODUCTS", 20_000)
        self.customers = env_int("BENCH_CUSTOMERS", 1_000)
        self.orders = env_int("BENCH_ORDERS", 2_000)
        self.reviews = env_int("BENCH_REVIEWS", 5_000)
        self.popular = env_int("BENCH_POPULAR", 2_000)
        self.port = env_int("BENCH_PORT", 8765)
        self.ceiling_port = env_int("BENCH_CEILING_PORT", 8766)
        self.database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopkeep_bench")
        self.cache_url = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12")
        self.broker_url = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
        self.reuse_db = os.environ.get("BENCH_REUSE_DB") == "1"
        only = os.environ.get("BENCH_SCENARIOS", "")
        self.scenarios = [s for s in SCENARIOS if not only or s.name in only.split(",")]

    def app_env(self) -> dict[str, str]:
        """The environment of every process of the app: production settings, on the bench's stores."""
        return production_env(
            database_url=self.database_url,
            cache_url=self.cache_url,
            broker_url=self.broker_url,
            # gunicorn's access log is written at any level; INFO adds only its lifecycle lines
            # (workers booting, signals received), which tell restarts and outside kills apart.
            LOG_LEVEL="INFO",
            WEB_CONCURRENCY=str(self.workers),
            GUNICORN_THREADS=str(self.threads),
            # No recycling: any worker that restarts during the bench died.
            GUNICORN_MAX_REQUESTS="0",
            GUNICORN_MAX_REQUESTS_JITTER="0",
        )

    def public(self) -> dict:
        hidden = {"scenarios"}
        settings = {k: v for k, v in vars(self).items() if k not in hidden}
        settings["scenarios"] = [s.name for s in self.scenarios]
        settings["rate_limits"] = RAISED_RATE
        settings["gunicorn"] = {
            "workers": self.workers, "threads": self.threads,
            "worker_class": "gthread" if self.threads > 1 else "sync", "max_requests": 0,
        }  # fmt: skip
        return settings


class Bench:
    """One benchmark run: the services it started and the measurements it took."""

    def __init__(self, config: Config, log_dir: Path) -> None:
        self.config, self.log_dir = config, log_dir
        self.env = config.app_env()
        self.wrk = loadgen.ensure_packages()
        self.locust = PYTHON.parent / "locust"
        if any(s.open_loop for s in config.scenarios) and not self.locust.exists():
            raise SystemExit(f"{self.locust} is missing: install requirements-dev.txt (it pins locust).")
        self.app: Service | None = None
        self.ceiling: Service | None = None
        self.worker: Service | None = None
        self.measurements: list[Measurement] = []
        self.checks: dict[str, object] = {}
        self.versions: dict[str, str] = {}
        self.machine = report.machine()  # before the bench loads it: the load average says how quiet it was

    # --- set-up ------------------------------------------------------------------------

    def prepare_data(self) -> None:
        """Recreate and seed the bench database (unless reusing it), then write the wrk data file."""
        cfg = self.config
        os.environ.update(self.env)  # this process reads the same database and cache
        if not (cfg.reuse_db and dataset.has_products(cfg.database_url)):
            step(f"database {self.database_name}: create, migrate, seed")
            dataset.recreate_database(cfg.database_url)
            dataset.flush_redis(cfg.cache_url, cfg.broker_url)
            self.manage("migrate", "--noinput")
            self.manage(
                "seed_demo", "--products", str(cfg.products), "--customers", str(cfg.customers),
                "--reviews", str(cfg.reviews), "--orders", str(cfg.orders), "--seed", str(cfg.seed), "--flush",
                "--pictures", "0",  # the measured answers stay comparable with earlier runs
            )  # fmt: skip
        dataset.setup_django()
        self.data = dataset.write_data_file(self.log_dir / "data.lua", cfg.seed, cfg.popular, cfg.customers)
        dataset.analyze(cfg.database_url)
        dataset.flush_redis(cfg.cache_url, cfg.broker_url)
        step(f"data: {self.data.customers} customers with tokens, {len(self.data.popular_ids)} popular products")

    def manage(self, *args: str) -> None:
        """Run a management command with the app's environment; its output goes to setup.log."""
        with open(self.log_dir / "setup.log", "ab") as log:
            started = time.monotonic()
            subprocess.run(
                [str(PYTHON), "manage.py", *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                check=True, timeout=900,
            )  # fmt: skip
        step(f"manage.py {args[0]}: {time.monotonic() - started:.0f} s")

    def start_servers(self) -> None:
        """Start the app and the ceiling under gunicorn; give the ceiling the product-list bytes."""
        cfg = self.config
        self.app = gunicorn(
            "app", "config.wsgi:application", f"{HOST}:{cfg.port}", self.env, PYTHON, self.log_dir
        ).start()
        self.ceiling = gunicorn(
            "ceiling", "bench.ceiling:application", f"{HOST}:{cfg.ceiling_port}", self.env, PYTHON, self.log_dir
        ).start()
        wait_until_up(self.app, f"http://{HOST}:{cfg.port}/health/live/")
        wait_until_up(self.ceiling, f"http://{HOST}:{cfg.ceiling_port}/health/live/")
        status, body = loadgen.fetch(HOST, cfg.port, "/api/v1/products/")
        if status != 200:
            raise RuntimeError(f"GET /api/v1/products/ answered {status}: {body[:300]!r}")
        dataset.store_ceiling_body(dataset.CEILING_KEY, body)
        _status, echoed = loadgen.fetch(HOST, cfg.ceiling_port, "/ceiling/")
        if echoed != body:
            raise RuntimeError("The ceiling does not answer the product list's bytes.")
        self.checks["ceiling_body_bytes"] = len(body)
        step(f"app and ceiling up: {cfg.workers} workers x {cfg.threads} threads each; product list {len(body):,} B")

    def stop_all(self) -> None:
        for service in (self.worker, self.ceiling, self.app):
            if service is not None:
                service.stop()

    # --- measuring ---------------------------------------------------------------------

    def url(self, scenario: Scenario) -> str:
        port = self.config.ceiling_port if scenario is CEILING else self.config.port
        return f"http://{HOST}:{port}"

    def server_for(self, scenario: Scenario) -> Service:
        return self.ceiling if scenario is CEILING else self.app

    def concurrencies(self, scenario: Scenario) -> list[int]:
        """Return the connections to measure at: wrk's, or the Locust users sharing the open-loop rate."""
        return [self.config.steady_users] if scenario.open_loop else self.config.connections

    def load_run(
        self, scenario: Scenario, connections: int, seconds: int, seed: int, drain: bool = True
    ) -> loadgen.WrkResult:
        """Run wrk (Locust for an open-loop scenario), then (unless told not to) wait until the
        server has served what the client left queued."""
        server = self.server_for(scenario)
        if not server.running():
            raise RuntimeError(f"{server.name}'s gunicorn has exited; see {server.log_path} (killed from outside?)")
        if scenario.open_loop:
            result = loadgen.run_locust(
                self.locust, self.url(scenario), scenario.name, connections, self.config.steady_rate, seconds,
                self.data.json_path, seed, self.log_dir / f"locust-{scenario.name}-{seed}", self.log_dir / "locust.log",
            )  # fmt: skip
        else:
            result = loadgen.run_wrk(
                self.wrk, self.url(scenario), scenario.name, connections, seconds, self.data.lua_path, seed
            )
        if drain:
            self.drain(scenario)
        return result

    def drain(self, scenario: Scenario) -> None:
        """Wait until the server's workers go idle.

        wrk stops with requests still queued: with sync workers up to one per connection
        waits in the listen backlog and is still served. Left alone, they would slow the
        next run and blur the stock checks.
        """
        pids = process_tree(self.server_for(scenario).pid)
        deadline = time.monotonic() + DRAIN_SECONDS
        used = cpu.group_seconds(pids)
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = cpu.group_seconds(pids)
            if now - used < IDLE_CPU_SECONDS:
                return
            used = now
        step(f"  (the server was still busy {DRAIN_SECONDS} s after wrk stopped)")

    def warm_up(self, scenario: Scenario) -> None:
        if scenario.name == "product_detail":
            touched = loadgen.touch_all(
                HOST, self.config.port, [f"/api/v1/products/{pk}/" for pk in self.data.popular_ids]
            )
            step(f"  detail warm-up: {touched['requested']}/{touched['of']} products, {touched['statuses']}")
        if self.config.warmup:
            connections = self.concurrencies(scenario)[0]
            result = self.load_run(scenario, connections, self.config.warmup, self.config.seed - 1)
            step(f"  warm-up: {result.rps:,.0f} rps, statuses {result.statuses}, socket errors {result.errors}")

    def measure(self, scenario: Scenario) -> None:
        """Warm up, then BENCH_RUNS runs at each concurrency (or at the open-loop rate), sampling the workers."""
        step(f"{scenario.name}: {scenario.title}")
        started = dataset.now()
        if scenario.needs_worker:
            self.start_worker()
        try:
            self.warm_up(scenario)
            for connections in self.concurrencies(scenario):
                measurement = Measurement(scenario.name, connections)
                if scenario.open_loop:
                    measurement.rate = self.config.steady_rate
                if scenario.read:
                    measurement.ceiling = Measurement(CEILING.name, connections)
                for run in range(self.config.runs):
                    if measurement.ceiling is not None:
                        # Each read run right after a ceiling run: the machine's mood drifts over minutes.
                        self.one_run(CEILING, measurement.ceiling, run)
                    self.one_run(scenario, measurement, run)
                self.measurements.append(measurement)
        finally:
            if scenario.needs_worker:
                self.stop_worker(started)
        if scenario.name == "order_hot":
            self.sellout_check()

    def one_run(self, scenario: Scenario, measurement: Measurement, run: int) -> None:
        master = self.server_for(scenario).pid
        hot = scenario.name == "order_hot"
        if hot:
            stock_before, since = dataset.stock_of(self.data.hot_variant), dataset.now()
        before = WorkerSample(worker_memory(master))
        groups = self.process_groups(scenario)
        cpu_before, sampled_at = cpu.sample(groups, self.database_name), time.monotonic()
        # A random stream of its own per run: a repeat of an earlier run's requests would hit its cache entries.
        seed = self.config.seed + 1000 * measurement.connections + run
        result = self.load_run(scenario, measurement.connections, self.config.duration, seed, drain=False)
        cpu_after, window = cpu.sample(groups, self.database_name), time.monotonic() - sampled_at
        self.drain(scenario)
        after = WorkerSample(worker_memory(master))
        # Locust's start-up, ramp and exit lie outside its measured seconds but inside the CPU samples.
        seconds = window if scenario.open_loop else result.seconds
        result.extra["cpu_ms_per_request"] = cpu.per_request(cpu_before, cpu_after, result.requests, seconds)
        measurement.runs.append(result)
        measurement.workers.append((before, after))
        note = ""
        if hot:
            check = self.stock_check(self.data.hot_variant, stock_before, since, result, measurement.connections)
            measurement.checks.append(check)
            note = f" stock check {'ok' if check['ok'] else 'FAILED'}: {check}"
        step(
            f"  c={measurement.connections} run {run + 1}: {result.rps:,.0f} rps, p99 {result.p99_ms:.1f} ms, "
            f"statuses {result.statuses}, socket errors {result.errors}, cache {result.cache}{note}"
        )

    def process_groups(self, scenario: Scenario) -> dict[str, set[int]]:
        """Return the pids of each service, for the CPU accounting: "app" is whichever gunicorn is loaded."""
        groups = {"app": process_tree(self.server_for(scenario).pid)}
        if self.worker is not None:
            groups["celery"] = process_tree(self.worker.pid)
        return groups

    @property
    def database_name(self) -> str:
        return self.config.database_url.rsplit("/", 1)[1]

    def stock_check(self, variant_id: int, before: int, since, result: loadgen.WrkResult, connections: int) -> dict:
        """Check that the stock taken equals the units on the orders placed, and never went negative.

        wrk stops with requests in flight: the server may still commit up to one order per
        connection whose 201 wrk never read, so 201s seen <= orders placed <= 201s + connections.
        """
        after = dataset.stock_of(variant_id)
        sold = dataset.units_sold_since(variant_id, since)
        seen = result.count(201)
        ok = before - sold == after and after >= 0 and seen <= sold <= seen + connections
        return {"ok": ok, "stock_before": before, "stock_after": after, "units_on_orders": sold, "201_seen": seen}

    def sellout_check(self) -> None:
        """Let every connection race for the last units of one variant; exactly that many must sell."""
        step(f"{SELLOUT.name}: {SELLOUT.title}")
        variant, connections = self.data.sellout_variant, self.config.connections[0]
        before, since = dataset.stock_of(variant), dataset.now()
        result = self.load_run(SELLOUT, connections, self.config.sellout_seconds, self.config.seed)
        check = self.stock_check(variant, before, since, result, connections)
        check["ok"] = check["ok"] and check["stock_after"] == 0 and check["units_on_orders"] == before
        check.update(statuses=result.statuses, socket_errors=result.errors, server_errors=result.server_errors)
        check["ok"] = check["ok"] and result.server_errors == 0
        self.checks["sellout"] = check
        step(f"  {'ok' if check['ok'] else 'FAILED'}: {check}")

    def start_worker(self) -> None:
        dataset.flush_redis(self.config.broker_url)  # earlier scenarios' queued emails: not this scenario's load
        self.worker = celery_worker(self.env, PYTHON, self.log_dir, concurrency=2).start()
        step("  celery worker started (concurrency 2)")

    def stop_worker(self, since) -> None:
        self.worker.stop()
        self.worker = None
        payments = dataset.payments_since(since)
        self.checks["card_payments_at_worker_stop"] = payments
        step(f"  celery worker stopped; payments opened in this scenario, by status: {payments}")

    def run(self) -> None:
        """Measure the ceiling and every scenario; then compare the app's workers with how they started."""
        first = worker_memory(self.app.pid)
        # The ceiling is only there to compare reads with: it runs paired with each read scenario.
        if any(scenario.read for scenario in self.config.scenarios):
            step(f"{CEILING.name}: {CEILING.title} (warm-up; measured paired with each read scenario)")
            self.warm_up(CEILING)
        for scenario in self.config.scenarios:
            self.measure(scenario)
        self.measurements[:0] = report.pooled_ceilings(self.measurements)
        last = worker_memory(self.app.pid)
        lines = worker_log_lines(self.app.log_path)
        self.checks["app_workers"] = {
            "same_pids_at_end": set(first) == set(last),
            "rss_mib_start_end": {pid: [round(first[pid] or 0, 1), round(last.get(pid) or 0, 1)] for pid in first},
            "restarts_seen_between_runs": sum(m.restarts for m in self.measurements if m.scenario != CEILING.name),
            "workers_booted": sum("Booting worker" in line for line in lines),
            "other_log_lines_about_workers": [line for line in lines if "Booting worker" not in line],
        }


def worker_log_lines(log_path: Path) -> list[str]:
    """Return gunicorn's lines about workers booting or dying, and signals its master received."""
    pattern = re.compile(r"WORKER TIMEOUT|Booting worker|exited with code|was sent SIG|Handling signal|Shutting down")
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    return [line for line in lines if pattern.search(line)][:50]


def step(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def raise_on_sigterm() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit, so the `finally` that stops the services runs."""

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)


def write_results(bench: Bench, started: float, stamp: str) -> Path:
    rows, verdicts = report.summarize(bench.measurements)
    table = report.markdown_table(rows, verdicts)
    cpu_table = report.cpu_table(bench.measurements)
    result = {
        "started_at": stamp,
        "wall_seconds": round(time.monotonic() - started, 1),
        "machine": {**bench.machine, **bench.versions},
        "config": bench.config.public(),
        "rate_limits_raised_to": RAISED_RATE,
        "table": rows,
        "cpu_table_markdown": cpu_table,
        "targets": verdicts,
        "checks": bench.checks,
        "runs": [
            {**asdict(run), "worker_rss_before": before.rss, "worker_rss_after": after.rss}
            for m in bench.measurements
            for run, (before, after) in zip(m.runs, m.workers, strict=True)
        ],
    }
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    (RESULTS / "latest.json").write_text(path.read_text())
    (RESULTS / "latest.md").write_text(f"{table}\n\nCPU milliseconds per request:\n\n{cpu_table}\n")
    print()
    print(
        f"Rate limits raised to {RAISED_RATE} for this run (RATELIMIT_ANON/USER/AUTH/ORDERS); gunicorn "
        f"{bench.config.workers} workers x {bench.config.threads} threads, max_requests 0 (no recycling); "
        f"{bench.config.runs} runs of {bench.config.duration} s per row (medians; counts summed)."
    )
    print(table)
    print("\nCPU milliseconds per request, by process group (other: the rest of the machine):")
    print(cpu_table)
    print(f"\nchecks: {json.dumps(bench.checks, default=str)}")
    print(f"wrote {path.relative_to(ROOT)} and bench/results/latest.json ({result['wall_seconds']:.0f} s)")
    return path


def main() -> int:
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    raise_on_sigterm()
    log_dir = RESULTS / f"logs-{stamp}"
    log_dir.mkdir(parents=True, exist_ok=True)
    bench = Bench(Config(), log_dir)
    try:
        bench.prepare_data()
        bench.versions = versions()
        bench.start_servers()
        bench.run()
    except KeyboardInterrupt:
        print("\nInterrupted: stopping everything the bench started.", flush=True)
        return 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        bench.stop_all()
        with contextlib.suppress(Exception):  # the shared Redis gets its memory back; nothing else needs it
            dataset.flush_redis(bench.config.cache_url, bench.config.broker_url)
        # Access logs hold a line per request (hundreds of MB); the data files hold bearer tokens.
        for path in [*log_dir.glob("*-access.log"), log_dir / "data.lua", log_dir / "data.json"]:
            path.unlink(missing_ok=True)
    write_results(bench, started, stamp)
    return 0


def versions() -> dict:
    """PostgreSQL, Redis, Django and gunicorn versions (Django is set up by now)."""
    import django
    import gunicorn as gunicorn_package
    from django.core.cache import cache
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    connection.close()
    redis_version = cache.client.get_client().info("server")["redis_version"]
    return {"postgresql": postgres, "redis": redis_version, "django": django.get_version(),
            "gunicorn": gunicorn_package.__version__}  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
