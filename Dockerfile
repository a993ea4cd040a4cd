# --- builder: install the runtime dependencies into a virtualenv ---------------
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"

# Only requirements.txt: the image carries no test or lint tools (requirements-dev.txt).
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt


# --- runtime: the virtualenv and the code, run as an unprivileged user ----------
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:$PATH" \
    DJANGO_SETTINGS_MODULE=config.settings.production

# WeasyPrint (invoice PDFs) draws text with pango and subsets fonts with HarfBuzz; slim has
# neither, nor a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid so volume ownership is the same on every host; a home so tools that
# want one (gunicorn's control socket) have somewhere to write.
RUN groupadd --system --gid 10001 shopkeep \
    && useradd --system --uid 10001 --gid shopkeep --create-home --home-dir /home/shopkeep \
       --shell /usr/sbin/nologin shopkeep

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# The code stays owned by root, so the running process cannot rewrite it.
COPY . .

# Static files are collected into the image; whitenoise serves them. Production settings
# insist on SECRET_KEY and ALLOWED_HOSTS, so this one step gets throwaway values that
# never reach the running container.
RUN SECRET_KEY=build-only-collectstatic-not-a-secret ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown shopkeep:shopkeep /app/media

USER shopkeep:shopkeep

EXPOSE 8000

# slim has no curl: ask the liveness endpoint with python's urllib (a non-2xx raises).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live/', timeout=4)"]

CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
