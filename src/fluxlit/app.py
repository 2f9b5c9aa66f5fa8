"""FluxLit: one application object that is a FastAPI API, a set of Streamlit pages and an ASGI app."""

import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from starlette.types import Receive, Scope, Send

from .api_docs import fastapi_with_offline_docs
from .gateway import Gateway, Upstream
from .gateway.config import GatewayConfig
from .gateway.headers import HeaderPolicy, streamlit_header_refusal
from .pages import PageRegistry, discover_pages
from .pages.plan import PlanContext, plan_page
from .pages.registry import PageHandler, normalize_path
from .runtime.lifecycle import serve_lifespan
from .runtime.sidecar import free_loopback_port
from .runtime.target import Target, infer_target, parse_target
from .settings import FluxlitSettings, load_settings, refused_forward_header
from .url_session import SessionStore


class FluxLit:
    """The app: decorate ``app.api`` for API routes and use ``@app.page`` for Streamlit pages.

    The instance is itself an ASGI application, so ``uvicorn app:app`` serves the whole stack:
    the API under ``/api``, the probes, and every other path proxied to a Streamlit child.
    """

    def __init__(
        self,
        *,
        title: str | None = None,
        api_mount_path: str | None = None,
        import_target: str | None = None,
        settings: FluxlitSettings | None = None,
        fastapi_kwargs: dict[str, Any] | None = None,
        session_store: SessionStore | None = None,
    ) -> None:
        overrides = {k: v for k, v in {"title": title, "api_mount_path": api_mount_path}.items() if v is not None}
        if settings is None:
            settings = load_settings(**overrides)
        elif overrides:
            settings = settings.model_validate({**settings.model_dump(), **overrides})
        self.settings = settings
        self.api = fastapi_with_offline_docs(title=settings.title, **(fastapi_kwargs or {}))
        self.pages = PageRegistry()
        self.session_store = session_store
        """The URL-session store pages can declare (``store: SessionStore``), if the app has one."""
        self.import_target: Target | None = parse_target(import_target, Path.cwd()) if import_target else None
        self.created_in: str = sys._getframe(1).f_globals.get("__name__", "__main__")
        self._gateway: Gateway | None = None
        self._header_policy: HeaderPolicy | None = None

    def page(self, path: str, *, title: str | None = None, icon: str | None = None) -> Callable[[PageHandler], PageHandler]:
        """Register a Streamlit page at ``path``; its parameters are checked now (see ``fluxlit.pages.di``)."""

        def register(handler: PageHandler) -> PageHandler:
            plan = plan_page(handler, f"page {normalize_path(path)!r}", self.plan_context())
            self.pages.add(path, plan, title=title, icon=icon)
            return handler

        return register

    def plan_context(self) -> PlanContext:
        """What this app can inject into pages and dependencies.

        A header the gateway never forwards is a declaration error; one that only the current
        allowlist or underscore setting drops is not (settings change per deployment): ``doctor
        --check-pages`` reports it.
        """
        return PlanContext(self._never_reaches_pages, session_store=self.session_store is not None, settings=self.settings)

    def _never_reaches_pages(self, name: str) -> str | None:
        reason = self.header_refusal(name)
        return reason if reason is not None and refused_forward_header(name) is not None else None

    def header_refusal(self, name: str) -> str | None:
        """Why a browser header never reaches this app's pages (the gateway's policy), or ``None``."""
        if self._header_policy is None:
            self._header_policy = HeaderPolicy.from_settings(self.settings)
        return streamlit_header_refusal(self._header_policy, name)

    def header_reaches_pages(self, name: str) -> bool:
        """The gateway forwards header ``name`` to Streamlit, so pages can read it."""
        return self.header_refusal(name) is None

    def discover_pages(self, package: str | ModuleType) -> "FluxLit":
        """Import each module of ``package`` and call its ``register(app)``."""
        discover_pages(self, package)
        return self

    @property
    def gateway(self) -> Gateway:
        """The ASGI gateway in front of ``self.api`` and Streamlit."""
        if self._gateway is None:
            self._gateway = self.build_gateway(self.settings)
        return self._gateway

    def build_gateway(self, settings: FluxlitSettings) -> Gateway:
        """A gateway for this app's API under ``settings`` (its Streamlit child starts with the lifespan)."""
        config = GatewayConfig.from_settings(settings)
        if settings.streamlit_upstream:
            upstream = Upstream(config, settings.streamlit_upstream)
        else:
            upstream = Upstream(config, f"http://127.0.0.1:{free_loopback_port()}", managed=True)
        return Gateway(self.api, settings, upstream)

    def target(self) -> Target:
        """Where the Streamlit child imports the app from: explicit target, ``FLUXLIT_APP``, or inferred."""
        if self.import_target is not None:
            return self.import_target
        if self.settings.app:
            return parse_target(self.settings.app, Path.cwd())
        return infer_target(self, self.created_in)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await serve_lifespan(self.gateway, self.api, self.target, receive, send)
        else:
            await self.gateway(scope, receive, send)
