"""What ``FluxLitTestClient.streamlit`` hands the entry script through Session State: the app object,
the request a test pretends to make, fake dependencies, the API client and the page to open."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..app import FluxLit
    from ..client import ApiClient

HARNESS_KEY = "_fluxlit_test_harness"


@dataclass
class PageHarness:
    """One AppTest's view of the app; ``page`` is consumed by the next run: the first run opens it as
    the default page, later runs switch to it."""

    app: "FluxLit"
    headers: Mapping[str, str] | None = None
    cookies: Mapping[str, str] | None = None
    overrides: Mapping[Callable[..., Any], Callable[..., Any]] = field(default_factory=dict)
    client: "ApiClient | None" = None
    page: str | None = None
    ran: bool = False
