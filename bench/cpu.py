"""Where the machine's CPU went during a run, from /proc: the app's gunicorn, PostgreSQL
backends serving the bench database, Redis, the Celery worker, wrk, and everything else
(other users of this machine included). Divided by the requests served, it says what one
request costs, and "other" says how quiet the machine was.
"""

import os
import resource
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
SERVER_GROUPS = ["postgres (bench db)", "postgres (other)", "redis"]


@dataclass
class CpuSample:
    total_busy: float  # seconds of CPU the whole machine spent not idle
    groups: dict[str, dict[int, float]]  # seconds of CPU of each process, per group of processes


def machine_busy_seconds() -> float:
    """Return the non-idle CPU time of the whole machine since boot, in seconds."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / TICKS


def process_seconds(pid: int) -> tuple[str, float]:
    """Return a process's command line and its CPU time (user + system) in seconds."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "", 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return cmdline, (int(fields[11]) + int(fields[12])) / TICKS


def sample(groups: dict[str, set[int]], database: str) -> CpuSample:
    """Return the CPU time of each named group of pids, of PostgreSQL and Redis, and of the machine.

    PostgreSQL backends are told apart by the database their process title names, so the
    bench's are counted apart from other databases on the same server. wrk is counted
    through this process's waited-for children (it is the only child waited for during a run).
    """
    pid_group = {pid: name for name, pids in groups.items() for pid in pids}
    seconds: dict[str, dict[int, float]] = {name: {} for name in [*groups, *SERVER_GROUPS, "wrk"]}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        group = pid_group.get(pid)
        if group is None:
            cmdline, used = process_seconds(pid)
            if cmdline.startswith("postgres"):
                group = "postgres (bench db)" if f" {database} " in cmdline else "postgres (other)"
            elif "redis-server" in cmdline:
                group = "redis"
            else:
                continue
        else:
            _cmdline, used = process_seconds(pid)
        seconds[group][pid] = used
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds["wrk"] = {0: children.ru_utime + children.ru_stime}
    return CpuSample(machine_busy_seconds(), seconds)


def group_seconds(pids: set[int]) -> float:
    """Return the CPU time of these processes together, in seconds."""
    return sum(process_seconds(pid)[1] for pid in pids)


def per_request(before: CpuSample, after: CpuSample, requests: int, wall_seconds: float) -> dict:
    """Return CPU milliseconds per request for each group, plus "other" and the machine's busy share."""
    spent = {
        # A process that ended during the run takes its CPU time with it: an undercount, never negative.
        name: sum(used - before.groups.get(name, {}).get(pid, 0.0) for pid, used in pids.items())
        for name, pids in after.groups.items()
    }
    busy = after.total_busy - before.total_busy
    spent["other"] = max(0.0, busy - sum(spent.values()))
    cores = os.cpu_count() or 1
    result = {name: round(1000 * value / max(requests, 1), 3) for name, value in spent.items()}
    result["machine_busy_share"] = round(busy / (wall_seconds * cores), 3) if wall_seconds else None
    return result
