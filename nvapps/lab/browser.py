"""Debian's chromium, headless, driven through Debian's chromedriver (selenium): the web console's test and
bench. The browser's own download (playwright's, selenium-manager's) cannot work here."""
from __future__ import annotations

import warnings

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def headless_chromium() -> webdriver.Chrome:
    """A new headless chromium (quit() it: that stops the browser and its driver)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def page_state(browser: webdriver.Chrome) -> str:
    """What the page shows and logged, for a failure's message."""
    shown = browser.execute_script(
        "return {url: location.href, error: document.getElementById('error').textContent,"
        " login: !document.getElementById('login').hidden, app: !document.getElementById('app').hidden}")
    return f"{shown}; the browser's log: {[entry['message'] for entry in browser.get_log('browser')]}"


def console_login(browser: webdriver.Chrome, url: str, token: str, timeout: float = 30.0, attempts: int = 2) -> float:
    """Open the console at `url` (the REST API's), log in with `token` and wait until its first view is drawn;
    the seconds from the login click to then. A login whose view is not drawn within `timeout` is warned about
    (with what the page showed and logged) and tried again from a fresh page, `attempts` times in all: a rare
    first login in a full CI run was never drawn, for reasons its failure did not show."""
    for attempt in range(1, attempts + 1):
        browser.get(url + "/ui/console.css")   # the origin, without the page's script (which may be logging in)
        browser.execute_script("sessionStorage.clear()")
        browser.get(url + "/ui/")
        WebDriverWait(browser, timeout).until(lambda b: b.find_element(By.ID, "token").is_displayed())
        browser.find_element(By.ID, "token").send_keys(token)
        start = browser.execute_script("return performance.now()")
        browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
        try:
            WebDriverWait(browser, timeout).until(
                lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
            return (browser.execute_script("return window.nvReadyMs") - start) / 1000
        except TimeoutException:
            what = f"the console's first view was not drawn in {timeout} s (attempt {attempt}): {page_state(browser)}"
            if attempt == attempts:
                raise AssertionError(what) from None
            warnings.warn(what, stacklevel=2)
    raise ValueError("attempts must be at least 1")
