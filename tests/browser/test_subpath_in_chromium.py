"""A real browser opens the demo through nginx under /apps/my-app, in both edge path modes."""

from collections.abc import Iterator

import pytest

from tests.conftest import Gateway, running_gateway
from tests.support.edge import PREFIX, Edge, EdgeKind, PathMode, example_edge
from tests.support.processes import ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def subpath_gateway() -> Iterator[Gateway]:
    with running_gateway(env={"FLUXLIT_ROOT_PATH": PREFIX, "FLUXLIT_TRUST_PROXY": "1"}, ready=PREFIX + "/api/readyz") as gateway:
        yield gateway


@pytest.fixture(params=list(PathMode), ids=[mode.value for mode in PathMode])
def nginx(request: pytest.FixtureRequest, subpath_gateway: Gateway, tmp_path) -> Iterator[Edge]:
    with example_edge(EdgeKind.NGINX, request.param, gateway_port=subpath_gateway.port, workdir=tmp_path / "nginx") as edge:
        yield edge


def test_demo_under_the_prefix_shows_data_fetched_from_the_api(browser, nginx: Edge, request: pytest.FixtureRequest) -> None:
    page = browser.new_page()
    failed: list[str] = []
    sockets: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("websocket", lambda ws: sockets.append(ws.url))
    try:
        page.goto(nginx.url + PREFIX + "/")
        page.get_by_text("The API says hello to").wait_for(timeout=60_000)
        page.get_by_test_id("stDataFrame").wait_for(timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"demo-subpath-nginx-{request.node.callspec.id}.png"), full_page=True)
        assert sockets == [f"{nginx.ws_url}{PREFIX}/_stcore/stream"]
        page.get_by_role("link", name="About").click()
        page.get_by_text("One port: FastAPI under /api").wait_for(timeout=30_000)
        assert page.url == f"{nginx.url}{PREFIX}/about"
        assert failed == []
        # A deep link straight to a page under the prefix loads too. (Streamlit first probes
        # {PREFIX}/about/_stcore/... as a possible base path and gets 404s; that is its own discovery.)
        page.reload()
        page.get_by_text("One port: FastAPI under /api").wait_for(timeout=30_000)
    finally:
        page.close()
