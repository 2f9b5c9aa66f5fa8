"""FluxLitTestClient.api: the whole gateway in-process, as production routes it, without a Streamlit child."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from fluxlit import FluxLit, FluxLitPublicUrls
from fluxlit.testing import FluxLitTestClient


def make_app() -> tuple[FluxLit, list[str]]:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = FluxLit(title="client under test", fastapi_kwargs={"lifespan": lifespan})

    @app.api.get("/where")
    def where(request: Request) -> dict[str, str]:
        urls = FluxLitPublicUrls.for_request(request, app.settings)
        return {"root_path": request.scope["root_path"], "docs": str(urls.docs_url), "url_for": str(request.url_for("where"))}

    return app, events


def test_probes_request_ids_and_the_mount_behave_as_in_production() -> None:
    app, _ = make_app()
    tc = FluxLitTestClient(app)
    assert tc.api.get("/api/healthz").json() == {"status": "ok"}
    assert tc.api.get("/api/readyz").json() == {"status": "ready", "streamlit": "not_configured"}
    answer = tc.api.get("/api/where", headers={"X-Request-ID": "t-1"})
    assert answer.headers["x-request-id"] == "t-1" and answer.json()["root_path"] == "/api"
    assert tc.api.get("/api/where", headers={"X-Request-ID": "not valid!"}).headers["x-request-id"] != "not valid!"
    assert tc.api.get("/api/%2e%2e/api/where").status_code == 400, "the gateway's path policy applies here too"
    page = tc.api.get("/")
    assert page.status_code == 502 and "no Streamlit upstream is configured" in page.text


def test_the_api_lifespan_runs_inside_the_with_block_only() -> None:
    app, events = make_app()
    with FluxLitTestClient(app) as tc:
        assert events == ["startup"]
        assert tc.api.get("/api/healthz").status_code == 200
    assert events == ["startup", "shutdown"]


def test_with_root_path_serves_the_app_under_a_subpath_both_ways_a_proxy_sends_it() -> None:
    app, _ = make_app()
    tools = FluxLitTestClient(app).with_root_path("/tools")
    full = tools.api.get("/tools/api/where").json()
    stripped = tools.api.get("/api/where").json()
    assert full == stripped
    assert full["root_path"] == "/tools/api"
    assert full["docs"] == "http://testserver/tools/api/docs" and full["url_for"] == "http://testserver/tools/api/where"
    assert tools.api.get("/tools/api/healthz").json() == {"status": "ok"}
    assert app.settings.root_path == "", "the app's own settings are untouched"
