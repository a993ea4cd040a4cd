"""What the browser tests do on a page: go to a path, wait for an element, read the page's width."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


def visit(browser, path: str) -> None:
    browser.get(f"{browser.live_server_url}{path}")


def wait_for(browser, css: str, timeout: float = 10):
    """Return the element matching `css` once it is visible."""
    condition = expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, css))
    return WebDriverWait(browser, timeout).until(condition)


def messages(browser) -> list[str]:
    """The admin's success and warning messages on the page."""
    return [element.text for element in browser.find_elements(By.CSS_SELECTOR, "ul.messagelist li")]


def overflows(browser) -> bool:
    """Whether the page is wider than the window (a horizontal scroll bar)."""
    return browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth")


def sign_in(browser, user, password: str = "password") -> None:
    """Sign in to the admin through its login form, as staff do (pytest-django's admin_user has this password)."""
    visit(browser, "/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # The login page has a #site-name too: wait for the admin's own page, or a visible
    # #site-name may be the login page's, replaced under the check as the admin loads.
    WebDriverWait(browser, 10).until(lambda driver: "/admin/login/" not in driver.current_url)
    wait_for(browser, "#site-name")
