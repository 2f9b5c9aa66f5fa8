"""A real browser opens the demo through the gateway."""

import pytest

from tests.support.processes import ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"


def test_demo_page_shows_data_fetched_from_the_api(browser, demo_gateway) -> None:
    page = browser.new_page()
    try:
        responses = []
        page.on("websocket", lambda ws: responses.append(ws.url))
        page.goto(demo_gateway.url + "/")
        page.get_by_text("The API says hello to").wait_for(timeout=60_000)
        assert page.get_by_text("page", exact=True).count() >= 1
        page.get_by_test_id("stDataFrame").wait_for(timeout=30_000)
        page.get_by_text("alpha").first.wait_for(state="attached", timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo-home.png"), full_page=True)
        assert any(url.endswith("/_stcore/stream") and str(demo_gateway.port) in url for url in responses)
        page.get_by_role("link", name="About").click()
        page.get_by_text("One port: FastAPI under /api").wait_for(timeout=30_000)
        assert page.url.endswith("/about")
    finally:
        page.close()


def test_team_page_runs_its_async_dependency_in_the_real_child(browser, demo_gateway) -> None:
    page = browser.new_page()
    try:
        page.goto(demo_gateway.url + "/team?team=data")
        page.get_by_role("heading", name="Team data").wait_for(timeout=60_000)
        page.get_by_text("Signed in as anonymous.").wait_for(timeout=30_000)
        page.get_by_text("2 of 2 members").wait_for(timeout=30_000)
        page.get_by_text("Chen").first.wait_for(state="attached", timeout=30_000)
    finally:
        page.close()
