"""The verification page in a real headless Chromium: a valid bundle shows verified, a
tampered one shows the failing check, and a timeline shows its completeness."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from api.main import create_app
from ledger.chain.client import EmbeddedChain
from ledger.config import DEV_REGULATOR_API_KEY, Settings
from ledger.core.records import Binding, BindingAction
from ledger.runtime import open_ledger
from ledger.service import Ledger
from ledger.store.sqlite import SqliteStore
from ledger.timeline import export_timeline
from tests.support.api import ADDRESS_A, ADDRESS_B, TWO_PLATFORMS
from tests.support.loan_story import served_loan_story
from tests.support.requires import require_programs
from tests.support.server import serving
from tests.test_anchoring import write_bindings

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT = 20


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    require_programs(CHROMIUM, CHROMEDRIVER)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, Ledger]]:
    ledger = open_ledger(Settings(), chain=EmbeddedChain(), store=SqliteStore())
    write_bindings(ledger, 3)
    ledger.seal_and_anchor()
    with serving(create_app(Settings(), ledger, run_worker=False)) as url:
        yield url, ledger


def verify_in_page(browser: webdriver.Chrome, url: str, text: str) -> tuple[str, list[tuple[str, str]]]:
    browser.get(url + "/verify")
    area = browser.find_element(By.ID, "document")
    browser.execute_script("arguments[0].value = arguments[1];", area, text)  # a paste
    browser.find_element(By.ID, "verify").click()
    WebDriverWait(browser, WAIT).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "verdict"), "VERIFIED"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")
    return browser.find_element(By.ID, "verdict").text, [
        (r.get_attribute("data-check") or "", r.get_attribute("data-outcome") or "") for r in rows]


def test_a_valid_bundle_shows_verified_with_every_check_passed(
        browser: webdriver.Chrome, site: tuple[str, Ledger]) -> None:
    url, ledger = site
    verdict, rows = verify_in_page(browser, url, ledger.proof_bundle(2).dumps())
    assert verdict == "VERIFIED"
    assert rows == [("record hash", "passed"), ("signature", "passed"), ("inclusion", "passed"),
                    ("head on chain", "passed"), ("anchor transaction", "passed")]


def test_a_tampered_bundle_shows_the_failing_check(browser: webdriver.Chrome,
                                                   site: tuple[str, Ledger]) -> None:
    url, ledger = site
    doc = ledger.proof_bundle(2).to_json()
    doc["inclusionPath"][0] = "0x" + "00" * 32
    verdict, rows = verify_in_page(browser, url, json.dumps(doc))
    assert verdict == "NOT VERIFIED"
    assert ("inclusion", "failed") in rows
    assert ("record hash", "passed") in rows
    reason = browser.find_element(By.ID, "reason").text
    assert reason.startswith("inclusion: the inclusion path does not lead to the head's root")


def test_a_dropped_timeline_file_shows_its_completeness(
        browser: webdriver.Chrome, site: tuple[str, Ledger], tmp_path: Path) -> None:
    url, ledger = site
    timeline = export_timeline(ledger, next(iter(ledger.platforms)), ledger.refs.subject("s-0"))
    path = tmp_path / "timeline.json"
    path.write_text(timeline.dumps())
    browser.get(url + "/verify")
    browser.find_element(By.ID, "file").send_keys(str(path))
    WebDriverWait(browser, WAIT).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "verdict"), "VERIFIED"))
    assert browser.find_element(By.ID, "verdict").text == "VERIFIED"
    checks = {r.get_attribute("data-check") for r in
              browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")}
    assert "completeness" in checks


def test_text_that_is_not_json_is_refused_in_the_page(browser: webdriver.Chrome,
                                                       site: tuple[str, Ledger]) -> None:
    url, _ = site
    browser.get(url + "/verify")
    browser.find_element(By.ID, "document").send_keys("not json at all")
    browser.find_element(By.ID, "verify").click()
    WebDriverWait(browser, WAIT).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "verdict"), "Cannot be read"))
    assert browser.find_element(By.ID, "reason").text.startswith("not JSON")


def test_the_page_loads_nothing_from_outside(browser: webdriver.Chrome,
                                             site: tuple[str, Ledger]) -> None:
    url, _ = site
    browser.get(url + "/verify")
    sources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert sources and all(s.startswith(url) for s in sources)


def test_a_regulator_looks_up_a_subjects_timeline_and_sees_it_verified(
        browser: webdriver.Chrome, site: tuple[str, Ledger]) -> None:
    url, ledger = site
    browser.get(url + "/verify")
    browser.find_element(By.ID, "reference").send_keys("0x" + ledger.refs.subject("s-1").hex())
    browser.find_element(By.ID, "api-key").send_keys(DEV_REGULATOR_API_KEY)
    browser.find_element(By.CSS_SELECTOR, "#lookup-form button").click()
    WebDriverWait(browser, WAIT).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "verdict"), "VERIFIED"))
    assert browser.find_element(By.ID, "verdict").text == "VERIFIED"
    assert '"bindledger.timeline/1"' in browser.find_element(By.ID, "document").get_attribute(
        "value")


def test_a_lookup_with_a_wrong_key_shows_the_refusal(browser: webdriver.Chrome,
                                                      site: tuple[str, Ledger]) -> None:
    url, ledger = site
    browser.get(url + "/verify")
    browser.find_element(By.ID, "reference").send_keys("0x" + ledger.refs.subject("s-1").hex())
    browser.find_element(By.ID, "api-key").send_keys("not-a-key")
    browser.find_element(By.CSS_SELECTOR, "#lookup-form button").click()
    WebDriverWait(browser, WAIT).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "verdict"), "Cannot be read"))
    assert browser.find_element(By.ID, "reason").text == "401: unknown API key"


@pytest.fixture(scope="module")
def lender() -> Iterator[tuple[str, bytes]]:
    with served_loan_story() as site:
        yield site


def test_a_regulator_looks_up_a_loans_timeline_and_sees_the_loan_and_its_refusal(
        browser: webdriver.Chrome, lender: tuple[str, bytes]) -> None:
    url, loan_id = lender
    browser.get(url + "/verify")
    Select(browser.find_element(By.ID, "lookup-kind")).select_by_value("loans")
    browser.find_element(By.ID, "reference").send_keys("0x" + loan_id.hex())
    browser.find_element(By.ID, "api-key").send_keys(DEV_REGULATOR_API_KEY)
    browser.find_element(By.CSS_SELECTOR, "#lookup-form button").click()
    WebDriverWait(browser, WAIT).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "verdict"), "VERIFIED"))
    assert browser.find_element(By.ID, "verdict").text == "VERIFIED"
    rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in browser.find_elements(By.CSS_SELECTOR, "#checks tbody tr")]
    assert ["loan", "loan", "passed"] == rows[1][:3]
    refusal = next(r for r in rows if r[1] == "refusal")
    assert refusal[0] == "#2 Refusal" and refusal[2] == "passed"
    assert "refused under R3" in refusal[3]


@pytest.fixture(scope="module")
def two_lenders() -> Iterator[tuple[str, bytes]]:
    """Two platforms served; the subject has a record at the second only. Yields the URL and
    the subject's reference."""
    settings = Settings(platforms=TWO_PLATFORMS)
    ledger = open_ledger(settings, chain=EmbeddedChain(), store=SqliteStore())
    lender_b = ledger.platform(ADDRESS_B)
    subject = ledger.refs.subject("borrower at lender b")
    ledger.sign_and_submit(lender_b, subject, lambda prev: Binding(
        platform=ADDRESS_B, subject=subject, prev=prev, timestamp=ledger.now(),
        action=BindingAction.BIND, phone=subject, account=bytes(32), factors=3))
    ledger.seal_and_anchor()
    with serving(create_app(settings, ledger, run_worker=False)) as url:
        yield url, subject


def test_a_regulator_looks_up_a_timeline_at_any_served_platform(
        browser: webdriver.Chrome, two_lenders: tuple[str, bytes]) -> None:
    url, subject = two_lenders
    browser.get(url + "/verify")
    # The page offers the platforms with anchored heads (GET /v1/heads/latest, public), the
    # only ones that have timelines; any other address may be typed.
    WebDriverWait(browser, WAIT).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#platforms option")) == 1)
    offered = [o.get_attribute("value") for o in
               browser.find_elements(By.CSS_SELECTOR, "#platforms option")]
    assert offered == [ADDRESS_B] and ADDRESS_A not in offered
    browser.find_element(By.ID, "reference").send_keys("0x" + subject.hex())
    browser.find_element(By.ID, "platform").send_keys(ADDRESS_B)
    browser.find_element(By.ID, "api-key").send_keys(DEV_REGULATOR_API_KEY)
    browser.find_element(By.CSS_SELECTOR, "#lookup-form button").click()
    WebDriverWait(browser, WAIT).until(
        expected_conditions.text_to_be_present_in_element((By.ID, "verdict"), "VERIFIED"))
    assert browser.find_element(By.ID, "verdict").text == "VERIFIED"
    document = json.loads(browser.find_element(By.ID, "document").get_attribute("value") or "")
    assert document["platform"] == ADDRESS_B
