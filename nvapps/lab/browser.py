"""Debian's chromium, headless, driven through Debian's chromedriver (selenium): the web console's test and
bench. The browser's own download (playwright's, selenium-manager's) cannot work here."""
from __future__ import annotations

from selenium import webdriver
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
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def console_login(browser: webdriver.Chrome, url: str, token: str, timeout: float = 60.0) -> float:
    """Open the console at `url` (the REST API's), log in with `token` and wait until its first view is drawn;
    the seconds from the login click to then."""
    browser.get(url + "/ui/console.css")   # the origin, without the page's script (which may be logging in)
    browser.execute_script("sessionStorage.clear()")
    browser.get(url + "/ui/")
    WebDriverWait(browser, timeout).until(lambda b: b.find_element(By.ID, "token").is_displayed())
    browser.find_element(By.ID, "token").send_keys(token)
    start = browser.execute_script("return performance.now()")
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    WebDriverWait(browser, timeout).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    return (browser.execute_script("return window.nvReadyMs") - start) / 1000
