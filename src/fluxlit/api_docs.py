"""Swagger UI and ReDoc for the API that work offline: their assets come from the ``fastapi-offline`` package."""

from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

ASSETS_PATH = f"/docs-assets/{version('fastapi-offline')}"
"""Where the API serves the docs' scripts, stylesheet and icon (under its mount and root path)."""


class DocsAssets(StaticFiles):
    """The Swagger UI and ReDoc files shipped by ``fastapi-offline``.

    Browsers may keep them for a year: their URL carries the package version, so new assets get a new URL.
    """

    def __init__(self) -> None:
        super().__init__(packages=[("fastapi_offline", "static")])

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def fastapi_with_offline_docs(**kwargs: Any) -> FastAPI:
    """``FastAPI(**kwargs)`` whose Swagger UI and ReDoc load their assets from the API, not from a CDN.

    ``docs_url``, ``redoc_url``, ``openapi_url`` and the ``swagger_ui_*`` options mean what they mean to
    FastAPI (``None`` turns a page off), and the app keeps them as given for whoever reads them.
    """
    docs_url = kwargs.get("docs_url", "/docs")
    redoc_url = kwargs.get("redoc_url", "/redoc")
    api = FastAPI(**{**kwargs, "docs_url": None, "redoc_url": None})
    api.docs_url, api.redoc_url = docs_url, redoc_url
    OfflineDocs(api).add_routes()
    return api


class OfflineDocs:
    """The docs pages of ``api``, built per request so that every URL in them starts at the request's root path."""

    def __init__(self, api: FastAPI) -> None:
        self.api = api

    def add_routes(self) -> None:
        """Serve the pages ``api`` asks for, and the assets when any page is on (as FastAPI, nothing without OpenAPI)."""
        api = self.api
        if not api.openapi_url or not (api.docs_url or api.redoc_url):
            return
        api.mount(ASSETS_PATH, DocsAssets(), name="docs-assets")
        if api.docs_url:
            api.add_route(api.docs_url, self.swagger_ui, include_in_schema=False)
            if api.swagger_ui_oauth2_redirect_url:
                api.add_route(api.swagger_ui_oauth2_redirect_url, self.oauth2_redirect, include_in_schema=False)
        if api.redoc_url:
            api.add_route(api.redoc_url, self.redoc, include_in_schema=False)

    async def swagger_ui(self, request: Request) -> HTMLResponse:
        """Swagger UI."""
        root = _root(request)
        redirect = self.api.swagger_ui_oauth2_redirect_url
        return get_swagger_ui_html(
            openapi_url=f"{root}{self.api.openapi_url}",
            title=f"{self.api.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            oauth2_redirect_url=root + redirect if redirect else None,
            init_oauth=self.api.swagger_ui_init_oauth,
            swagger_ui_parameters=self.api.swagger_ui_parameters,
        )

    async def oauth2_redirect(self, request: Request) -> HTMLResponse:
        """The page an OAuth2 provider sends Swagger UI's "Authorize" flow back to."""
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(self, request: Request) -> HTMLResponse:
        """ReDoc (with the browser's own fonts: Google Fonts would need the internet)."""
        root = _root(request)
        return get_redoc_html(
            openapi_url=f"{root}{self.api.openapi_url}",
            title=f"{self.api.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )


def _root(request: Request) -> str:
    """The path the API is reached under for this request (public subpath + mount), as FastAPI's docs use it."""
    return request.scope.get("root_path", "").rstrip("/")
