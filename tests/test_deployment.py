"""The deployment files agree with the settings: compose, Dockerfile, .env.example, gunicorn, check --deploy."""

import json
import os
import re
import runpy
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml

from common.health import LIVE_PATH
from tests.utils import free_port

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"

SERVICES = ["postgres", "redis", "web", "worker", "beat"]
APP_SERVICES = ["web", "worker", "beat"]

# env("NAME", ...), env.bool("NAME", ...), env.db("NAME", ...) and the other casts.
ENV_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z_][A-Z0-9_]*)["']""")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error} as docker compose interpolates them.
INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
# NAME=value, or "# NAME=value" for an optional variable left unset.
ENV_EXAMPLE_LINE = re.compile(r"^#?\s*([A-Z_][A-Z0-9_]*)=", re.MULTILINE)

# A real-looking key for the subprocesses: check --deploy rejects short or "django-insecure-" keys.
DEPLOY_SECRET_KEY = "q9Zr4-Vx8Lm2_Tk7Wp3Yn6Hc1Jf5Bd0Gs8Ua2Ei4Oo7Rt9Ly3Kw6Xe1Nv5Mh0"


def variables_read() -> set[str]:
    """Return the environment variables the settings modules and the gunicorn config read."""
    sources = [*sorted((ROOT / "config" / "settings").glob("*.py")), GUNICORN_CONF]
    return {name for source in sources for name in ENV_READ.findall(source.read_text())}


def interpolate(value: str) -> str:
    """Resolve compose interpolation as `docker compose` does with nothing set: defaults, and $$ as $."""
    escaped = value.replace("$$", "\0")
    resolved = INTERPOLATION.sub(lambda m: m.group(3) if m.group(2) and "-" in m.group(2) else "", escaped)
    return resolved.replace("\0", "$")


def environment(service: dict) -> dict[str, str]:
    """Return a service's environment as a mapping, whichever form compose allows it is written in."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def command_text(service: dict) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else " ".join(command)


def env_example_names() -> set[str]:
    return set(ENV_EXAMPLE_LINE.findall(ENV_EXAMPLE.read_text()))


def compose_interpolated_names() -> set[str]:
    return {m.group(1) for m in INTERPOLATION.finditer(COMPOSE_FILE.read_text().replace("$$", ""))}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    """Return the Dockerfile's instructions, comments dropped and each on one line."""
    instructions = "\n".join(line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#"))
    return re.sub(r"\\\n\s*", " ", instructions)


def test_env_read_scan_finds_the_known_variables():
    """Guard the regex: if it stopped matching, every other check here would pass vacuously."""
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY"} <= variables_read()


# --- docker-compose.yml -------------------------------------------------------


def test_compose_defines_the_whole_stack(compose):
    assert "version" not in compose, "the compose spec has no version key"
    assert set(SERVICES) <= set(compose["services"])


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_has_a_healthcheck(compose, name):
    healthcheck = compose["services"][name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable")
    assert healthcheck.get("test")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_postgres_and_redis(compose, name):
    depends_on = compose["services"][name].get("depends_on")
    assert isinstance(depends_on, dict), "the long form is needed to carry a condition"
    for dependency in ["postgres", "redis"]:
        assert depends_on.get(dependency, {}).get("condition") == "service_healthy", f"{name} -> {dependency}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_the_same_image(compose, name):
    web, service = compose["services"]["web"], compose["services"][name]
    assert service.get("build") == web.get("build")
    assert service.get("image") == web.get("image")


def test_web_migrates_then_starts_gunicorn_with_the_project_config(compose):
    command = command_text(compose["services"]["web"])
    assert "manage.py migrate" in command
    assert "gunicorn" in command
    assert command.index("manage.py migrate") < command.index("gunicorn")
    assert "&&" in command[: command.index("gunicorn")], "gunicorn must not start when migrate fails"
    assert "-c config/gunicorn.conf.py" in command
    assert "config.wsgi:application" in command


def test_worker_and_beat_run_celery(compose):
    assert command_text(compose["services"]["worker"]).startswith("celery -A config worker")
    assert command_text(compose["services"]["beat"]).startswith("celery -A config beat")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_pass_only_variables_the_code_reads(compose, name):
    allowed = variables_read() | {"DJANGO_SETTINGS_MODULE"}
    unread = set(environment(compose["services"][name])) - allowed
    assert not unread, f"{name} sets variables nothing reads: {sorted(unread)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_production_settings(compose, name):
    assert environment(compose["services"][name])["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_urls_name_the_compose_services(compose, name):
    env = {key: interpolate(value) for key, value in environment(compose["services"][name]).items()}
    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme in {"postgres", "postgresql", "pgsql"}
    assert database.hostname == "postgres"
    assert urlsplit(env["REDIS_URL"]).hostname == "redis"
    assert urlsplit(env["CELERY_BROKER_URL"]).hostname == "redis"


def test_broker_and_cache_use_different_redis_databases(compose):
    """django-redis clears the cache with FLUSHDB; on a shared database that would drop queued tasks."""
    env = environment(compose["services"]["worker"])
    assert urlsplit(env["REDIS_URL"]).path != urlsplit(env["CELERY_BROKER_URL"]).path


def test_database_url_matches_the_postgres_service_credentials(compose):
    postgres = {key: interpolate(value) for key, value in environment(compose["services"]["postgres"]).items()}
    database = urlsplit(interpolate(environment(compose["services"]["web"])["DATABASE_URL"]))
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"]
    assert database.path.lstrip("/") == postgres["POSTGRES_DB"]


def test_local_compose_serves_plain_http(compose):
    """No TLS proxy in front of the local stack: an https redirect would make it unreachable."""
    env = environment(compose["services"]["web"])
    assert interpolate(env["SECURE_SSL_REDIRECT"]).lower() == "false"


def test_health_checks_probe_the_liveness_url(compose, dockerfile):
    live = LIVE_PATH
    web_check = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:8000{live}" in web_check
    assert f"http://127.0.0.1:8000{live}" in dockerfile
    # The probe's Host header is 127.0.0.1: liveness answers before host validation
    # (tests/common/test_health.py), so production ALLOWED_HOSTS need not list it.


# --- .env.example ----------------------------------------------------------------


def test_env_example_lists_every_variable_the_code_reads():
    missing = variables_read() - env_example_names()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_lists_nothing_else_but_compose_knobs():
    """Besides what the code reads, only values docker-compose.yml interpolates (the postgres credentials)."""
    extra = env_example_names() - variables_read()
    assert extra <= compose_interpolated_names(), (
        f".env.example lists unread {sorted(extra - compose_interpolated_names())}"
    )


def test_every_compose_knob_is_documented_in_env_example():
    missing = compose_interpolated_names() - env_example_names()
    assert not missing, f"docker-compose.yml interpolates undocumented {sorted(missing)}"


def test_env_example_documents_each_variable_with_a_comment():
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if ENV_EXAMPLE_LINE.match(line):
            previous = lines[index - 1]
            assert previous.startswith("#"), f"no comment above {line!r}"
            assert not ENV_EXAMPLE_LINE.match(previous), f"{line!r} shares its comment"


# --- Dockerfile and .dockerignore ---------------------------------------------------


def test_dockerfile_is_multi_stage_on_slim_python(dockerfile):
    stages = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert len(stages) >= 2
    assert all(image.startswith("python:3.11-slim") for image in stages)


def test_dockerfile_installs_runtime_requirements_only(dockerfile):
    installs = re.findall(r"pip install .*", dockerfile)
    assert any("requirements.txt" in line for line in installs)
    assert not any("requirements-dev.txt" in line for line in installs)


def test_the_runtime_image_installs_what_weasyprint_needs_and_keeps_no_apt_lists(dockerfile):
    """Invoice PDFs: WeasyPrint loads pango (and HarfBuzz's subsetter) from the system, and needs a font."""
    runtime = dockerfile.split("AS runtime", 1)[1]
    [install] = re.findall(r"^RUN .*apt-get install .*", runtime, re.MULTILINE)
    packages = set(install.split())
    assert {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"} <= packages
    assert "--no-install-recommends" in packages
    assert "rm -rf /var/lib/apt/lists/*" in install


def test_dockerfile_runs_as_an_unprivileged_user(dockerfile):
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_collects_static_files_and_has_a_healthcheck(dockerfile):
    assert re.search(r"^RUN .*manage\.py collectstatic --noinput", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*CMD", dockerfile, re.MULTILINE)
    assert re.search(r"^CMD .*gunicorn.*config/gunicorn\.conf\.py.*config\.wsgi:application", dockerfile, re.MULTILINE)
    assert re.search(r"^ENV .*DJANGO_SETTINGS_MODULE=config\.settings\.production", dockerfile, re.MULTILINE)


def test_dockerfile_keeps_build_only_secrets_out_of_the_image(dockerfile):
    """The dummy SECRET_KEY for collectstatic lives on that RUN line only, never in an ENV or ARG."""
    for line in dockerfile.splitlines():
        if line.startswith(("ENV", "ARG")):
            assert "SECRET_KEY" not in line


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".git", "db.sqlite3", "media", "staticfiles", "bench/results", ".env"} <= ignored
    assert "**/__pycache__" in ignored or "__pycache__" in ignored


# --- gunicorn config ------------------------------------------------------------------


def gunicorn_settings(monkeypatch, **env) -> dict:
    for name in variables_read():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with mock.patch.dict(os.environ):  # the config exports PROMETHEUS_MULTIPROC_DIR: keep it out of this process
        return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_defaults(monkeypatch):
    conf = gunicorn_settings(monkeypatch)
    assert conf["bind"] == "0.0.0.0:8000"
    assert conf["workers"] == 2 * os.cpu_count() + 1
    assert (conf["threads"], conf["worker_class"]) == (1, "sync")
    assert conf["forwarded_allow_ips"] == ""  # no proxy trusted until TRUSTED_PROXIES names one
    assert conf["logger_class"] == "common.logs.GunicornJsonLogger"
    assert conf["max_requests"] > 0
    assert conf["max_requests_jitter"] > 0
    assert (conf["accesslog"], conf["errorlog"]) == ("-", "-")


def test_gunicorn_reads_the_environment_and_threads_switch_to_gthread(monkeypatch):
    conf = gunicorn_settings(
        monkeypatch, GUNICORN_BIND="127.0.0.1:9000", WEB_CONCURRENCY="4", GUNICORN_THREADS="8", GUNICORN_TIMEOUT="60"
    )
    assert conf["bind"] == "127.0.0.1:9000"
    assert conf["workers"] == 4
    assert (conf["threads"], conf["worker_class"]) == (8, "gthread")
    assert conf["timeout"] == 60


def test_gunicorn_trusts_the_proxies_django_trusts_and_logs_plain_lines_on_request(monkeypatch):
    conf = gunicorn_settings(monkeypatch, TRUSTED_PROXIES="10.0.0.0/8,192.0.2.1", LOG_FORMAT="plain")
    assert conf["forwarded_allow_ips"] == "10.0.0.0/8,192.0.2.1"
    assert "logger_class" not in conf


def test_gunicorn_serves_with_json_access_lines_carrying_the_request_id(tmp_path):
    """Start the real thing with the project's config; its access lines are JSON with the app's request id."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in variables_read()}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="gunicorn-smoke-test-only-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
    )
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(GUNICORN_CONF), "config.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{LIVE_PATH}", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        nowhere = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/nowhere/access_token=pathsecret/?password=hunter2",
            headers={"Referer": "https://shop.example/reset?access_token=abc123", "User-Agent": "Bearer xyz789"},
        )
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(nowhere, timeout=5)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)

    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [
        line for line in lines if line["logger"] == "gunicorn.access" and line["path"].startswith("/api/v1/nowhere/")
    ]
    assert len(access) == 1, output
    assert (access[0]["status"], access[0]["method"]) == (404, "GET")
    assert access[0]["request_id"] == missing.value.headers["X-Request-ID"]
    assert not [secret for secret in ("hunter2", "abc123", "xyz789", "pathsecret") if secret in output], output
    assert all("[redacted]" in access[0][field] for field in ("path", "query", "referer", "user_agent"))
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # gunicorn's own lines are JSON too


# --- production settings, in a fresh interpreter ------------------------------------
# The subprocesses ignore a developer's .env and shell variables, so the result depends
# on the code alone.
IGNORE_DOTENV = "import environ; environ.Env.read_env = staticmethod(lambda *args, **kwargs: None); "


def run_production(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in variables_read()}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run(
        [sys.executable, "-c", IGNORE_DOTENV + code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_production("import django; django.setup()", ALLOWED_HOSTS="example.com")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_production("import django; django.setup()", SECRET_KEY=DEPLOY_SECRET_KEY)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_passes_check_deploy():
    result = run_production(
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        SECRET_KEY=DEPLOY_SECRET_KEY,
        ALLOWED_HOSTS="example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_redirects_plain_http_and_trusts_the_proxys_https_header():
    result = run_production(
        "import django; django.setup(); from django.test import Client; c = Client();"
        "plain = c.get('/api/v1/nowhere/', HTTP_HOST='shop.example.com');"
        "proxied = c.get('/api/v1/nowhere/', HTTP_HOST='shop.example.com', HTTP_X_FORWARDED_PROTO='https');"
        "probe = c.get('/health/live/');"
        "print(plain.status_code, plain['Location'], proxied.status_code, proxied['Strict-Transport-Security'],"
        " probe.status_code, sep='|')",
        SECRET_KEY=DEPLOY_SECRET_KEY,
        ALLOWED_HOSTS="shop.example.com",
        TRUSTED_PROXIES="127.0.0.1",  # the test client's address: the proxy
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "301",
        "https://shop.example.com/api/v1/nowhere/",
        "404",
        "max-age=31536000; includeSubDomains; preload",
        "200",  # probes come over plain HTTP from inside the network
    ]


def test_production_believes_x_forwarded_proto_only_from_a_trusted_proxy():
    result = run_production(
        "import django; django.setup(); from django.test import Client; c = Client();"
        "client = c.get('/api/v1/nowhere/', HTTP_HOST='shop.example.com', HTTP_X_FORWARDED_PROTO='https',"
        " REMOTE_ADDR='203.0.113.9');"
        "proxy = c.get('/api/v1/nowhere/', HTTP_HOST='shop.example.com', HTTP_X_FORWARDED_PROTO='https',"
        " REMOTE_ADDR='10.0.0.2');"
        "print(client.status_code, client.get('Location'), client.has_header('Strict-Transport-Security'),"
        " proxy.status_code, proxy.has_header('Strict-Transport-Security'), sep='|')",
        SECRET_KEY=DEPLOY_SECRET_KEY,
        ALLOWED_HOSTS="shop.example.com",
        TRUSTED_PROXIES="10.0.0.0/8",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "301",  # a client claiming https is still plain HTTP: redirected
        "https://shop.example.com/api/v1/nowhere/",
        "False",
        "404",
        "True",
    ]


def test_admin_lives_at_django_admin_url_and_cors_follows_settings():
    result = run_production(
        "import django; django.setup(); from django.urls import reverse; from django.test import Client;"
        "c = Client(HTTP_HOST='shop.example.com', HTTP_X_FORWARDED_PROTO='https');"
        "ok = c.get('/api/v1/nowhere/', HTTP_ORIGIN='https://store.example.com');"
        "other = c.get('/api/v1/nowhere/', HTTP_ORIGIN='https://evil.example.net');"
        "allow = 'Access-Control-Allow-Origin';"
        "print(reverse('admin:index'), ok.get(allow), other.get(allow))",
        SECRET_KEY=DEPLOY_SECRET_KEY,
        ALLOWED_HOSTS="shop.example.com",
        DJANGO_ADMIN_URL="back-office/",
        CORS_ALLOWED_ORIGINS="https://store.example.com",
        TRUSTED_PROXIES="127.0.0.1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["/back-office/", "https://store.example.com", "None"]


# --- CORS: what a browser storefront may send and read --------------------------------

STOREFRONT = "https://store.example.com"
EXPOSED = {
    "location", "idempotent-replayed", "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining",
    "x-ratelimit-reset", "etag", "x-request-id",
}  # fmt: skip


def header_names(value: str) -> set[str]:
    return {name.strip().lower() for name in value.split(",") if name.strip()}


@pytest.mark.django_db
def test_a_storefront_preflight_may_send_the_idempotency_key_and_request_id(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [STOREFRONT]

    preflight = client.options(
        "/api/v1/orders/",
        HTTP_ORIGIN=STOREFRONT,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type,idempotency-key,x-request-id",
    )

    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == STOREFRONT
    allowed = header_names(preflight["Access-Control-Allow-Headers"])
    assert {"authorization", "content-type", "idempotency-key", "x-request-id", "x-csrftoken"} <= allowed


@pytest.mark.django_db
def test_a_storefront_can_read_the_apis_own_response_headers(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [STOREFRONT]

    response = client.get("/api/v1/products/", HTTP_ORIGIN=STOREFRONT)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == STOREFRONT
    assert header_names(response["Access-Control-Expose-Headers"]) == EXPOSED
    assert {"etag", "x-request-id", "x-ratelimit-limit"} <= {name.lower() for name in response.headers}


def test_production_answers_browsers_with_json_the_browsable_api_being_off():
    result = run_production(
        "import django; django.setup(); from django.test import Client;"
        "c = Client(HTTP_HOST='shop.example.com', REMOTE_ADDR='10.0.0.2', HTTP_X_FORWARDED_PROTO='https');"
        "page = c.get('/api/v1/customers/me/', HTTP_ACCEPT='text/html,application/xhtml+xml,*/*;q=0.8');"
        "chosen = c.get('/api/v1/customers/me/', {'format': 'api'});"
        "print(page.status_code, page['Content-Type'], chosen.status_code, chosen['Content-Type'], sep='|')",
        SECRET_KEY=DEPLOY_SECRET_KEY,
        ALLOWED_HOSTS="shop.example.com",
        TRUSTED_PROXIES="10.0.0.0/8",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == ["401", "application/json", "404", "application/json"]


@pytest.mark.parametrize(("browsable", "renderers"), [(None, 1), ("false", 1), ("true", 2)])
def test_production_turns_the_browsable_api_on_only_by_setting(browsable, renderers):
    result = run_production(
        "import django; django.setup(); from django.conf import settings;"
        "print(*settings.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'], sep='|')",
        SECRET_KEY=DEPLOY_SECRET_KEY,
        ALLOWED_HOSTS="shop.example.com",
        **({"BROWSABLE_API": browsable} if browsable else {}),
    )
    assert result.returncode == 0, result.stderr
    expected = ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"]
    assert result.stdout.strip().split("|") == expected[:renderers]
