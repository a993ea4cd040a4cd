"""Log lines for people (development) and for log pipelines (production: one JSON object per line).

Both formatters scrub secrets from the finished line, whatever produced it: passwords
and tokens in key=value or JSON pairs, bearer tokens, JWTs, and credentials inside URLs
(a DATABASE_URL in an error message, say). Scrubbing the finished line also covers
exception text and extra fields, which no per-call discipline could promise.
"""

import json
import logging
import re
import threading
import time
from datetime import UTC, datetime

from gunicorn.glogging import Logger as GunicornLogger

REDACTED = "[redacted]"

SECRET_NAMES = r"(?:password|passwd|secret|token|access|refresh|api[_-]?key|authorization|card[_-]?number|cvc|cvv)"
SECRET_PATTERNS = [
    (re.compile(r"(\bBearer\s+)[\w.~+/=-]+", re.IGNORECASE), rf"\1{REDACTED}"),
    # "password": "hunter2" (JSON), 'password': 'hunter2' (a dict's repr), password=hunter2 (text,
    # or a URL: token%3Dabc is how Django prints an "=" inside a path)
    (re.compile(rf'("[\w-]*{SECRET_NAMES}[\w-]*"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE), rf'\1"{REDACTED}"'),
    (re.compile(rf"('[\w-]*{SECRET_NAMES}[\w-]*'\s*:\s*)'[^']*'", re.IGNORECASE), rf"\1'{REDACTED}'"),
    (
        re.compile(
            rf"(\b[\w-]*{SECRET_NAMES}[\w-]*\b\s*(?:[=:]|%3[da])\s*)(?!\s|\"|'|Bearer\b|{re.escape(REDACTED)})[^\s,;&'\"]+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+"), REDACTED),  # a JWT anywhere
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@", re.IGNORECASE), rf"\1{REDACTED}@"),  # scheme://user:pw@
]
# What every pattern above needs somewhere in the text: one quick scan spares most lines
# the six full ones (scrubbing every access line in full was a sixth of a cached read).
SECRET_HINT = re.compile(rf"{SECRET_NAMES}|bearer|eyJ|://", re.IGNORECASE)

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def redact(text: str) -> str:
    """Return `text` with every recognisable secret replaced by [redacted]."""
    if not SECRET_HINT.search(text):
        return text
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class PlainFormatter(logging.Formatter):
    """Readable lines: time, level, request id, logger, message."""

    def __init__(self, fmt=None, datefmt=None, style="%", **kwargs):
        super().__init__(
            fmt or "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s", datefmt, style, **kwargs
        )

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        entry.update(
            (name, value)
            for name, value in vars(record).items()
            if name not in STANDARD_ATTRIBUTES and not name.startswith("_")
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return redact(json.dumps(entry, default=str))


class RepeatFilter(logging.Filter):
    """Let the first record of a kind through each `interval` seconds; leave out the repeats, counted on the next.

    A kind is the logger, the level and the message before its arguments, so an outage
    logged on every request or cache call (django-redis, rate limits, cached reads) writes
    its first line, with the traceback that says what failed, then one line per interval
    saying how many were left out. Configured on those loggers in LOGGING.
    """

    def __init__(self, interval: float = 60.0) -> None:
        super().__init__()
        self.interval = float(interval)
        self._lock = threading.Lock()
        self._kinds: dict[tuple, tuple[float, int]] = {}  # kind -> (when one last went through, left out since)

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, record.levelno, str(record.msg))
        now = time.monotonic()
        with self._lock:
            passed_at, left_out = self._kinds.get(kind, (None, 0))
            if passed_at is not None and now - passed_at < self.interval:
                self._kinds[kind] = (passed_at, left_out + 1)
                return False
            self._kinds[kind] = (now, 0)
        if left_out:
            record.msg = f"{record.msg} ({left_out} more like this left out in the last {self.interval:g} s)"
            record.repeats_left_out = left_out
        return True

    def reset(self) -> None:
        """Forget every kind seen, so the next record of each goes through."""
        with self._lock:
            self._kinds.clear()


# The access line's fields that come from the request.
CLIENT_FIELDS = ("request_id", "message", "path", "query", "user_agent", "referer")


class GunicornJsonLogger(GunicornLogger):
    """gunicorn's logger with JSON lines: its own error log, and one access line per request.

    The access line carries the request id the app put in X-Request-ID, so a request's
    access line and app lines share it.
    """

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "request_id": atoms.get("{x-request-id}o", "-"),
            "message": f"{atoms['r']} {atoms['s']}",
            "remote_addr": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"],
            "status": int(atoms["s"]),
            "bytes": atoms["B"],
            "duration_ms": round(atoms["D"] / 1000, 1),
            "user_agent": atoms["a"],
            "referer": atoms["f"],
        }
        # Only what the client sent can carry a secret; the rest is ours (and "gunicorn.access"
        # would send every line through the full scrub).
        for field in CLIENT_FIELDS:
            entry[field] = redact(entry[field])
        self.access_log.info(json.dumps(entry))
