"""Real-browser tests: Selenium driving Debian's headless Chromium against a live server, at 1400 px.

`.ci/run` installs `chromium` and `chromium-driver` when missing. Elsewhere, a machine without
them skips these tests, saying so; on CI (`CI` set) a missing browser is a failure instead.
A failing test leaves a screenshot in BROWSER_SCREENSHOTS (default /tmp/shopkeep-browser).
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.browser.pages import sign_in

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", "/tmp/shopkeep-browser"))
WIDTH, HEIGHT = 1400, 1000


def browser_missing() -> str | None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    return f"needs {' and '.join(missing)} (.ci/run installs chromium and chromium-driver)" if missing else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the browser fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chrome():
    """One headless Chromium for the session (a new one per test costs a second each)."""
    missing = browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={WIDTH},{HEIGHT}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chrome, live_server, request, monkeypatch):
    """The session's Chromium, with no cookies left from another test; a screenshot if this test fails.

    The live server answers each request in a thread of its own: its database connection must
    close with the request (no CONN_MAX_AGE), or the test database cannot be dropped after.
    """
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)
    chrome.delete_all_cookies()
    chrome.live_server_url = live_server.url
    yield chrome
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}.png"
        chrome.save_screenshot(str(path))
        print(f"screenshot: {path}")
    chrome.get("about:blank")  # no request of this page may still be running when the live server stops


@pytest.fixture
def staff_browser(browser, admin_user):
    """The browser signed in to the admin through its login form, as staff would."""
    sign_in(browser, admin_user)
    return browser
