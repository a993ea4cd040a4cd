"""Settings shared by every environment, read from the environment.

With no DATABASE_URL / REDIS_URL set, Shopkeep runs on the embedded default:
SQLite, Django's local-memory cache and Celery in eager mode.
"""

from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -----------------------------------------------------------------
SECRET_KEY = env("SECRET_KEY", default="django-insecure-shopkeep-development-only")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "config.apps.ShopAdminConfig",  # django.contrib.admin, with the staff dashboard on its index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",  # log out: refresh tokens recorded and revocable
    "django_filters",
    "django_countries",
    "phonenumber_field",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "catalog",
    "customers",
    "orders",
    "billing",
    "config.apps.CompositionConfig",  # the composition on top: seed_demo, anything that needs every app
]

MIDDLEWARE = [
    "common.health.HealthCheckMiddleware",
    "common.metrics.PrometheusMiddleware",
    "common.request_id.RequestIdMiddleware",
    "common.security.TrustedForwardedProtoMiddleware",  # before Security: X-Forwarded-Proto from proxies only
    "django.middleware.security.SecurityMiddleware",
    "common.security.PagePolicyMiddleware",  # CSP and Permissions-Policy on HTML pages
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "common.errors.ApiNotFoundMiddleware",  # JSON 404s under /api/ with DEBUG on too; outside CommonMiddleware
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: DATABASE_URL (PostgreSQL via psycopg 3) or an SQLite file ---
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that does not answer must fail a request (and the readiness probe) in
    # seconds, not hang a worker until gunicorn kills it.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=5)

# --- Cache: REDIS_URL (django-redis) or local memory ------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "shopkeep",
            "OPTIONS": {
                # A cache outage must never fail a request: fail fast, fall through to the DB.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.25),
                "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.25),
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shopkeep"}}

# Seconds each cached catalog read lives (SPEC §6).
CATALOG_CACHE_TTL_PRODUCTS = env.int("CATALOG_CACHE_TTL_PRODUCTS", default=300)
CATALOG_CACHE_TTL_CATEGORIES = env.int("CATALOG_CACHE_TTL_CATEGORIES", default=3600)

# --- Catalog search and facets (catalog/search.py) ---------------------------
# The PostgreSQL text search configuration of product search vectors and queries (stemming,
# stop words). Changing it needs the vectors rebuilt: Product.objects.refresh_search(...).
CATALOG_SEARCH_CONFIG = env("CATALOG_SEARCH_CONFIG", default="english")
# A full-text search that matches fewer products than this also takes those whose name is
# close in spelling (trigram word similarity), so "hedphones" finds headphones.
CATALOG_SEARCH_TYPO_BELOW = env.int("CATALOG_SEARCH_TYPO_BELOW", default=3)
# The price bands of GET /products/facets/: (min, max) with both ends included, max None for
# "and above". A band counts a product the way min_price/max_price filter it.
CATALOG_PRICE_BANDS = [
    ("0.00", "24.99"),
    ("25.00", "49.99"),
    ("50.00", "99.99"),
    ("100.00", "249.99"),
    ("250.00", "499.99"),
    ("500.00", None),
]

# --- Rate limits (common/ratelimit.py; counters in the cache, shared by all workers) ---
# Rates are count/period (s, m, h, d). Every API request counts against the anonymous or
# the user limit; sign-in and order placement also count against their own.
RATELIMIT_ANON = env("RATELIMIT_ANON", default="100/m")  # per client IP, without a login
RATELIMIT_USER = env("RATELIMIT_USER", default="1000/m")  # per signed-in user
RATELIMIT_AUTH = env("RATELIMIT_AUTH", default="10/m")  # every /auth/ endpoint, together: per client IP
# Password reset emails asked for one address (any case), from any IP.
RATELIMIT_PASSWORD_RESET_EMAIL = env("RATELIMIT_PASSWORD_RESET_EMAIL", default="3/h")
RATELIMIT_ORDERS = env("RATELIMIT_ORDERS", default="30/m")  # order placements per customer
# Admin login attempts (right or wrong), per client IP and per username (any case).
RATELIMIT_ADMIN_LOGIN = env("RATELIMIT_ADMIN_LOGIN", default="10/m")
RATELIMIT_ADMIN_LOGIN_USERNAME = env("RATELIMIT_ADMIN_LOGIN_USERNAME", default="5/m")
# Proxies (IPs or CIDR networks) whose X-Forwarded-For names the client, and whose
# X-Request-ID is kept. Anyone else is the client, whatever headers it sends.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# --- Metrics (Prometheus) -----------------------------------------------------
# GET /metrics answers clients at these addresses or CIDR networks (Prometheus scrapes
# by pod IP: list its network); a bad entry stops the app at startup.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
# Or any client sending "Authorization: Bearer <token>" with this token; empty: no token is accepted.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# --- Health: GET /health/live/ and /health/ready/ (common/health.py) ---
# Seconds the readiness probe waits for the broker before calling it down.
HEALTH_BROKER_TIMEOUT = env.float("HEALTH_BROKER_TIMEOUT", default=2.0)

# --- Celery: Redis broker, or eager in-process on the embedded default -----
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # with acks_late: a busy worker does not hoard payment messages
CELERY_BEAT_SCHEDULE = {
    "reconcile-payments": {"task": "billing.tasks.reconcile_payments", "schedule": 60.0},
}

# --- Payments: gateway, retries, circuit breaker, reconciliation -------------------
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="billing.gateway.MockGateway")
PAYMENT_GATEWAY_OPTIONS = {  # the mock's knobs; a real gateway would take its credentials here
    "decline_rate": env.float("MOCK_GATEWAY_DECLINE_RATE", default=0.05),
    "outage_rate": env.float("MOCK_GATEWAY_OUTAGE_RATE", default=0.05),
    "latency_ms": env.int("MOCK_GATEWAY_LATENCY_MS", default=50),
}
PAYMENT_MAX_ATTEMPTS = env.int("PAYMENT_MAX_ATTEMPTS", default=3)  # gateway calls before giving up on outages
PAYMENT_RETRY_BASE_SECONDS = env.float("PAYMENT_RETRY_BASE_SECONDS", default=2.0)  # backoff: base * 2^n, jittered
PAYMENT_RETRY_MAX_SECONDS = env.float("PAYMENT_RETRY_MAX_SECONDS", default=60.0)
PAYMENT_BREAKER_FAIL_MAX = env.int("PAYMENT_BREAKER_FAIL_MAX", default=5)  # consecutive outages that open it
PAYMENT_BREAKER_RESET_SECONDS = env.int("PAYMENT_BREAKER_RESET_SECONDS", default=60)  # open -> half-open
PAYMENT_STUCK_AFTER_SECONDS = env.int("PAYMENT_STUCK_AFTER_SECONDS", default=300)  # reconciliation re-queues after

# --- Auth: customers log in with their email; staff with a username in the admin ---
AUTHENTICATION_BACKENDS = [
    "customers.backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
]
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    # A refresh token lives its whole lifetime unless revoked: logging out, a password
    # change or reset and closing the account blacklist it (token_blacklist records every
    # one issued). Refreshing answers an access token only, so there is nothing to rotate.
    "ROTATE_REFRESH_TOKENS": False,
    "BLACKLIST_AFTER_ROTATION": False,
}
# Seconds a password reset or email verification link stays valid (Django's default: 3 days).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
# Phone numbers are stored and sent in E.164; with no default region, a number must
# carry its country code (+1..., +44...).
PHONENUMBER_DEFAULT_FORMAT = "E164"
PHONENUMBER_DB_FORMAT = "E164"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation: times are stored and sent in UTC ---------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Shop -------------------------------------------------------------------
SHOP_NAME = env("SHOP_NAME", default="Shopkeep")
SHOP_CURRENCY = env("SHOP_CURRENCY", default="USD")
# The seller named on invoices: legal name, postal address (its line breaks written as \n
# in the environment) and tax id (VAT or sales tax number; left off the invoice when empty).
SHOP_SELLER_NAME = env("SHOP_SELLER_NAME", default=SHOP_NAME)
SHOP_SELLER_ADDRESS = env.str(
    "SHOP_SELLER_ADDRESS", default="1 Market Street\nSpringfield, IL 62701\nUnited States", multiline=True
)
SHOP_SELLER_TAX_ID = env("SHOP_SELLER_TAX_ID", default="")
# The storefront's address: account emails link to its /reset-password and /verify-email
# pages, which post the link's uid and token to the API.
STOREFRONT_URL = env("STOREFRONT_URL", default="http://localhost:3000").rstrip("/")
# Products at or below this stock count show under the admin's "low stock" filter.
LOW_STOCK_THRESHOLD = env.int("LOW_STOCK_THRESHOLD", default=5)

# --- Email: the backend and its server, from the environment in every settings mode ---
# Development defaults to the console backend, production to SMTP, tests to locmem. The file
# backend ("django.core.mail.backends.filebased.EmailBackend") writes each message under
# EMAIL_FILE_PATH, where an operator can read what was sent.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent-emails"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # seconds; a mail server that hangs must not hold a worker
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="shop@localhost")

# --- Static and media files ---------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Where uploads (product images and their thumbnails) are stored: "filesystem" (MEDIA_ROOT,
# served at MEDIA_URL: by runserver in development, by the reverse proxy in production) or
# "s3" (an S3-compatible bucket through django-storages; the answers link the bucket's URLs).
MEDIA_STORAGE = env("MEDIA_STORAGE", default="filesystem")
if MEDIA_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {  # an empty variable counts as unset (docker-compose.yml passes them all)
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            # Unset: AWS itself; any S3-compatible service (MinIO, Ceph, R2, ...) by its URL.
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default="") or None,
            # Unset: boto3's own chain (its environment variables, an instance or task role).
            "access_key": env("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env("AWS_S3_REGION_NAME", default="") or None,
            # A CDN or public host name in front of the bucket, used in the URLs instead of the endpoint's.
            "custom_domain": env("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            # Product images are public: plain URLs, which cached answers can hold and browsers
            # and CDNs can cache (a signed URL changes on every answer and expires). The bucket
            # (or the CDN) must let anyone read the objects.
            "querystring_auth": False,
            # Every name is new (a random one per upload), so stored files never change.
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
elif MEDIA_STORAGE != "filesystem":
    raise ImproperlyConfigured(f'MEDIA_STORAGE must be "filesystem" or "s3", not {MEDIA_STORAGE!r}.')
# Uploaded images (catalog/images.py): at most this many bytes, and this many pixels (width x
# height, read from the header before anything is decoded, so a decompression bomb never expands).
MEDIA_MAX_UPLOAD_BYTES = env.int("MEDIA_MAX_UPLOAD_BYTES", default=5 * 1024 * 1024)
MEDIA_MAX_IMAGE_PIXELS = env.int("MEDIA_MAX_IMAGE_PIXELS", default=25_000_000)
# Thumbnails (django-imagekit specs, catalog/images.py) go under this folder of the same storage.
IMAGEKIT_CACHEFILE_DIR = "thumbnails"

# --- Admin ------------------------------------------------------------------
DJANGO_ADMIN_URL = env("DJANGO_ADMIN_URL", default="admin/")
# Seconds the admin index dashboard's figures are reused before being counted again.
ADMIN_DASHBOARD_CACHE_SECONDS = env.int("ADMIN_DASHBOARD_CACHE_SECONDS", default=30)

# --- Policies of HTML pages (admin, API docs, invoice print pages): common/security.py ---
# Everything loads from this site (drf-spectacular-sidecar serves Swagger UI and ReDoc
# from /static/). Styles may be inline (the admin dashboard, Swagger UI, ReDoc and the
# invoice use <style>, ReDoc injects more); scripts may not, except the invoice page's
# print button handler, allowed by its hash. ReDoc starts a web worker from a blob: URL.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-hashes' 'sha256-MguIPR6qNR8D3B+eAlK+bIRTZe8t3wkOY4B/56Me9FU='",  # window.print()
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Browser features no page of ours uses.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb",
        "interest-cohort",
    )
)  # fmt: skip

# --- CORS: storefront origins allowed to call the API ------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# Request headers a storefront may send: corsheaders' defaults, the idempotency key of
# order placement and a request id to correlate its calls with our logs.
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "x-request-id")
# Response headers browser code may read (SPEC §5 documents each).
CORS_EXPOSE_HEADERS = [
    "Location",
    "Idempotent-Replayed",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "ETag",
    "X-Request-ID",
]

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first, so an anonymous write answers 401 with a challenge, not 403;
        # the session serves the browsable API and staff signed in to the admin.
        "common.authentication.LazyJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["common.permissions.StaffModelPermissionsOrReadOnly"],
    "DEFAULT_THROTTLE_CLASSES": ["common.ratelimit.RateLimitThrottle"],
    # DRF's parsers, with a JSON one that refuses bodies nested deep enough to crash the decoder.
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "common.filters.RequestedFiltersBackend",
        "rest_framework.filters.SearchFilter",
        "common.filters.StableOrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "common.schema.AutoSchema",
    "DEFAULT_METADATA_CLASS": "common.metadata.ShopMetadata",
    "EXCEPTION_HANDLER": "common.errors.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shopkeep API",
    "DESCRIPTION": (
        "Commerce backend for storefronts: catalog, customers, orders and billing.\n\n"
        "Every error body has `detail` (for humans) and `code` (stable, for machines); "
        "validation errors add `errors: {field: [messages]}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Operation ids and tags count from after /api/v1 ("products_list", tag "products"); paths stay whole.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Swagger UI and ReDoc come from drf-spectacular-sidecar under /static/: the docs make no outside request.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},  # no badge from the public validator
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "orders.models.Status"},
    # One tag per resource, derived from each operation's route (common.schema.AutoSchema.get_tags);
    # a tag no operation uses yet is left out of the schema.
    "TAGS": [
        {
            "name": "api",
            "description": "The front door: `GET /api/v1/` links every resource, the schema, the docs "
            "and the health probes.",
        },
        {
            "name": "auth",
            "description": "Register a customer; exchange an email (or a staff username) and password "
            "for JWT bearer tokens; log out one or every session; reset, change a password; verify an "
            "email. Rate limited per client IP; a reset request also per email.",
        },
        {
            "name": "categories",
            "description": "The category tree. Anyone reads active categories (cached, with "
            "`ETag`); staff with model permissions write.",
        },
        {
            "name": "products",
            "description": "Products, each sold in one or more variants. Anyone reads active products "
            "(cached, with `ETag`); staff with model permissions write. A product sold in one variant "
            "shows and takes its `sku`, `price` and `stock` at the product level.",
        },
        {
            "name": "options",
            "description": "How a product varies (Size, Colour), with its values in order. Anyone reads "
            "those of active products; staff with model permissions write. A new option gives the "
            "variants the product has its first value.",
        },
        {
            "name": "variants",
            "description": "What is sold and stocked: a product in one value of each of its options, with "
            "its own SKU, price and stock. Anyone reads active ones; staff with model permissions write "
            "and adjust stock (a conditional update, never below zero).",
        },
        {
            "name": "extras",
            "description": "Priced add-ons chosen per order line (extra cheese +1.50), each up to its "
            "`max_per_line`. Anyone reads active ones; staff with model permissions write.",
        },
        {
            "name": "images",
            "description": "A product's images, each with thumbnails in three widths: anyone reads those "
            "of active products (the product's detail and list show them too); staff who may change "
            "products upload (multipart) and delete them.",
        },
        {
            "name": "reviews",
            "description": "Customers' reviews of products: anyone reads them; a customer writes one "
            "per product and edits or deletes their own.",
        },
        {
            "name": "customers",
            "description": "Customer profiles: staff manage every one; a customer reads and edits "
            "their own (`/customers/me/`).",
        },
        {"name": "addresses", "description": "Postal addresses: a customer manages their own; staff see all."},
        {
            "name": "orders",
            "description": "Place an order (with an `Idempotency-Key`), follow it, cancel it; staff "
            "move it along the status machine.",
        },
        {"name": "payments", "description": "An order's card payments, with every gateway attempt."},
        {"name": "refunds", "description": "Refunds of an order, whole or by line (staff write)."},
        {"name": "invoices", "description": "Invoices of confirmed orders, as JSON and as a printable page."},
        {"name": "credit-notes", "description": "Credit notes: the corrections of an invoice a refund issues."},
        {"name": "discount-codes", "description": "Discount codes, applied when an order is placed (staff)."},
        {
            "name": "health",
            "description": "Liveness and readiness probes: answered before host checks, never rate limited.",
        },
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.schema.add_health_paths",
        "common.schema.drop_unused_tags",
    ],
}

# --- Logging: readable lines in development, JSON lines in production -------------
# Every line carries the request id (the task's enqueuing request's, in the worker) and
# is scrubbed of passwords and tokens (common/logs.py).
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="plain")  # "plain" or "json"
# Seconds during which repeats of a logged failure (a Redis outage, once per request) are left out.
LOG_REPEAT_SECONDS = env.float("LOG_REPEAT_SECONDS", default=60.0)
# Loggers that write a line per request or per cache call while Redis is down.
REPEATING_LOGGERS = ("django_redis.cache", "common.caching", "common.ratelimit", "billing.breaker")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "common.request_id.RequestIdFilter"},
        "repeats": {"()": "common.logs.RepeatFilter", "interval": LOG_REPEAT_SECONDS},
    },
    "formatters": {
        "plain": {"()": "common.logs.PlainFormatter"},
        "json": {"()": "common.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        **{name: {"filters": ["repeats"]} for name in REPEATING_LOGGERS},
        "django_redis": {"level": "WARNING"},
        # Invoice PDFs: WeasyPrint logs each rendering step and fontTools each font it subsets.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
# The worker logs through the handlers above, not Celery's own, so its lines match.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
