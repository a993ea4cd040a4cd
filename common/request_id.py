"""A request id on every log line: a trusted proxy's X-Request-ID or a new one, returned, and carried into tasks.

The id lives in a context variable: the middleware sets it for a request, Celery's publish
hook copies it into the task message's headers, and the prerun hook restores it in the
worker, so a task's log lines name the request that enqueued it.
"""

import logging
import re
import uuid
from contextvars import ContextVar

from common.proxies import is_trusted_proxy, trusted_proxies

request_id: ContextVar[str] = ContextVar("request_id", default="-")

HEADER = "X-Request-ID"
TASK_HEADER = "shopkeep_request_id"
# Ids from callers are echoed into logs and headers: accept only short, plain tokens.
ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Give each request an id and return it.

    The X-Request-ID of a trusted proxy (which made or passed on the id for its own logs)
    is kept when well-formed; anyone else's is replaced, so a client cannot plant ids
    that collide with other requests' log lines.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        trusted_proxies()  # a bad TRUSTED_PROXIES entry stops the app here, not on every request

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        trusted = given and ACCEPTABLE.match(given) and is_trusted_proxy(request.META.get("REMOTE_ADDR", ""))
        token = request_id.set(given if trusted else uuid.uuid4().hex)
        try:
            response = self.get_response(request)
            response[HEADER] = request_id.get()
            return response
        finally:
            request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Add `request_id` to every log record, for the formatters."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def add_request_id_to_task(headers=None, **kwargs) -> None:
    """Celery before_task_publish: carry the current request id in the message headers."""
    if headers is not None and request_id.get() != "-":
        headers[TASK_HEADER] = request_id.get()


def restore_request_id_in_task(task=None, **kwargs) -> None:
    """Celery task_prerun: log under the id of the request that enqueued the task.

    An eager task (run inside the request) keeps the request's id; a task nobody's request
    enqueued (beat) gets one of its own.
    """
    carried = getattr(task.request, TASK_HEADER, None)
    if carried is None and request_id.get() != "-":
        carried = request_id.get()
    task.request.request_id_token = request_id.set(carried or f"task-{task.request.id}")


def forget_request_id_after_task(task=None, **kwargs) -> None:
    """Celery task_postrun: put back the id that was current before the task."""
    token = getattr(task.request, "request_id_token", None)
    if token is not None:
        request_id.reset(token)
