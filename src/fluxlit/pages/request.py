"""The browser request behind a page run: the headers and cookies that opened the Streamlit session.

In a browser they come from ``st.context`` (the WebSocket handshake, as the gateway forwarded it).
Tests supply them with ``set_page_header_context``/``set_page_cookie_context`` or through
``FluxLitTestClient.streamlit(headers=..., cookies=...)``; either way they pass the gateway's header
policy first, so a test sees what production would.
"""

from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

_headers: ContextVar[Mapping[str, str] | None] = ContextVar("fluxlit_page_headers", default=None)
_cookies: ContextVar[Mapping[str, str] | None] = ContextVar("fluxlit_page_cookies", default=None)

Context = Token[Mapping[str, str] | None]


def set_page_header_context(headers: Mapping[str, str]) -> Context:
    """Headers pages see in this context (tests); undo with ``reset_page_header_context``."""
    return _headers.set(dict(headers))


def reset_page_header_context(token: Context) -> None:
    """Undo ``set_page_header_context``."""
    _headers.reset(token)


def set_page_cookie_context(cookies: Mapping[str, str]) -> Context:
    """Cookies pages see in this context (tests); undo with ``reset_page_cookie_context``."""
    return _cookies.set(dict(cookies))


def reset_page_cookie_context(token: Context) -> None:
    """Undo ``set_page_cookie_context``."""
    _cookies.reset(token)


def context_headers() -> Mapping[str, str] | None:
    """The headers set by ``set_page_header_context`` here, if any."""
    return _headers.get()


def context_cookies() -> Mapping[str, str] | None:
    """The cookies set by ``set_page_cookie_context`` here, if any."""
    return _cookies.get()


@dataclass(frozen=True)
class PageRequest:
    """Header names lower-cased; values as the browser sent them."""

    headers: Mapping[str, str]
    cookies: Mapping[str, str]

    @classmethod
    def current(
        cls,
        st: Any,
        *,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        reaches_pages: Callable[[str], bool] = lambda name: True,
    ) -> "PageRequest":
        """This run's request: the context's, else ``headers``/``cookies`` (a test's), else ``st.context``'s."""
        supplied = context_headers()
        if supplied is None:
            supplied = headers
        if supplied is not None:
            found = {k.lower(): v for k, v in supplied.items() if reaches_pages(k.lower())}
        else:
            found = {k.lower(): v for k, v in _streamlit_context(st, "headers").items()}
        jar = context_cookies()
        if jar is None:
            jar = cookies
        return cls(found, dict(jar) if jar is not None else dict(_streamlit_context(st, "cookies")))

    @property
    def origin(self) -> str | None:
        """``scheme://host`` the browser used, from the gateway's ``Host`` and ``X-Forwarded-Proto``."""
        host = self.headers.get("x-forwarded-host") or self.headers.get("host")
        if not host:
            return None
        return f"{self.headers.get('x-forwarded-proto', 'http')}://{host}"


def _streamlit_context(st: Any, name: str) -> Mapping[str, str]:
    try:
        return getattr(st.context, name) or {}
    except Exception:  # bare mode (no script run context): there is no request
        return {}
