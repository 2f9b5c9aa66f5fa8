"""FluxLit: a FastAPI API and a Streamlit UI behind one port and one application object."""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .app import FluxLit
from .client import ApiClient
from .pages.di import (
    Cookie,
    Depends,
    Header,
    PageMeta,
    Query,
    get_client,
    parse_query_params,
    reset_page_cookie_context,
    reset_page_header_context,
    set_page_cookie_context,
    set_page_header_context,
    write_query_params,
)
from .settings import FluxlitSettings
from .url_session import SessionStore
from .urls import FluxLitPublicUrls

if TYPE_CHECKING:
    from .testing import FluxLitTestClient, assert_no_streamlit_exception, select_page

try:
    __version__ = version("fluxlit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

_TESTING = ("FluxLitTestClient", "assert_no_streamlit_exception", "select_page")


def __getattr__(name: str) -> Any:
    # The testing helpers import Streamlit's AppTest and Starlette's TestClient: only when asked for.
    if name in _TESTING:
        from . import testing

        return getattr(testing, name)
    raise AttributeError(f"module 'fluxlit' has no attribute {name!r}")


__all__ = [
    "ApiClient",
    "Cookie",
    "Depends",
    "FluxLit",
    "FluxLitPublicUrls",
    "FluxLitTestClient",
    "FluxlitSettings",
    "Header",
    "PageMeta",
    "Query",
    "SessionStore",
    "__version__",
    "assert_no_streamlit_exception",
    "get_client",
    "parse_query_params",
    "reset_page_cookie_context",
    "reset_page_header_context",
    "select_page",
    "set_page_cookie_context",
    "set_page_header_context",
    "write_query_params",
]
