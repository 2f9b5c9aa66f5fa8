"""Page injection in a real browser: nginx authenticates the user and passes X-Remote-User, the team page's
query model round-trips through the URL, and FLUXLIT_TEST_PAGE_OVERRIDES fakes a dependency in the real child."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Gateway, running_gateway
from tests.support.edge import PREFIX, Edge, EdgeKind, PathMode, edge_proxy, example_site, replace_once
from tests.support.processes import ROOT, free_port

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
LOCATION = f"location {PREFIX}/ {{"


def identity_site(gateway_port: int, listen_port: int, htpasswd: Path) -> str:
    """The shipped full-path example, with HTTP basic auth whose user nginx passes on as X-Remote-User.

    The probes stay open (an orchestrator has no password); ``proxy_set_header`` replaces any
    X-Remote-User the browser sends, which is what makes the header trustworthy.
    """
    site = example_site(EdgeKind.NGINX, PathMode.FULL, gateway_port=gateway_port, listen_port=listen_port)
    login = (
        f"location = {PREFIX}/api/healthz {{\n        proxy_pass http://fluxlit;\n    }}\n\n    {LOCATION}\n"
        f'        auth_basic "FluxLit demo";\n        auth_basic_user_file {htpasswd};\n'
        "        proxy_set_header X-Remote-User $remote_user;"
    )
    return replace_once(site, LOCATION, login, "nginx-full-path.conf")


@pytest.fixture(scope="module")
def overridden_gateway(lane: str) -> Iterator[Gateway]:
    env = {
        "FLUXLIT_ROOT_PATH": PREFIX,
        "FLUXLIT_TRUST_PROXY": "1",
        "FLUXLIT_TEST_PAGE_OVERRIDES": json.dumps({"app.fetch_roster": "test_app.fake_roster"}),
    }
    with running_gateway(env=env, ready=PREFIX + "/api/readyz", lane=lane) as gateway:
        yield gateway


@pytest.fixture
def nginx(overridden_gateway: Gateway, tmp_path: Path) -> Iterator[Edge]:
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text("alice:{PLAIN}wonderland\n")
    port = free_port()
    site = identity_site(overridden_gateway.port, port, htpasswd)
    with edge_proxy(EdgeKind.NGINX, site, listen_port=port, workdir=tmp_path / "nginx", ready_path=PREFIX + "/api/healthz") as edge:
        yield edge


def test_the_proxy_user_reaches_the_page_and_the_query_model_round_trips(browser, nginx: Edge, overridden_gateway: Gateway) -> None:
    context = browser.new_context(
        http_credentials={"username": "alice", "password": "wonderland"},
        extra_http_headers={"X-Remote-User": "mallory"},
    )
    page = context.new_page()
    try:
        page.goto(f"{nginx.url}{PREFIX}/team?team=data&min_score=0.5")
        page.get_by_text("Signed in as").wait_for(timeout=60_000)
        assert page.get_by_text("Signed in as alice.").count() == 1, "nginx's user, not the browser's header"
        page.get_by_role("heading", name="Team data").wait_for(timeout=30_000)
        page.get_by_text("Teams › data").wait_for(timeout=30_000)
        # The fake roster from FLUXLIT_TEST_PAGE_OVERRIDES, filtered by min_score=0.5 from the URL.
        page.get_by_text("1 of 2 members").wait_for(timeout=30_000)
        page.wait_for_function("document.title === 'Team data · FluxLit demo'", timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"pages-team-nginx-{overridden_gateway.lane}.png"), full_page=True)

        page.get_by_test_id("stSelectbox").click()
        page.get_by_role("option", name="design").click()
        page.get_by_role("heading", name="Team design").wait_for(timeout=30_000)
        page.wait_for_url(re.compile(r".*team=design.*"), timeout=30_000)
        assert parse_qs(urlsplit(page.url).query) == {"team": ["design"], "min_score": ["0.5"]}
        page.get_by_text("0 of 0 members").wait_for(timeout=30_000)

        page.reload()
        page.get_by_role("heading", name="Team design").wait_for(timeout=60_000)
        page.get_by_text("Signed in as alice.").wait_for(timeout=30_000)
    finally:
        context.close()


def test_without_credentials_nginx_answers_401_and_probes_stay_open(nginx: Edge) -> None:
    assert httpx.get(f"{nginx.url}{PREFIX}/team", timeout=10).status_code == 401
    assert httpx.get(f"{nginx.url}{PREFIX}/api/healthz", timeout=10).json() == {"status": "ok"}
    assert httpx.get(f"{nginx.url}{PREFIX}/team", auth=("alice", "wonderland"), timeout=10).status_code == 200
