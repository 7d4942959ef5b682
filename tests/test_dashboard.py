"""The dashboard at /_mock/ui, in a real headless browser (Debian's Chromium, driven by
Selenium through Debian's chromedriver): a request made through the API appears in the
journal with its status and its rejection reason, the store's counts follow, and the
reset button empties the store. A screenshot is kept in test-artifacts/ (ignored by git)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from mock_server.storage import MemoryStorage
from tests.support import STORE, default_config, serve_mock

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(browser, condition, what: str):
    """Until ``condition`` holds. The page redraws its tables as it polls the control plane,
    so a row read while it is replaced is stale: that reading is "not yet", not a failure."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: condition(b), message=what)


def test_the_dashboard_shows_the_journal_and_resets_a_store(browser):
    from selenium.webdriver.common.by import By

    with serve_mock(MemoryStorage()) as mock:
        api = mock.client()
        browser.get(f"{mock.url}/_mock/ui")
        wait_for(browser, lambda b: "live" in b.find_element(By.ID, "status").text, "the page reads the control plane")
        assert api.post("/segments", json=[{"name": "Seen in the dashboard"}]).status_code == 201
        assert api.post("/segments", json=[{"name": ""}]).status_code == 400
        journal = lambda b: b.find_element(By.ID, "journal").text  # noqa: E731
        wait_for(browser, lambda b: "POST /segments" in journal(b) and "201" in journal(b) and "400" in journal(b),
                 "both requests appear in the journal with their status")
        assert "The request is not valid." in journal(browser)  # the rejection's reason
        wait_for(browser, lambda b: any(row.text.split()[:2] == [STORE, "1"] for row in
                                        b.find_element(By.ID, "stores").find_elements(By.CSS_SELECTOR, "tbody tr")),
                 "the store shows one segment")
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "dashboard.png"))
        browser.find_element(By.CSS_SELECTOR, f"button[data-reset='{STORE}']").click()
        wait_for(browser, lambda b: not api.get("/segments").json()["data"], "reset empties the store")
        wait_for(browser, lambda b: any(row.text.split()[:2] == [STORE, "0"] for row in
                                        b.find_element(By.ID, "stores").find_elements(By.CSS_SELECTOR, "tbody tr")),
                 "the counts follow the reset")


def test_with_an_admin_token_the_page_needs_it_and_passes_it_on(browser, tmp_path):
    from selenium.webdriver.common.by import By

    with serve_mock(MemoryStorage(), default_config(admin_token="s3cret")) as mock:
        assert requests.get(f"{mock.url}/_mock/ui", timeout=30).status_code == 401
        browser.get(f"{mock.url}/_mock/ui?admin_token=s3cret")
        wait_for(browser, lambda b: "live" in b.find_element(By.ID, "status").text, "the page's own calls carry the token")
        assert STORE in browser.find_element(By.ID, "stores").text
