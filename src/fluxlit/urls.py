"""``FluxLitPublicUrls``: the addresses users reach the app by, for links, redirects and OAuth callbacks."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from .pages.registry import slug_for
from .runtime.address import loopback_host
from .settings import FluxlitSettings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.requests import HTTPConnection

QueryValues = Mapping[str, Any]


@dataclass(frozen=True)
class FluxLitPublicUrls:
    """Public URLs, correct under a root path.

    The base is ``FLUXLIT_PUBLIC_BASE_URL`` when set (with the root path appended if it has no path
    of its own), else the origin the request came in on plus the root path.
    """

    app_base: str
    api_base: str
    docs_path: str | None = "/docs"
    redoc_path: str | None = "/redoc"
    openapi_path: str | None = "/openapi.json"

    @classmethod
    def from_settings(
        cls,
        settings: FluxlitSettings,
        *,
        origin: str | None = None,
        api: "FastAPI | None" = None,
        root_path: str | None = None,
    ) -> "FluxLitPublicUrls":
        """URLs for ``settings``; ``origin`` (``scheme://host[:port]``) and ``root_path`` (default: the
        setting) are used when no public base URL is set."""
        root = settings.root_path if root_path is None else root_path
        if settings.public_base_url:
            base = settings.public_base_url
            if not urlsplit(base).path:
                base += root
        else:
            base = (origin or f"http://{loopback_host(settings.gateway_host)}:{settings.gateway_port}").rstrip("/") + root
        return cls(base, base + settings.api_mount_path, **(_docs_paths(api) if api is not None else {}))

    @classmethod
    def for_request(cls, request: "HTTPConnection", settings: FluxlitSettings, api: "FastAPI | None" = None) -> "FluxLitPublicUrls":
        """URLs for an API request: its scheme, host and ASGI root path, unless a public base URL is set."""
        mount = settings.api_mount_path
        scope_root = request.scope.get("root_path", "")
        root = scope_root[: -len(mount)] if scope_root.endswith(mount) else settings.root_path
        return cls.from_settings(settings, origin=f"{request.url.scheme}://{request.url.netloc}", api=api, root_path=root)

    @property
    def docs_url(self) -> str | None:
        """Swagger UI, or ``None`` when the API turned it off."""
        return self.api_base + self.docs_path if self.docs_path else None

    @property
    def redoc_url(self) -> str | None:
        """ReDoc, or ``None`` when the API turned it off."""
        return self.api_base + self.redoc_path if self.redoc_path else None

    @property
    def openapi_url(self) -> str | None:
        """The OpenAPI document, or ``None`` when the API turned it off."""
        return self.api_base + self.openapi_path if self.openapi_path else None

    @property
    def health_url(self) -> str:
        """Liveness probe."""
        return self.api_base + "/healthz"

    @property
    def ready_url(self) -> str:
        """Readiness probe."""
        return self.api_base + "/readyz"

    def page_url(self, path: str = "/", query: QueryValues | None = None) -> str:
        """The browser URL of the page registered at ``path`` (``/reports/monthly`` → ``…/reports-monthly``)."""
        slug = slug_for(path)
        url = self.app_base + ("/" if slug == "home" else f"/{slug}")
        return f"{url}?{urlencode(query, doseq=True)}" if query else url


def _docs_paths(api: "FastAPI") -> dict[str, str | None]:
    """The docs pages ``api`` serves: none without an OpenAPI document, as in FastAPI."""
    openapi = api.openapi_url
    return {"docs_path": api.docs_url if openapi else None, "redoc_path": api.redoc_url if openapi else None, "openapi_path": openapi}
