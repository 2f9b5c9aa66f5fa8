"""Real nginx and Caddy in front of a real ``fluxlit run`` under /apps/my-app, prefix stripped and passed through."""

import re
from collections.abc import Iterator
from urllib.parse import urljoin

import httpx
import pytest
import yaml

from fluxlit.settings import FluxlitSettings
from tests.conftest import Gateway, running_gateway
from tests.support.edge import PREFIX, Edge, EdgeKind, PathMode, example_edge
from tests.support.streamlit_session import run_streamlit_script
from tests.support.processes import ROOT

pytestmark = pytest.mark.integration

EDGES = [(kind, mode) for kind in EdgeKind for mode in PathMode]


@pytest.fixture(scope="module")
def subpath_gateway() -> Iterator[Gateway]:
    """The demo with its Streamlit child, configured for the public prefix and a trusted local edge."""
    with running_gateway(env={"FLUXLIT_ROOT_PATH": PREFIX, "FLUXLIT_TRUST_PROXY": "1"}, ready=PREFIX + "/api/readyz") as gateway:
        yield gateway


@pytest.fixture(scope="module", params=EDGES, ids=[f"{kind.value}-{mode.value}" for kind, mode in EDGES])
def edge(request: pytest.FixtureRequest, subpath_gateway: Gateway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    kind, mode = request.param
    workdir = tmp_path_factory.mktemp(f"{kind.value}-{mode.value}")
    with example_edge(kind, mode, gateway_port=subpath_gateway.port, workdir=workdir) as running:
        yield running


def test_probes_answer_under_the_prefix(edge: Edge) -> None:
    live = httpx.get(edge.url + PREFIX + "/api/healthz")
    ready = httpx.get(edge.url + PREFIX + "/api/readyz")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "streamlit": "ok"}


def test_api_route_answers_under_the_prefix(edge: Edge) -> None:
    response = httpx.get(edge.url + PREFIX + "/api/hello", params={"name": "edge"})
    assert response.status_code == 200 and response.json() == {"hello": "edge"}


def test_docs_page_loads_the_spec_from_under_the_prefix(edge: Edge) -> None:
    docs = httpx.get(edge.url + PREFIX + "/api/docs")
    assert docs.status_code == 200
    spec_url = re.search(r"url: '([^']+)'", docs.text).group(1)
    assert spec_url == PREFIX + "/api/openapi.json"
    spec = httpx.get(edge.url + spec_url)
    assert spec.status_code == 200
    assert set(spec.json()["paths"]) == {"/hello", "/items"}
    assert spec.json()["servers"] == [{"url": PREFIX + "/api"}]


@pytest.mark.parametrize("docs_page", ["/api/docs", "/api/redoc"])
def test_docs_pages_load_their_assets_from_under_the_prefix(edge: Edge, docs_page: str) -> None:
    page = httpx.get(edge.url + PREFIX + docs_page)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(asset.startswith(PREFIX + "/api/docs-assets/") for asset in assets), assets
    for asset in assets:
        assert httpx.get(edge.url + asset).status_code == 200, asset


def test_streamlit_page_and_its_assets_load_under_the_prefix(edge: Edge) -> None:
    page_url = edge.url + PREFIX + "/"
    page = httpx.get(page_url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="(\./static/[^"]+\.(?:js|css))"', page.text)
    assert assets, "Streamlit's index.html references no static assets"
    for asset in assets:
        response = httpx.get(urljoin(page_url, asset))
        assert response.status_code == 200, asset
        assert "javascript" in response.headers["content-type"] or "css" in response.headers["content-type"]
    assert httpx.get(edge.url + PREFIX + "/_stcore/health").text == "ok"


def test_bare_prefix_redirects_to_the_trailing_slash(edge: Edge) -> None:
    response = httpx.get(edge.url + PREFIX)
    assert response.status_code in (301, 308)
    assert response.headers["location"].endswith(PREFIX + "/")


def test_streamlit_session_runs_over_the_edge_websocket(edge: Edge) -> None:
    run = run_streamlit_script(edge.ws_url + PREFIX + "/_stcore/stream", origin=edge.url)
    kinds, texts = run.kinds, run.texts
    assert kinds[0] == "new_session"
    # The page fetched this from the API through the ApiClient while its session ran through the edge.
    assert any("The API says hello to **page**." in text for text in texts)


def test_kubernetes_example_is_consistent_with_the_settings_and_its_probes_answer(subpath_gateway: Gateway) -> None:
    deployment = yaml.safe_load((ROOT / "examples" / "kubernetes" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {item["name"]: item["value"] for item in container["env"]}
    settings = FluxlitSettings(**{name.removeprefix("FLUXLIT_").lower(): value for name, value in env.items() if name.startswith("FLUXLIT_")})
    assert settings.gateway_host == "0.0.0.0" and settings.root_path == PREFIX and settings.trust_proxy
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    shutdown = pre_stop + settings.uvicorn_graceful_shutdown_timeout_s + 3 * settings.streamlit_stop_step_timeout_s
    assert pod["terminationGracePeriodSeconds"] >= shutdown
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        path = container[probe]["httpGet"]["path"]
        assert httpx.get(subpath_gateway.url + path).status_code == 200, path
