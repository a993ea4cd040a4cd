"""gunicorn settings, read from the environment: `gunicorn -c config/gunicorn.conf.py config.wsgi:application`."""

import multiprocessing
import os

import environ

env = environ.Env()

# --- Socket -------------------------------------------------------------------
# 0.0.0.0 so the port published by the container is reachable; TLS ends at the proxy.
bind = env("GUNICORN_BIND", default="0.0.0.0:8000")

# --- Workers --------------------------------------------------------------------
# cpu_count() sees the host's cores, not the container's CPU limit: set WEB_CONCURRENCY
# in containers, or a big host gets a worker per core it cannot use.
workers = env.int("WEB_CONCURRENCY", default=multiprocessing.cpu_count() * 2 + 1)
# Threads help while requests wait on PostgreSQL or Redis; gthread is the worker that runs them.
threads = env.int("GUNICORN_THREADS", default=1)
worker_class = "gthread" if threads > 1 else "sync"
# The heartbeat file lives in RAM: on a container's overlay disk the fchmod can stall a worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# --- Timeouts -------------------------------------------------------------------
# Kill a worker stuck on one request after this long; the proxy's own timeout should be longer.
timeout = env.int("GUNICORN_TIMEOUT", default=30)
# On SIGTERM, let requests in flight finish; the orchestrator's stop grace period must exceed this.
graceful_timeout = env.int("GUNICORN_GRACEFUL_TIMEOUT", default=30)
# Longer than 2s so a keep-alive connection from the proxy is reused instead of reopened.
keepalive = env.int("GUNICORN_KEEPALIVE", default=5)

# --- Recycling --------------------------------------------------------------------
# Restart each worker after this many requests to cap slow leaks; the jitter keeps them
# from all restarting at once.
max_requests = env.int("GUNICORN_MAX_REQUESTS", default=1000)
max_requests_jitter = env.int("GUNICORN_MAX_REQUESTS_JITTER", default=100)

# --- Logging: access log to stdout, errors to stderr, collected by the orchestrator --
accesslog = "-"
errorlog = "-"
# One knob for the whole process: the same LOG_LEVEL the Django settings read.
loglevel = env("LOG_LEVEL", default="info")
# The same LOG_FORMAT too: JSON lines (production's default), with the request id on
# each access line, or gunicorn's own plain lines.
if env("LOG_FORMAT", default="json") == "json":
    logger_class = "common.logs.GunicornJsonLogger"

# --- Proxy ------------------------------------------------------------------------
# Trust X-Forwarded-Proto only from the proxies Django trusts for X-Forwarded-For (the
# TLS-terminating proxy): one list, TRUSTED_PROXIES, for both. Unset: none.
forwarded_allow_ips = env("TRUSTED_PROXIES", default="")

# --- Prometheus metrics (common/metrics.py) ------------------------------------
# Each worker writes its samples to files in this directory and a scrape answered by any
# worker sums them all. Set here, in the master, so every worker inherits it before it
# imports prometheus_client; unset, a directory of this run's own, in RAM when possible.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = env(
    "PROMETHEUS_MULTIPROC_DIR", default=os.path.join(worker_tmp_dir or "/tmp", f"shopkeep-prometheus-{os.getpid()}")
)


def on_starting(server):
    """Create the metrics directory empty: files from an earlier run would add its counts again."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):  # prometheus_client's files only: the directory may hold others
            os.remove(os.path.join(path, name))


def child_exit(server, worker):
    """Drop a dead worker's live-gauge files; its counters and histograms stay in the sum.

    Imported here, not at the top: the master must not import prometheus_client before
    PROMETHEUS_MULTIPROC_DIR is set, or forked workers would inherit single-process values.
    """
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
