"""Swagger UI and ReDoc load every asset from the API itself, under any root path and mount, as configured."""

import re

import pytest
from fastapi import Request

from fluxlit import FluxLit, FluxLitPublicUrls
from fluxlit.testing import FluxLitTestClient

CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def docs_app(**fastapi_kwargs: object) -> FluxLit:
    app = FluxLit(title="docs under test", fastapi_kwargs=fastapi_kwargs)

    @app.api.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.api.get("/urls")
    def urls(request: Request) -> dict[str, str | None]:
        public = FluxLitPublicUrls.for_request(request, app.settings, app.api)
        return {"docs": public.docs_url, "redoc": public.redoc_url, "openapi": public.openapi_url}

    return app


def assets_of(html: str) -> list[str]:
    """The URLs a docs page loads as stylesheet, icon or script."""
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def assert_served_offline(tc: FluxLitTestClient, page_path: str) -> list[str]:
    """``page_path`` is HTML naming no other host, and each of its assets answers with its file type."""
    page = tc.api.get(page_path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text
    assets = assets_of(page.text)
    assert len(assets) >= 2, page.text
    for url in assets:
        answer = tc.api.get(url)
        assert answer.status_code == 200, url
        assert CONTENT_TYPES[url[url.rindex(".") :]] in answer.headers["content-type"], (url, answer.headers)
    return assets


@pytest.mark.parametrize(
    ("root_path", "mount"), [("", "/api"), ("/tools", "/api"), ("/tools/inner", "/v1")], ids=["plain", "subpath", "subpath-v1"]
)
def test_swagger_ui_and_redoc_load_their_assets_from_under_the_request_root_path(root_path: str, mount: str) -> None:
    app = FluxLit(title="docs under test", api_mount_path=mount)
    tc = FluxLitTestClient(app) if not root_path else FluxLitTestClient(app).with_root_path(root_path)
    prefix = root_path + mount
    for page in ("/docs", "/redoc"):
        assets = assert_served_offline(tc, prefix + page)
        assert all(url.startswith(prefix + "/docs-assets/") for url in assets), assets
    swagger = tc.api.get(prefix + "/docs").text
    assert f"url: '{prefix}/openapi.json'" in swagger
    assert f"oauth2RedirectUrl: window.location.origin + '{prefix}/docs/oauth2-redirect'" in swagger
    assert f'spec-url="{prefix}/openapi.json"' in tc.api.get(prefix + "/redoc").text
    assert tc.api.get(prefix + "/openapi.json").json()["info"]["title"] == "docs under test"


def test_the_oauth2_redirect_page_hands_the_code_back_to_swagger_ui() -> None:
    page = FluxLitTestClient(docs_app()).with_root_path("/tools").api.get("/tools/api/docs/oauth2-redirect")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "swaggerUIRedirectOauth2" in page.text


def test_assets_are_cached_by_browsers_and_revalidate_to_304() -> None:
    tc = FluxLitTestClient(docs_app())
    script = next(url for url in assets_of(tc.api.get("/api/docs").text) if url.endswith(".js"))
    first = tc.api.get(script)
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = tc.api.get(script, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["cache-control"] == first.headers["cache-control"]


def test_docs_urls_and_swagger_options_from_fastapi_kwargs_are_honoured() -> None:
    app = docs_app(docs_url="/swagger", redoc_url=None, swagger_ui_parameters={"deepLinking": False})
    tc = FluxLitTestClient(app)
    assert (app.api.docs_url, app.api.redoc_url) == ("/swagger", None)
    assert_served_offline(tc, "/api/swagger")
    assert '"deepLinking": false' in tc.api.get("/api/swagger").text
    assert tc.api.get("/api/docs").status_code == 404 and tc.api.get("/api/redoc").status_code == 404
    assert tc.api.get("/api/urls").json() == {
        "docs": "http://testserver/api/swagger",
        "redoc": None,
        "openapi": "http://testserver/api/openapi.json",
    }


def test_redoc_alone_is_served_when_swagger_ui_is_turned_off() -> None:
    tc = FluxLitTestClient(docs_app(docs_url=None))
    assert_served_offline(tc, "/api/redoc")
    assert tc.api.get("/api/docs").status_code == 404 and tc.api.get("/api/docs/oauth2-redirect").status_code == 404


@pytest.mark.parametrize(
    "fastapi_kwargs", [{"docs_url": None, "redoc_url": None}, {"openapi_url": None}], ids=["pages-off", "openapi-off"]
)
def test_with_the_pages_turned_off_neither_pages_nor_assets_are_served(fastapi_kwargs: dict[str, object]) -> None:
    app = docs_app(**fastapi_kwargs)
    tc = FluxLitTestClient(app)
    assert not [route for route in app.api.routes if getattr(route, "name", None) == "docs-assets"]
    for path in ("/api/docs", "/api/redoc", "/api/docs/oauth2-redirect"):
        assert tc.api.get(path).status_code == 404, path
    urls = tc.api.get("/api/urls").json()
    assert urls["docs"] is None and urls["redoc"] is None
    assert tc.api.get("/api/hello").json() == {"hello": "world"}
