"""Testing helpers: the whole gateway in-process for API tests, and pages through Streamlit's ``AppTest``.

``FluxLitTestClient(app).api`` is a Starlette ``TestClient`` over the gateway (probes, request ids,
the API mount and root path as in production; no Streamlit child). ``.streamlit(page=...)`` runs a
page through the FluxLit entry script in ``AppTest``, with fake dependencies, headers and cookies.
"""

import warnings
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

with warnings.catch_warnings():
    # Starlette asks for httpx2 over httpx; its TestClient works with either, and so do these helpers.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from .app import FluxLit
from .client import ApiClient
from .pages.harness import HARNESS_KEY, PageHarness
from .pages.request import context_cookies, context_headers

if TYPE_CHECKING:
    from fastapi import FastAPI
    from streamlit.testing.v1 import AppTest

__all__ = ["FluxLitTestClient", "assert_no_streamlit_exception", "select_page", "streamlit_main_path"]

TEST_ORIGIN = "http://testserver"


def streamlit_main_path() -> Path:
    """The entry script the Streamlit child runs (and ``AppTest`` loads)."""
    return Path(__file__).parent / "_entry" / "fluxlit_entry.py"


class FluxLitTestClient(AbstractContextManager["FluxLitTestClient"]):
    """Test an app without starting servers; ``with FluxLitTestClient(app) as tc:`` also runs the API's lifespan."""

    def __init__(self, app: FluxLit, *, root_path: str | None = None, raise_server_exceptions: bool = True) -> None:
        self.app = app
        settings = app.settings
        if root_path is not None:
            settings = type(settings).model_validate({**settings.model_dump(), "root_path": root_path})
        self.settings = settings
        self.gateway = app.gateway if root_path is None else app.build_gateway(settings)
        self.api = TestClient(_WithApiLifespan(self.gateway, app.api), base_url=TEST_ORIGIN, raise_server_exceptions=raise_server_exceptions)
        """A ``TestClient`` over the whole gateway: ``tc.api.get("/api/hello")``."""

    def with_root_path(self, root_path: str) -> "FluxLitTestClient":
        """The same app served under the public subpath ``root_path`` (``FLUXLIT_ROOT_PATH``)."""
        return FluxLitTestClient(self.app, root_path=root_path)

    def page_client(self) -> ApiClient:
        """An ``ApiClient`` whose calls go through this in-process gateway (what pages get under ``streamlit``)."""
        client = ApiClient(TEST_ORIGIN + self.settings.api_prefix, http=self.api, forward_request_id=False)
        client.mount = self.settings.api_mount_path
        return client

    def streamlit(
        self,
        page: str | None = None,
        *,
        query_params: Mapping[str, str | list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        page_overrides: Mapping[Callable[..., Any], Callable[..., Any]] | None = None,
        client: ApiClient | None = None,
        timeout: float = 10.0,
    ) -> "AppTest":
        """Run ``page`` (path, slug or title; default: the root page) once and return the ``AppTest``.

        ``headers``/``cookies`` stand for the browser request (default: what ``set_page_header_context``
        and ``set_page_cookie_context`` set) and pass the gateway's header policy like real ones;
        ``page_overrides`` maps dependencies to fakes; the page's ``ApiClient`` calls this gateway.
        """
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(streamlit_main_path()), default_timeout=timeout)
        at.session_state[HARNESS_KEY] = PageHarness(
            self.app,
            headers=headers if headers is not None else context_headers(),
            cookies=cookies if cookies is not None else context_cookies(),
            overrides=dict(page_overrides or {}),
            client=client if client is not None else self.page_client(),
            page=self.app.pages.get(page).path if page is not None else None,
        )
        for key, value in (query_params or {}).items():
            at.query_params[key] = value
        return at.run()

    def select_page(self, at: "AppTest", page: str) -> "AppTest":
        """Switch ``at`` (from ``streamlit``) to ``page`` and run it."""
        return select_page(at, page)

    def __enter__(self) -> "FluxLitTestClient":
        self.api.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.api.__exit__(kind, exc, tb)


def select_page(at: "AppTest", page: str) -> "AppTest":
    """Switch an ``AppTest`` made by ``FluxLitTestClient.streamlit`` to ``page`` (path, slug or title) and run it."""
    harness: PageHarness = at.session_state[HARNESS_KEY]
    harness.page = harness.app.pages.get(page).path
    return at.run()


def assert_no_streamlit_exception(at: "AppTest") -> None:
    """Fail with each exception's message and stack when the last run of ``at`` raised."""
    if len(at.exception):
        details = "\n\n".join(f"{e.message}\n{''.join(e.stack_trace)}" for e in at.exception)
        raise AssertionError(f"the page raised {len(at.exception)} exception(s):\n{details}")


class _WithApiLifespan:
    """The gateway, with the lifespan protocol running only the API's (no Streamlit child in tests)."""

    def __init__(self, gateway: ASGIApp, api: "FastAPI") -> None:
        self.gateway = gateway
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.gateway(scope, receive, send)
            return
        await receive()
        started = False
        try:
            async with self.api.router.lifespan_context(self.api):
                started = True
                await send({"type": "lifespan.startup.complete"})
                await receive()
        except Exception as exc:
            await send({"type": "lifespan.shutdown.failed" if started else "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.shutdown.complete"})
