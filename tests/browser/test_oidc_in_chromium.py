"""A real OIDC login in Chromium: ``fluxlit run`` of examples/oidc, the test provider's login form, a reload, a logout."""

import re
from collections.abc import Iterator

import pytest

from tests.conftest import Gateway
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, OIDCProvider
from tests.support.processes import ROOT, fluxlit, free_port

pytestmark = pytest.mark.browser

EXAMPLE = ROOT / "examples" / "oidc"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def provider() -> Iterator[OIDCProvider]:
    with OIDCProvider() as running:
        yield running


@pytest.fixture(scope="module")
def oidc_gateway(provider: OIDCProvider, lane: str) -> Iterator[Gateway]:
    """The example app, told its own public URL so the redirect URI it sends is the one registered."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    provider.register(url + "/api/auth/callback", url + "/")
    env = {
        "FLUXLIT_OIDC_ISSUER": provider.issuer,
        "FLUXLIT_OIDC_CLIENT_ID": CLIENT_ID,
        "FLUXLIT_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "FLUXLIT_OIDC_BFF_SECRET": "browser-bff-secret-" * 3,
        "FLUXLIT_PUBLIC_BASE_URL": url,
        "FLUXLIT_ENABLE_GATEWAY_ACCESS_LOG": "1",
    }
    proc = fluxlit("run", "--port", str(port), "--lane", lane, cwd=EXAMPLE, env=env)
    try:
        proc.wait_http(url + "/api/readyz", timeout=90)
        yield Gateway(proc, port, lane)
    finally:
        proc.stop()


def test_log_in_stay_logged_in_across_a_reload_and_log_out(browser, provider: OIDCProvider, oidc_gateway: Gateway) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(oidc_gateway.url + "/")
        page.get_by_role("heading", name="You are not logged in").wait_for(timeout=60_000)

        page.get_by_role("link", name="Log in").click()
        page.get_by_role("heading", name="Test provider login").wait_for(timeout=30_000)
        assert page.url.startswith(provider.issuer + "/authorize?")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("wonderland")
        page.get_by_role("button", name="Sign in").click()

        page.get_by_role("heading", name="Hello, Alice Liddell").wait_for(timeout=60_000)
        page.get_by_text("alice-0001").wait_for(timeout=30_000)
        # The one-time code was spent and removed from the address bar; the login cookie is not readable by scripts.
        page.wait_for_url(re.compile(r"^(?!.*auth_code).*$"), timeout=30_000)
        assert "fluxlit_bff_session" not in page.evaluate("document.cookie")
        assert any(cookie["name"] == "fluxlit_bff_session" and cookie["httpOnly"] for cookie in context.cookies())
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "oidc-logged-in.png"), full_page=True)

        page.reload()
        page.get_by_role("heading", name="Hello, Alice Liddell").wait_for(timeout=60_000)

        page.get_by_role("link", name="Log out").click()
        page.get_by_role("heading", name="You are not logged in").wait_for(timeout=60_000)
        assert provider.end_sessions and provider.end_sessions[-1].get("id_token_hint"), "the provider session was ended too"
        assert not any(cookie["name"] == "fluxlit_bff_session" for cookie in context.cookies())

        page.reload()
        page.get_by_role("heading", name="You are not logged in").wait_for(timeout=60_000)
    finally:
        context.close()
    logs = oidc_gateway.proc.output()
    assert "auth_code=***" in logs, "the access log saw the page URL, redacted"
    assert not re.search(r"auth_code=(?!\*\*\*)", logs)
