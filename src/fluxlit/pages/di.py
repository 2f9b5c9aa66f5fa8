"""Page dependency injection: fill a handler's parameters for one Streamlit script run.

The plan (``plan.py``) decided at registration where each value comes from; a ``PageRun`` fetches
them, calls each dependency once per run (unless ``use_cache=False``), runs async ones on the page
loop and tears generator dependencies down after the page rendered.
"""

import contextlib
import inspect
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..client import ApiClient
from ..urls import FluxLitPublicUrls
from .harness import HARNESS_KEY, PageHarness
from .markers import MISSING, Cookie, Depends, Header, Query
from .meta import PageMeta
from .page_loop import run_on_page_loop
from .plan import Call, Param, Plan, Source, plan_callable
from .query import parse_query_params, write_query_params
from .request import (
    PageRequest,
    reset_page_cookie_context,
    reset_page_header_context,
    set_page_cookie_context,
    set_page_header_context,
)

if TYPE_CHECKING:
    from ..app import FluxLit

__all__ = [
    "Cookie",
    "Depends",
    "Header",
    "PageInputError",
    "PageMeta",
    "PageRun",
    "Query",
    "get_client",
    "parse_query_params",
    "reset_page_cookie_context",
    "reset_page_header_context",
    "resolve_page_kwargs",
    "set_page_cookie_context",
    "set_page_header_context",
    "write_query_params",
]

CLIENT_STATE_KEY = "_fluxlit_api_client"

Overrides = Mapping[Callable[..., Any], Callable[..., Any]]


class PageInputError(LookupError):
    """The request lacks something a page requires (a header, cookie or query value without default)."""


class PageRun:
    """One script run of one page: values resolved once each, generator dependencies closed on exit."""

    def __init__(
        self,
        app: "FluxLit",
        st: Any,
        *,
        request: PageRequest | None = None,
        overrides: Overrides | None = None,
        client: ApiClient | None = None,
    ) -> None:
        self.app = app
        self.st = st
        self.request = request if request is not None else PageRequest.current(st, reaches_pages=app.header_reaches_pages)
        self.overrides = overrides or {}
        self.client = client
        self._cache: dict[Callable[..., Any], Any] = {}
        self._fakes: dict[Callable[..., Any], Plan] = {}
        self._exit = contextlib.ExitStack()

    def kwargs(self, plan: Plan) -> dict[str, Any]:
        """The keyword arguments ``plan``'s callable gets."""
        return {p.name: self._value(p) for p in plan.params}

    def _value(self, p: Param) -> Any:
        source = p.source
        if source is Source.ST:
            return self.st
        if source is Source.CLIENT:
            return self.client if self.client is not None else get_client()
        if source is Source.DEPENDS:
            return self._depend(p)
        if source is Source.HEADER:
            return self._text(p, self.request.headers.get(p.key), f"the {p.key!r} header")
        if source is Source.COOKIE:
            return self._text(p, self.request.cookies.get(p.key), f"the {p.key!r} cookie")
        if source is Source.QUERY:
            params = self.st.query_params
            raw = (params.get_all(p.key) or None) if p.many else params.get(p.key)
            return self._text(p, raw, f"the URL parameter {p.key!r}")
        if source is Source.QUERY_MODEL:
            return parse_query_params(self.st, p.annotation)
        if source is Source.SETTINGS:
            return self.app.settings
        if source is Source.APP:
            return self.app
        if source is Source.URLS:
            return FluxLitPublicUrls.from_settings(self.app.settings, origin=self.request.origin, api=self.app.api)
        return self.app.session_store

    def _depend(self, p: Param) -> Any:
        assert p.depends is not None
        plan = self._effective(p.depends)
        if p.use_cache and plan.call in self._cache:
            return self._cache[plan.call]
        value = self.call(plan)
        if p.use_cache:
            self._cache[plan.call] = value
        return value

    def _effective(self, plan: Plan) -> Plan:
        fake = self.overrides.get(plan.call)
        if fake is None:
            return plan
        if fake not in self._fakes:
            self._fakes[fake] = plan_callable(fake, f"override of {plan.where}", self.app.plan_context())
        return self._fakes[fake]

    def call(self, plan: Plan) -> Any:
        """Call ``plan``'s callable with everything it declared: awaited if async, entered if a generator."""
        kwargs = self.kwargs(plan)
        if plan.kind is Call.GENERATOR:
            return self._exit.enter_context(contextlib.contextmanager(plan.call)(**kwargs))
        if plan.kind is Call.ASYNC_GENERATOR:
            manager = contextlib.asynccontextmanager(plan.call)(**kwargs)
            value = run_on_page_loop(manager.__aenter__())
            self._exit.push(lambda *exc: run_on_page_loop(manager.__aexit__(*exc)))
            return value
        value = plan.call(**kwargs)
        return run_on_page_loop(_awaited(value)) if inspect.isawaitable(value) else value

    def _text(self, p: Param, raw: Any, what: str) -> Any:
        if raw is None:
            if p.default is MISSING:
                raise PageInputError(f"This page needs {what}, and the request that opened it did not carry it.")
            return p.default
        if p.adapter is None:
            return raw
        try:
            return p.adapter.validate_python(raw)
        except ValueError as exc:
            if p.default is MISSING:
                raise PageInputError(f"This page cannot use {what} = {raw!r}: {_first_error(exc)}") from None
            self.st.error(f"Ignored {what} = {raw!r} ({_first_error(exc)}); using the default.")
            return p.default

    def __enter__(self) -> "PageRun":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool | None:
        return self._exit.__exit__(kind, exc, tb)


def resolve_page_kwargs(app: "FluxLit", path: str, st: Any, *, overrides: Overrides | None = None, client: ApiClient | None = None) -> dict[str, Any]:
    """The arguments the page at ``path`` would get now (generator dependencies are not torn down)."""
    spec = app.pages.get(path)
    return PageRun(app, st, overrides=overrides, client=client).kwargs(spec.plan)


def get_client() -> ApiClient:
    """The current page's ``ApiClient``: one per browser session, or the test's under ``FluxLitTestClient``."""
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return ApiClient()
    harness: PageHarness | None = st.session_state.get(HARNESS_KEY)
    if harness is not None and harness.client is not None:
        return harness.client
    # One client per browser session: its connection pool is reused across reruns.
    if CLIENT_STATE_KEY not in st.session_state:
        st.session_state[CLIENT_STATE_KEY] = ApiClient()
    return st.session_state[CLIENT_STATE_KEY]


async def _awaited(value: Any) -> Any:
    return await value


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    return errors()[0]["msg"] if callable(errors) and errors() else str(exc)


