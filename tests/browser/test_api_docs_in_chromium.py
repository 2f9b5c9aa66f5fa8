"""Swagger UI and ReDoc render in Chromium with every request off this machine refused, in both lanes."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from tests.conftest import Gateway, running_gateway
from tests.support.processes import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
OPTIONAL_OUTSIDE = {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
"""Outside requests a docs page does without: ReDoc's sidebar asks for Redocly's logo and hides it when refused."""
LAYOUTS = {"plain": {}, "subpath": {"FLUXLIT_ROOT_PATH": "/tools", "FLUXLIT_API_MOUNT_PATH": "/v1"}}


@pytest.fixture(scope="module", params=list(LAYOUTS))
def docs_gateway(request: pytest.FixtureRequest, lane: str) -> Iterator[tuple[Gateway, str]]:
    """The demo under ``fluxlit run`` in ``lane``, and its API's public prefix (``/api`` or ``/tools/v1``)."""
    env = LAYOUTS[request.param]
    prefix = env.get("FLUXLIT_ROOT_PATH", "") + env.get("FLUXLIT_API_MOUNT_PATH", "/api")
    with running_gateway(env=env, ready=prefix + "/readyz", lane=lane) as gateway:
        yield gateway, prefix


@contextmanager
def offline_page(browser: "Browser", docs_gateway: tuple[Gateway, str], page_path: str) -> Iterator["Page"]:
    """The API's ``page_path`` in a tab that may reach 127.0.0.1 only; at the end nothing failed, nothing else
    was asked for but ``OPTIONAL_OUTSIDE``, and a screenshot is kept."""
    gateway, prefix = docs_gateway
    page = browser.new_page()
    refused: list[str] = []
    failed: list[str] = []

    def loopback_only(route: "Route") -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", loopback_only)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(gateway.url + prefix + page_path)
        yield page
        ARTIFACTS.mkdir(exist_ok=True)
        layout = prefix.strip("/").replace("/", "-")
        page.screenshot(path=str(ARTIFACTS / f"api-docs{page_path.replace('/', '-')}-{gateway.lane}-{layout}.png"))
        assert set(refused) <= OPTIONAL_OUTSIDE and failed == [], (refused, failed)
    finally:
        page.close()


def test_swagger_ui_renders_the_operations_offline(browser: "Browser", docs_gateway: tuple[Gateway, str]) -> None:
    with offline_page(browser, docs_gateway, "/docs") as page:
        page.locator(".opblock").first.wait_for(timeout=30_000)
        page.locator(".opblock-summary-path", has_text="/hello").first.wait_for(timeout=10_000)


def test_redoc_renders_an_operation_offline(browser: "Browser", docs_gateway: tuple[Gateway, str]) -> None:
    with offline_page(browser, docs_gateway, "/redoc") as page:
        page.locator("h2", has_text="Hello").first.wait_for(timeout=30_000)
        page.get_by_text("/hello").first.wait_for(state="attached", timeout=10_000)
