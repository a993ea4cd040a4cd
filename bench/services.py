"""The processes the bench starts (gunicorn for the app and the ceiling, a Celery worker),
and what it reads about them from /proc: worker pids and their resident memory.

Each process starts in its own session, so stopping it signals its whole process group
(master and workers) and nothing else; `Service.stop` ends with SIGKILL if SIGTERM is
not enough in time.
"""

import contextlib
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

STOP_GRACE_SECONDS = 15


class Service:
    """A long-running child process; its stderr goes to `log_path`, its stdout there too or to `out_path`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path, out_path: Path | None = None):
        self.name, self.argv, self.env = name, argv, env
        self.log_path, self.out_path = log_path, out_path
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    def start(self) -> "Service":
        with open(self.log_path, "ab") as log, open(self.out_path or os.devnull, "ab") as out:
            self.process = subprocess.Popen(
                self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=out if self.out_path else log, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM the process group, wait, then SIGKILL whatever is left of it; safe to call twice."""
        if self.process is None:
            return
        signal_group(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        signal_group(self.process.pid, signal.SIGKILL)  # workers that outlived their master, or the master
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self.process = None


HOST = "127.0.0.1"
# High enough that no load run is refused by the API's own rate limits.
RAISED_RATE = "100000000/m"


def production_env(*, database_url: str, cache_url: str, broker_url: str, **overrides: str) -> dict[str, str]:
    """Return the environment of an app process on the production settings, on loopback stores.

    The host is 127.0.0.1 over plain HTTP (no TLS proxy in front), the rate limits are
    raised, access tokens last a day and email goes nowhere; `overrides` add or replace.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "PROMETHEUS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=database_url,
        REDIS_URL=cache_url,
        CELERY_BROKER_URL=broker_url,
        RATELIMIT_ANON=RAISED_RATE,
        RATELIMIT_USER=RAISED_RATE,
        RATELIMIT_AUTH=RAISED_RATE,
        RATELIMIT_ORDERS=RAISED_RATE,
        JWT_ACCESS_MINUTES="1440",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        **overrides,
    )
    return env


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def gunicorn(name: str, app: str, bind: str, env: dict[str, str], python_bin: Path, log_dir: Path) -> Service:
    """Return (unstarted) gunicorn serving `app` with the project's config file, bound to `bind`.

    The config sends the access log to stdout (kept in `<name>-access.log`) and gunicorn's
    own log to stderr (`<name>.log`).
    """
    argv = [str(python_bin.parent / "gunicorn"), "-c", "config/gunicorn.conf.py", app]
    env = {**env, "GUNICORN_BIND": bind}
    return Service(name, argv, env, log_dir / f"{name}.log", out_path=log_dir / f"{name}-access.log")


def celery_worker(env: dict[str, str], python_bin: Path, log_dir: Path, concurrency: int) -> Service:
    argv = [
        str(python_bin.parent / "celery"), "-A", "config", "worker", "--loglevel", "WARNING",
        "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    return Service("celery-worker", argv, env, log_dir / "celery-worker.log")


def wait_until_up(service: Service, url: str, timeout: float = 60.0) -> None:
    """Poll `url` until it answers 200; fail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.running():
            raise RuntimeError(f"{service.name} exited during start-up; see {service.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{service.name} did not answer {url} within {timeout:.0f} s; see {service.log_path}")


def children_of(pid: int) -> list[int]:
    """Return the pids whose parent is `pid` (gunicorn's workers), from /proc."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name (in parentheses) may contain spaces; the parent pid follows it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            children.append(int(entry))
    return sorted(children)


def process_tree(pid: int) -> set[int]:
    """Return `pid` and all its descendants."""
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children_of(current))
    return found


def rss_mib(pid: int) -> float | None:
    """Return a process's resident memory in MiB (VmRSS), or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def worker_memory(master_pid: int) -> dict[int, float | None]:
    """Return {worker pid: RSS MiB} for every worker of a gunicorn master."""
    return {pid: rss_mib(pid) for pid in children_of(master_pid)}
