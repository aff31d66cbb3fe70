"""The web console in a real browser (Debian's chromium, headless, through chromedriver): tenant a logs in with
its token and sees its networks and router and none of tenant b's, creates a network through the page (it
exists over REST), sees the API's refusal of a bad subnet, watches a port's counters grow while a ping runs,
and deletes the network again; an admin switches between the projects. A screenshot is left in the test's
temporary directory.

Tenant a has subnets 10.0.1.0/24 and 10.0.2.0/24 on its router; a11 (s1) and a12 (s2) are on the first.
"""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from nvapps.lab.browser import console_login, headless_chromium
from nvapps.lab.controller import ADMIN_TOKEN, MEMBER_TOKENS
from nvapps.lab.net import background
from topologies.tenants import host_ip

HOSTS_PER_SWITCH = 1
SUBNETS = 2
APPS = ("nvapps.l3.app", "nvapps.l2.app")
FLAGS = ("--nvapps-stats-interval", "1")
WAIT = 20.0


@pytest.fixture(scope="module")
def browser():
    driver = headless_chromium()
    try:
        yield driver
    finally:
        driver.quit()


def listed(browser) -> dict[str, str]:
    """The objects the page lists: id -> kind (read at once: the page redraws its list as it refreshes)."""
    return dict(browser.execute_script(
        "return [...document.querySelectorAll('#object-list li')].map(li => [li.dataset.id, li.dataset.kind])"))


def click(browser, selector: str) -> None:
    """Click what `selector` finds now (not an element found earlier, which a redraw may have replaced)."""
    browser.execute_script("document.querySelector(arguments[0]).click()", selector)


def until(browser, condition, what: str):
    try:
        return WebDriverWait(browser, WAIT, poll_frequency=0.2).until(lambda b: condition())
    except Exception:
        raise AssertionError(f"{what}; the page's error: {browser.find_element(By.ID, 'error').text!r}") from None


def live(browser, field: str) -> str:
    """A live value of the selected object, as shown now."""
    return browser.execute_script("const td = document.querySelector(`#live td[data-field='${arguments[0]}']`);"
                                  "return td ? td.textContent : ''", field)


def test_a_member_sees_its_project_changes_it_and_watches_a_port(lab, browser, tmp_path):
    a, b = lab.tenants["a"], lab.tenants["b"]
    console_login(browser, lab.controller.url, MEMBER_TOKENS["tenant-a"])
    shown = listed(browser)
    mine = {n["id"] for n in a.networks.values()} | {a.router["id"]} | {p["id"] for p in a.ports.values()}
    theirs = {n["id"] for n in b.networks.values()} | {b.router["id"]} | {p["id"] for p in b.ports.values()}
    assert mine <= set(shown) and not theirs & set(shown)
    assert shown[a.router["id"]] == "router"

    # create through the page: it exists over REST; a refusal shows the API's message
    browser.find_element(By.CSS_SELECTOR, "#create-network input[name=name]").send_keys("from-the-console")
    browser.find_element(By.CSS_SELECTOR, "#create-network button").click()
    made = until(browser, lambda: lab.api.list("network", name="from-the-console"), "the network was not created")
    assert made[0]["project_id"] == "tenant-a"
    until(browser, lambda: made[0]["id"] in listed(browser), "the new network is not listed")
    Select(browser.find_element(By.CSS_SELECTOR, "#create-subnet select")).select_by_value(made[0]["id"])
    browser.find_element(By.CSS_SELECTOR, "#create-subnet input[name=cidr]").send_keys("10.9.0.300/24")
    browser.find_element(By.CSS_SELECTOR, "#create-subnet button").click()
    until(browser, lambda: "10.9.0.300" in browser.find_element(By.ID, "error").text, "no error shown")
    assert lab.api.list("subnet", network_id=made[0]["id"]) == []

    # a port's counters grow while a ping runs
    click(browser, f"#object-list li[data-id='{a.ports['a11']['id']}']")
    until(browser, lambda: live(browser, "rx_packets").isdigit(), "the port's counters are not shown")
    assert live(browser, "status") == "ACTIVE" and live(browser, "chassis") == "s1"
    before = int(live(browser, "rx_packets"))
    with background(lab.host("a11"), f"ping -i 0.1 -c 60 {host_ip(2, 1)}"):
        until(browser, lambda: int(live(browser, "rx_packets")) >= before + 20, "the counters did not grow")
    browser.save_screenshot(str(tmp_path / "console.png"))

    # delete it again through the page
    click(browser, f"#object-list li[data-id='{made[0]['id']}']")
    click(browser, "#delete")
    until(browser, lambda: not lab.api.list("network", name="from-the-console"), "the network was not deleted")


def test_an_admin_switches_project(lab, browser):
    console_login(browser, lab.controller.url, ADMIN_TOKEN)
    a, b = lab.tenants["a"], lab.tenants["b"]
    choices = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#project option")]
    assert {"tenant-a", "tenant-b"} <= set(choices)
    assert {a.router["id"], b.router["id"]} <= set(listed(browser))
    assert any(kind == "chassis" for kind in listed(browser).values())
    Select(browser.find_element(By.ID, "project")).select_by_value("tenant-b")
    until(browser, lambda: b.router["id"] in listed(browser) and a.router["id"] not in listed(browser),
          "the project switch did not show tenant b only")
