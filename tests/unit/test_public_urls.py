"""FluxLitPublicUrls: the public base URL wins, else the request's origin; the root path always counts."""

from fastapi import FastAPI

from fluxlit import FluxLit, FluxLitPublicUrls, FluxlitSettings
from fluxlit.runtime.lifecycle import public_address


def test_the_request_origin_and_root_path_make_every_url() -> None:
    urls = FluxLitPublicUrls.from_settings(FluxlitSettings(root_path="/tools/"), origin="https://apps.example.com")
    assert urls.app_base == "https://apps.example.com/tools"
    assert urls.api_base == "https://apps.example.com/tools/api"
    assert (urls.docs_url, urls.redoc_url, urls.openapi_url) == (
        "https://apps.example.com/tools/api/docs",
        "https://apps.example.com/tools/api/redoc",
        "https://apps.example.com/tools/api/openapi.json",
    )
    assert (urls.health_url, urls.ready_url) == ("https://apps.example.com/tools/api/healthz", "https://apps.example.com/tools/api/readyz")
    assert urls.page_url("/") == "https://apps.example.com/tools/"
    assert urls.page_url("/reports/monthly", {"team": "red", "tag": ["a", "b"]}) == "https://apps.example.com/tools/reports-monthly?team=red&tag=a&tag=b"


def test_the_public_base_url_wins_over_the_origin_and_keeps_its_own_path() -> None:
    with_path = FluxlitSettings(public_base_url="https://example.com/apps/x", root_path="/apps/x")
    assert FluxLitPublicUrls.from_settings(with_path, origin="http://10.0.0.5:8000").app_base == "https://example.com/apps/x"
    origin_only = FluxlitSettings(public_base_url="https://example.com", root_path="/apps/x", api_mount_path="/v1")
    urls = FluxLitPublicUrls.from_settings(origin_only, origin="http://10.0.0.5:8000")
    assert (urls.app_base, urls.api_base) == ("https://example.com/apps/x", "https://example.com/apps/x/v1")


def test_docs_urls_follow_the_api_and_are_none_when_turned_off() -> None:
    api = FastAPI(docs_url="/swagger", redoc_url=None)
    urls = FluxLitPublicUrls.from_settings(FluxlitSettings(gateway_port=9000), api=api)
    assert urls.docs_url == "http://127.0.0.1:9000/api/swagger" and urls.redoc_url is None
    without_openapi = FluxLitPublicUrls.from_settings(FluxlitSettings(), api=FastAPI(openapi_url=None))
    assert (without_openapi.docs_url, without_openapi.redoc_url, without_openapi.openapi_url) == (None, None, None)


def test_the_ready_line_names_the_docs_where_the_api_serves_them() -> None:
    settings = FluxlitSettings(public_base_url="https://example.com")
    assert public_address(settings, FluxLit(fastapi_kwargs={"docs_url": "/swagger"}).api) == "https://example.com/ (API docs https://example.com/api/swagger)"
    assert public_address(settings, FluxLit(fastapi_kwargs={"docs_url": None}).api) == "https://example.com/"
