"""Production: refuses to start without SECRET_KEY and ALLOWED_HOSTS; passes check --deploy."""

from .base import *  # noqa: F403
from .base import LOGGING, REST_FRAMEWORK, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY")  # no default: ImproperlyConfigured when missing
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# --- HTTPS behind a TLS-terminating proxy ---------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Probes and scrapes come over plain HTTP from inside the network: /health/* and
# /metrics are answered by the first middlewares, before this redirect (common).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- The browsable API: off unless turned on; the API answers JSON only ----------
BROWSABLE_API = env.bool("BROWSABLE_API", default=False)
if not BROWSABLE_API:
    REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

# --- Logs: one JSON object per line, for the log pipeline ------------------------
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
